// Building an Elm from a run configuration: the text tokenizer with the tokens the paradigm adds
// (`signal_<id>` for every ECG-Byte id, `<signal>` for encoder paradigms, `<pad>` when the LLM has
// none, as upstream's modify_llm_tokenizer), the LLM with its embedding table resized (mean
// initialisation), the encoder (ECG encoder configuration + stage-1 checkpoint loaded non-strictly
// as upstream, or a Hugging Face vision folder), the projector, LoRA. And the small type-list
// registry that picks the static composition from run-time names, so apps instantiate every
// supported `Elm` at compile time and choose one from their flags.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>

#include "ecgbench/core/log.hpp"
#include "ecgbench/elm/aliases.hpp"
#include "ecgbench/elm/config.hpp"
#include "ecgbench/models/encoders/load.hpp"
#include "ecgbench/models/load_pretrained.hpp"
#include "ecgbench/tokenize/chat_template.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"

namespace ecgbench::elm {

struct ElmTokenizers {
  tokenize::HfTokenizer text;
  std::optional<tokenize::EcgByteTokenizer> ecg;
  tokenize::ChatFormat format = tokenize::ChatFormat::llama3;
};

inline tokenize::EcgByteTokenizer load_ecg_tokenizer(const std::filesystem::path& p) {
  if (p.extension() == ".pkl") return tokenize::EcgByteTokenizer::import_pickle(p);
  return tokenize::EcgByteTokenizer::load(p);
}

/// The chat format of an LLM folder: its tokenizer_config's template, else its model_type.
inline tokenize::ChatFormat chat_format_of(const std::filesystem::path& llm_dir, const tokenize::HfTokenizer& tok) {
  if (!tok.chat_template().empty())
    if (auto f = tokenize::detect_chat_format(tok.chat_template())) return *f;
  const auto c = hf::ModelConfig::load(llm_dir);
  const std::string t = c.get<std::string>("model_type", "");
  if (t == "qwen2") return tokenize::ChatFormat::chatml;
  if (t == "gemma2") return tokenize::ChatFormat::gemma2;
  if (t == "gpt2") return tokenize::ChatFormat::gpt2;
  if (t == "opt") return tokenize::ChatFormat::opt;
  if (t == "llama") return tokenize::ChatFormat::llama3;
  throw Error({llm_dir.string(), {}, {}, {}}, "cannot tell the chat format: no chat template in tokenizer_config.json and model_type '" + t + "'");
}

/// Loads the tokenizers and adds the paradigm's tokens. With `c.added_tokens` empty the tokens are
/// chosen and recorded in `c`; otherwise (rebuilding a run) the recorded ones are added in the same
/// order and must receive the same ids.
inline ElmTokenizers prepare_tokenizers(ElmConfig& c) {
  if (!std::filesystem::exists(std::filesystem::path(c.llm) / "config.json"))
    throw Error({c.llm, {}, {}, {}}, "the LLM folder has no config.json");
  ElmTokenizers t{tokenize::HfTokenizer::from_directory(c.llm), std::nullopt};
  t.format = c.chat_format.empty() ? chat_format_of(c.llm, t.text) : tokenize::parse_chat_format(c.chat_format);
  c.chat_format = tokenize::to_string(t.format);
  if (!c.ecg_tokenizer.empty()) t.ecg = load_ecg_tokenizer(c.ecg_tokenizer);
  const std::int64_t before = static_cast<std::int64_t>(t.text.vocab_size());
  if (c.added_tokens.empty()) {
    std::vector<std::string> plain, special;
    if (c.paradigm == "ecg-byte")
      for (std::size_t i = 0; i < t.ecg->vocab_size(); ++i) plain.push_back("signal_" + std::to_string(i));
    else if (c.paradigm != "stage1")
      special.push_back("<signal>");
    if (!t.text.pad_id() && !t.text.token_to_id("<pad>")) special.push_back("<pad>");
    t.text.add_tokens(plain, false);
    t.text.add_tokens(special, true);
    c.added_tokens = plain;
    c.added_tokens.insert(c.added_tokens.end(), special.begin(), special.end());
    c.first_added_token = before;
  } else {
    if (before != c.first_added_token)
      throw Error({c.llm, {}, {}, {}}, "the tokenizer has " + std::to_string(before) + " tokens, the run was trained with " + std::to_string(c.first_added_token) +
                                           " before its added tokens (another tokenizer?)");
    std::vector<std::string> plain, special;
    for (const auto& s : c.added_tokens) (s == "<signal>" || s == "<pad>" ? special : plain).push_back(s);
    t.text.add_tokens(plain, false);
    t.text.add_tokens(special, true);
    for (std::size_t i = 0; i < c.added_tokens.size(); ++i) {
      const auto id = t.text.token_to_id(c.added_tokens[i]);
      if (!id || *id < before) throw Error("added token '" + c.added_tokens[i] + "' did not get a new id when rebuilding the run's tokenizer");
    }
  }
  if (!t.text.pad_id()) t.text.set_pad_id(t.text.token_to_id("<pad>"));
  return t;
}

/// The LLM of a run: pretrained weights (or a fresh initialisation from config.json), with the
/// embedding table grown to the tokenizer's size by transformers' mean resizing.
template <class L>
L build_llm(const ElmConfig& c, std::int64_t vocab) {
  L lm{nullptr};
  if (c.llm_from_scratch) {
    const auto cfg = hf::ModelConfig::load(c.llm);
    const std::string family = models::llm_family(cfg);
    if constexpr (std::is_same_v<L, models::LlamaForCausalLm>) {
      if (family != "llama") throw Error({cfg.file, {}, {}, {}}, "this composition needs a Llama-family config");
      lm = L(models::LlamaOptions::from_config(cfg));
    } else if constexpr (std::is_same_v<L, models::Gpt2LmHeadModel>) {
      lm = L(models::Gpt2Options::from_config(cfg));
    } else {
      lm = L(models::OptOptions::from_config(cfg));
    }
  } else {
    lm = models::load_pretrained<L>(c.llm);
  }
  if (vocab > lm->vocab_size()) models::resize_token_embeddings_mean(lm, vocab);
  lm->set_attention(models::parse_attention_kernel(c.attention));
  return lm;
}

/// The encoder policy E of a run.
template <class E>
E build_encoder(const ElmConfig& c) {
  namespace enc = models::encoders;
  if constexpr (std::is_same_v<E, enc::NoEncoder>) {
    return enc::NoEncoder();
  } else if constexpr (std::is_same_v<E, enc::SignalFlatten>) {
    return enc::SignalFlatten(12, c.seg_len);
  } else if constexpr (std::is_same_v<E, models::HfVisionEncoder>) {
    if (c.encoder_checkpoint.empty()) throw Error("the " + c.encoder + " encoder needs its Hugging Face folder (encoder_checkpoint)");
    return models::HfVisionEncoder(models::HfVisionEncoderImpl::from_pretrained(c.encoder_checkpoint));
  } else {
    models::EcgEncoderConfig ec = c.encoder_config.empty()
                                      ? models::parse_ecg_encoder_config(Json{{"encoder", c.encoder}, {"seq_len", c.seg_len}}, "default " + c.encoder + " configuration")
                                      : enc::read_ecg_encoder_config(c.encoder_config);
    if (ec.name != c.encoder) throw Error({c.encoder_config, {}, {}, "encoder"}, "the configuration describes '" + ec.name + "', the run asks for '" + c.encoder + "'");
    const std::int64_t L = ec.is_merl() ? ec.merl.seq_len : ec.mae.seq_len;
    if (L != c.seg_len) throw Error({c.encoder_config, {}, {}, "seq_len"}, "the encoder takes " + std::to_string(L) + " samples, the segments have " + std::to_string(c.seg_len));
    enc::AnyEcgEncoder any = enc::make_ecg_encoder(ec, /*merl_pretraining_head=*/false);
    if (!c.encoder_checkpoint.empty()) any.load(c.encoder_checkpoint, /*strict=*/false);  // upstream loads ECG encoders with strict=False
    E e = std::get<E>(any.variant());
    if constexpr (requires { e->embed_mode; })
      e->embed_mode = c.upstream_masked_embeddings ? enc::EmbedMode::upstream_masked : enc::EmbedMode::unmasked;
    return e;
  }
}

/// Builds composition ElmT for a run (tokenizers already prepared).
template <class ElmT>
ElmT build_elm(const ElmConfig& c, const ElmTokenizers& tok) {
  using Impl = typename ElmT::Impl;
  using E = typename Impl::Encoder;
  using P = typename Impl::ProjectorType;
  using L = typename Impl::Llm;
  torch::manual_seed(static_cast<std::uint64_t>(c.seed));
  L lm = build_llm<L>(c, static_cast<std::int64_t>(tok.text.vocab_size()));
  E e = build_encoder<E>(c);
  P p = [&] {
    if constexpr (std::is_same_v<P, models::NoProjector>) return P();
    else return P(e->embedding_dim(), lm->hidden_size());
  }();
  ElmOptions o;
  o.encoder_tokens = c.encoder_tokens;
  o.train_encoder = c.paradigm == "end2end-encoder";
  o.upstream_no_grad_encoder = c.upstream_no_grad_encoder;
  o.train_new_token_rows = c.train_new_token_rows;
  o.first_new_token = c.first_added_token;
  o.train_embeddings = c.llm_from_scratch;
  o.name = c.paradigm + ":" + c.encoder + ":" + models::llm_family(hf::ModelConfig::load(c.llm));
  ElmT elm(e, p, lm, o);
  if (c.peft) {
    models::LoraConfig lc;
    lc.r = c.lora_rank, lc.alpha = c.lora_alpha, lc.dropout = c.lora_dropout, lc.target_modules = c.lora_targets;
    elm->apply_lora(lc);
  }
  elm->configure_trainable(/*llm_trains_whole=*/!c.peft);
  return elm;
}

/// Calls `f.template operator()<ElmT>()` with the composition the configuration names (the
/// registry: every supported alias is instantiated here).
template <class F>
decltype(auto) dispatch_elm(const ElmConfig& c, F&& f) {
  const std::string family = models::llm_family(hf::ModelConfig::load(c.llm));
  auto with_llm = [&]<template <class> class Alias>() -> decltype(auto) {
    if (family == "llama") return f.template operator()<Alias<models::LlamaForCausalLm>>();
    if (family == "gpt2") return f.template operator()<Alias<models::Gpt2LmHeadModel>>();
    return f.template operator()<Alias<models::OptForCausalLm>>();
  };
  if (c.paradigm == "ecg-byte") return with_llm.template operator()<EcgByteElm>();
  if (c.paradigm == "encoder-free") return with_llm.template operator()<EncoderFreeElm>();
  if (c.encoder == "st_mem") return with_llm.template operator()<StMemElm>();
  if (c.encoder == "mtae" || c.encoder == "mlae") return with_llm.template operator()<MtaeElm>();
  if (c.encoder == "merl") return with_llm.template operator()<MerlElm>();
  if (is_vision_encoder(c.encoder)) return with_llm.template operator()<VisionElm>();
  throw Error("no composition for paradigm '" + c.paradigm + "' with encoder '" + c.encoder + "'");
}

}  // namespace ecgbench::elm
