// Stage 1 of the 2-stage paradigms: an ECG encoder trained alone on its own objective (ST-MEM /
// MTAE / MLAE masked reconstruction, MERL's CMA + UMA against the frozen report encoder), through
// the same engine as every other run. Upstream's settings: batch 256, lr 8e-5, weight decay 1e-4,
// no gradient clipping. The run folder ends with `encoder.safetensors` under upstream's parameter
// names (loadable by upstream and by `--encoder-checkpoint`).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/elm/builder.hpp"
#include "ecgbench/elm/train_run.hpp"
#include "ecgbench/models/encoders/encoders.hpp"
#include "ecgbench/models/text/bert.hpp"
#include "ecgbench/signal/normalize.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"

namespace ecgbench::elm {

/// A frozen BERT-family report encoder (MERL's MedCPT-Query-Encoder): `pooler_output` under no_grad,
/// reports tokenized to at most `max_length` tokens (padding to the longest in the batch).
class BertTextEncoder {
 public:
  BertTextEncoder(const std::filesystem::path& dir, std::int64_t max_length = 64)
      : tok_(tokenize::HfTokenizer::from_directory(dir)), bert_(models::load_bert(dir)), max_length_(max_length) {
    for (auto& p : bert_->parameters()) p.set_requires_grad(false);
  }
  torch::Tensor encode(const std::vector<std::string>& texts) {
    torch::NoGradGuard g;
    std::vector<std::vector<std::int32_t>> ids;
    std::size_t longest = 0;
    for (const auto& t : texts) {
      auto v = tok_.encode(t, true);
      if (static_cast<std::int64_t>(v.size()) > max_length_) {  // truncation keeps [CLS] ... [SEP]
        const auto last = v.back();
        v.resize(static_cast<std::size_t>(max_length_));
        v.back() = last;
      }
      longest = std::max(longest, v.size());
      ids.push_back(std::move(v));
    }
    const auto B = static_cast<std::int64_t>(texts.size()), T = static_cast<std::int64_t>(longest);
    torch::Tensor in = torch::full({B, T}, static_cast<std::int64_t>(tok_.pad_id().value_or(0)), torch::kLong);
    torch::Tensor mask = torch::zeros({B, T}, torch::kLong);
    for (std::int64_t r = 0; r < B; ++r)
      for (std::size_t k = 0; k < ids[static_cast<std::size_t>(r)].size(); ++k) in[r][static_cast<std::int64_t>(k)] = ids[static_cast<std::size_t>(r)][k], mask[r][static_cast<std::int64_t>(k)] = 1;
    return bert_->encode(in, mask, torch::Tensor(), false).pooler_output;
  }
  [[nodiscard]] std::int64_t width() const { return bert_->hidden_size(); }

 private:
  tokenize::HfTokenizer tok_;
  models::BertModel bert_;
  std::int64_t max_length_;
};

struct Stage1Batch {
  torch::Tensor series;  ///< [B, 12, L] normalised
  std::vector<std::string> reports;
};

/// Segments of a preprocessed folder (all of them, normalised) as stage-1 training data.
class SegmentTrainData {
 public:
  explicit SegmentTrainData(const std::filesystem::path& dir) : store_(dir) {
    const auto idx = dir / "index.jsonl";
    if (!std::filesystem::exists(idx)) throw Error({idx.string(), {}, {}, {}}, "segments folder has no index.jsonl");
    entries_ = data::read_segment_index(idx);
    if (entries_.empty()) throw Error({idx.string(), {}, {}, {}}, "no segments");
  }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t segment_len() const { return entries_.front().segment_len; }
  Stage1Batch batch(std::span<const std::size_t> idx) {
    Stage1Batch b;
    const auto L = static_cast<std::int64_t>(segment_len());
    b.series = torch::empty({static_cast<std::int64_t>(idx.size()), 12, L}, torch::kFloat32);
    float* dst = b.series.data_ptr<float>();
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const auto& e = entries_.at(idx[r]);
      std::vector<float> seg;
      {
        std::lock_guard lock(mutex_);
        const auto v = store_.segment(e);
        seg.assign(v.begin(), v.end());
      }
      const auto n = signal::instance_normalize(seg);
      std::copy(n.begin(), n.end(), dst + r * n.size());
      b.reports.push_back(e.report);
    }
    return b;
  }

 private:
  data::SegmentStore store_;
  std::vector<data::SegmentEntry> entries_;
  std::mutex mutex_;
};

