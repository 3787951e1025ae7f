// JSON and JSON Lines on nlohmann::json, with errors that name the file and line. JSONL output
// is written atomically like every other output of the toolkit.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench {

using Json = nlohmann::json;

inline Json parse_json(std::string_view text, const std::string& name) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's byte position -> line number for the message.
    std::size_t line = 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(e.byte, text.size()); ++i) line += text[i] == '\n';
    throw Error({name, line, e.byte, {}}, std::string("invalid JSON: ") + e.what());
  } catch (const Json::exception& e) {  // e.g. a number too large for a double
    throw Error({name, {}, {}, {}}, std::string("invalid JSON: ") + e.what());
  }
}

/// Runs a reader of JSON structure; nlohmann's type / range errors (a value of an unexpected type
/// met by .get or .value) become the toolkit's Error naming `file`.
template <class Fn>
auto with_json_errors(const std::string& file, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Json::exception& e) {
    throw Error({file, {}, {}, {}}, std::string("unexpected JSON structure: ") + e.what());
  }
}

inline Json read_json(const std::filesystem::path& path) { return parse_json(read_file(path), path.string()); }

inline void write_json(const std::filesystem::path& path, const Json& j, int indent = 2) {
  write_file_atomically(path, j.dump(indent) + "\n");
}

/// Calls `fn(object, line_number)` for every non-blank line of a JSONL file.
inline void for_each_jsonl(const std::filesystem::path& path, const std::function<void(Json&&, std::size_t)>& fn) {
  std::ifstream in(path);
  if (!in) throw Error({path.string(), {}, {}, {}}, "cannot open JSONL file");
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw Error({path.string(), n, {}, {}}, std::string("invalid JSON line: ") + e.what());
    }
    fn(std::move(j), n);
  }
}

inline std::vector<Json> read_jsonl(const std::filesystem::path& path) {
  std::vector<Json> out;
  for_each_jsonl(path, [&](Json&& j, std::size_t) { out.push_back(std::move(j)); });
  return out;
}

inline void write_jsonl(const std::filesystem::path& path, const std::vector<Json>& rows) {
  write_file_atomically(path, [&](std::ostream& o) {
    for (const auto& r : rows) o << r.dump() << '\n';
  });
}

namespace detail {
template <class T> struct is_vector : std::false_type {};
template <class U> struct is_vector<std::vector<U>> : std::true_type { using element = U; };
}  // namespace detail

/// Converts a JSON value to T with the checks nlohmann leaves out: integers must be integers within
/// T's range (nlohmann would cast a float such as 1e82 to int, which is undefined behaviour), numbers
/// must be numbers; vectors are checked element by element. Type errors name `file` and `what`.
template <class T>
T json_as(const Json& v, const std::string& file, const std::string& what) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw Error({file, {}, {}, what}, "wrong type: expected true or false");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) throw Error({file, {}, {}, what}, "wrong type: expected an integer, got " + std::string(v.type_name()));
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) throw Error({file, {}, {}, what}, "integer " + std::to_string(u) + " out of range");
      return static_cast<T>(u);
    }
    const auto i = v.get<std::int64_t>();
    if ((std::is_unsigned_v<T> && i < 0) || (std::is_signed_v<T> && (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
                                                                        i > static_cast<std::int64_t>(std::numeric_limits<T>::max()))))
      throw Error({file, {}, {}, what}, "integer " + std::to_string(i) + " out of range");
    return static_cast<T>(i);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) throw Error({file, {}, {}, what}, "wrong type: expected a number, got " + std::string(v.type_name()));
    return v.get<T>();
  } else if constexpr (detail::is_vector<T>::value) {
    if (!v.is_array()) throw Error({file, {}, {}, what}, "wrong type: expected a list, got " + std::string(v.type_name()));
    T out;
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(json_as<typename detail::is_vector<T>::element>(v[i], file, what + "[" + std::to_string(i) + "]"));
    return out;
  } else {
    try {
      return v.get<T>();
    } catch (const Json::exception& e) {
      throw Error({file, {}, {}, what}, std::string("wrong type: ") + e.what());
    }
  }
}

/// Typed access to a required key: missing key or wrong type -> Error naming file and entry.
template <class T>
T json_get(const Json& obj, const std::string& key, const std::string& file, const std::string& entry) {
  if (!obj.is_object() || !obj.contains(key)) throw Error({file, {}, {}, entry}, "missing key '" + key + "'");
  try {
    return json_as<T>(obj.at(key), file, entry.empty() ? key : entry + ": key '" + key + "'");
  } catch (const Json::exception& e) {
    throw Error({file, {}, {}, entry}, "key '" + key + "' has the wrong type: " + e.what());
  }
}

}  // namespace ecgbench
