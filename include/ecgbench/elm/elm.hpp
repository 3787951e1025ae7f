// `Elm<Encoder, Projector, Llm, Paradigm>`: an ECG-language model composed at compile time from
// policy types (upstream ECG-Bench's LLaVA / encoder-free / end-to-end wrappers). A
// torch::nn::Module whose parts are registered submodules (`encoder.*`, `projector.*`, `llm.*`);
// `loss(batch)` is transformers' shifted cross-entropy over labels != -100 with the token count it
// averages over (the Trainer's `Trainable`), `generate(batch, options)` answers.
// Splicing: the encoder's k embeddings, projected, replace the embeddings of the k `<signal>` slots
// (upstream's `inject_projected_embeds`); no other row changes.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <typeinfo>
#include <vector>

#include "ecgbench/core/json.hpp"
#include "ecgbench/elm/batch.hpp"
#include "ecgbench/elm/paradigm.hpp"
#include "ecgbench/models/concepts/ecg_encoder.hpp"
#include "ecgbench/models/concepts/projector.hpp"
#include "ecgbench/models/generate.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/lora.hpp"
#include "ecgbench/train/checkpoint.hpp"
#include "ecgbench/train/trainable.hpp"

namespace ecgbench::elm {

struct ElmOptions {
  std::int64_t encoder_tokens = 1;  ///< k: `<signal>` slots and encoder tokens per ECG
  /// 2-stage end-to-end: the encoder learns from the LLM loss. Upstream's `--train_encoder` is a no-op
  /// (quirk 13: `get_embeddings` runs under no_grad); `upstream_no_grad_encoder` reproduces that.
  bool train_encoder = false;
  bool upstream_no_grad_encoder = false;
  /// End-to-end ECG-Byte: train the embedding rows of the added `signal_<id>` tokens (upstream keeps
  /// the whole table frozen; its README found training them worse). Rows before `first_new_token` stay frozen.
  bool train_new_token_rows = false;
  std::int64_t first_new_token = -1;
  /// The whole embedding table trains (an LLM initialised from scratch: a frozen random table would
  /// also freeze the output layer of tied models).
  bool train_embeddings = false;
  std::string name;  ///< the composition's name, for fingerprints and reports
};

/// Name of a policy type for fingerprints (its class name, demangling not needed: compared as is).
template <class T>
std::string policy_name() {
  return typeid(T).name();
}

template <models::EcgEncoder E, models::Projector P, models::LanguageModel L, Paradigm T>
class ElmImpl : public torch::nn::Module {
 public:
  using Encoder = E;
  using ProjectorType = P;
  using Llm = L;
  using ParadigmType = T;

  ElmImpl(E encoder_, P projector_, L llm_, ElmOptions o = {}) : o_(std::move(o)) {
    encoder = register_module("encoder", std::move(encoder_));
    projector = register_module("projector", std::move(projector_));
    llm = register_module("llm", std::move(llm_));
    if constexpr (T::splices_embeddings) {
      if (projector->in_features() != encoder->embedding_dim())
        throw Error("the projector takes " + std::to_string(projector->in_features()) + " features, the encoder gives " + std::to_string(encoder->embedding_dim()));
      if (projector->out_features() != llm->hidden_size())
        throw Error("the projector gives " + std::to_string(projector->out_features()) + " features, the LLM's embeddings have " + std::to_string(llm->hidden_size()));
    }
    if (o_.encoder_tokens < 1) throw Error("encoder_tokens must be at least 1");
  }

  [[nodiscard]] const ElmOptions& options() const { return o_; }

  /// Freezes what the paradigm does not train: the encoder (unless train_encoder), and the LLM's
  /// embedding table (unless train_embeddings, or train_new_token_rows, which opens only the added rows). The projector
  /// trains. LoRA adapters (apply_lora) leave only themselves trainable in the LLM; without LoRA the
  /// LLM trains whole, its embeddings aside.
  void configure_trainable(bool llm_trains_whole) {
    for (auto& p : encoder->parameters()) p.set_requires_grad(o_.train_encoder && !o_.upstream_no_grad_encoder);
    for (auto& p : projector->parameters()) p.set_requires_grad(true);
    if (llm_trains_whole)
      for (auto& p : llm->parameters()) p.set_requires_grad(true);
    torch::Tensor& table = llm->input_embeddings();
    table.set_requires_grad(o_.train_embeddings);
    if (o_.train_new_token_rows && !o_.train_embeddings) {
      if (o_.first_new_token < 0 || o_.first_new_token >= table.size(0)) throw Error("train_new_token_rows needs the first added token id (first_new_token)");
      table.set_requires_grad(true);
      const std::int64_t first = o_.first_new_token;
      if (!row_hook_registered_) {
        table.register_hook([first](torch::Tensor g) {
          g = g.clone();
          g.narrow(0, 0, first).zero_();
          return g;
        });
        row_hook_registered_ = true;
      }
    }
  }

