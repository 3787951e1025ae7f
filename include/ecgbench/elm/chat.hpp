// A multi-turn chat about one ECG with a trained ELM, as `ecgbench-chat` runs it: the run's
// composition rebuilt from its config.json and latest checkpoint, every question rendered with the
// run's chat template (earlier turns kept), answers generated as evaluation does and streamed token
// by token. Lines come from `in`; "/reset" starts over, "/quit" (or the end of input) leaves.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "ecgbench/elm/evaluate.hpp"

namespace ecgbench::elm {

struct ChatSettings {
  std::filesystem::path run;          ///< run folder of a training run
  std::int64_t max_new_tokens = 128;  ///< per answer
  std::string device = "cpu";         ///< cpu | cuda | cuda:N
  std::string precision = "fp32";     ///< fp32 | bf16-autocast | bf16
  std::string attention;              ///< auto | eager | sdpa; empty: the run's
};

/// The chat with composition ElmT over one [12, seg_len] segment (row-major floats). Returns the
/// number of answers given.
template <class ElmT>
std::size_t chat_typed(ElmConfig& c, const ChatSettings& s, const std::vector<float>& segment, std::istream& in, std::ostream& out) {
  ElmTokenizers tok = prepare_tokenizers(c);
  ElmT model = build_elm<ElmT>(c, tok);
  const auto latest = train::CheckpointStore(s.run).latest();
  if (!latest) throw Error({s.run.string(), {}, {}, {}}, "the run folder has no checkpoint");
  model->load_trainable(*latest);
  const auto [dev, precision] = models::parse_placement(s.device, s.precision);
  models::place(*model, dev, precision);
  model->eval();
  data::ElmItemBuilder builder(tok.text, tok.ecg ? &*tok.ecg : nullptr, data_options(c, tok, false));
  EvaluateSettings es;
  es.max_new_tokens = s.max_new_tokens;
  models::GenerationOptions g = generation_options(c, tok, es, 0);
  std::vector<data::Turn> turns;
  std::size_t answers = 0;
  out << "ecgbench chat (" << c.paradigm << ", " << latest->filename().string() << "). Ask about the ECG; /reset starts over, /quit leaves.\n";
  std::string line;
  while (true) {
    out << "> " << std::flush;
    if (!std::getline(in, line) || line == "/quit") break;
    if (line == "/reset") {
      turns.clear();
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    turns.push_back({data::Role::user, line});
    auto item = builder.build("chat", segment, static_cast<std::size_t>(c.seg_len), turns, true, 0);
    if (!item) throw Error("the conversation no longer fits the LLM's input length (llm_input_len " + std::to_string(c.llm_input_len) + "); /reset starts over");
    const ElmBatch b = collate({*item}, *tok.text.pad_id(), c.encoder_tokens).to(dev);
    std::vector<std::int32_t> ids;
    std::string shown;
    g.on_step = [&](const torch::Tensor& next) {  // print the new text as it appears
      const auto id = next[0].item<std::int64_t>();
      if (std::find(g.eos_token_ids.begin(), g.eos_token_ids.end(), id) != g.eos_token_ids.end()) return;
      ids.push_back(static_cast<std::int32_t>(id));
      const std::string text = tok.text.decode(ids, true);
      // A partial UTF-8 sequence decodes differently once complete: print only a stable extension.
      if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) out << text.substr(shown.size()) << std::flush;
      shown = text;
    };
    const models::PrecisionScope amp(precision, dev);
    model->generate(b, g);
    out << "\n";
    turns.push_back({data::Role::assistant, std::string(tokenize::trim_whitespace(shown))});
    ++answers;
  }
  return answers;
}

/// Chats with the composition the run's config.json names.
#if defined(ECGBENCH_ELM_PREBUILT) && !defined(ECGBENCH_ELM_DEFINE_INFERENCE)
std::size_t chat_elm(const ChatSettings& s, const std::vector<float>& segment, std::istream& in, std::ostream& out);  // compiled once: elm/prebuilt.hpp
#else
ECGBENCH_ELM_INFERENCE_LINKAGE std::size_t chat_elm(const ChatSettings& s, const std::vector<float>& segment, std::istream& in, std::ostream& out) {
  ElmConfig c = ElmConfig::read(s.run);
  if (!s.attention.empty()) c.attention = s.attention;
  if (segment.size() != static_cast<std::size_t>(12 * c.seg_len))
    throw Error({s.run.string(), {}, {}, "segment"}, "the segment has " + std::to_string(segment.size()) + " values, the run takes [12, " + std::to_string(c.seg_len) + "]");
  return dispatch_elm(c, [&]<class ElmT>() { return chat_typed<ElmT>(c, s, segment, in, out); });
}
#endif

}  // namespace ecgbench::elm
