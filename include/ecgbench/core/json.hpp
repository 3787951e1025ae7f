// JSON and JSON Lines on nlohmann::json, with errors that name the file and line. JSONL output
// is written atomically like every other output of the toolkit.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
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

/// Typed access to a required key: missing key or wrong type -> Error naming file and entry.
template <class T>
T json_get(const Json& obj, const std::string& key, const std::string& file, const std::string& entry) {
  if (!obj.is_object() || !obj.contains(key)) throw Error({file, {}, {}, entry}, "missing key '" + key + "'");
  try {
    return obj.at(key).get<T>();
  } catch (const Json::exception& e) {
    throw Error({file, {}, {}, entry}, "key '" + key + "' has the wrong type: " + e.what());
  }
}

}  // namespace ecgbench
