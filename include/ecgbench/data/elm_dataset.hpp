// The ELM batch pipeline up to the final tensors, torch-free: mapped conversations (JSONL) and
// preprocessed segment shards (memory-mapped) -> the ECG's representation (normalised signal,
// pixel values of a stacked signal or plotted image, or ECG-Byte tokens) -> the chat template with
// the system prompt -> ids, labels, attention mask, positions and `<signal>` slots, left-padded to
// `llm_input_len` (upstream-inventory §6.3-6.5). Items whose ECG is missing are counted at
// construction; items whose text leaves no room for any answer token are counted when met. Nothing
// is dropped silently: `report()` says what was skipped and why.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/data/conversation.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/represent/perturb.hpp"
#include "ecgbench/signal/normalize.hpp"
#include "ecgbench/tokenize/chat_template.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "ecgbench/tokenize/ecg_symbols.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"

namespace ecgbench::data {

/// What the encoder (or the LLM) receives of the ECG (upstream-inventory §4).
enum class Representation { signal, stacked, image, ecg_tokens };

inline Representation parse_representation(const std::string& s) {
  if (s == "signal") return Representation::signal;
  if (s == "stacked") return Representation::stacked;
  if (s == "image") return Representation::image;
  if (s == "ecg-tokens" || s == "ecg_tokens" || s == "tokens") return Representation::ecg_tokens;
  throw Error("unknown representation '" + s + "' (signal, stacked, image, ecg-tokens)");
}

/// Encoder input for one segment: values and shape ([12, L] signal, [3, H, W] pixel values).
struct EncoderInput {
  std::vector<float> values;
  std::vector<std::int64_t> shape;
};
/// Converts a raw [12 x L] lead-major segment (mV) into the encoder's input.
using EncoderInputFn = std::function<EncoderInput(std::span<const float> segment, std::size_t segment_len, std::uint64_t item_seed)>;

/// The normalised signal (ST-MEM, MTAE, MLAE, MERL, encoder-free).
inline EncoderInput normalized_signal(std::span<const float> segment, std::size_t segment_len, std::uint64_t) {
  return {signal::instance_normalize(segment), {12, static_cast<std::int64_t>(segment_len)}};
}

struct ElmDataOptions {
  Representation representation = Representation::signal;
  tokenize::ChatFormat format = tokenize::ChatFormat::llama3;
  std::optional<std::string> system_prompt;
  std::size_t llm_input_len = 1024;  ///< 0: no padding or truncation (generation prompts)
  std::size_t encoder_tokens = 1;    ///< `<signal>` slots
  tokenize::Truncation truncation = tokenize::Truncation::keep_last;  ///< [H]; upstream [P] keep_first
  std::size_t min_ecg_tokens = 500;
  bool label_every_eot = false;  ///< upstream [P]: the EOT closing system and user turns is labelled too
  tokenize::EncodeMode ecg_encode_mode = tokenize::EncodeMode::longest_match;
  represent::Perturbation perturbation = represent::Perturbation::none;
  std::uint64_t seed = 0;  ///< perturbations and augmentation draw from (seed, item)
  EncoderInputFn encoder_input = normalized_signal;
  /// Retrieval augmentation (rag/): the text retrieved for a segment of `record` (empty = none).
  std::function<std::string(std::span<const float> segment, const std::string& record)> rag_text;
  bool rag_in_user_query = false;  ///< PR #3's user-query mode instead of the system prompt
};

/// One conversation made into model inputs.
struct ElmItem {
  std::string id;
  tokenize::ChatEncoding enc;
  EncoderInput encoder;  ///< empty for ECG tokens and the no-signal probe
};

/// Builds model inputs from a conversation and a raw segment (the dataset's and the chat's common step).
class ElmItemBuilder {
 public:
  ElmItemBuilder(const tokenize::HfTokenizer& tok, const tokenize::EcgByteTokenizer* ecg_tokenizer, ElmDataOptions o)
      : o_(std::move(o)), tok_(&tok), ecg_(ecg_tokenizer) {
    if (o_.representation == Representation::ecg_tokens) {
      if (!ecg_) throw Error("the ecg-tokens representation needs an ECG-Byte tokenizer");
      llm_id_of_.resize(ecg_->vocab_size());
      for (std::size_t t = 0; t < ecg_->vocab_size(); ++t) {
        const auto id = tok.token_to_id("signal_" + std::to_string(t));
        if (!id) throw Error("the text tokenizer lacks the ECG token 'signal_" + std::to_string(t) + "' (add the ECG-Byte vocabulary first)");
        llm_id_of_[t] = *id;
      }
    } else if (o_.perturbation != represent::Perturbation::no_signal && !tok.token_to_id("<signal>")) {
      throw Error("the text tokenizer lacks the '<signal>' token (add it before building the data)");
    }
  }
  [[nodiscard]] const ElmDataOptions& options() const { return o_; }
  ElmDataOptions& options() { return o_; }

