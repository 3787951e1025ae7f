// What a text tokenizer policy must provide for the Elm composition (chat building, generation).
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ecgbench::tokenize {

template <class T>
concept TextTokenizer = requires(const T& t, std::string_view s, std::span<const std::int32_t> ids) {
  { t.encode(s, false) } -> std::same_as<std::vector<std::int32_t>>;
  { t.decode(ids, true) } -> std::same_as<std::string>;
  { t.token_to_id(s) } -> std::same_as<std::optional<std::int32_t>>;
  { t.vocab_size() } -> std::convertible_to<std::size_t>;
  { t.eos_id() } -> std::same_as<std::optional<std::int32_t>>;
  { t.bos_id() } -> std::same_as<std::optional<std::int32_t>>;
  { t.pad_id() } -> std::same_as<std::optional<std::int32_t>>;
};

}  // namespace ecgbench::tokenize