  /// The LLM's input embeddings with the projected encoder tokens in the signal slots.
  torch::Tensor input_embeddings(const ElmBatch& b) {
    torch::Tensor embeds = llm->embed(b.input_ids.to(llm->device()));
    if constexpr (!T::splices_embeddings) {
      return embeds;
    } else {
      if (!b.encoder_input.defined() || !b.signal_positions.defined()) return embeds;  // text only (no-signal probe)
      torch::Tensor feats;
      {
        const bool grad = o_.train_encoder && !o_.upstream_no_grad_encoder && is_training();
        std::optional<torch::NoGradGuard> ng;
        if (!grad) ng.emplace();
        feats = encoder->embed(b.encoder_input.to(llm->device()), o_.encoder_tokens);  // [B, k, d]
      }
      const torch::Tensor proj = projector->forward(feats).to(embeds.scalar_type());  // [B, k, H]
      return splice(embeds, proj, b.signal_positions);
    }
  }

  /// Replaces rows (b, positions[b, j]) of `embeds` with proj[b, j] wherever positions >= 0.
  /// Without host synchronisation on the device: slots without a position (-1) write into one
  /// scratch row past the end, which is cut off again (a scatter, so gradients reach both sides).
  /// The bounds check reads `positions` where the batch was built (the CPU), never the device.
  static torch::Tensor splice(const torch::Tensor& embeds, const torch::Tensor& proj, const torch::Tensor& positions) {
    if (positions.dim() != 2 || positions.size(0) != embeds.size(0)) throw Error("signal_positions must be [batch, slots]");
    if (proj.size(1) < positions.size(1)) throw Error("the encoder gave " + std::to_string(proj.size(1)) + " tokens for " + std::to_string(positions.size(1)) + " signal slots");
    const std::int64_t B = embeds.size(0), len = embeds.size(1), H = embeds.size(2), k = positions.size(1);
    check_signal_positions(positions, len);
    const torch::Tensor pos = positions.to(embeds.device());
    const torch::Tensor where = torch::where(pos >= 0, pos, torch::full_like(pos, len)).unsqueeze(-1).expand({B, k, H});
    const torch::Tensor padded = torch::cat({embeds, torch::zeros({B, 1, H}, embeds.options())}, 1);
    return padded.scatter(1, where, proj.narrow(1, 0, k)).narrow(1, 0, len);
  }

  /// Shifted cross-entropy over labels != -100 (transformers' causal-LM loss) and the number of
  /// labelled tokens it averages over.
  train::LossOutput loss(const ElmBatch& b) {
    if (!b.labels.defined()) throw Error("the batch has no labels (built for inference?)");
    models::LmInputs in;
    if constexpr (T::splices_embeddings) in.inputs_embeds = input_embeddings(b);
    else in.input_ids = b.input_ids.to(llm->device());
    in.attention_mask = b.attention_mask.to(llm->device());
    if (b.position_ids.defined()) in.position_ids = b.position_ids.to(llm->device());
    const torch::Tensor logits = llm->forward(in).logits;
    const auto v = logits.size(-1);
    const torch::Tensor shift_logits = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, v});
    const torch::Tensor shift_labels = b.labels.to(logits.device()).narrow(1, 1, b.labels.size(1) - 1).reshape({-1});
    // Counted where the batch was built (the CPU): no device synchronisation in the step.
    const std::int64_t count = b.labelled_tokens();
    if (count == 0) throw Error("no labelled tokens in this batch (every answer was cut off? check llm_input_len)");
    const torch::Tensor l = torch::nn::functional::cross_entropy(shift_logits.to(torch::kFloat32), shift_labels,
                                                                torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    return {l, count};
  }