/// The encoder under its own objective as a Trainable model (parameter names `encoder.*`).
template <class E>
class EncoderPretrainerImpl : public torch::nn::Module {
 public:
  EncoderPretrainerImpl(E e, std::shared_ptr<BertTextEncoder> text = nullptr) : text_(std::move(text)) { encoder = register_module("encoder", std::move(e)); }
  train::LossOutput loss(const Stage1Batch& b) {
    const torch::Tensor series = b.series.to(device());
    if constexpr (std::is_same_v<E, models::encoders::Merl>) {
      if (!text_) throw Error("MERL's pretraining needs the report encoder (text_encoder)");
      return {encoder->pretrain_loss(series, text_->encode(b.reports).to(device()), gather_ ? &*gather_ : nullptr), b.series.size(0)};
    } else {
      return {encoder->pretrain_loss(series), b.series.size(0)};
    }
  }
  [[nodiscard]] torch::Device device() const { return parameters().front().device(); }
  void set_gather(models::encoders::ContrastiveGather g) { gather_ = std::move(g); }
  [[nodiscard]] Json rng_state() const {
    if constexpr (requires { encoder->rng_state(); }) return Json{{"encoder", encoder->rng_state()}};
    else return Json::object();
  }
  void set_rng_state(const Json& j) {
    if constexpr (requires { encoder->set_rng_state(std::string()); })
      if (j.contains("encoder")) encoder->set_rng_state(j["encoder"].template get<std::string>());
  }
  E encoder{nullptr};

 private:
  std::shared_ptr<BertTextEncoder> text_;
  std::optional<models::encoders::ContrastiveGather> gather_;
};
template <class E>
class EncoderPretrainer : public torch::nn::ModuleHolder<EncoderPretrainerImpl<E>> {
 public:
  using torch::nn::ModuleHolder<EncoderPretrainerImpl<E>>::ModuleHolder;
};

/// Writes an encoder's weights under upstream's names (with ST-MEM / MTAE / MLAE's shared
/// `to_patch_embedding.*` alias), atomically.
inline void save_upstream_encoder(torch::nn::Module& encoder, const std::filesystem::path& path, bool with_patch_alias) {
  std::map<std::string, torch::Tensor> t;
  for (const auto& p : encoder.named_parameters(true)) t[p.key()] = p.value();
  for (const auto& b : encoder.named_buffers(true)) t[b.key()] = b.value();
  if (with_patch_alias)
    for (const auto& p : encoder.named_parameters(true))
      if (p.key().rfind("encoder.to_patch_embedding.", 0) == 0) t[p.key().substr(8)] = p.value();
  train::save_tensors(path, t);
}

