// Text generation for any LanguageModel, with a KV cache: greedy, sampling (temperature, top-k,
// top-p; seeded with the toolkit's portable RNG, so results do not depend on the torch version) and
// beam search. Generation can start from `inputs_embeds` (prompts with ECG embeddings spliced in).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/models/llm/language_model.hpp"

namespace ecgbench::models {

struct GenerationOptions {
  std::int64_t max_new_tokens = 20;
  bool do_sample = false;
  double temperature = 1.0;
  std::int64_t top_k = 50;  ///< 0 = off (transformers' default is 50 when sampling)
  double top_p = 1.0;
  std::int64_t num_beams = 1;
  double length_penalty = 1.0;  ///< beam score = sum log p / (new tokens ^ length_penalty)
  std::vector<std::int64_t> eos_token_ids;
  std::optional<std::int64_t> pad_token_id;  ///< written after EOS (default: the first EOS id, else 0)
  std::uint64_t seed = 0;
  bool use_cache = true;
};

struct GenerationInputs {
  torch::Tensor input_ids;       ///< [B, T], or
  torch::Tensor inputs_embeds;   ///< [B, T, E]
  torch::Tensor attention_mask;  ///< [B, T], default ones (left padding for batched prompts)
};

namespace detail {

inline std::int64_t pad_id(const GenerationOptions& o) {
  return o.pad_token_id ? *o.pad_token_id : (o.eos_token_ids.empty() ? 0 : o.eos_token_ids.front());
}
inline bool is_eos(const GenerationOptions& o, std::int64_t t) {
  return std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), t) != o.eos_token_ids.end();
}

/// transformers' warpers in their order: temperature, top-k, top-p; then one draw.
inline std::int64_t sample_row(torch::Tensor logits, const GenerationOptions& o, Rng& rng) {
  logits = logits.to(torch::kFloat64).to(torch::kCPU);
  if (o.temperature != 1.0) logits = logits / o.temperature;
  const auto v = logits.size(0);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (o.top_k > 0 && o.top_k < v) {
    const double kth = std::get<0>(logits.topk(o.top_k)).min().item<double>();
    logits = logits.masked_fill(logits < kth, neg_inf);
  }
  if (o.top_p < 1.0) {
    auto [sorted, idx] = logits.sort(0, false);  // ascending
    const torch::Tensor cum = sorted.softmax(0).cumsum(0);
    torch::Tensor remove = cum <= (1.0 - o.top_p);
    remove[v - 1] = false;  // keep at least one
    logits = logits.index_put({idx.masked_select(remove)}, torch::full({}, neg_inf, logits.options()));
  }
  const torch::Tensor p = logits.softmax(0).contiguous();
  const double* pp = p.data_ptr<double>();
  const double u = uniform01(rng);
  double acc = 0;
  std::int64_t last = 0;
  for (std::int64_t i = 0; i < v; ++i) {
    if (pp[i] <= 0) continue;
    acc += pp[i];
    last = i;
    if (u < acc) return i;
  }
  return last;  // rounding: the last token with mass
}

template <class M>
LmOutput step(M& model, const torch::Tensor& ids, const torch::Tensor& embeds, const torch::Tensor& mask, KvCache* cache) {
  LmInputs in;
  if (ids.defined()) in.input_ids = ids;
  else in.inputs_embeds = embeds;
  in.attention_mask = mask;
  in.cache = cache;
  return model->forward(in);
}

}  // namespace detail