  /// Generates answers for the prompts of `b` (left-padded), [B, N] new tokens.
  torch::Tensor generate(const ElmBatch& b, const models::GenerationOptions& g) {
    torch::NoGradGuard ng;
    models::GenerationInputs in;
    if constexpr (T::splices_embeddings) in.inputs_embeds = input_embeddings(b);
    else in.input_ids = b.input_ids.to(llm->device());
    in.attention_mask = b.attention_mask.to(llm->device());
    torch::Tensor out = models::generate(llm, in, g);
    if constexpr (!T::splices_embeddings) out = out.narrow(1, b.input_ids.size(1), out.size(1) - b.input_ids.size(1));
    return out;
  }

  /// Identifies the composition (refuses checkpoints of another one).
  [[nodiscard]] std::string fingerprint() const {
    return std::string(T::name) + "|" + (o_.name.empty() ? policy_name<E>() + "+" + policy_name<P>() + "+" + policy_name<L>() : o_.name) + "|k=" + std::to_string(o_.encoder_tokens);
  }

  /// Checkpoint files: PEFT adapters (adapter_model.safetensors + adapter_config.json) when the LLM
  /// carries LoRA, and model.safetensors with every other trainable tensor and all buffers.
  void save_trainable(const std::filesystem::path& dir) {
    std::map<std::string, torch::Tensor> rest;
    bool lora = false;
    for (const auto& p : named_parameters(true)) {
      if (!p.value().requires_grad()) continue;
      if (p.key().find(".lora_A.") != std::string::npos || p.key().find(".lora_B.") != std::string::npos) lora = true;
      else rest.emplace(p.key(), p.value());
    }
    for (const auto& buf : named_buffers(true)) rest.emplace(buf.key(), buf.value());
    if (lora) models::save_lora(*llm, lora_config_, dir);
    train::save_tensors(dir / "model.safetensors", rest);
  }
  void load_trainable(const std::filesystem::path& dir) {
    torch::NoGradGuard g;
    if (std::filesystem::exists(dir / "adapter_model.safetensors")) models::load_lora_weights(*llm, dir);
    const auto saved = train::load_tensors(dir / "model.safetensors");
    std::map<std::string, torch::Tensor> mine;
    for (auto& p : named_parameters(true)) mine.emplace(p.key(), p.value());
    for (auto& buf : named_buffers(true)) mine.emplace(buf.key(), buf.value());
    const auto file = (dir / "model.safetensors").string();
    for (const auto& [name, t] : saved) {
      auto it = mine.find(name);
      if (it == mine.end()) throw Error({file, {}, {}, "tensor '" + name + "'"}, "this composition has no such tensor (a checkpoint of another composition?)");
      if (it->second.sizes() != t.sizes()) throw Error({file, {}, {}, "tensor '" + name + "'"}, "shape differs from this composition's (a checkpoint of another composition?)");
      it->second.copy_(t.to(it->second.device(), it->second.scalar_type()));
    }
    for (const auto& p : named_parameters(true))
      if (p.value().requires_grad() && p.key().find(".lora_") == std::string::npos && !saved.count(p.key()))
        throw Error({file, {}, {}, "tensor '" + p.key() + "'"}, "missing: this composition trains it, the checkpoint lacks it");
  }

  /// Attaches LoRA adapters to the LLM (PEFT semantics) and remembers the configuration for saving.
  std::vector<std::string> apply_lora(const models::LoraConfig& cfg) {
    lora_config_ = cfg;
    return models::apply_lora(*llm, cfg);
  }
  [[nodiscard]] const models::LoraConfig& lora_config() const { return lora_config_; }

  /// Masking RNGs of encoders that draw noise (upstream-compatible embeddings, stage 1).
  [[nodiscard]] Json rng_state() const {
    if constexpr (requires { encoder->rng_state(); }) return Json{{"encoder", encoder->rng_state()}};
    else return Json::object();
  }
  void set_rng_state(const Json& j) {
    if constexpr (requires { encoder->set_rng_state(std::string()); })
      if (j.contains("encoder")) encoder->set_rng_state(j["encoder"].template get<std::string>());
  }

  E encoder{nullptr};
  P projector{nullptr};
  L llm{nullptr};

 private:
  ElmOptions o_;
  models::LoraConfig lora_config_;
  bool row_hook_registered_ = false;
};

template <class E, class P, class L, class T>
class Elm : public torch::nn::ModuleHolder<ElmImpl<E, P, L, T>> {
 public:
  using torch::nn::ModuleHolder<ElmImpl<E, P, L, T>>::ModuleHolder;
  using Impl = ElmImpl<E, P, L, T>;
};

}  // namespace ecgbench::elm
