// Synthetic 12-lead ECGs from McSharry et al.'s dynamical model (ECGSYN; IEEE TBME 50(3), 2003):
// a point circles the unit limit cycle in the (x, y) plane at angular speed 2 pi / RR, and each
// lead's z is driven by Gaussian events at fixed angles (P, Q, R, S, T):
//   dz/dt = -sum_i a_i w dtheta_i exp(-dtheta_i^2 / (2 b_i^2)) - (z - z0(t)).
// Extensions here: 12 leads with lead-specific wave amplitudes (a cardiac-vector projection), event
// angles set per beat from intervals in seconds (so PR and QRS stay fixed while the rate varies),
// rhythm classes (sinus, brady/tachycardia, atrial fibrillation with f-waves and irregular RR,
// first-degree AV block, bundle branch block, ST elevation), noise and baseline wander, and patients
// whose traits (amplitudes, axis, intervals) are stable across their ECGs. Seeded and deterministic.
#pragma once

#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"

namespace ecgbench::synth {

enum class Rhythm { sinus, sinus_bradycardia, sinus_tachycardia, atrial_fibrillation, first_degree_av_block, bundle_branch_block, st_elevation };

inline constexpr std::array<Rhythm, 7> all_rhythms = {Rhythm::sinus, Rhythm::sinus_bradycardia, Rhythm::sinus_tachycardia, Rhythm::atrial_fibrillation,
                                                       Rhythm::first_degree_av_block, Rhythm::bundle_branch_block, Rhythm::st_elevation};

inline std::string to_string(Rhythm r) {
  switch (r) {
    case Rhythm::sinus: return "sinus rhythm";
    case Rhythm::sinus_bradycardia: return "sinus bradycardia";
    case Rhythm::sinus_tachycardia: return "sinus tachycardia";
    case Rhythm::atrial_fibrillation: return "atrial fibrillation";
    case Rhythm::first_degree_av_block: return "first degree av block";
    case Rhythm::bundle_branch_block: return "right bundle branch block";
    case Rhythm::st_elevation: return "st elevation";
  }
  return "?";
}

/// The rhythm named by to_string, or by its short form (sinus, brady, tachy, af, 1avb, rbbb, ste).
inline Rhythm parse_rhythm(const std::string& s) {
  for (auto r : all_rhythms)
    if (to_string(r) == s) return r;
  static const std::pair<const char*, Rhythm> short_names[] = {{"sinus", Rhythm::sinus}, {"brady", Rhythm::sinus_bradycardia}, {"tachy", Rhythm::sinus_tachycardia},
                                                               {"af", Rhythm::atrial_fibrillation}, {"1avb", Rhythm::first_degree_av_block},
                                                               {"rbbb", Rhythm::bundle_branch_block}, {"ste", Rhythm::st_elevation}};
  for (const auto& [n, r] : short_names)
    if (s == n) return r;
  throw Error("unknown rhythm '" + s + "' (sinus, brady, tachy, af, 1avb, rbbb, ste)");
}

/// Stable traits of one patient: amplitude scale per lead, intervals, noise level.
struct PatientTraits {
  std::array<double, 12> lead_gain{};
  double pr = 0.16;        ///< s, P peak to R peak
  double qrs = 0.09;       ///< s, QRS duration (6 sigma of the R event)
  double qt = 0.38;        ///< s, R peak to T peak is ~ qt - 0.12
  double noise_mv = 0.015;
  double resting_hr = 70;

  static PatientTraits draw(std::uint64_t seed, std::uint64_t patient) {
    auto rng = make_rng(seed, 0x5eed0000 + patient);
    PatientTraits t;
    const double axis = normal(rng, 0.0, 0.15);  // small rotation of the limb-lead projections
    for (int l = 0; l < 12; ++l) t.lead_gain[l] = std::exp(normal(rng, 0.0, 0.15)) * (l < 6 ? 1.0 + axis * (l % 3 - 1) : 1.0);
    t.pr = uniform(rng, 0.13, 0.18);
    t.qrs = uniform(rng, 0.08, 0.10);
    t.qt = uniform(rng, 0.36, 0.42);
    t.noise_mv = uniform(rng, 0.005, 0.02);
    t.resting_hr = uniform(rng, 62, 85);
    return t;
  }
};

struct EcgSpec {
  Rhythm rhythm = Rhythm::sinus;
  double heart_rate = 72;   ///< bpm (mean for AF)
  double pr = 0.16;         ///< s
  double qrs = 0.09;        ///< s
  double qt = 0.38;         ///< s, QT at 60 bpm (QTc); scaled by sqrt(RR) per beat (Bazett), as ECGSYN scales T
  double st_elevation_mv = 0;
  double seconds = 10, fs = 500;
  double noise_mv = 0.015, wander_mv = 0.1;
  std::array<double, 12> lead_gain{};

