// One ELM training run as `ecgbench-train` performs it, as a library call: resolve the
// composition, build tokenizer, model and data, train with the engine (optimiser and schedule as
// upstream names them), and leave a run folder with config.json (the resolved configuration,
// including the tokens added to the tokenizer), checkpoints/, metrics.jsonl and data_report.json.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ecgbench/core/log.hpp"
#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/data/mapping.hpp"
#include "ecgbench/elm/builder.hpp"
#include "ecgbench/elm/collate.hpp"
#include "ecgbench/elm/encoder_input.hpp"
#include "ecgbench/elm/prebuilt.hpp"
#include "ecgbench/elm/rag_hook.hpp"
#include "ecgbench/models/device.hpp"
#include "ecgbench/train/trainer.hpp"

namespace ecgbench::elm {

struct TrainSettings {
  std::vector<std::string> data;      ///< mapped conversation JSONL files
  std::vector<double> weights;        ///< mixing weights (empty = all 1)
  std::string segments;               ///< preprocessed segments folder
  std::string held_out;               ///< optional held-out JSONL (evaluation loss)
  std::filesystem::path out;          ///< run folder
  std::string optimizer = "adam";     ///< adam | adamw
  double lr = 1e-4, weight_decay = 0.01, beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
  bool no_decay_on_norms_and_biases = false;
  std::string schedule = "noam-head";  ///< noam-paper | noam-head | linear | cosine | constant
  std::int64_t warmup = 500, epochs = 1, max_steps = 0, grad_accum = 1, save_every = 0, log_every = 10, ref_global_batch = 0;
  std::size_t batch_size = 2, keep = 3;
  double clip_norm = 1.0;
  bool resume = false, progress = true, augment_image = false;
  double balance_answers = 0;  ///< > 0: class-balanced oversampling of rare answers, at most this factor (data::balance_answers)
  int threads = 1;
  std::string device = "cpu";         ///< cpu | cuda | cuda:N
  std::string precision = "fp32";     ///< fp32 | bf16-autocast | bf16 (models/device.hpp)
  std::string optimizer_kernel = "auto";  ///< auto | plain | foreach | fused (train/optimizer.hpp)
};

/// The conversations of the run: files mixed with their weights (deterministic for the seed).
inline std::vector<data::Conversation> load_training_conversations(const TrainSettings& s, std::uint64_t seed) {
  if (s.data.empty()) throw Error("no training data (data)");
  std::vector<std::vector<data::Conversation>> parts;
  for (const auto& f : s.data) parts.push_back(data::read_conversations(f));
  std::vector<data::Conversation> all =
      parts.size() == 1 && s.weights.empty() ? std::move(parts.front()) : data::mix_conversations(parts, s.weights, seed, false);
  if (s.balance_answers > 0) all = data::balance_answers(all, s.balance_answers, seed);
  return all;
}

inline data::ElmDataOptions data_options(const ElmConfig& c, const ElmTokenizers& tok, bool augment_image) {
  data::ElmDataOptions o;
  o.representation = data::parse_representation(c.representation);
  o.format = tok.format;
  if (!c.system_prompt.empty()) o.system_prompt = c.system_prompt;
  o.llm_input_len = static_cast<std::size_t>(c.llm_input_len);
  o.encoder_tokens = static_cast<std::size_t>(c.encoder_tokens);
  o.min_ecg_tokens = static_cast<std::size_t>(c.ecg_tokens_kept);
  o.truncation = c.truncate_keep_first ? tokenize::Truncation::keep_first : tokenize::Truncation::keep_last;
  o.label_every_eot = c.label_every_eot;
  o.seed = c.seed;
  o.encoder_input = encoder_input_fn(c, augment_image);
  o.rag_text = make_rag_hook(c);
  o.rag_in_user_query = c.rag_mode == "user-query";
  return o;
}

template <class ElmT>
train::TrainResult train_typed(ElmConfig& c, const TrainSettings& s) {
  namespace fs = std::filesystem;
  const auto [dev, precision] = models::parse_placement(s.device, s.precision);
  auto dist = train::init_distributed(dev.is_cuda() ? "nccl" : "gloo");
  ElmTokenizers tok = prepare_tokenizers(c);
  ElmT elm = build_elm<ElmT>(c, tok);
  models::place(*elm, dev, precision);
  auto conversations = load_training_conversations(s, c.seed);
  data::ElmDataset ds(std::move(conversations), s.segments, tok.text, tok.ecg ? &*tok.ecg : nullptr, data_options(c, tok, s.augment_image));
  const auto pad = static_cast<std::int64_t>(*tok.text.pad_id());
  ElmTrainData train_data(ds, pad);

  train::TrainOptions o;
  o.epochs = s.epochs;
  o.max_steps = s.max_steps;
  o.batch_size = s.batch_size;
  o.grad_accum = s.grad_accum;
  o.clip_norm = s.clip_norm;
  o.save_every = s.save_every;
  o.keep = s.keep;
  o.log_every = s.log_every;
  o.seed = c.seed;
  o.run_dir = s.out;
  o.resume = s.resume;
  o.progress = s.progress;
  o.device = dev;
  o.bf16_autocast = precision == models::Precision::bf16_autocast;
  const double scale = train::batch_scale(static_cast<std::int64_t>(s.batch_size), dist.world, s.grad_accum, s.ref_global_batch);
  const std::int64_t d_model = elm->llm->hidden_size();
  const std::int64_t steps_guess = s.max_steps > 0 ? s.max_steps
                                                   : s.epochs * static_cast<std::int64_t>((ds.size() / std::max<std::size_t>(1, s.batch_size * static_cast<std::size_t>(dist.world)) + 1) /
                                                                                          static_cast<std::size_t>(s.grad_accum));
  if (s.schedule == "noam-paper") o.schedule = train::Schedule::noam_paper(d_model, s.warmup);
  else if (s.schedule == "noam-p") o.schedule = train::Schedule::noam_p(d_model, scale, s.warmup);
  else if (s.schedule == "noam-head") o.schedule = train::Schedule::noam_head(s.lr, scale, s.warmup);
  else if (s.schedule == "linear") o.schedule = train::Schedule::linear_decay(s.lr * scale, s.warmup, steps_guess);
  else if (s.schedule == "cosine") o.schedule = train::Schedule::cosine_decay(s.lr * scale, s.warmup, steps_guess);
  else if (s.schedule == "constant") o.schedule = train::Schedule::constant(s.lr * scale, s.warmup);
  else throw Error("unknown schedule '" + s.schedule + "' (noam-paper, noam-p, noam-head, linear, cosine, constant)");

  c.training = Json{{"optimizer", s.optimizer}, {"lr", s.lr}, {"weight_decay", s.weight_decay}, {"betas", {s.beta1, s.beta2}}, {"eps", s.eps},
                    {"schedule", o.schedule.to_json()}, {"schedule_name", s.schedule}, {"warmup", s.warmup}, {"epochs", s.epochs}, {"max_steps", s.max_steps},
                    {"batch_size", s.batch_size}, {"grad_accum", s.grad_accum}, {"precision", s.precision}, {"optimizer_kernel", s.optimizer_kernel}, {"world_size", dist.world}, {"clip_norm", s.clip_norm},
                    {"data", s.data}, {"weights", s.weights}, {"balance_answers", s.balance_answers}, {"segments", s.segments}};
  if (dist.is_main()) {
    // A fresh run never overwrites another one's checkpoints.
    if (!s.resume)
      if (const auto latest = train::CheckpointStore(s.out).latest())
        throw Error({s.out.string(), {}, {}, {}}, "the run folder already holds a run (" + latest->filename().string() +
                                                      "); resume continues it, or choose another folder");
    fs::create_directories(s.out);
    if (s.resume && fs::exists(s.out / "config.json")) {
      const ElmConfig before = ElmConfig::read(s.out);
      if (before.paradigm != c.paradigm || before.encoder != c.encoder || before.added_tokens != c.added_tokens)
        throw Error({(s.out / "config.json").string(), {}, {}, {}}, "resume: the run folder holds another composition (" + before.paradigm + " / " + before.encoder + ")");
    }
    c.write(s.out);
  }
  train::AdamOptions ao;
  ao.lr = s.lr, ao.beta1 = s.beta1, ao.beta2 = s.beta2, ao.eps = s.eps, ao.weight_decay = s.weight_decay;
  ao.kernel = train::parse_adam_kernel(s.optimizer_kernel);
  auto groups = train::parameter_groups(*elm, s.weight_decay, s.no_decay_on_norms_and_biases);
  train::Trainer trainer(o, dist);
  train::TrainResult r;
  auto report = [&] {
    if (dist.is_main()) write_json(s.out / "data_report.json", ds.report());
  };
  if (s.optimizer == "adam") {
    train::Adam opt(groups, ao);
    r = trainer.fit(elm, train_data, opt);
  } else if (s.optimizer == "adamw") {
    train::AdamW opt(groups, ao);
    r = trainer.fit(elm, train_data, opt);
  } else {
    throw Error("unknown optimizer '" + s.optimizer + "' (adam, adamw)");
  }
  report();
  if (ds.missing_ecg() || ds.no_room())
    log::warn("training data: " + std::to_string(ds.missing_ecg()) + " items without their ECG, " + std::to_string(ds.no_room()) +
              " items with no room for an answer (see data_report.json)");
  return r;
}

/// Trains the composition the configuration names.
#if defined(ECGBENCH_ELM_PREBUILT) && !defined(ECGBENCH_ELM_DEFINE_TRAINING)
train::TrainResult train_elm(ElmConfig& c, const TrainSettings& s);  // compiled once: elm/prebuilt.hpp
#else
ECGBENCH_ELM_TRAINING_LINKAGE train::TrainResult train_elm(ElmConfig& c, const TrainSettings& s) {
  c.validate();
  (void)models::parse_precision(s.precision), (void)train::parse_adam_kernel(s.optimizer_kernel);  // refused before any work
  torch::set_num_threads(s.threads);
  return dispatch_elm(c, [&]<class ElmT>() { return train_typed<ElmT>(c, s); });
}
#endif


}  // namespace ecgbench::elm
