// SNOMED-CT codes in the `#Dx:` comments of CSN / CPSC (PhysioNet/CinC 2020-2021) headers -> the
// diagnosis names and abbreviations of the Challenge's dx mapping tables (scored and unscored).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/io/wfdb_header.hpp"

namespace ecgbench::io {

struct SnomedDiagnosis {
  std::uint64_t code;
  std::string_view name;          ///< lower-case English name as in the Challenge tables
  std::string_view abbreviation;
};

inline const std::vector<SnomedDiagnosis>& snomed_diagnoses() {
  static const std::vector<SnomedDiagnosis> table = [] {
    std::vector<SnomedDiagnosis> t{
      {164889003ull, "atrial fibrillation", "AF"},
      {164890007ull, "atrial flutter", "AFL"},
      {6374002ull, "bundle branch block", "BBB"},
      {426627000ull, "bradycardia", "Brady"},
      {733534002ull, "complete left bundle branch block", "CLBBB"},
      {713427006ull, "complete right bundle branch block", "CRBBB"},
      {270492004ull, "1st degree av block", "IAVB"},
      {713426002ull, "incomplete right bundle branch block", "IRBBB"},
      {39732003ull, "left axis deviation", "LAD"},
      {445118002ull, "left anterior fascicular block", "LAnFB"},
      {164909002ull, "left bundle branch block", "LBBB"},
      {251146004ull, "low qrs voltages", "LQRSV"},
      {698252002ull, "nonspecific intraventricular conduction disorder", "NSIVCB"},
      {426783006ull, "sinus rhythm", "NSR"},
      {284470004ull, "premature atrial contraction", "PAC"},
      {10370003ull, "pacing rhythm", "PR"},
      {365413008ull, "poor R wave Progression", "PRWP"},
      {427172004ull, "premature ventricular contractions", "PVC"},
      {164947007ull, "prolonged pr interval", "LPR"},
      {111975006ull, "prolonged qt interval", "LQT"},
      {164917005ull, "qwave abnormal", "QAb"},
      {47665007ull, "right axis deviation", "RAD"},
      {59118001ull, "right bundle branch block", "RBBB"},
      {427393009ull, "sinus arrhythmia", "SA"},
      {426177001ull, "sinus bradycardia", "SB"},
      {427084000ull, "sinus tachycardia", "STach"},
      {63593006ull, "supraventricular premature beats", "SVPB"},
      {164934002ull, "t wave abnormal", "TAb"},
      {59931005ull, "t wave inversion", "TInv"},
      {17338001ull, "ventricular premature beats", "VPB"},
      {233892002ull, "accelerated atrial escape rhythm", "AAR"},
      {164951009ull, "abnormal QRS", "abQRS"},
      {251187003ull, "atrial escape beat", "AED"},
      {61277005ull, "accelerated idioventricular rhythm", "AIVR"},
      {426664006ull, "accelerated junctional rhythm", "AJR"},
      {251139008ull, "suspect arm ecg leads reversed", "ALR"},
      {57054005ull, "acute myocardial infarction", "AMI"},
      {413444003ull, "acute myocardial ischemia", "AMIs"},
      {426434006ull, "anterior ischemia", "AnMIs"},
      {54329005ull, "anterior myocardial infarction", "AnMI"},
      {251173003ull, "atrial bigeminy", "AB"},
      {195080001ull, "atrial fibrillation and flutter", "AFAFL"},
      {195126007ull, "atrial hypertrophy", "AH"},
      {251268003ull, "atrial pacing pattern", "AP"},
      {106068003ull, "atrial rhythm", "ARH"},
      {713422000ull, "atrial tachycardia", "ATach"},
      {233917008ull, "av block", "AVB"},
      {50799005ull, "atrioventricular dissociation", "AVD"},
      {29320008ull, "atrioventricular junctional rhythm", "AVJR"},
      {251166008ull, "atrioventricular node reentrant tachycardia", "AVNRT"},
      {233897008ull, "atrioventricular reentrant tachycardia", "AVRT"},
      {251170000ull, "blocked premature atrial contraction", "BPAC"},
      {418818005ull, "brugada", "BRU"},
      {74615001ull, "brady tachy syndrome", "BTS"},
      {426749004ull, "chronic atrial fibrillation", "CAF"},
      {251199005ull, "countercolockwise rotation", "CCR"},
      {61721007ull, "clockwise or counterclockwise vectorcardiographic loop", "CVCL/CCVCL"},
      {698247007ull, "cardiac dysrhythmia", "CD"},
      {27885002ull, "complete heart block", "CHB"},
      {204384007ull, "congenital incomplete atrioventricular heart block", "CIAHB"},
      {53741008ull, "coronary heart disease", "CHD"},
      {413844008ull, "chronic myocardial ischemia", "CMI"},
      {251198002ull, "clockwise rotation", "CR"},
      {82226007ull, "diffuse intraventricular block", "DIB"},
      {428417006ull, "early repolarization", "ERe"},
      {13640000ull, "fusion beats", "FB"},
      {164942001ull, "fqrs wave", "FQRS"},
      {84114007ull, "heart failure", "HF"},
      {368009ull, "heart valve disorder", "HVD"},
      {251259000ull, "high t-voltage", "HTV"},
      {251200008ull, "indeterminate cardiac axis", "ICA"},
      {195042002ull, "2nd degree av block", "IIAVB"},
      {426183003ull, "mobitz type II atrioventricular block", "IIAVBII"},
      {425419005ull, "inferior ischaemia", "IIs"},
      {251120003ull, "incomplete left bundle branch block", "ILBBB"},
      {704997005ull, "inferior ST segment depression", "ISTD"},
      {49260003ull, "idioventricular rhythm", "IR"},
      {426995002ull, "junctional escape", "JE"},
      {251164006ull, "junctional premature complex", "JPC"},
      {426648003ull, "junctional tachycardia", "JTach"},
      {253352002ull, "left atrial abnormality", "LAA"},
      {67741000119109ull, "left atrial enlargement", "LAE"},
      {446813000ull, "left atrial hypertrophy", "LAH"},
      {425623009ull, "lateral ischaemia", "LIs"},
      {445211001ull, "left posterior fascicular block", "LPFB"},
      {164873001ull, "left ventricular hypertrophy", "LVH"},
      {55827005ull, "left ventricular high voltage", "LVHV"},
      {370365005ull, "left ventricular strain", "LVS"},
      {164865005ull, "myocardial infarction", "MI"},
      {164861001ull, "myocardial ischemia", "MIs"},
      {54016002ull, "mobitz type i wenckebach atrioventricular block", "MoI"},
      {428750005ull, "nonspecific st t abnormality", "NSSTTA"},
      {164867002ull, "old myocardial infarction", "OldMI"},
      {282825002ull, "paroxysmal atrial fibrillation", "PAF"},
      {251205003ull, "prolonged P wave", "PPW"},
      {67198005ull, "paroxysmal supraventricular tachycardia", "PSVT"},
      {425856008ull, "paroxysmal ventricular tachycardia", "PVT"},
      {164912004ull, "p wave change", "PWC"},
      {253339007ull, "right atrial abnormality", "RAAb"},
      {164921003ull, "r wave abnormal", "RAb"},
      {446358003ull, "right atrial hypertrophy", "RAH"},
      {67751000119106ull, "right atrial high voltage", "RAHV"},
      {314208002ull, "rapid atrial fibrillation", "RAF"},
      {89792004ull, "right ventricular hypertrophy", "RVH"},
      {17366009ull, "sinus atrium to atrial wandering rhythm", "SAAWR"},
      {65778007ull, "sinoatrial block", "SAB"},
      {5609005ull, "sinus arrest", "SARR"},
      {60423000ull, "sinus node dysfunction", "SND"},
      {49578007ull, "shortened pr interval", "SPRI"},
      {77867006ull, "decreased qt interval", "SQT"},
      {55930002ull, "s t changes", "STC"},
      {429622005ull, "st depression", "STD"},
      {164931005ull, "st elevation", "STE"},
      {164930006ull, "st interval abnormal", "STIAb"},
      {251168009ull, "supraventricular bigeminy", "SVB"},
      {426761007ull, "supraventricular tachycardia", "SVT"},
      {251223006ull, "tall p wave", "TPW"},
      {164937009ull, "u wave abnormal", "UAb"},
      {11157007ull, "ventricular bigeminy", "VBig"},
      {164884008ull, "ventricular ectopics", "VEB"},
      {75532003ull, "ventricular escape beat", "VEsB"},
      {81898007ull, "ventricular escape rhythm", "VEsR"},
      {164896001ull, "ventricular fibrillation", "VF"},
      {111288001ull, "ventricular flutter", "VFL"},
      {266249003ull, "ventricular hypertrophy", "VH"},
      {195060002ull, "ventricular pre excitation", "VPEx"},
      {251266004ull, "ventricular pacing pattern", "VPP"},
      {251182009ull, "paired ventricular premature complexes", "VPVC"},
      {164895002ull, "ventricular tachycardia", "VTach"},
      {251180001ull, "ventricular trigeminy", "VTrig"},
      {195101003ull, "wandering atrial pacemaker", "WAP"},
      {74390002ull, "wolff parkinson white pattern", "WPW"},
    };
    std::sort(t.begin(), t.end(), [](const auto& a, const auto& b) { return a.code < b.code; });
    return t;
  }();
  return table;
}

inline std::optional<SnomedDiagnosis> find_snomed(std::uint64_t code) {
  const auto& t = snomed_diagnoses();
  auto it = std::lower_bound(t.begin(), t.end(), code, [](const auto& d, std::uint64_t c) { return d.code < c; });
  if (it == t.end() || it->code != code) return std::nullopt;
  return *it;
}

/// Codes of a `#Dx:` value ("164934002,426783006"); a non-numeric code is an Error naming `file`.
inline std::vector<std::uint64_t> parse_dx_codes(std::string_view dx, const std::string& file) {
  std::vector<std::uint64_t> out;
  std::size_t i = 0;
  while (i <= dx.size()) {
    auto j = dx.find(',', i);
    if (j == std::string_view::npos) j = dx.size();
    auto tok = dx.substr(i, j - i);
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\r')) tok.remove_suffix(1);
    if (!tok.empty()) {
      std::uint64_t v = 0;
      if (!detail::parse_number(tok, v)) throw Error({file, {}, {}, "Dx"}, "invalid SNOMED code '" + std::string(tok) + "'");
      out.push_back(v);
    }
    i = j + 1;
  }
  return out;
}

/// Diagnosis names for a header's `#Dx` comment; unknown codes are kept as "snomed:<code>" so
/// that no label silently disappears.
inline std::vector<std::string> dx_labels(const WfdbHeader& h) {
  std::vector<std::string> out;
  const auto dx = h.comment_value("Dx");
  if (!dx) return out;
  for (auto code : parse_dx_codes(*dx, h.path)) {
    if (auto d = find_snomed(code)) out.emplace_back(d->name);
    else out.push_back("snomed:" + std::to_string(code));
  }
  return out;
}

}  // namespace ecgbench::io
