// A PTB-XL-shaped synthetic data set: WFDB records (records500/NN000/NNNNN_hr, format 16, 500 Hz),
// ptbxl_database.csv (patient_id, scp_codes, English report, strat_fold by patient), and ECG-QA-style
// questions (single-verify / single-choose / single-query) in ECG-QA's JSON schema, so that the real
// readers, preprocessing and mapping run on it unchanged.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/core/progress.hpp"
#include "ecgbench/io/leads.hpp"
#include "ecgbench/io/wfdb_writer.hpp"
#include "ecgbench/synth/ecgsyn.hpp"

namespace ecgbench::synth {

struct DatasetOptions {
  std::size_t records = 2000;
  std::uint64_t seed = 0;
  double seconds = 10;
  unsigned jobs = 0;
  ProgressStyle progress = ProgressStyle::automatic;
  /// Empty: 40 % sinus rhythm, 10 % each other class. Otherwise these classes with equal shares, the
  /// verify questions ask about them only, and the PR / QRS questions are kept only when a class that
  /// changes their answer (first degree AV block, bundle branch block) is among them.
  std::vector<Rhythm> rhythms;
};

struct DatasetSummary {
  std::size_t records = 0, patients = 0, questions = 0;
  std::map<std::string, std::size_t> per_rhythm;
};

inline std::string scp_codes(Rhythm r) {
  switch (r) {
    case Rhythm::sinus: return "{'NORM': 100.0, 'SR': 0.0}";
    case Rhythm::sinus_bradycardia: return "{'SBRAD': 100.0}";
    case Rhythm::sinus_tachycardia: return "{'STACH': 100.0}";
    case Rhythm::atrial_fibrillation: return "{'AFIB': 100.0}";
    case Rhythm::first_degree_av_block: return "{'1AVB': 100.0, 'SR': 0.0}";
    case Rhythm::bundle_branch_block: return "{'CRBBB': 100.0, 'SR': 0.0}";
    case Rhythm::st_elevation: return "{'STE_': 100.0, 'SR': 0.0}";
  }
  return "{}";
}

inline std::string report(const EcgSpec& s) {
  char buf[256];
  const int hr = static_cast<int>(std::lround(s.heart_rate));
  switch (s.rhythm) {
    case Rhythm::sinus: std::snprintf(buf, sizeof buf, "sinus rhythm, rate %d bpm. normal ecg.", hr); break;
    case Rhythm::sinus_bradycardia: std::snprintf(buf, sizeof buf, "sinus bradycardia, rate %d bpm.", hr); break;
    case Rhythm::sinus_tachycardia: std::snprintf(buf, sizeof buf, "sinus tachycardia, rate %d bpm.", hr); break;
    case Rhythm::atrial_fibrillation: std::snprintf(buf, sizeof buf, "atrial fibrillation with a mean ventricular rate of %d bpm.", hr); break;
    case Rhythm::first_degree_av_block:
      std::snprintf(buf, sizeof buf, "sinus rhythm, rate %d bpm. first degree av block (pr %d ms).", hr, static_cast<int>(std::lround(s.pr * 1000)));
      break;
    case Rhythm::bundle_branch_block:
      std::snprintf(buf, sizeof buf, "sinus rhythm, rate %d bpm. right bundle branch block (qrs %d ms).", hr, static_cast<int>(std::lround(s.qrs * 1000)));
      break;
    case Rhythm::st_elevation: std::snprintf(buf, sizeof buf, "sinus rhythm, rate %d bpm. st elevation in leads v1-v4.", hr); break;
  }
  return buf;
}

/// Record stem path of ecg id `i` (1-based), PTB-XL style.
inline std::string record_path(std::size_t ecg_id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "records500/%05zu/%05zu_hr", ecg_id / 1000 * 1000, ecg_id);
  return buf;
}

