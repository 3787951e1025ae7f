// The order in which a data set is visited, torch-free: a permutation per epoch from (seed, epoch)
// (our portable shuffle, so it is the same on every machine and LibTorch version), split across the
// ranks of a data-parallel job as torch's DistributedSampler does (padded with the first indices to a
// multiple of the world size, rank r takes every world-th index from r), then cut into batches.
// Stateless: a resumed run recomputes the same order from (seed, epoch) and skips the batches done.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"

namespace ecgbench::train {

struct SamplerOptions {
  std::size_t dataset_size = 0, batch_size = 1, rank = 0, world = 1;
  std::uint64_t seed = 0;
  bool shuffle = true, drop_last = false;
};

class DistributedSampler {
 public:
  explicit DistributedSampler(SamplerOptions o) : o_(o) {
    if (o_.dataset_size == 0) throw Error("training data is empty");
    if (o_.batch_size == 0) throw Error("batch size must be positive");
    if (o_.world == 0 || o_.rank >= o_.world) throw Error("rank " + std::to_string(o_.rank) + " is outside world size " + std::to_string(o_.world));
  }
  /// This rank's indices of `epoch`, in visiting order.
  [[nodiscard]] std::vector<std::size_t> indices(std::uint64_t epoch) const {
    std::vector<std::size_t> all(o_.dataset_size);
    std::iota(all.begin(), all.end(), std::size_t{0});
    if (o_.shuffle) {
      Rng rng = make_rng(o_.seed, 0x53414d50ull + epoch);  // "SAMP" + epoch
      shuffle(all, rng);
    }
    const std::size_t per_rank = (all.size() + o_.world - 1) / o_.world;
    for (std::size_t i = 0; all.size() < per_rank * o_.world; ++i) all.push_back(all[i % o_.dataset_size]);
    std::vector<std::size_t> mine;
    for (std::size_t i = o_.rank; i < all.size(); i += o_.world) mine.push_back(all[i]);
    return mine;
  }
  /// Batches of this rank in `epoch` (the last one shorter unless drop_last).
  [[nodiscard]] std::vector<std::vector<std::size_t>> batches(std::uint64_t epoch) const {
    const auto idx = indices(epoch);
    std::vector<std::vector<std::size_t>> out;
    for (std::size_t i = 0; i < idx.size(); i += o_.batch_size) {
      const std::size_t n = std::min(o_.batch_size, idx.size() - i);
      if (n < o_.batch_size && o_.drop_last) break;
      out.emplace_back(idx.begin() + static_cast<std::ptrdiff_t>(i), idx.begin() + static_cast<std::ptrdiff_t>(i + n));
    }
    return out;
  }
  [[nodiscard]] std::size_t batches_per_epoch() const {
    const std::size_t per_rank = (o_.dataset_size + o_.world - 1) / o_.world;
    return o_.drop_last ? per_rank / o_.batch_size : (per_rank + o_.batch_size - 1) / o_.batch_size;
  }
  [[nodiscard]] const SamplerOptions& options() const { return o_; }

 private:
  SamplerOptions o_;
};

}  // namespace ecgbench::train
