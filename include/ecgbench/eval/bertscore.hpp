// BERTScore as the bert-score package computes it (the one metric that needs LibTorch): token
// embeddings from one layer of a BERT / RoBERTa checkpoint, greedy cosine matching, optional idf
// weights from the references, optional baseline rescaling. Upstream ECG-Bench calls it through
// `evaluate` with lang="en" (roberta-large, layer 17, no idf, no rescaling) and keeps per-pair lists.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/models/encoders.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"

namespace ecgbench::eval {

/// bert-score's default layer per model name (utils.model2layers), for the common BERT/RoBERTa names.
inline std::optional<std::int64_t> bertscore_default_layer(const std::string& model_name) {
  static const std::map<std::string, std::int64_t> table{
      {"bert-base-uncased", 9},  {"bert-large-uncased", 18}, {"bert-base-cased", 9},  {"bert-large-cased", 18},
      {"bert-base-multilingual-cased", 9}, {"roberta-base", 10}, {"roberta-large", 17}, {"roberta-large-mnli", 19},
      {"distilroberta-base", 5}, {"xlm-roberta-base", 9}, {"xlm-roberta-large", 17}};
  auto it = table.find(model_name);
  return it == table.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
}

/// bert-score's greedy_cos_idf on padded embeddings [B, T, H], masks [B, T] and idf weights [B, T]:
/// cosine similarities (masked entries 0, as bert-score multiplies by the mask), each hypothesis token's
/// best reference match (precision) and vice versa (recall), idf-weighted means, F1 (NaN -> 0).
inline std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> greedy_cos_idf(torch::Tensor ref_emb, const torch::Tensor& ref_mask, torch::Tensor ref_idf,
                                                                              torch::Tensor hyp_emb, const torch::Tensor& hyp_mask, torch::Tensor hyp_idf) {
  ref_emb = ref_emb / ref_emb.norm(2, -1, true);
  hyp_emb = hyp_emb / hyp_emb.norm(2, -1, true);
  torch::Tensor sim = torch::bmm(hyp_emb, ref_emb.transpose(1, 2));
  const torch::Tensor masks = torch::bmm(hyp_mask.unsqueeze(2).to(sim.scalar_type()), ref_mask.unsqueeze(1).to(sim.scalar_type()));
  sim = sim * masks;
  const torch::Tensor word_precision = std::get<0>(sim.max(2)), word_recall = std::get<0>(sim.max(1));
  hyp_idf = hyp_idf / hyp_idf.sum(1, true);
  ref_idf = ref_idf / ref_idf.sum(1, true);
  const torch::Tensor p = (word_precision * hyp_idf.to(sim.scalar_type())).sum(1);
  const torch::Tensor r = (word_recall * ref_idf.to(sim.scalar_type())).sum(1);
  torch::Tensor f = 2 * p * r / (p + r);
  f = f.masked_fill(torch::isnan(f), 0.0);
  return {p, r, f};
}

struct BertScoreOptions {
  std::optional<std::int64_t> layer;        ///< default: bert-score's table by folder name, else the last layer
  bool idf = false;                          ///< idf weights from the references
  std::optional<std::filesystem::path> baseline;  ///< bert-score rescale_baseline CSV (LAYER,P,R,F)
  std::int64_t batch_size = 64;
  torch::Device device = torch::kCPU;
};

struct BertScoreResult {
  std::vector<double> precision, recall, f1;  ///< per pair, as upstream keeps them
};

/// BERTScore with a local BERT / RoBERTa checkpoint folder (weights + tokenizer files).
class BertScorer {
 public:
  explicit BertScorer(const std::filesystem::path& model_dir, BertScoreOptions opt = {})
      : opt_(std::move(opt)), model_(models::load_bert(model_dir, torch::kFloat32, opt_.device)),
        tok_(tokenize::HfTokenizer::from_directory(model_dir)) {
    const auto specials = tok_.encode("", true);
    if (specials.size() != 2) throw Error({model_dir.string(), {}, {}, {}}, "the tokenizer does not wrap text in CLS ... SEP; not a BERT/RoBERTa tokenizer");
    cls_ = specials.front();
    sep_ = specials.back();
    roberta_ = model_->options().roberta();
    const auto layers = model_->num_layers();
    layer_ = opt_.layer ? *opt_.layer : bertscore_default_layer(std::filesystem::absolute(model_dir).filename().string()).value_or(layers);
    if (layer_ < 0 || layer_ > layers)
      throw Error({model_dir.string(), {}, {}, {}}, "BERTScore layer " + std::to_string(layer_) + " outside 0.." + std::to_string(layers));
    max_len_ = model_->options().max_position_embeddings - (roberta_ ? model_->options().pad_token_id + 1 : 0);
    if (tok_.model_max_length() > 0) max_len_ = std::min<std::int64_t>(max_len_, static_cast<std::int64_t>(tok_.model_max_length()));
    if (opt_.baseline) baseline_ = read_baseline(*opt_.baseline, layer_);
  }

  [[nodiscard]] std::int64_t layer() const { return layer_; }

  /// bert-score's sent_encode: stripped text, RoBERTa with a prefix space, CLS ... SEP, truncated.
  [[nodiscard]] std::vector<std::int32_t> encode(const std::string& text) const {
    const auto b = text.find_first_not_of(" \t\n\r\f\v");
    const std::string s = b == std::string::npos ? std::string() : text.substr(b, text.find_last_not_of(" \t\n\r\f\v") - b + 1);
    std::vector<std::int32_t> ids = tok_.encode(roberta_ && !s.empty() ? " " + s : s, true);
    if (static_cast<std::int64_t>(ids.size()) > max_len_) {
      ids.resize(static_cast<std::size_t>(max_len_ - 1));
      ids.push_back(sep_);
    }
    return ids;
  }