  /// `segment`: raw [12 x segment_len] (mV); `key` seeds the item's perturbation and augmentation.
  /// nullopt when no answer token (training) or not all signal slots fit in llm_input_len.
  std::optional<ElmItem> build(std::string id, std::vector<float> segment, std::size_t segment_len, std::span<const Turn> turns_in, bool generation,
                               std::uint64_t key, const std::string& record = {}) const {
    ElmItem out;
    out.id = std::move(id);
    tokenize::ChatEncodeOptions co;
    co.system_prompt = o_.system_prompt;
    std::vector<Turn> turns(turns_in.begin(), turns_in.end());
    if (o_.rag_text && o_.perturbation != represent::Perturbation::no_signal) {
      // Retrieved from the unperturbed segment, as upstream retrieves from the stored ECG.
      const std::string text = o_.rag_text(segment, record);
      if (o_.rag_in_user_query) {
        auto first = std::find_if(turns.begin(), turns.end(), [](const Turn& t) { return t.role == Role::user; });
        if (first != turns.end()) first->text = text + "Question:\n" + first->text;
      } else if (o_.format != tokenize::ChatFormat::gemma2) {  // upstream: Llama and Qwen only
        co.system_prompt = o_.system_prompt.value_or("") + "\n" + text;
      }
    }
    co.add_generation_prompt = generation;
    co.pad_to_max = generation ? 0 : o_.llm_input_len;
    co.truncation = o_.truncation;
    co.min_ecg_tokens = o_.min_ecg_tokens;
    co.signal_slots = o_.encoder_tokens;
    const bool text_only = o_.perturbation == represent::Perturbation::no_signal;
    if (text_only) co.signal_placeholder.clear();
    if (!text_only) {
      if (segment.size() != 12 * segment_len) throw Error("segment of '" + out.id + "' is not [12, " + std::to_string(segment_len) + "]");
      Rng rng = make_rng(o_.seed, 0x454c4d00ull + key);  // "ELM" + item: the same draw whatever the batch or thread
      represent::perturb(segment, 12, o_.perturbation, rng);
      if (o_.representation == Representation::ecg_tokens) {
        const auto sym = tokenize::symbolize(segment);
        const auto ids = ecg_->encode(sym.symbols, o_.ecg_encode_mode);
        co.ecg_token_ids.reserve(ids.size());
        for (auto t : ids) co.ecg_token_ids.push_back(llm_id_of_.at(static_cast<std::size_t>(t)));
      } else {
        out.encoder = o_.encoder_input(segment, segment_len, mix_seed(o_.seed, key));
      }
    }
    out.enc = tokenize::encode_chat(*tok_, o_.format, std::span<const Turn>(turns), co);
    if (o_.label_every_eot && !generation) {
      for (const auto& stop : tokenize::chat_stop_tokens(o_.format))
        if (auto eot = tok_->token_to_id(stop))
          for (std::size_t k = 0; k < out.enc.ids.size(); ++k)
            if (out.enc.ids[k] == *eot && out.enc.attention_mask[k]) out.enc.labels[k] = *eot;
    }
    if (!generation && std::all_of(out.enc.labels.begin(), out.enc.labels.end(), [](std::int32_t l) { return l == tokenize::ignore_label; })) return std::nullopt;
    if (!text_only && o_.representation != Representation::ecg_tokens && out.enc.signal_positions.size() != o_.encoder_tokens) return std::nullopt;
    return out;
  }

