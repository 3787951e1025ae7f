// Chat templates written out in C++ (no Jinja): Llama 3, ChatML (Qwen 2.5), Gemma 2, and default
// templates for GPT-2 and OPT, which ship none. A conversation becomes ids with a label mask that
// trains only on assistant replies (and the end-of-turn token that closes each, so the model learns to
// stop), the ECG's place marked by a placeholder, truncation and left padding to `pad_to_max`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/data/conversation.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"

namespace ecgbench::tokenize {

enum class ChatFormat { llama3, chatml, gemma2, gpt2, opt };

inline constexpr std::int32_t ignore_label = -100;  ///< PyTorch cross-entropy's ignore_index

inline std::string to_string(ChatFormat f) {
  switch (f) {
    case ChatFormat::llama3: return "llama3";
    case ChatFormat::chatml: return "chatml";
    case ChatFormat::gemma2: return "gemma2";
    case ChatFormat::gpt2: return "gpt2";
    case ChatFormat::opt: return "opt";
  }
  return "?";
}

/// Names accepted on command lines: llama3 | chatml (qwen, qwen2.5) | gemma2 (gemma) | gpt2 | opt.
inline ChatFormat parse_chat_format(std::string_view s) {
  if (s == "llama3" || s == "llama-3") return ChatFormat::llama3;
  if (s == "chatml" || s == "qwen" || s == "qwen2.5" || s == "qwen2") return ChatFormat::chatml;
  if (s == "gemma2" || s == "gemma" || s == "gemma-2") return ChatFormat::gemma2;
  if (s == "gpt2" || s == "gpt-2") return ChatFormat::gpt2;
  if (s == "opt") return ChatFormat::opt;
  throw Error("unknown chat format '" + std::string(s) + "' (expected llama3, chatml, gemma2, gpt2 or opt)");
}

/// Recognises the format of a tokenizer_config.json Jinja template by its marker tokens.
inline std::optional<ChatFormat> detect_chat_format(std::string_view jinja) {
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatFormat::llama3;
  if (jinja.find("<|im_start|>") != std::string_view::npos) return ChatFormat::chatml;
  if (jinja.find("<start_of_turn>") != std::string_view::npos) return ChatFormat::gemma2;
  return std::nullopt;
}

/// One piece of rendered chat text; `trainable` pieces get labels.
struct ChatSegment {
  std::string text;
  bool trainable = false;
};

inline std::string_view trim_whitespace(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

/// Qwen 2.5's system text when none is given (its own template's default).
inline constexpr std::string_view qwen_default_system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

/// The rendered conversation, piece by piece. `system` empty = none (Qwen then uses its default;
/// Gemma has no system role, so the text is put before the first user message, separated by a blank line).
inline std::vector<ChatSegment> render_chat_segments(ChatFormat f, std::span<const data::Turn> turns,
                                                     std::optional<std::string_view> system, bool add_generation_prompt) {
  std::vector<ChatSegment> out;
  auto plain = [&](std::string s) { out.push_back({std::move(s), false}); };
  auto reply = [&](std::string s) { out.push_back({std::move(s), true}); };
  const bool has_system = system && !system->empty();
  switch (f) {
    case ChatFormat::llama3:
      plain("<|begin_of_text|>");
      if (has_system) plain("<|start_header_id|>system<|end_header_id|>\n\n" + std::string(trim_whitespace(*system)) + "<|eot_id|>");
      for (const auto& t : turns) {
        plain("<|start_header_id|>" + data::to_string(t.role) + "<|end_header_id|>\n\n");
        if (t.role == data::Role::assistant) {
          reply(std::string(trim_whitespace(t.text)));
          reply("<|eot_id|>");
        } else {
          plain(std::string(trim_whitespace(t.text)) + "<|eot_id|>");
        }
      }
      if (add_generation_prompt) plain("<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;
    case ChatFormat::chatml:
      plain("<|im_start|>system\n" + std::string(has_system ? *system : qwen_default_system) + "<|im_end|>\n");
      for (const auto& t : turns) {
        plain("<|im_start|>" + data::to_string(t.role) + "\n");
        if (t.role == data::Role::assistant) {
          reply(t.text);
          reply("<|im_end|>");
          plain("\n");
        } else {
          plain(t.text + "<|im_end|>\n");
        }
      }
      if (add_generation_prompt) plain("<|im_start|>assistant\n");
      break;
    case ChatFormat::gemma2: {
      plain("<bos>");
      bool first_user = true;
      for (const auto& t : turns) {
        const bool user = t.role == data::Role::user;
        plain(std::string("<start_of_turn>") + (user ? "user" : "model") + "\n");
        std::string content(trim_whitespace(t.text));
        if (user && first_user && has_system) content = std::string(trim_whitespace(*system)) + "\n\n" + content;
        if (user) first_user = false;
        if (user) {
          plain(content + "<end_of_turn>\n");
        } else {
          reply(content);
          reply("<end_of_turn>");
          plain("\n");
        }
      }
      if (add_generation_prompt) plain("<start_of_turn>model\n");
      break;
    }
    case ChatFormat::gpt2:
    case ChatFormat::opt: {
      // Ours (upstream has none): plain "User:" / "Assistant:" lines; a reply ends with the EOS text.
      const std::string eos = f == ChatFormat::gpt2 ? "<|endoftext|>" : "</s>";
      if (f == ChatFormat::opt) plain("</s>");  // OPT's BOS is </s>
      if (has_system) plain(std::string(trim_whitespace(*system)) + "\n\n");
      for (const auto& t : turns) {
        if (t.role == data::Role::user) {
          plain("User: " + std::string(trim_whitespace(t.text)) + "\n");
        } else {
          plain("Assistant:");
          reply(" " + std::string(trim_whitespace(t.text)));
          reply(eos);
          plain("\n");
        }
      }
      if (add_generation_prompt) plain("Assistant:");
      break;
    }
  }
  return out;
}

inline std::string render_chat(ChatFormat f, std::span<const data::Turn> turns, std::optional<std::string_view> system,
                               bool add_generation_prompt) {
  std::string s;
  for (const auto& seg : render_chat_segments(f, turns, system, add_generation_prompt)) s += seg.text;
  return s;
}

/// The token strings that end an assistant turn (generation stops at any of them).
inline std::vector<std::string> chat_stop_tokens(ChatFormat f) {
  switch (f) {
    case ChatFormat::llama3: return {"<|eot_id|>", "<|end_of_text|>"};
    case ChatFormat::chatml: return {"<|im_end|>", "<|endoftext|>"};
    case ChatFormat::gemma2: return {"<end_of_turn>", "<eos>"};
    case ChatFormat::gpt2: return {"<|endoftext|>"};
    case ChatFormat::opt: return {"</s>"};
  }
  return {};
}

enum class Truncation { keep_first, keep_last };

struct ChatEncodeOptions {
  std::optional<std::string> system_prompt;  ///< nullopt / empty = none
  bool add_generation_prompt = false;        ///< end with the assistant header (inference)
  /// The ECG's place: "<signal>\n" is put before the first user message (upstream); empty = text only.
  std::string signal_placeholder = "<signal>";
  /// End-to-end ECG-Byte: LLM ids of the ECG tokens (`signal_<id>`) that replace the placeholder.
  /// When empty, the placeholder stays one token (encoder paradigms), which must be in the vocabulary.
  std::vector<std::int32_t> ecg_token_ids;
  std::size_t pad_to_max = 0;  ///< 0 = neither truncate nor pad
  Truncation truncation = Truncation::keep_first;  ///< for placeholder mode; ECG mode uses upstream's rule
  std::size_t min_ecg_tokens = 500;                 ///< ECG tokens kept before text is cut (upstream: 500)
  std::size_t signal_slots = 1;  ///< placeholder mode: k consecutive `<signal>` tokens for k encoder tokens
};

struct ChatEncoding {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> labels;          ///< ids on trained positions, -100 elsewhere
  std::vector<std::int32_t> attention_mask;  ///< 0 on padding
  std::vector<std::int32_t> position_ids;    ///< cumsum(mask) - 1, 0 on padding
  std::vector<std::size_t> signal_positions;  ///< placeholder positions (encoder paradigms)
  std::size_t ecg_begin = 0, ecg_size = 0;    ///< span of spliced ECG tokens (end-to-end)
};

/// Builds a conversation into model inputs. Pieces are tokenized without BOS/EOS (the template writes
/// them) and split at the placeholder as upstream does.
template <TextTokenizer Tok>
ChatEncoding encode_chat(const Tok& tok, ChatFormat f, std::span<const data::Turn> turns, const ChatEncodeOptions& opt = {}) {
  if (turns.empty()) throw Error("encode_chat: the conversation has no turns");
  std::vector<data::Turn> local(turns.begin(), turns.end());
  const bool with_signal = !opt.signal_placeholder.empty();
  if (with_signal) {
    auto first_user = std::find_if(local.begin(), local.end(), [](const data::Turn& t) { return t.role == data::Role::user; });
    if (first_user == local.end()) throw Error("encode_chat: no user turn to carry the ECG placeholder");
    first_user->text = opt.signal_placeholder + "\n" + first_user->text;
  }
  std::optional<std::string_view> system;
  if (opt.system_prompt) system = *opt.system_prompt;

  std::vector<std::int32_t> before, after, before_labels, after_labels;
  bool seen_signal = false;
  for (const auto& seg : render_chat_segments(f, local, system, opt.add_generation_prompt)) {
    std::string_view text = seg.text;
    while (!text.empty()) {
      std::size_t cut = text.size();
      if (with_signal && !seen_signal) cut = std::min(text.find(opt.signal_placeholder), text.size());
      const auto ids = tok.encode(text.substr(0, cut), false);
      auto& dst = seen_signal ? after : before;
      auto& lab = seen_signal ? after_labels : before_labels;
      dst.insert(dst.end(), ids.begin(), ids.end());
      for (auto id : ids) lab.push_back(seg.trainable ? id : ignore_label);
      if (cut == text.size()) break;
      seen_signal = true;
      text = text.substr(cut + opt.signal_placeholder.size());
    }
  }

  ChatEncoding e;
  const std::size_t P = opt.pad_to_max;
  std::span<const std::int32_t> ecg = opt.ecg_token_ids;
  std::vector<std::int32_t> middle;
  if (with_signal && !ecg.empty()) {
    // Upstream's end-to-end rule: keep up to min_ecg_tokens ECG tokens, cut the text after the ECG to
    // a third of what remains and the text before from the left, then give any room left to the ECG.
    std::size_t sig = std::min(opt.min_ecg_tokens, ecg.size());
    if (P > 0) {
      if (sig > P) sig = P;
      if (before.size() + after.size() > P - sig) {
        const std::size_t keep_after = std::min(after.size(), std::max<std::size_t>((P - sig) / 3, 1));
        after.resize(keep_after);
        after_labels.resize(keep_after);
        const std::size_t keep_before = std::min(before.size(), P - sig - std::min(P - sig, keep_after));
        before.erase(before.begin(), before.end() - static_cast<std::ptrdiff_t>(keep_before));
        before_labels.erase(before_labels.begin(), before_labels.end() - static_cast<std::ptrdiff_t>(keep_before));
      }
      sig = std::min(ecg.size(), P - std::min(P, before.size() + after.size()));
    } else {
      sig = ecg.size();
    }
    middle.assign(ecg.begin(), ecg.begin() + static_cast<std::ptrdiff_t>(sig));
  } else if (with_signal) {
    const auto id = tok.token_to_id(opt.signal_placeholder);
    if (!id) throw Error("encode_chat: the placeholder '" + opt.signal_placeholder + "' is not a token; add it with add_tokens first");
    if (opt.signal_slots == 0) throw Error("encode_chat: signal_slots must be at least 1");
    middle.assign(opt.signal_slots, *id);
  }
  e.ids = before;
  e.ids.insert(e.ids.end(), middle.begin(), middle.end());
  e.ids.insert(e.ids.end(), after.begin(), after.end());
  e.labels = before_labels;
  e.labels.insert(e.labels.end(), middle.size(), ignore_label);
  e.labels.insert(e.labels.end(), after_labels.begin(), after_labels.end());
  e.ecg_begin = before.size();
  e.ecg_size = ecg.empty() ? 0 : middle.size();
  if (with_signal && ecg.empty())
    for (std::size_t k = 0; k < middle.size(); ++k) e.signal_positions.push_back(before.size() + k);

  if (P > 0 && e.ids.size() > P) {  // placeholder mode (the ECG mode fits by construction)
    std::size_t drop = e.ids.size() - P;
    if (opt.truncation == Truncation::keep_first) {
      e.ids.resize(P);
      e.labels.resize(P);
      std::erase_if(e.signal_positions, [&](std::size_t p) { return p >= P; });
    } else {
      e.ids.erase(e.ids.begin(), e.ids.begin() + static_cast<std::ptrdiff_t>(drop));
      e.labels.erase(e.labels.begin(), e.labels.begin() + static_cast<std::ptrdiff_t>(drop));
      std::vector<std::size_t> kept;
      for (auto p : e.signal_positions) if (p >= drop) kept.push_back(p - drop);
      e.signal_positions = kept;
    }
  }
  e.attention_mask.assign(e.ids.size(), 1);
  if (P > 0 && e.ids.size() < P) {  // left padding, as upstream trains and generates
    const auto pad = tok.pad_id() ? tok.pad_id() : tok.eos_id();
    if (!pad) throw Error("encode_chat: padding needs a pad or EOS token");
    const std::size_t n = P - e.ids.size();
    e.ids.insert(e.ids.begin(), n, *pad);
    e.labels.insert(e.labels.begin(), n, ignore_label);
    e.attention_mask.insert(e.attention_mask.begin(), n, 0);
    for (auto& p : e.signal_positions) p += n;
    e.ecg_begin += n;
  }
  e.position_ids.resize(e.ids.size());
  std::int32_t pos = 0;
  for (std::size_t i = 0; i < e.ids.size(); ++i) e.position_ids[i] = e.attention_mask[i] ? pos++ : 0;
  return e;
}

}  // namespace ecgbench::tokenize
