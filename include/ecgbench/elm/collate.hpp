// From built items to an ElmBatch: rows left-padded to the longest (items built for training are
// already padded to llm_input_len), labels -100 and mask 0 on padding, positions cumsum(mask) - 1,
// the `<signal>` slots shifted by the padding, encoder inputs stacked. And the adapter that makes an
// ElmDataset the Trainer's data (`size()`, `batch(indices)`).
#pragma once

#include <torch/torch.h>

#include <span>
#include <vector>

#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/elm/batch.hpp"

namespace ecgbench::elm {

inline ElmBatch collate(const std::vector<data::ElmItem>& items, std::int64_t pad_id, std::int64_t slots) {
  if (items.empty()) throw Error("collate: no items");
  std::size_t T = 0;
  for (const auto& it : items) T = std::max(T, it.enc.ids.size());
  const auto B = static_cast<std::int64_t>(items.size());
  const auto L = static_cast<std::int64_t>(T);
  auto i64 = torch::TensorOptions().dtype(torch::kLong);
  ElmBatch b;
  b.input_ids = torch::full({B, L}, pad_id, i64);
  b.attention_mask = torch::zeros({B, L}, i64);
  b.position_ids = torch::zeros({B, L}, i64);
  b.labels = torch::full({B, L}, -100, i64);
  b.signal_positions = torch::full({B, std::max<std::int64_t>(slots, 1)}, -1, i64);
  auto ids = b.input_ids.accessor<std::int64_t, 2>();
  auto mask = b.attention_mask.accessor<std::int64_t, 2>();
  auto pos = b.position_ids.accessor<std::int64_t, 2>();
  auto lab = b.labels.accessor<std::int64_t, 2>();
  auto sig = b.signal_positions.accessor<std::int64_t, 2>();
  bool any_encoder = false;
  for (std::int64_t r = 0; r < B; ++r) {
    const auto& e = items[static_cast<std::size_t>(r)].enc;
    const std::int64_t off = L - static_cast<std::int64_t>(e.ids.size());
    std::int64_t p = 0;
    for (std::size_t k = 0; k < e.ids.size(); ++k) {
      const auto c = off + static_cast<std::int64_t>(k);
      ids[r][c] = e.ids[k];
      mask[r][c] = e.attention_mask[k];
      lab[r][c] = e.labels[k];
      pos[r][c] = e.attention_mask[k] ? p++ : 0;
    }
    for (std::size_t j = 0; j < e.signal_positions.size() && static_cast<std::int64_t>(j) < b.signal_positions.size(1); ++j)
      sig[r][static_cast<std::int64_t>(j)] = off + static_cast<std::int64_t>(e.signal_positions[j]);
    any_encoder |= !items[static_cast<std::size_t>(r)].encoder.values.empty();
    b.ids.push_back(items[static_cast<std::size_t>(r)].id);
  }
  if (any_encoder) {
    const auto& shape = items.front().encoder.shape;
    std::vector<std::int64_t> full{B};
    full.insert(full.end(), shape.begin(), shape.end());
    b.encoder_input = torch::empty(full, torch::kFloat32);
    const std::size_t per = items.front().encoder.values.size();
    float* dst = b.encoder_input.data_ptr<float>();
    for (std::int64_t r = 0; r < B; ++r) {
      const auto& v = items[static_cast<std::size_t>(r)].encoder;
      if (v.values.size() != per || v.shape != shape) throw Error("collate: items of one batch have encoder inputs of different shapes");
      std::copy(v.values.begin(), v.values.end(), dst + static_cast<std::size_t>(r) * per);
    }
  } else {
    b.signal_positions = torch::Tensor();
  }
  return b;
}

/// An ElmDataset as training data. An item whose text leaves no room for an answer is replaced by
/// the next one that has (the dataset counts it), so batches keep their size.
class ElmTrainData {
 public:
  ElmTrainData(data::ElmDataset& ds, std::int64_t pad_id) : ds_(&ds), pad_(pad_id) {}
  [[nodiscard]] std::size_t size() const { return ds_->size(); }
  ElmBatch batch(std::span<const std::size_t> idx) const {
    std::vector<data::ElmItem> items;
    for (auto i : idx) {
      std::optional<data::ElmItem> it;
      for (std::size_t tries = 0; tries < ds_->size() && !it; ++tries) it = ds_->item((i + tries) % ds_->size());
      if (!it) throw Error("no item of the training data leaves room for an answer within llm_input_len");
      items.push_back(std::move(*it));
    }
    return collate(items, pad_, static_cast<std::int64_t>(ds_->options().encoder_tokens));
  }
  [[nodiscard]] data::ElmDataset& dataset() const { return *ds_; }

 private:
  data::ElmDataset* ds_;
  std::int64_t pad_;
};

}  // namespace ecgbench::elm