 private:
  ElmDataOptions o_;
  const tokenize::HfTokenizer* tok_;
  const tokenize::EcgByteTokenizer* ecg_;
  std::vector<std::int32_t> llm_id_of_;
};

class ElmDataset {
 public:
  /// `ecg_tokenizer` is needed for the ecg_tokens representation; `tok` must already hold the
  /// `<signal>` (encoder paradigms) or `signal_<id>` (ECG-Byte) tokens.
  ElmDataset(std::vector<Conversation> conversations, const std::filesystem::path& segments_dir, const tokenize::HfTokenizer& tok,
             const tokenize::EcgByteTokenizer* ecg_tokenizer, ElmDataOptions o)
      : builder_(tok, ecg_tokenizer, std::move(o)), store_(segments_dir) {
    const auto index_path = segments_dir / "index.jsonl";
    if (!std::filesystem::exists(index_path)) throw Error({index_path.string(), {}, {}, {}}, "segments folder has no index.jsonl (run ecgbench-preprocess first)");
    for (auto& e : read_segment_index(index_path)) {
      const std::string id = e.id;
      index_.emplace(id, std::move(e));
    }
    for (auto& c : conversations) {
      if (c.turns.empty() || std::none_of(c.turns.begin(), c.turns.end(), [](const Turn& t) { return t.role == Role::assistant; })) {
        ++no_answer_;
        continue;
      }
      if (c.ecg.empty() || !index_.count(c.ecg.front())) {
        if (missing_examples_.size() < 5) missing_examples_.push_back(c.ecg.empty() ? c.id + " (no ECG)" : c.ecg.front());
        ++missing_ecg_;
        continue;
      }
      items_.push_back(std::move(c));
    }
    if (items_.empty())
      throw Error({index_path.string(), {}, {}, {}}, "none of the conversations has its ECG in this segments folder (" + std::to_string(missing_ecg_) + " missing; first: " +
                                                        (missing_examples_.empty() ? std::string("-") : missing_examples_.front()) + ")");
  }

  [[nodiscard]] std::size_t size() const { return items_.size(); }
  [[nodiscard]] const Conversation& conversation(std::size_t i) const { return items_.at(i); }
  [[nodiscard]] const ElmDataOptions& options() const { return builder_.options(); }
  [[nodiscard]] std::size_t missing_ecg() const { return missing_ecg_; }
  [[nodiscard]] std::size_t no_room() const { return no_room_.load(); }

  /// The raw [12 x L] segment of item i's (first) ECG, and its length.
  std::pair<std::vector<float>, std::size_t> raw_segment(std::size_t i) {
    const auto& e = index_.at(items_.at(i).ecg.front());
    std::lock_guard lock(store_mutex_);
    const auto s = store_.segment(e);
    return {std::vector<float>(s.begin(), s.end()), e.segment_len};
  }

  /// Builds item i for training (the whole conversation, labels on the answers). nullopt when the
  /// text leaves no room for any answer token within llm_input_len (counted).
  std::optional<ElmItem> item(std::size_t i) { return build(i, items_.at(i).turns, false); }

  /// Builds a prompt from `turns` (which end with a user turn) about item i's ECG, for generation.
  std::optional<ElmItem> prompt(std::size_t i, std::span<const Turn> turns) { return build(i, turns, true); }

  [[nodiscard]] Json report() const {
    return {{"items", items_.size()}, {"missing_ecg", missing_ecg_}, {"missing_examples", missing_examples_}, {"no_answer", no_answer_}, {"no_room", no_room_.load()}};
  }

 private:
  std::optional<ElmItem> build(std::size_t i, std::span<const Turn> turns, bool generation) {
    auto [seg, len] = raw_segment(i);
    auto item = builder_.build(items_.at(i).id, std::move(seg), len, turns, generation, i, index_.at(items_.at(i).ecg.front()).source);
    if (!item) ++no_room_;
    return item;
  }

  ElmItemBuilder builder_;
  std::unordered_map<std::string, SegmentEntry> index_;
  SegmentStore store_;
  std::mutex store_mutex_;
  std::vector<Conversation> items_;
  std::size_t missing_ecg_ = 0, no_answer_ = 0;
  std::vector<std::string> missing_examples_;
  std::atomic<std::size_t> no_room_{0};
};


/// Reads mapped conversations (ecgbench-map's JSONL).
inline std::vector<Conversation> read_conversations(const std::filesystem::path& path) {
  std::vector<Conversation> out;
  for_each_jsonl(path, [&](Json&& j, std::size_t line) { out.push_back(conversation_from_json(j, path.string(), "line " + std::to_string(line))); });
  return out;
}

}  // namespace ecgbench::data
