// Beam search as transformers runs it without early stopping: 2k candidates per step, EOS
// candidates among the top k become finished hypotheses (score / length ^ length_penalty), a row is
// done when its best running beam cannot beat its worst kept hypothesis.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ecgbench/models/generation_options.hpp"

namespace ecgbench::models::detail {

/// `generate` with num_beams > 1; the state prepared by generate (mask as long, ids or embeddings).
template <CausalLm M>
torch::Tensor beam_search(M& model, const GenerationInputs& in, const GenerationOptions& o, torch::Tensor ids, torch::Tensor embeds, torch::Tensor mask) {
  const bool from_ids = in.input_ids.defined();
  const auto b = from_ids ? in.input_ids.size(0) : in.inputs_embeds.size(0);
  const torch::Device dev = from_ids ? in.input_ids.device() : in.inputs_embeds.device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(dev);
  const std::int64_t pad = pad_id(o);
  const std::int64_t k = o.num_beams;
  auto expand = [&](const torch::Tensor& x) { return x.defined() ? x.repeat_interleave(k, 0) : x; };
  ids = expand(ids);
  embeds = expand(embeds);
  mask = expand(mask);
  KvCache cache;
  LmOutput out = step(model, ids, embeds, mask, o.use_cache ? &cache : nullptr);
  torch::Tensor beam_scores = torch::full({b, k}, -1e9, torch::TensorOptions().dtype(torch::kFloat64));
  beam_scores.select(1, 0).fill_(0.0);
  std::vector<std::vector<std::int64_t>> seqs(static_cast<std::size_t>(b * k));
  struct Hyp { double score; std::vector<std::int64_t> tokens; };
  std::vector<std::vector<Hyp>> finished(static_cast<std::size_t>(b));
  std::vector<bool> done(static_cast<std::size_t>(b), false);
  auto norm = [&](double s, std::size_t len) { return s / std::pow(static_cast<double>(std::max<std::size_t>(len, 1)), o.length_penalty); };
  auto add_hyp = [&](std::size_t row, double s, std::vector<std::int64_t> toks) {
    auto& f = finished[row];
    f.push_back({norm(s, toks.size()), std::move(toks)});
    std::stable_sort(f.begin(), f.end(), [](const Hyp& a, const Hyp& c) { return a.score > c.score; });
    if (static_cast<std::int64_t>(f.size()) > k) f.pop_back();
  };
  for (std::int64_t n = 0; n < o.max_new_tokens; ++n) {
    const torch::Tensor logp = torch::log_softmax(out.logits.select(1, out.logits.size(1) - 1).to(torch::kFloat64), -1).to(torch::kCPU);
    const auto v = logp.size(1);
    const torch::Tensor total = (logp + beam_scores.view({-1, 1})).view({b, k * v});
    auto [top_scores, top_idx] = total.topk(2 * k, 1);
    std::vector<std::int64_t> src_beam, next_tok;
    std::vector<double> next_score;
    for (std::int64_t r = 0; r < b; ++r) {
      std::int64_t chosen = 0;
      for (std::int64_t c = 0; c < 2 * k && chosen < k; ++c) {
        const double s = top_scores[r][c].item<double>();
        const std::int64_t idx = top_idx[r][c].item<std::int64_t>(), beam = idx / v, tok = idx % v;
        const std::size_t flat = static_cast<std::size_t>(r * k + beam);
        if (!done[static_cast<std::size_t>(r)] && is_eos(o, tok)) {
          if (c < k) {
            auto toks = seqs[flat];
            toks.push_back(tok);
            add_hyp(static_cast<std::size_t>(r), s, std::move(toks));
          }
          continue;
        }
        src_beam.push_back(r * k + beam);
        next_tok.push_back(done[static_cast<std::size_t>(r)] ? pad : tok);
        next_score.push_back(done[static_cast<std::size_t>(r)] ? 0.0 : s);
        ++chosen;
      }
      while (chosen < k) {  // every candidate was EOS: keep beams alive with pads
        src_beam.push_back(r * k);
        next_tok.push_back(pad);
        next_score.push_back(-1e9);
        ++chosen;
      }
      // transformers' stop rule without early stopping: the best running beam cannot beat the worst kept hypothesis.
      auto& f = finished[static_cast<std::size_t>(r)];
      if (!done[static_cast<std::size_t>(r)] && static_cast<std::int64_t>(f.size()) == k) {
        const double best_running = next_score[static_cast<std::size_t>(r * k)];
        if (f.back().score >= norm(best_running, static_cast<std::size_t>(n + 1))) done[static_cast<std::size_t>(r)] = true;
      }
    }
    std::vector<std::vector<std::int64_t>> new_seqs(seqs.size());
    for (std::size_t i = 0; i < src_beam.size(); ++i) {
      new_seqs[i] = seqs[static_cast<std::size_t>(src_beam[i])];
      new_seqs[i].push_back(next_tok[i]);
    }
    seqs = std::move(new_seqs);
    beam_scores = torch::tensor(next_score, torch::TensorOptions().dtype(torch::kFloat64)).view({b, k});
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) || n + 1 == o.max_new_tokens) break;
    const torch::Tensor sel = torch::tensor(src_beam, long_opts);
    const torch::Tensor tok = torch::tensor(next_tok, long_opts).view({-1, 1});
    mask = torch::cat({mask.index_select(0, sel), torch::ones({b * k, 1}, long_opts)}, 1);
    if (o.use_cache) {
      cache.select(sel);
      out = step(model, tok, torch::Tensor(), mask, &cache);
    } else {
      if (ids.defined()) {
        ids = torch::cat({ids.index_select(0, sel), tok}, 1);
        out = step(model, ids, torch::Tensor(), mask, nullptr);
      } else {
        embeds = torch::cat({embeds.index_select(0, sel), model->embed(tok).to(embeds.scalar_type())}, 1);
        out = step(model, torch::Tensor(), embeds, mask, nullptr);
      }
    }
  }
  for (std::int64_t r = 0; r < b; ++r)
    if (!done[static_cast<std::size_t>(r)])
      for (std::int64_t j = 0; j < k; ++j) add_hyp(static_cast<std::size_t>(r), beam_scores[r][j].item<double>(), seqs[static_cast<std::size_t>(r * k + j)]);
  std::size_t longest = 0;
  for (const auto& f : finished) longest = std::max(longest, f.front().tokens.size());
  torch::Tensor result = torch::full({b, static_cast<std::int64_t>(longest)}, pad, torch::TensorOptions().dtype(torch::kLong));
  for (std::int64_t r = 0; r < b; ++r) {
    const auto& toks = finished[static_cast<std::size_t>(r)].front().tokens;
    for (std::size_t i = 0; i < toks.size(); ++i) result[r][static_cast<std::int64_t>(i)] = toks[i];
  }
  result = result.to(dev);
  return from_ids ? torch::cat({in.input_ids.to(long_opts), result}, 1) : result;
}

}  // namespace ecgbench::models::detail
