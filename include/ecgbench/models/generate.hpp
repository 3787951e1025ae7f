// Text generation for any CausalLm, with a KV cache: greedy, sampling (temperature, top-k,
// top-p; seeded with the toolkit's portable RNG, so results do not depend on the torch version) and
// beam search (beam_search.hpp). Generation can start from `inputs_embeds` (prompts with ECG
// embeddings spliced in).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/models/beam_search.hpp"
#include "ecgbench/models/generation_options.hpp"

namespace ecgbench::models {

namespace detail {

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

}  // namespace detail

/// Generates up to `max_new_tokens` per row. Returns [B, T + N] (the prompt followed by the new
/// tokens) when started from ids, [B, N] when started from embeddings (as transformers does). Rows
/// that finished early are padded with the pad id.
namespace detail {
template <CausalLm M>
torch::Tensor generate_impl(M& model, const GenerationInputs& in, const GenerationOptions& o) {
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
  if (o.num_beams > 1) return detail::beam_search(model, in, o, ids, embeds, mask);
  const std::int64_t pad = detail::pad_id(o);

  // ----- greedy / sampling -----
  Rng rng = make_rng(o.seed, 0x67656e);
  KvCache cache;
  LmOutput out = detail::step(model, ids, embeds, mask, o.use_cache ? &cache : nullptr);
  // Without padding, cached decoding steps need no mask at all (one query sees every key): the
  // models then skip building and adding one per step. Checked once, not per step.
  const bool padded = o.use_cache && (mask == 0).any().item<bool>();
  torch::Tensor finished = torch::zeros({b}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  std::vector<torch::Tensor> generated, all_finished;  // per step: the tokens, and whether every row had finished
  const std::int64_t check_every = o.stop_check_every > 0 ? o.stop_check_every : (dev.is_cuda() ? 8 : 1);
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
    if (o.on_step) o.on_step(next);
    for (auto e : o.eos_token_ids) finished = finished | (next == e);
    generated.push_back(next);
    all_finished.push_back(finished.all());
    if (n + 1 == o.max_new_tokens || ((n + 1) % check_every == 0 && all_finished.back().item<bool>())) break;
    if (!o.use_cache || padded) mask = torch::cat({mask, torch::ones({b, 1}, long_opts)}, 1);  // unpadded cached steps take none
    const torch::Tensor tok = next.view({b, 1});
    if (o.use_cache) {
      out = detail::step(model, tok, torch::Tensor(), padded ? mask : torch::Tensor(), &cache);
    } else if (ids.defined()) {
      ids = torch::cat({ids, tok}, 1);
      out = detail::step(model, ids, torch::Tensor(), mask, nullptr);
    } else {
      embeds = torch::cat({embeds, model->embed(tok).to(embeds.scalar_type())}, 1);
      out = detail::step(model, torch::Tensor(), embeds, mask, nullptr);
    }
  }
  if (check_every > 1 && !generated.empty()) {  // one read for the whole run: where every row had finished
    const torch::Tensor done = torch::stack(all_finished).to(torch::kCPU);
    const auto* d = done.data_ptr<bool>();
    for (std::size_t s = 0; s < generated.size(); ++s)
      if (d[s]) {
        generated.resize(s + 1);
        break;
      }
  }
  torch::Tensor new_tokens = generated.empty() ? torch::empty({b, 0}, long_opts) : torch::stack(generated, 1);
  return from_ids ? torch::cat({in.input_ids.to(long_opts), new_tokens}, 1) : new_tokens;
}
}  // namespace detail

template <CausalLm M>
torch::Tensor generate(M& model, const GenerationInputs& in, const GenerationOptions& o = {}) {
  torch::Tensor out;
  {
    // Inference mode: no autograd or version-counter bookkeeping in the ~100 small ops per decoded
    // token. The result is cloned outside it, so callers get a normal tensor they may train on.
    c10::InferenceMode guard;
    out = detail::generate_impl(model, in, o);
  }
  return out.clone();
}

/// Sum of log-probabilities the model gives `continuation` [B, N] after `prompt` [B, T] (scoring
/// generated text, checking beam search).
template <CausalLm M>
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
