// ecgbench-plot: a 12-lead ECG as a PNG for people: standard ECG paper (25 mm/s, 10 mm/mV, 1 / 5 mm
// grid), 3 x 4 leads plus a lead-II rhythm strip, calibration pulses, the record id and sampling
// rate in the margin. From a WFDB record, a segment of a preprocessed folder, or a [12, L] .npy.
// `--style upstream` writes the upstream-compatible training image instead.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/represent/represent.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"Plot a 12-lead ECG on standard ECG paper (PNG)"};
  std::string record, segment, segments, npy_in, out, style = "clinical", title;
  double fs = 250, px_per_mm = 4;
  auto* r = app.add_option("--record", record, "WFDB record path (without extension)");
  auto* s = app.add_option("--segment", segment, "segment id of a preprocessed folder (with --segments)")->excludes(r);
  app.add_option("--segments", segments, "preprocessed folder (index.jsonl + shards)");
  app.add_option("--npy", npy_in, "float32 [12, L] signal (mV), canonical lead order")->excludes(r)->excludes(s);
  app.add_option("--fs", fs, "sampling rate of --npy (Hz)")->capture_default_str();
  app.add_option("--style", style, "clinical | upstream")->check(CLI::IsMember({"clinical", "upstream"}))->capture_default_str();
  app.add_option("--px-per-mm", px_per_mm, "resolution (4 = about 100 dpi)")->capture_default_str();
  app.add_option("--title", title, "text in the margin (default: the record or segment id)");
  app.add_option("--out", out, "output PNG")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<float> sig;
    std::string id = title;
    if (!record.empty()) {
      const auto ecg = io::read_ecg12(record);
      sig.assign(ecg.data.begin(), ecg.data.end());
      fs = ecg.sampling_frequency;
      if (id.empty()) id = std::filesystem::path(record).filename().string();
    } else if (!segment.empty()) {
      if (segments.empty()) throw Error("--segment needs --segments DIR");
      const auto index = data::read_segment_index(std::filesystem::path(segments) / "index.jsonl");
      const auto it = std::find_if(index.begin(), index.end(), [&](const data::SegmentEntry& e) { return e.id == segment; });
      if (it == index.end()) throw Error({(std::filesystem::path(segments) / "index.jsonl").string(), {}, {}, {}}, "no segment '" + segment + "'");
      data::SegmentStore store(segments);
      const auto view = store.segment(*it);
      sig.assign(view.begin(), view.end());
      fs = it->target_sf;
      if (id.empty()) id = segment;
    } else if (!npy_in.empty()) {
      const auto a = npy::load(npy_in);
      if (a.shape().size() != 2 || a.shape()[0] != 12) throw Error({npy_in, {}, {}, {}}, "expected a [12, L] array of 12 leads");
      sig = a.to_vector<float>();
      if (id.empty()) id = std::filesystem::path(npy_in).stem().string();
    } else {
      throw Error("give --record, --segment with --segments, or --npy");
    }
    represent::RgbImage img;
    if (style == "upstream") {
      represent::EcgPlotOptions po;
      po.sample_rate = fs;
      img = represent::upstream_ecg_plot(sig, 12, po);
    } else {
      represent::ClinicalPlotOptions co;
      co.sample_rate = fs;
      co.px_per_mm = px_per_mm;
      co.title = id;
      img = represent::clinical_ecg_plot(sig, co);
    }
    represent::write_png(out, img);
    std::printf("%s (%dx%d)\n", out.c_str(), img.width, img.height);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-plot: %s\n", e.what());
    return 1;
  }
  return 0;
}
