// ecgbench-chat: an interactive terminal chat about one ECG with a trained ELM (multi-turn, the
// run's chat template, answers streamed token by token). The ECG: a [12, L] .npy already at the
// run's rate and length, or a WFDB record preprocessed as ecgbench-preprocess does (paper filters,
// resampled to 250 Hz; the first segment). Commands: /reset starts over, /quit leaves.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/elm/evaluate.hpp"
#include "ecgbench/io/wfdb.hpp"

using namespace ecgbench;

namespace {

template <class ElmT>
int chat(elm::ElmConfig& c, const std::filesystem::path& run, const std::vector<float>& segment, std::int64_t max_new_tokens, std::istream& in) {
  elm::ElmTokenizers tok = elm::prepare_tokenizers(c);
  ElmT model = elm::build_elm<ElmT>(c, tok);
  const auto latest = train::CheckpointStore(run).latest();
  if (!latest) throw Error({run.string(), {}, {}, {}}, "the run folder has no checkpoint");
  model->load_trainable(*latest);
  model->eval();
  data::ElmItemBuilder builder(tok.text, tok.ecg ? &*tok.ecg : nullptr, elm::data_options(c, tok, false));
  elm::EvaluateSettings es;
  es.max_new_tokens = max_new_tokens;
  models::GenerationOptions g = elm::generation_options(c, tok, es, 0);
  std::vector<data::Turn> turns;
  std::printf("ecgbench chat (%s, %s). Ask about the ECG; /reset starts over, /quit leaves.\n", c.paradigm.c_str(), latest->filename().c_str());
  std::string line;
  while (true) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(in, line) || line == "/quit") break;
    if (line == "/reset") {
      turns.clear();
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    turns.push_back({data::Role::user, line});
    auto item = builder.build("chat", segment, static_cast<std::size_t>(c.seg_len), turns, true, 0);
    if (!item) throw Error("the conversation no longer fits");
    const elm::ElmBatch b = elm::collate({*item}, *tok.text.pad_id(), c.encoder_tokens);
    std::vector<std::int32_t> ids;
    std::string shown;
    g.on_step = [&](const torch::Tensor& next) {  // print the new text as it appears
      const auto id = next[0].item<std::int64_t>();
      if (std::find(g.eos_token_ids.begin(), g.eos_token_ids.end(), id) != g.eos_token_ids.end()) return;
      ids.push_back(static_cast<std::int32_t>(id));
      const std::string text = tok.text.decode(ids, true);
      if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) std::printf("%s", text.substr(shown.size()).c_str());
      shown = text;
      std::fflush(stdout);
    };
    model->generate(b, g);
    std::printf("\n");
    turns.push_back({data::Role::assistant, std::string(tokenize::trim_whitespace(shown))});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chat about one ECG with a trained ELM"};
  std::string run, ecg;
  std::int64_t max_new_tokens = 128;
  int threads = 1;
  app.add_option("--run", run, "run folder of ecgbench-train")->required();
  app.add_option("--ecg", ecg, "a WFDB record (path without extension) or a [12, L] .npy")->required();
  app.add_option("--max-new-tokens", max_new_tokens, "per answer")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    torch::set_num_threads(threads);
    elm::ElmConfig c = elm::ElmConfig::read(run);
    std::vector<float> segment;
    if (std::filesystem::path(ecg).extension() == ".npy") {
      const auto a = npy::load(ecg);
      if (a.shape().size() != 2 || a.shape()[0] != 12 || a.shape()[1] != static_cast<std::size_t>(c.seg_len))
        throw Error({ecg, {}, {}, {}}, "expected a [12, " + std::to_string(c.seg_len) + "] array (the run's segment length)");
      segment = a.to_vector<float>();
    } else {
      const auto record = io::read_ecg12(ecg);
      data::SignalOptions so;
      so.segment_len = static_cast<std::size_t>(c.seg_len);
      data::SignalScratch scratch;
      const auto p = data::process_ecg(record, so, scratch);
      if (p.n_segments == 0) throw Error({ecg, {}, {}, {}}, "the record is shorter than one segment of " + std::to_string(c.seg_len) + " samples at 250 Hz");
      segment.assign(p.segments.get(), p.segments.get() + 12 * so.segment_len);
    }
    return elm::dispatch_elm(c, [&]<class ElmT>() { return chat<ElmT>(c, run, segment, max_new_tokens, std::cin); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-chat: %s\n", e.what());
    return 1;
  }
}