inline DatasetSummary write_dataset(const std::filesystem::path& out, const DatasetOptions& opt) {
  if (opt.records == 0) throw Error("records must be positive");
  const std::size_t n = opt.records, patients = std::max<std::size_t>(1, n / 3);
  // Class and patient of every record, drawn up front so that the result does not depend on threads.
  std::vector<Rhythm> rhythm(n);
  std::vector<std::size_t> patient(n);
  {
    auto rng = make_rng(opt.seed, 1);
    for (std::size_t i = 0; i < n; ++i) {
      if (opt.rhythms.empty()) {
        const double u = uniform01(rng);
        rhythm[i] = u < 0.4 ? Rhythm::sinus : all_rhythms[1 + static_cast<std::size_t>((u - 0.4) / 0.1)];
      } else {
        rhythm[i] = opt.rhythms[uniform_index(rng, opt.rhythms.size())];
      }
      patient[i] = uniform_index(rng, patients);
    }
  }
  std::vector<EcgSpec> specs(n);
  std::vector<io::WfdbWriteSignal> sigs;
  for (auto l : io::canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
  Progress progress("synthesise", n, "records", opt.progress);
  parallel_for(n, opt.jobs, [&](std::size_t i) {
    auto rng = make_rng(opt.seed, 1000 + i);
    const auto traits = PatientTraits::draw(opt.seed, patient[i]);
    auto spec = EcgSpec::make(rhythm[i], traits, rng);
    spec.seconds = opt.seconds;
    const auto ecg = generate(spec, rng);
    const auto rel = std::filesystem::path(record_path(i + 1));
    io::write_wfdb_format16(out / rel.parent_path(), rel.filename().string(), spec.fs, sigs, ecg.data,
                            {"synthetic: " + to_string(spec.rhythm), "seed: " + std::to_string(opt.seed)});
    specs[i] = spec;
    progress.tick();
  });
  progress.finish();

  DatasetSummary sum;
  sum.records = n;
  sum.patients = patients;
  std::string csv = "ecg_id,patient_id,age,sex,report,scp_codes,strat_fold,filename_lr,filename_hr\n";
  std::vector<Json> train, test;
  std::size_t qid = 0;
  auto rng = make_rng(opt.seed, 2);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = specs[i];
    ++sum.per_rhythm[to_string(s.rhythm)];
    const int fold = static_cast<int>(patient[i] % 10) + 1;
    const std::size_t id = i + 1;
    const auto path = record_path(id);
    std::string lr = path;
    lr.replace(lr.find("records500"), 10, "records100");
    lr.replace(lr.size() - 3, 3, "_lr");
    csv += std::to_string(id) + "," + std::to_string(patient[i] + 1) + ".0," + std::to_string(30 + patient[i] % 60) + ".0," +
           std::to_string(patient[i] % 2) + ",\"" + report(s) + "\",\"" + scp_codes(s.rhythm) + "\"," + std::to_string(fold) + "," + lr + "," +
           path + "\n";
    // Questions in ECG-QA's schema (raw form: ecg_id, no ecg_path).
    auto q = [&](int template_id, const std::string& type, const std::string& attr_type, const std::string& question,
                 std::vector<std::string> answer, std::vector<std::string> attribute) {
      Json j{{"template_id", template_id}, {"question_id", template_id}, {"sample_id", qid++}, {"question_type", type},
             {"attribute_type", attr_type}, {"question", question}, {"answer", answer}, {"ecg_id", {id}}, {"attribute", attribute}};
      (fold == 10 ? test : train).push_back(std::move(j));
    };
    const Rhythm asked = opt.rhythms.empty() ? all_rhythms[uniform_index(rng, all_rhythms.size())] : opt.rhythms[uniform_index(rng, opt.rhythms.size())];
    q(1, "single-verify", "scp_code", "Does this ECG show " + to_string(asked) + "?", {asked == s.rhythm ? "yes" : "no"}, {to_string(asked)});
    const bool af = s.rhythm == Rhythm::atrial_fibrillation;
    q(2, "single-choose", "scp_code", "Which rhythm does this ECG show, sinus rhythm or atrial fibrillation?",
      {af ? "atrial fibrillation" : "sinus rhythm"}, {"sinus rhythm", "atrial fibrillation"});
    const std::string rate = s.heart_rate < 60 ? "bradycardia" : (s.heart_rate > 100 ? "tachycardia" : "normal");
    q(3, "single-query", "numeric_feature", "What is the heart rate category of this ECG?", {rate}, {"heart rate"});
    auto among = [&](Rhythm r) { return opt.rhythms.empty() || std::find(opt.rhythms.begin(), opt.rhythms.end(), r) != opt.rhythms.end(); };
    if (among(Rhythm::first_degree_av_block))
      q(4, "single-verify", "numeric_feature", "Is the PR interval prolonged in this ECG?",
        {s.rhythm == Rhythm::first_degree_av_block ? "yes" : (af ? "none" : "no")}, {"pr interval"});
    if (among(Rhythm::bundle_branch_block))
      q(5, "single-verify", "numeric_feature", "Is the QRS duration prolonged in this ECG?", {s.rhythm == Rhythm::bundle_branch_block ? "yes" : "no"},
        {"qrs duration"});
  }
  sum.questions = qid;
  write_file_atomically(out / "ptbxl_database.csv", csv);
  write_json(out / "ecgqa/ptbxl/template/train/synthetic.json", Json(train), 4);
  write_json(out / "ecgqa/ptbxl/template/test/synthetic.json", Json(test), 4);
  write_json(out / "synthetic_manifest.json", Json{{"records", n}, {"patients", patients}, {"seed", opt.seed}, {"seconds", opt.seconds},
                                                    {"questions", qid}, {"per_rhythm", sum.per_rhythm},
                                                    {"model", "ECGSYN (McSharry et al. 2003), 12-lead extension"}});
  return sum;
}

}  // namespace ecgbench::synth
