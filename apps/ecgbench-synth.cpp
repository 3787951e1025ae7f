// ecgbench-synth: write a PTB-XL-shaped synthetic 12-lead data set with ECG-QA-style questions.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/strings.hpp"
#include "ecgbench/synth/synth.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Synthetic 12-lead ECGs (ECGSYN-based) as a PTB-XL-shaped data set"};
  ecgbench::synth::DatasetOptions o;
  std::string out;
  bool quiet = false;
  std::string rhythms;
  app.add_option("--n", o.records, "number of records")->capture_default_str();
  app.add_option("--out", out, "output folder")->required();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--seconds", o.seconds, "record length")->capture_default_str();
  app.add_option("--jobs", o.jobs, "threads (0 = all cores)")->capture_default_str();
  app.add_option("--rhythms", rhythms, "only these classes, equal shares (comma list of sinus, brady, tachy, af, 1avb, rbbb, ste)");
  app.add_flag("--quiet", quiet, "no progress");
  CLI11_PARSE(app, argc, argv);
  try {
    if (quiet) o.progress = ecgbench::ProgressStyle::quiet;
    for (const auto& r : ecgbench::split(rhythms, ','))
      if (!r.empty()) o.rhythms.push_back(ecgbench::synth::parse_rhythm(r));
    const auto s = ecgbench::synth::write_dataset(out, o);
    std::printf("wrote %zu records of %zu patients and %zu questions to %s\n", s.records, s.patients, s.questions, out.c_str());
    for (const auto& [name, count] : s.per_rhythm) std::printf("  %-28s %zu\n", name.c_str(), count);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-synth: %s\n", e.what());
    return 1;
  }
  return 0;
}