  /// The spec of an ECG of `rhythm` for a patient (rate and intervals drawn around the class).
  static EcgSpec make(Rhythm rhythm, const PatientTraits& p, Rng& rng) {
    EcgSpec s;
    s.rhythm = rhythm;
    s.lead_gain = p.lead_gain;
    s.pr = p.pr;
    s.qrs = p.qrs;
    s.qt = p.qt;
    s.noise_mv = p.noise_mv;
    s.heart_rate = std::clamp(p.resting_hr + normal(rng, 0, 4), 61.0, 95.0);
    switch (rhythm) {
      case Rhythm::sinus: break;
      case Rhythm::sinus_bradycardia: s.heart_rate = uniform(rng, 42, 56); break;
      case Rhythm::sinus_tachycardia: s.heart_rate = uniform(rng, 105, 140); break;
      case Rhythm::atrial_fibrillation: s.heart_rate = uniform(rng, 70, 130); break;
      case Rhythm::first_degree_av_block: s.pr = uniform(rng, 0.23, 0.32); break;
      case Rhythm::bundle_branch_block: s.qrs = uniform(rng, 0.13, 0.16); break;
      case Rhythm::st_elevation: s.st_elevation_mv = uniform(rng, 0.15, 0.3); break;
    }
    return s;
  }
};

struct SyntheticEcg {
  EcgSpec spec;
  std::vector<double> data;      ///< frame-major [t][12], mV
  std::vector<double> r_peaks;   ///< seconds
};

namespace detail {
// Per lead amplitudes (mV) of the P, Q, R, S, T events in canonical order: a textbook projection of
// the cardiac vector (aVR inverted, V1 dominated by S, R progression across V1..V6).
constexpr double wave_mv[12][5] = {
    {0.10, -0.05, 0.70, -0.10, 0.20}, {0.15, -0.05, 1.10, -0.20, 0.30}, {0.05, -0.02, 0.40, -0.10, 0.10},
    {-0.12, 0.05, -0.80, 0.15, -0.25}, {0.03, -0.03, 0.30, -0.05, 0.05}, {0.10, -0.03, 0.75, -0.15, 0.20},
    {0.08, 0.00, 0.30, -0.90, -0.10}, {0.10, 0.00, 0.60, -1.20, 0.40}, {0.10, -0.05, 0.90, -0.80, 0.45},
    {0.10, -0.08, 1.30, -0.40, 0.40}, {0.10, -0.08, 1.20, -0.20, 0.35}, {0.10, -0.06, 0.90, -0.10, 0.25}};
}  // namespace detail

/// Integrates the model (RK4 at `fs`) and adds f-waves, noise and baseline wander.
inline SyntheticEcg generate(const EcgSpec& s, Rng& rng) {
  if (!(s.heart_rate > 20 && s.heart_rate < 250)) throw Error("synth: heart rate out of range");
  if (!(s.fs >= 100) || !(s.seconds > 0)) throw Error("synth: bad sampling rate or duration");
  const auto n = static_cast<std::size_t>(s.seconds * s.fs);
  const double dt = 1.0 / s.fs;
  SyntheticEcg out;
  out.spec = s;
  out.data.assign(n * 12, 0.0);
  // RR series: sinus has small respiratory variability; AF is irregularly irregular.
  std::vector<double> rr;
  double total = 0;
  while (total < s.seconds + 3.0) {
    const double mean = 60.0 / s.heart_rate;
    double r = s.rhythm == Rhythm::atrial_fibrillation ? mean * std::exp(normal(rng, -0.045, 0.3)) : mean * (1.0 + normal(rng, 0, 0.015));
    r = std::clamp(r, 0.27, 2.5);
    rr.push_back(r);
    total += r;
  }
  const bool af = s.rhythm == Rhythm::atrial_fibrillation;
  const bool bbb = s.rhythm == Rhythm::bundle_branch_block;
  // Event offsets from the R peak (s) and widths (s): P, Q, R, S, T (+ R' for BBB, ST plateau).
  const double sig_r = s.qrs / 6.0;
  // State: angle theta (R event at theta = 0) and z per lead. The beat starts at theta = -pi.
  double theta = -std::numbers::pi;  // mid-diastole
  std::size_t beat = 0;
  std::array<double, 12> z{};
  // Events of one lead for the current beat length: angle, angular width, amplitude (mV).
  struct Ev {
    double at, width, amp;
  };
  auto events = [&](int lead, double rr_now, std::array<Ev, 7>& ev) {
    const double k = 2 * std::numbers::pi / rr_now;
    const double g = s.lead_gain[lead];
    const auto& a = detail::wave_mv[lead];
    int m = 0;
    if (!af) ev[m++] = {-s.pr * k, 0.025 * k, g * a[0]};
    ev[m++] = {-1.6 * sig_r * k, 0.4 * sig_r * k, g * a[1]};
    ev[m++] = {0.0, sig_r * k, g * a[2]};
    ev[m++] = {1.6 * sig_r * k, 0.5 * sig_r * k, g * a[3]};
    if (bbb && lead >= 6 && lead <= 7) ev[m++] = {2.4 * sig_r * k, 0.5 * sig_r * k, g * 0.6};  // rsR' in V1-V2
    const double qt = s.qt * std::sqrt(rr_now);
    ev[m++] = {(qt - 0.12) * k, 0.06 * k, g * a[4]};
    if (s.st_elevation_mv > 0 && lead >= 6 && lead <= 9) ev[m++] = {(qt - 0.22) * k, 0.07 * k, s.st_elevation_mv};
    return m;
  };
  // With amplitude A and angular width b, z follows A exp(-d^2 / 2b^2) when driven by
  // -A w d / b^2 exp(-d^2 / 2b^2) (ECGSYN's a_i = A / b^2, times w so that amplitudes are rate-free).
  auto forcing = [&](double th, double w, int lead, double rr_now) {
    std::array<Ev, 7> ev{};
    const int m = events(lead, rr_now, ev);
    double f = 0;
    for (int i = 0; i < m; ++i) {
      const double d = std::remainder(th - ev[i].at, 2 * std::numbers::pi);
      f += -ev[i].amp * w * d / (ev[i].width * ev[i].width) * std::exp(-d * d / (2 * ev[i].width * ev[i].width));
    }
    return f;
  };
  // F(theta): the sum of the events; z follows it. ECGSYN's -(z - z0) term pulls z towards the
  // baseline; here it pulls towards F, which removes the small offsets that the change of beat
  // length at theta = pi would otherwise accumulate beat after beat.
  auto level = [&](double th, int lead, double rr_now) {
    std::array<Ev, 7> ev{};
    const int m = events(lead, rr_now, ev);
    double v = 0;
    for (int i = 0; i < m; ++i) {
      const double d = std::remainder(th - ev[i].at, 2 * std::numbers::pi);
      v += ev[i].amp * std::exp(-d * d / (2 * ev[i].width * ev[i].width));
    }
    return v;
  };
  for (int l = 0; l < 12; ++l) z[l] = level(theta, l, rr[0]);  // start on the trajectory
  const double kappa = 8.0;                                   // 1/s
  for (std::size_t t = 0; t < n; ++t) {
    const double rr_now = rr[beat];
    const double w = 2 * std::numbers::pi / rr_now;
    // RK4 for z of each lead (theta advances linearly within the beat).
    for (int l = 0; l < 12; ++l) {
      auto dz = [&](double th, double zz) { return forcing(th, w, l, rr_now) - kappa * (zz - level(th, l, rr_now)); };
      const double k1 = dz(theta, z[l]);
      const double k2 = dz(theta + 0.5 * dt * w, z[l] + 0.5 * dt * k1);
      const double k3 = dz(theta + 0.5 * dt * w, z[l] + 0.5 * dt * k2);
      const double k4 = dz(theta + dt * w, z[l] + dt * k3);
      z[l] += dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4);
      out.data[t * 12 + l] = z[l];
    }
    const double before = theta;
    theta += w * dt;
    if (before < 0 && theta >= 0) out.r_peaks.push_back(static_cast<double>(t + 1) * dt - theta / w);
    if (theta >= std::numbers::pi) {  // next beat
      theta -= 2 * std::numbers::pi;
      ++beat;
      if (beat >= rr.size()) beat = rr.size() - 1;
    }
  }
  // Fibrillatory waves (AF), baseline wander (respiration), measurement noise.
  const double f_hz = uniform(rng, 5.0, 7.0), f_amp = af ? uniform(rng, 0.04, 0.09) : 0.0, f_phase = uniform(rng, 0, 6.28);
  const double wander_hz = uniform(rng, 0.15, 0.35), wander_phase = uniform(rng, 0, 6.28);
  for (std::size_t t = 0; t < n; ++t) {
    const double ts = static_cast<double>(t) * dt;
    const double fw = f_amp * std::sin(2 * std::numbers::pi * f_hz * ts + f_phase + 0.8 * std::sin(0.7 * ts));
    const double bw = s.wander_mv * std::sin(2 * std::numbers::pi * wander_hz * ts + wander_phase);
    for (int l = 0; l < 12; ++l) out.data[t * 12 + l] += fw * (l == 6 || l == 1 ? 1.0 : 0.4) + bw * (0.5 + 0.1 * l) + normal(rng, 0, s.noise_mv);
  }
  return out;
}

}  // namespace ecgbench::synth