  [[nodiscard]] BertScoreResult score(const std::vector<std::string>& refs, const std::vector<std::string>& hyps) const {
    if (refs.size() != hyps.size()) throw Error("BERTScore: " + std::to_string(hyps.size()) + " hypotheses but " + std::to_string(refs.size()) + " references");
    torch::NoGradGuard no_grad;
    std::map<std::int32_t, double> idf;  // token -> weight; absent = default
    double idf_default = 1.0;
    if (opt_.idf) {
      std::map<std::int32_t, std::size_t> df;
      for (const auto& r : refs) {
        const auto ids = encode(r);
        for (auto id : std::set<std::int32_t>(ids.begin(), ids.end())) ++df[id];
      }
      const double m = static_cast<double>(refs.size());
      idf_default = std::log((m + 1) / 1.0);
      for (const auto& [id, c] : df) idf[id] = std::log((m + 1) / (static_cast<double>(c) + 1));
    }
    idf[cls_] = 0;
    idf[sep_] = 0;
    BertScoreResult out;
    for (std::size_t start = 0; start < refs.size(); start += static_cast<std::size_t>(opt_.batch_size)) {
      const std::size_t end = std::min(refs.size(), start + static_cast<std::size_t>(opt_.batch_size));
      std::vector<std::vector<std::int32_t>> r, h;
      for (std::size_t i = start; i < end; ++i) {
        r.push_back(encode(refs[i]));
        h.push_back(encode(hyps[i]));
      }
      auto [re, rm, ri] = embed(r, idf, idf_default);
      auto [he, hm, hi] = embed(h, idf, idf_default);
      auto [p, rr, f] = greedy_cos_idf(re, rm, ri, he, hm, hi);
      p = p.to(torch::kCPU).to(torch::kFloat64);
      rr = rr.to(torch::kCPU).to(torch::kFloat64);
      f = f.to(torch::kCPU).to(torch::kFloat64);
      for (std::int64_t i = 0; i < p.size(0); ++i) {
        double pv = p[i].item<double>(), rv = rr[i].item<double>(), fv = f[i].item<double>();
        if (h[static_cast<std::size_t>(i)].size() <= 2 || r[static_cast<std::size_t>(i)].size() <= 2) pv = rv = fv = 0;  // empty side
        if (baseline_) {
          pv = (pv - (*baseline_)[0]) / (1 - (*baseline_)[0]);
          rv = (rv - (*baseline_)[1]) / (1 - (*baseline_)[1]);
          fv = (fv - (*baseline_)[2]) / (1 - (*baseline_)[2]);
        }
        out.precision.push_back(pv);
        out.recall.push_back(rv);
        out.f1.push_back(fv);
      }
    }
    return out;
  }

 private:
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> embed(const std::vector<std::vector<std::int32_t>>& seqs,
                                                                const std::map<std::int32_t, double>& idf, double idf_default) const {
    std::size_t longest = 0;
    for (const auto& s : seqs) longest = std::max(longest, s.size());
    const auto b = static_cast<std::int64_t>(seqs.size()), t = static_cast<std::int64_t>(longest);
    const std::int64_t pad = tok_.pad_id() ? *tok_.pad_id() : 0;
    // Filled on the host, then one tensor each (element-wise tensor indexing is slow).
    std::vector<std::int64_t> ids(static_cast<std::size_t>(b * t), pad), mask(static_cast<std::size_t>(b * t), 0);
    std::vector<float> w(static_cast<std::size_t>(b * t), 0.0f);
    for (std::size_t i = 0; i < seqs.size(); ++i)
      for (std::size_t j = 0; j < seqs[i].size(); ++j) {
        const auto id = seqs[i][j];
        const std::size_t k = i * longest + j;
        ids[k] = id;
        mask[k] = 1;
        auto it = idf.find(id);
        w[k] = static_cast<float>(it == idf.end() ? idf_default : it->second);
      }
    auto to_tensor = [&](auto& v, torch::ScalarType type) { return torch::from_blob(v.data(), {b, t}, type).clone().to(opt_.device); };
    const torch::Tensor ids_t = to_tensor(ids, torch::kLong), mask_t = to_tensor(mask, torch::kLong), w_t = to_tensor(w, torch::kFloat32);
    const auto o = model_->encode(ids_t, mask_t, torch::Tensor(), true);
    return {o.hidden_states[static_cast<std::size_t>(layer_)], mask_t, w_t};
  }

  static std::array<double, 3> read_baseline(const std::filesystem::path& path, std::int64_t layer) {
    std::ifstream in(path);
    if (!in) throw Error({path.string(), {}, {}, {}}, "cannot open the BERTScore baseline file");
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (n == 1 || line.empty()) continue;  // header LAYER,P,R,F
      std::stringstream ss(line);
      std::string cell;
      std::vector<double> v;
      while (std::getline(ss, cell, ',')) {
        try {
          v.push_back(std::stod(cell));
        } catch (...) {
          throw Error({path.string(), n, {}, {}}, "not a number: '" + cell + "'");
        }
      }
      if (v.size() != 4) throw Error({path.string(), n, {}, {}}, "expected LAYER,P,R,F");
      if (static_cast<std::int64_t>(v[0]) == layer) return {v[1], v[2], v[3]};
    }
    throw Error({path.string(), {}, {}, {}}, "no baseline row for layer " + std::to_string(layer));
  }

  BertScoreOptions opt_;
  mutable models::BertModel model_;
  tokenize::HfTokenizer tok_;
  std::int32_t cls_ = 0, sep_ = 0;
  bool roberta_ = false;
  std::int64_t layer_ = 0, max_len_ = 512;
  std::optional<std::array<double, 3>> baseline_;
};

}  // namespace ecgbench::eval