/// Generates up to `max_new_tokens` per row. Returns [B, T + N] (the prompt followed by the new
/// tokens) when started from ids, [B, N] when started from embeddings (as transformers does). Rows
/// that finished early are padded with the pad id.
template <LanguageModel M>
torch::Tensor generate(M& model, const GenerationInputs& in, const GenerationOptions& o = {}) {
  torch::NoGradGuard no_grad;
  if (in.input_ids.defined() == in.inputs_embeds.defined()) throw Error("generate: give exactly one of input_ids and inputs_embeds");
  if (o.max_new_tokens < 0) throw Error("generate: max_new_tokens must be >= 0");
  if (o.num_beams < 1) throw Error("generate: num_beams must be >= 1");
  if (o.do_sample && o.num_beams > 1) throw Error("generate: beam sampling is not supported (choose do_sample or num_beams)");
  if (o.temperature <= 0) throw Error("generate: temperature must be > 0 (use greedy decoding for temperature 0)");
  const bool from_ids = in.input_ids.defined();
  const auto b = from_ids ? in.input_ids.size(0) : in.inputs_embeds.size(0);
  const auto t = from_ids ? in.input_ids.size(1) : in.inputs_embeds.size(1);
  const torch::Device dev = from_ids ? in.input_ids.device() : in.inputs_embeds.device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(dev);
  torch::Tensor mask = in.attention_mask.defined() ? in.attention_mask.to(long_opts) : torch::ones({b, t}, long_opts);
  torch::Tensor ids = from_ids ? in.input_ids.to(long_opts) : torch::Tensor();
  torch::Tensor embeds = in.inputs_embeds;
  const std::int64_t pad = detail::pad_id(o);

  if (o.num_beams > 1) {  // ----- beam search -----
    const std::int64_t k = o.num_beams;
    auto expand = [&](const torch::Tensor& x) { return x.defined() ? x.repeat_interleave(k, 0) : x; };
    ids = expand(ids);
    embeds = expand(embeds);
    mask = expand(mask);
    KvCache cache;
    LmOutput out = detail::step(model, ids, embeds, mask, o.use_cache ? &cache : nullptr);
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
          if (!done[static_cast<std::size_t>(r)] && detail::is_eos(o, tok)) {
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
        out = detail::step(model, tok, torch::Tensor(), mask, &cache);
      } else {
        if (ids.defined()) {
          ids = torch::cat({ids.index_select(0, sel), tok}, 1);
          out = detail::step(model, ids, torch::Tensor(), mask, nullptr);
        } else {
          embeds = torch::cat({embeds.index_select(0, sel), model->embed(tok).to(embeds.scalar_type())}, 1);
          out = detail::step(model, torch::Tensor(), embeds, mask, nullptr);
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

  // ----- greedy / sampling -----
  Rng rng = make_rng(o.seed, 0x67656e);
  KvCache cache;
  LmOutput out = detail::step(model, ids, embeds, mask, o.use_cache ? &cache : nullptr);
  torch::Tensor finished = torch::zeros({b}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  std::vector<torch::Tensor> generated;
  for (std::int64_t n = 0; n < o.max_new_tokens; ++n) {
    const torch::Tensor last = out.logits.select(1, out.logits.size(1) - 1);
    torch::Tensor next;
    if (o.do_sample) {
      std::vector<std::int64_t> picks;
      for (std::int64_t r = 0; r < b; ++r) picks.push_back(detail::sample_row(last[r], o, rng));
      next = torch::tensor(picks, long_opts);
    } else {
      next = last.argmax(-1);
    }
    next = torch::where(finished, torch::full_like(next, pad), next);
    for (auto e : o.eos_token_ids) finished = finished | (next == e);
    generated.push_back(next);
    if (finished.all().item<bool>() || n + 1 == o.max_new_tokens) break;
    mask = torch::cat({mask, torch::ones({b, 1}, long_opts)}, 1);
    const torch::Tensor tok = next.view({b, 1});
    if (o.use_cache) {
      out = detail::step(model, tok, torch::Tensor(), mask, &cache);
    } else if (ids.defined()) {
      ids = torch::cat({ids, tok}, 1);
      out = detail::step(model, ids, torch::Tensor(), mask, nullptr);
    } else {
      embeds = torch::cat({embeds, model->embed(tok).to(embeds.scalar_type())}, 1);
      out = detail::step(model, torch::Tensor(), embeds, mask, nullptr);
    }
  }
  torch::Tensor new_tokens = generated.empty() ? torch::empty({b, 0}, long_opts) : torch::stack(generated, 1);
  return from_ids ? torch::cat({in.input_ids.to(long_opts), new_tokens}, 1) : new_tokens;
}

/// Sum of log-probabilities the model gives `continuation` [B, N] after `prompt` [B, T] (scoring
/// generated text, checking beam search).
template <LanguageModel M>
torch::Tensor sequence_log_prob(M& model, const torch::Tensor& prompt, const torch::Tensor& continuation) {
  torch::NoGradGuard g;
  const torch::Tensor all = torch::cat({prompt, continuation}, 1);
  LmInputs in;
  in.input_ids = all;
  const torch::Tensor logp = torch::log_softmax(model->forward(in).logits.to(torch::kFloat64), -1);
  const auto t = prompt.size(1), n = continuation.size(1);
  const torch::Tensor pred = logp.narrow(1, t - 1, n);
  return pred.gather(2, continuation.unsqueeze(-1)).squeeze(-1).sum(1);
}

}  // namespace ecgbench::models
