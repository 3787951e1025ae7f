// The one data model for instruction / QA data: a conversation about one or more preprocessed ECG
// segments. `{"id", "ecg": [segment ids], "conversations": [{"role": "user"|"assistant", "text"}],
// "name"}` in JSONL; the segment ids are those of the preprocessed index (index.jsonl).
#pragma once

#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"

namespace ecgbench::data {

enum class Role { user, assistant };

inline std::string to_string(Role r) { return r == Role::user ? "user" : "assistant"; }

/// Upstream's role names: human/user -> user, gpt/assistant/model -> assistant.
inline Role parse_role(const std::string& s, const std::string& file, const std::string& entry) {
  if (s == "human" || s == "user") return Role::user;
  if (s == "gpt" || s == "assistant" || s == "model") return Role::assistant;
  throw Error({file, {}, {}, entry}, "unknown role '" + s + "' (expected human/user or gpt/assistant/model)");
}

struct Turn {
  Role role = Role::user;
  std::string text;
  bool operator==(const Turn&) const = default;
};

struct Conversation {
  std::string id;
  std::vector<std::string> ecg;  ///< segment ids, one per ECG the conversation is about
  std::vector<Turn> turns;
  std::string name;              ///< source data set
};

inline Json to_json(const Conversation& c) {
  Json turns = Json::array();
  for (const auto& t : c.turns) turns.push_back({{"role", to_string(t.role)}, {"text", t.text}});
  return Json{{"id", c.id}, {"ecg", c.ecg}, {"conversations", turns}, {"name", c.name}};
}

inline Conversation conversation_from_json(const Json& j, const std::string& file, const std::string& entry) {
  Conversation c;
  c.id = json_get<std::string>(j, "id", file, entry);
  c.ecg = json_get<std::vector<std::string>>(j, "ecg", file, entry);
  c.name = json_get<std::string>(j, "name", file, entry);
  const auto& turns = j.at("conversations");
  if (!turns.is_array()) throw Error({file, {}, {}, entry}, "'conversations' is not a list");
  for (const auto& t : turns) c.turns.push_back({parse_role(json_get<std::string>(t, "role", file, entry), file, entry), json_get<std::string>(t, "text", file, entry)});
  return c;
}

}  // namespace ecgbench::data
