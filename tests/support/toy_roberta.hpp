// A BERTScore fixture: the golden RoBERTa checkpoint with a toy byte-level tokenizer whose ids fit it.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/core/json.hpp"
#include "ecgbench/tokenize/byte_level_bpe.hpp"
#include "support/test_data.hpp"

namespace ecgbench::test {

// The golden RoBERTa checkpoint (vocab 512) with a toy byte-level tokenizer whose ids fit it:
// <s> 0, <pad> 1, </s> 2, <unk> 3, the 256 bytes at 4..259, a few merges above.
inline std::filesystem::path toy_roberta_dir(const std::filesystem::path& golden) {
  const auto dir = test::temp_dir() / "roberta-toy";
  if (std::filesystem::exists(dir / "tokenizer.json")) return dir;
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(golden / "config.json", dir / "config.json", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(golden / "model.safetensors", dir / "model.safetensors", std::filesystem::copy_options::overwrite_existing);
  Json vocab = Json::object();
  vocab["<s>"] = 0;
  vocab["<pad>"] = 1;
  vocab["</s>"] = 2;
  vocab["<unk>"] = 3;
  for (int b = 0; b < 256; ++b) vocab[tokenize::bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = 4 + b;
  Json merges = Json::array();
  std::int32_t next = 260;
  for (const char* pair : {"Ġ s", "Ġs i", "n u", "Ġsi nu", "Ġsinu s", "Ġ r", "Ġr h", "y t", "h m", "Ġ n"}) {
    const std::string p = pair, l = p.substr(0, p.find(' ')), r = p.substr(p.find(' ') + 1);
    merges.push_back(p);
    if (!vocab.contains(l + r)) vocab[l + r] = next++;
  }
  Json added = Json::array();
  for (const auto& [t, id] : std::vector<std::pair<std::string, int>>{{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}})
    added.push_back({{"id", id}, {"content", t}, {"special", true}});
  write_json(dir / "tokenizer.json", Json{{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
                                           {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                                           {"post_processor", {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}}}},
                                           {"decoder", {{"type", "ByteLevel"}}},
                                           {"added_tokens", added}});
  write_json(dir / "tokenizer_config.json", Json{{"pad_token", "<pad>"}, {"bos_token", "<s>"}, {"eos_token", "</s>"}});
  return dir;
}

}  // namespace ecgbench::test
