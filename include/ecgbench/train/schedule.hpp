// Learning-rate schedules, torch-free: upstream ECG-Bench's Noam `ScheduledOptim` in each era's
// form, and the warmup + decay schedules of transformers (linear, cosine) and a constant rate.
// `lr(k)` is the rate of optimizer step k (0-based), set before that step as ScheduledOptim does.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"

namespace ecgbench::train {

struct Schedule {
  enum class Kind {
    noam,     ///< init_lr * min(s^-0.5, s warmup^-1.5)
    linear,   ///< peak * k / warmup, then linearly to 0 at total_steps (get_linear_schedule_with_warmup)
    cosine,   ///< peak * k / warmup, then half a cosine to 0 at total_steps (get_cosine_schedule_with_warmup)
    constant  ///< peak (after an optional linear warmup)
  };
  Kind kind = Kind::noam;
  double init_lr = 0.0;  ///< noam: the factor in front; others: the peak rate
  std::int64_t warmup = 500;
  std::int64_t total_steps = 0;  ///< linear / cosine: where the rate reaches 0
  /// Noam's step counter: upstream [P] / [H] use s = max(1, k) and a floor of 1e-8; the paper-era
  /// code ([P2], ECG-Byte) counts s = k + 1 and has no floor.
  bool paper_counter = false;

  /// Paper era (the published ECG-Bench and ECG-Byte numbers): init_lr = d_model^-0.5, `--lr` ignored;
  /// d_model is the LLM's hidden size, or the encoder's width in stage 1.
  static Schedule noam_paper(std::int64_t d_model, std::int64_t warmup = 500) {
    if (d_model <= 0) throw Error("noam schedule: d_model must be positive");
    Schedule s;
    s.init_lr = std::pow(static_cast<double>(d_model), -0.5);
    s.warmup = warmup;
    s.paper_counter = true;
    return s;
  }
  /// Upstream [P] for non-first stages: init_lr = d_model^-0.5 * scale, counter max(1, k), floor 1e-8.
  static Schedule noam_p(std::int64_t d_model, double scale = 1.0, std::int64_t warmup = 500) {
    Schedule s = noam_paper(d_model, warmup);
    s.init_lr *= scale;
    s.paper_counter = false;
    return s;
  }
  /// Upstream HEAD ([H], and [P] stage 1): init_lr = lr * scale * sqrt(warmup), so the peak is
  /// lr * scale at step `warmup`, then 1/sqrt decay. scale = effective / reference global batch.
  static Schedule noam_head(double lr, double scale = 1.0, std::int64_t warmup = 500) {
    Schedule s;
    s.init_lr = lr * scale * (warmup > 0 ? std::sqrt(static_cast<double>(warmup)) : 1.0);
    s.warmup = warmup;
    return s;
  }
  static Schedule linear_decay(double peak, std::int64_t warmup, std::int64_t total) { return {Kind::linear, peak, warmup, total, false}; }
  static Schedule cosine_decay(double peak, std::int64_t warmup, std::int64_t total) { return {Kind::cosine, peak, warmup, total, false}; }
  static Schedule constant(double lr, std::int64_t warmup = 0) { return {Kind::constant, lr, warmup, 0, false}; }

  [[nodiscard]] double lr(std::int64_t k) const {
    switch (kind) {
      case Kind::noam: {
        const double s = paper_counter ? static_cast<double>(k + 1) : static_cast<double>(std::max<std::int64_t>(1, k));
        const double f = warmup > 0 ? std::min(1.0 / std::sqrt(s), s * std::pow(static_cast<double>(warmup), -1.5)) : 1.0 / std::sqrt(s);
        return paper_counter ? init_lr * f : std::max(init_lr * f, 1e-8);
      }
      case Kind::linear:
      case Kind::cosine: {
        if (k < warmup) return init_lr * static_cast<double>(k) / static_cast<double>(std::max<std::int64_t>(1, warmup));
        const double progress = static_cast<double>(k - warmup) / static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup));
        if (kind == Kind::linear) return init_lr * std::max(0.0, 1.0 - progress);
        return init_lr * std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
      }
      case Kind::constant:
        return k < warmup ? init_lr * static_cast<double>(k) / static_cast<double>(warmup) : init_lr;
    }
    return init_lr;
  }

  [[nodiscard]] Json to_json() const {
    const char* names[] = {"noam", "linear", "cosine", "constant"};
    return {{"kind", names[static_cast<int>(kind)]}, {"init_lr", init_lr}, {"warmup", warmup}, {"total_steps", total_steps}, {"paper_counter", paper_counter}};
  }
  static Schedule from_json(const Json& j, const std::string& file) {
    Schedule s;
    const auto kind = json_get<std::string>(j, "kind", file, "schedule");
    if (kind == "noam") s.kind = Kind::noam;
    else if (kind == "linear") s.kind = Kind::linear;
    else if (kind == "cosine") s.kind = Kind::cosine;
    else if (kind == "constant") s.kind = Kind::constant;
    else throw Error({file, {}, {}, "schedule.kind"}, "unknown schedule '" + kind + "' (noam, linear, cosine, constant)");
    s.init_lr = json_get<double>(j, "init_lr", file, "schedule");
    s.warmup = json_get<std::int64_t>(j, "warmup", file, "schedule");
    s.total_steps = json_get<std::int64_t>(j, "total_steps", file, "schedule");
    s.paper_counter = json_get<bool>(j, "paper_counter", file, "schedule");
    return s;
  }
};

/// Upstream's batch scale: effective global batch (batch x world x accumulation) over the reference
/// global batch (default batch x accumulation, i.e. the world size).
inline double batch_scale(std::int64_t batch, std::int64_t world, std::int64_t accum, std::int64_t reference = 0) {
  const std::int64_t eff = batch * world * accum;
  const std::int64_t ref = std::max<std::int64_t>(1, reference > 0 ? reference : batch * accum);
  return std::max(static_cast<double>(eff) / static_cast<double>(ref), 1e-8);
}

}  // namespace ecgbench::train