template <class E>
train::TrainResult pretrain_typed(ElmConfig& c, const TrainSettings& s, const std::string& text_encoder) {
  const auto [dev, precision] = models::parse_placement(s.device, s.precision);
  auto dist = train::init_distributed(dev.is_cuda() ? "nccl" : "gloo");
  torch::manual_seed(c.seed);
  models::EcgEncoderConfig ec = c.encoder_config.empty() ? models::parse_ecg_encoder_config(Json{{"encoder", c.encoder}, {"seq_len", c.seg_len}}, "default configuration")
                                                         : models::encoders::read_ecg_encoder_config(c.encoder_config);
  models::encoders::AnyEcgEncoder any = models::encoders::make_ecg_encoder(ec, true);
  if (!c.encoder_checkpoint.empty()) any.load(c.encoder_checkpoint, false);
  E enc = std::get<E>(any.variant());
  if constexpr (requires { enc->seed(c.seed); }) enc->seed(c.seed + static_cast<std::uint64_t>(dist.rank));
  std::shared_ptr<BertTextEncoder> text;
  if constexpr (std::is_same_v<E, models::encoders::Merl>) {
    if (text_encoder.empty()) throw Error("MERL's stage 1 needs the report encoder: give text_encoder (a BERT folder such as MedCPT-Query-Encoder)");
    text = std::make_shared<BertTextEncoder>(text_encoder, ec.merl.text_max_length);
    if (text->width() != ec.merl.text_dim) throw Error("the report encoder gives " + std::to_string(text->width()) + " features, MERL's text projection takes " + std::to_string(ec.merl.text_dim));
  }
  EncoderPretrainer<E> model(enc, text);
  if constexpr (std::is_same_v<E, models::encoders::Merl>)
    if (dist.active()) model->set_gather(models::encoders::ContrastiveGather{[&dist](const torch::Tensor& t) { return dist.all_gather(t); }, static_cast<std::size_t>(dist.rank)});
  models::place(*model, dev, precision);
  SegmentTrainData data(s.segments);
  if (static_cast<std::int64_t>(data.segment_len()) != c.seg_len)
    throw Error("the segments have " + std::to_string(data.segment_len()) + " samples, seg_len is " + std::to_string(c.seg_len));
  train::TrainOptions o;
  o.epochs = s.epochs, o.max_steps = s.max_steps, o.batch_size = s.batch_size, o.grad_accum = s.grad_accum;
  o.clip_norm = s.clip_norm, o.save_every = s.save_every, o.keep = s.keep, o.log_every = s.log_every, o.seed = c.seed;
  o.run_dir = s.out, o.resume = s.resume, o.progress = s.progress, o.device = dev;
  o.bf16_autocast = precision == models::Precision::bf16_autocast;
  const double scale = train::batch_scale(static_cast<std::int64_t>(s.batch_size), dist.world, s.grad_accum, s.ref_global_batch);
  const std::int64_t width = ec.is_merl() ? ec.merl.proj_out : ec.mae.embed_dim;
  if (s.schedule == "noam-paper") o.schedule = train::Schedule::noam_paper(width, s.warmup);
  else if (s.schedule == "noam-head" || s.schedule == "noam-p") o.schedule = train::Schedule::noam_head(s.lr, scale, s.warmup);
  else if (s.schedule == "constant") o.schedule = train::Schedule::constant(s.lr * scale, s.warmup);
  else if (s.schedule == "cosine" || s.schedule == "linear") {
    const std::int64_t total = s.max_steps > 0 ? s.max_steps : s.epochs * static_cast<std::int64_t>(data.size() / std::max<std::size_t>(1, s.batch_size));
    o.schedule = s.schedule == "cosine" ? train::Schedule::cosine_decay(s.lr * scale, s.warmup, total) : train::Schedule::linear_decay(s.lr * scale, s.warmup, total);
  } else throw Error("unknown schedule '" + s.schedule + "'");
  c.training = Json{{"stage", 1}, {"optimizer", s.optimizer}, {"lr", s.lr}, {"weight_decay", s.weight_decay}, {"schedule", o.schedule.to_json()}, {"batch_size", s.batch_size},
                    {"epochs", s.epochs}, {"max_steps", s.max_steps}, {"world_size", dist.world}, {"segments", s.segments}};
  if (dist.is_main()) {
    if (!s.resume)
      if (const auto latest = train::CheckpointStore(s.out).latest())
        throw Error({s.out.string(), {}, {}, {}}, "the run folder already holds a run (" + latest->filename().string() +
                                                      "); resume continues it, or choose another folder");
    std::filesystem::create_directories(s.out);
    c.write(s.out);
    write_json(s.out / "encoder_config.json", ec.is_merl() ? Json{{"encoder", "merl"}, {"seq_len", ec.merl.seq_len}, {"resnet", {{"block", ec.merl.resnet.bottleneck ? "bottleneck" : "basic"}, {"layers", ec.merl.resnet.layers}}}}
                                                            : Json{{"encoder", c.encoder}, {"seq_len", ec.mae.seq_len}, {"patch_size", ec.mae.patch_size}, {"embed_dim", ec.mae.embed_dim}, {"depth", ec.mae.depth},
                                                                   {"num_heads", ec.mae.num_heads}, {"dim_head", ec.mae.dim_head}, {"decoder_embed_dim", ec.mae.decoder_embed_dim},
                                                                   {"decoder_depth", ec.mae.decoder_depth}, {"decoder_num_heads", ec.mae.decoder_num_heads}, {"mlp_ratio", ec.mae.mlp_ratio}});
  }
  train::AdamOptions ao;
  ao.lr = s.lr, ao.weight_decay = s.weight_decay, ao.beta1 = s.beta1, ao.beta2 = s.beta2, ao.eps = s.eps;
  ao.kernel = train::parse_adam_kernel(s.optimizer_kernel);
  train::Trainer trainer(o, dist);
  train::TrainResult r;
  if (s.optimizer == "adamw") {
    train::AdamW opt(train::parameter_groups(*model, s.weight_decay, s.no_decay_on_norms_and_biases), ao);
    r = trainer.fit(model, data, opt);
  } else {
    train::Adam opt(train::parameter_groups(*model, s.weight_decay, s.no_decay_on_norms_and_biases), ao);
    r = trainer.fit(model, data, opt);
  }
  if (dist.is_main()) save_upstream_encoder(*model->encoder, s.out / "encoder.safetensors", !std::is_same_v<E, models::encoders::Merl>);
  return r;
}

/// Stage-1 pretraining of the configured ECG encoder. Vision encoders' first stage (CLIP / SigLIP
/// contrastive, ViT masked-image modelling) is not available through this call.
#if defined(ECGBENCH_ELM_PREBUILT) && !defined(ECGBENCH_ELM_DEFINE_TRAINING)
train::TrainResult pretrain_encoder(ElmConfig& c, const TrainSettings& s, const std::string& text_encoder = {});  // compiled once: elm/prebuilt.hpp
#else
ECGBENCH_ELM_TRAINING_LINKAGE train::TrainResult pretrain_encoder(ElmConfig& c, const TrainSettings& s, const std::string& text_encoder = {}) {
  if (!is_ecg_encoder(c.encoder)) throw Error("stage 1 trains an ECG encoder (st_mem, mtae, mlae, merl); got '" + c.encoder + "'");
  torch::set_num_threads(s.threads);
  if (c.encoder == "st_mem") return pretrain_typed<models::encoders::StMem>(c, s, text_encoder);
  if (c.encoder == "merl") return pretrain_typed<models::encoders::Merl>(c, s, text_encoder);
  return pretrain_typed<models::encoders::Mtae>(c, s, text_encoder);
}
#endif

}  // namespace ecgbench::elm
