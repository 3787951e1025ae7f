// ecgbench-chat: an interactive terminal chat about one ECG with a trained ELM (multi-turn, the
// run's chat template, answers streamed token by token). The ECG: a [12, L] .npy already at the
// run's rate and length, or a WFDB record preprocessed as ecgbench-preprocess does (paper filters,
// resampled to 250 Hz; the first segment). Commands: /reset starts over, /quit leaves.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/elm/chat.hpp"
#include "ecgbench/io/wfdb.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"Chat about one ECG with a trained ELM"};
  std::string run, ecg;
  std::int64_t max_new_tokens = 128;
  int threads = 1;
  std::string device = "cpu", precision = "fp32", attention;
  app.add_option("--run", run, "run folder of ecgbench-train")->required();
  app.add_option("--ecg", ecg, "a WFDB record (path without extension) or a [12, L] .npy")->required();
  app.add_option("--max-new-tokens", max_new_tokens, "per answer")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--precision", precision, "fp32 | bf16-autocast | bf16")->capture_default_str();
  app.add_option("--attention", attention, "eager | sdpa | auto (default: the run's)");
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
    elm::ChatSettings cs;
    cs.run = run;
    cs.max_new_tokens = max_new_tokens;
    cs.device = device;
    cs.precision = precision;
    cs.attention = attention;
    elm::chat_elm(cs, segment, std::cin, std::cout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-chat: %s\n", e.what());
    return 1;
  }
}
