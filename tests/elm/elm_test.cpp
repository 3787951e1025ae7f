// Tests for include/ecgbench/elm and the ELM data pipeline: every paradigm trains (loss falls,
// frozen parameters bit-identical, trainable ones changed), splicing touches only the signal rows
// (upstream's test_latent_injection), the loss equals the LLM's own shifted cross-entropy on the
// same inputs_embeds, end-to-end ECG-Byte ids equal encode_chat, label rules, resume refusals.
// The LLM is the demo's tiny Llama (resources/demo-llm, initialised from its config).
#include "support/catch_with_torch.hpp"

#include <cmath>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/elm/builder.hpp"
#include "ecgbench/elm/collate.hpp"
#include "ecgbench/elm/evaluate.hpp"
#include "ecgbench/elm/train_run.hpp"
#include "ecgbench/tokenize/bpe_trainer.hpp"
#include "support/meta_device.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::elm;

namespace {

const std::filesystem::path demo_llm = std::filesystem::path(ECGBENCH_SOURCE_DIR) / "resources" / "demo-llm";

/// A tiny preprocessed data set: 16 segments of 500 samples (fast / slow sinusoids) with QA about them.
struct Fixture {
  std::filesystem::path dir, segments, data, ecg_tokenizer;
  Fixture() {
    dir = test::temp_dir() / "elm-fixture";
    segments = dir / "segments";
    if (std::filesystem::exists(dir / "ready")) {
      data = dir / "qa.jsonl";
      ecg_tokenizer = dir / "ecg_byte.json";
      return;
    }
    std::filesystem::create_directories(segments);
    const std::size_t n = 16, L = 500;
    std::vector<float> all(n * 12 * L);
    std::string index;
    std::vector<data::Conversation> qa;
    std::vector<std::string> symbols;
    for (std::size_t i = 0; i < n; ++i) {
      const bool fast = i % 2;
      for (std::size_t c = 0; c < 12; ++c)
        for (std::size_t t = 0; t < L; ++t)
          all[(i * 12 + c) * L + t] = static_cast<float>(std::sin((fast ? 0.3 : 0.08) * t + c) * (0.5 + 0.05 * c));
      data::SegmentEntry e;
      e.id = "rec" + std::to_string(i) + "_0";
      e.source = "rec" + std::to_string(i);
      e.shard = 0, e.row = i, e.report = fast ? "fast rhythm" : "slow rhythm", e.patient_id = std::to_string(i), e.orig_sf = 250, e.target_sf = 250, e.segment_len = L;
      index += data::to_json(e).dump() + "\n";
      qa.push_back({"q" + std::to_string(i), {e.id}, {{data::Role::user, "Is the heart rate normal?"}, {data::Role::assistant, fast ? "tachycardia" : "normal"}}, "test"});
      symbols.push_back(tokenize::symbolize(std::span<const float>(all.data() + i * 12 * L, 12 * L)).symbols);
    }
    const std::size_t shape[3] = {n, 12, L};
    npy::save<float>(data::shard_path(segments, 0), all, shape);
    write_file_atomically(segments / "index.jsonl", index);
    data = dir / "qa.jsonl";
    std::vector<Json> rows;
    for (const auto& c : qa) rows.push_back(data::to_json(c));
    write_jsonl(data, rows);
    std::vector<std::string_view> seqs(symbols.begin(), symbols.end());
    tokenize::BpeTrainOptions bo;
    bo.merges = 40;
    const tokenize::EcgByteTokenizer tok(std::string(tokenize::ecg_alphabet), tokenize::train_bpe(seqs, bo));
    ecg_tokenizer = dir / "ecg_byte.json";
    write_json(ecg_tokenizer, tok.to_json());
    write_file_atomically(dir / "ready", "1");
  }
};

ElmConfig config_for(const std::string& paradigm, const std::string& encoder, const std::string& representation, const Fixture& f) {
  ElmConfig c;
  c.paradigm = paradigm, c.encoder = encoder, c.representation = representation;
  c.llm = demo_llm.string();
  c.llm_from_scratch = true;
  c.seg_len = 500;
  c.llm_input_len = 64;
  c.peft = false;
  c.system_prompt = "";
  if (paradigm == "ecg-byte") {
    c.ecg_tokenizer = f.ecg_tokenizer.string();
    c.llm_input_len = 600;  // upstream's rule keeps up to 500 ECG tokens, the text gets the rest
  }
  if (encoder == "st_mem" || encoder == "mtae" || encoder == "mlae" || encoder == "merl") {
    const auto cfg = f.dir / (encoder + ".json");
    Json j{{"encoder", encoder}, {"seq_len", 500}};
    if (encoder == "merl") j["resnet"] = "resnet";
    else j.update(Json{{"embed_dim", 32}, {"depth", 1}, {"num_heads", 2}, {"decoder_embed_dim", 16}, {"decoder_depth", 1}, {"decoder_num_heads", 1}});
    write_json(cfg, j);
    c.encoder_config = cfg.string();
  }
  return c;
}

std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value().detach().clone();
  return out;
}

template <class ElmT>
struct Setup;
template <> struct Setup<EcgByteLlama> { static ElmConfig make(const Fixture& f) { return config_for("ecg-byte", "none", "ecg-tokens", f); } };
template <> struct Setup<StMemLlava> { static ElmConfig make(const Fixture& f) { return config_for("end2end-encoder", "st_mem", "signal", f); } };
template <> struct Setup<MtaeLlava> { static ElmConfig make(const Fixture& f) { return config_for("finetune", "mlae", "signal", f); } };
template <> struct Setup<MerlLlava> { static ElmConfig make(const Fixture& f) { return config_for("finetune", "merl", "signal", f); } };
template <> struct Setup<EncoderFreeLlama> { static ElmConfig make(const Fixture& f) { return config_for("encoder-free", "none", "signal", f); } };

/// One composition as the tests build it: its validated configuration, tokenizers, the ELM, and its
/// training data set (which points into `tok`, so this is built in place, never moved).
template <class ElmT>
struct Composed {
  ElmConfig c;
  ElmTokenizers tok;
  ElmT elm;
  data::ElmDataset ds;
  explicit Composed(const Fixture& f)
      : c(validated(Setup<ElmT>::make(f))),
        tok(prepare_tokenizers(c)),
        elm(build_elm<ElmT>(c, tok)),
        ds(data::read_conversations(f.data), f.segments, tok.text, tok.ecg ? &*tok.ecg : nullptr, data_options(c, tok, false)) {}
  Composed(const Composed&) = delete;
  static ElmConfig validated(ElmConfig c) {
    c.validate();
    return c;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("every paradigm trains: loss falls, frozen parts stay, trainable parts move", "[elm][train]", EcgByteLlama, StMemLlava, MtaeLlava, MerlLlava,
                   EncoderFreeLlama) {
  Fixture f;
  Composed<TestType> m(f);
  auto& [c, tok, elm, ds] = m;
  ElmTrainData td(ds, *tok.text.pad_id());
  const auto before = snapshot(*elm);
  // Labels only on the answer and its end-of-turn token.
  const ElmBatch b = td.batch(std::vector<std::size_t>{0, 1});
  const auto labelled = (b.labels != -100).sum(1);
  CHECK(labelled[0].template item<std::int64_t>() >= 2);
  CHECK(labelled[0].template item<std::int64_t>() <= 4);
  train::TrainOptions o;
  o.batch_size = 4;
  o.max_steps = 12;
  o.epochs = 100;
  o.progress = false;
  o.save_at_end = false;
  o.clip_norm = 1.0;
  o.schedule = train::Schedule::constant(3e-3);
  train::AdamW opt(*elm, train::AdamOptions{});
  elm->eval();
  const double first = elm->loss(b).loss.template item<double>();
  train::Trainer(o).fit(elm, td, opt);
  elm->eval();
  const double last = elm->loss(b).loss.template item<double>();
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.8 * first);
  std::size_t moved = 0, frozen_same = 0;
  for (const auto& p : elm->named_parameters(true)) {
    const bool changed = !torch::equal(p.value(), before.at(p.key()));
    if (p.value().requires_grad()) moved += changed;
    else {
      INFO("frozen " << p.key());
      CHECK(!changed);
      ++frozen_same;
    }
  }
  CHECK(moved > 0);
  // An LLM initialised from scratch trains its embedding table (tied: the output layer too).
  CHECK(elm->llm->input_embeddings().requires_grad());
  if (c.paradigm == "finetune") CHECK(frozen_same > 0);  // the encoder
  // End-to-end encoder training really trains the encoder (upstream's --train_encoder does not).
  if (c.paradigm == "end2end-encoder") {
    bool enc_moved = false;
    for (const auto& p : elm->encoder->named_parameters(true)) enc_moved |= !torch::equal(p.value(), before.at("encoder." + p.key()));
    CHECK(enc_moved);
  }
  if (c.paradigm == "finetune") {
    for (const auto& p : elm->encoder->named_parameters(true)) CHECK(torch::equal(p.value(), before.at("encoder." + p.key())));
  }
}

// Device-generic (the GPU issue): every paradigm's loss and backward with all weights on the meta
// device, where a tensor made on the CPU inside the model is a device error. The batch goes to the
// device as the trainer stages it (ElmBatch::to): the label count and the signal slots' bounds are
// taken on the CPU first, so the step needs no value back from the device.
TEMPLATE_TEST_CASE("every paradigm's loss and backward run on the meta device", "[elm][meta]", EcgByteLlama, StMemLlava, MtaeLlava, MerlLlava, EncoderFreeLlama) {
  Fixture f;
  Composed<TestType> m(f);
  auto& [c, tok, elm, ds] = m;
  const ElmBatch b = ElmTrainData(ds, *tok.text.pad_id()).batch(std::vector<std::size_t>{0, 1});
  const std::int64_t want = (b.labels.narrow(1, 1, b.labels.size(1) - 1) != -100).sum().template item<std::int64_t>();
  test::to_meta(*elm);
  elm->train();
  const ElmBatch on_meta = b.to(torch::kMeta);
  CHECK(on_meta.input_ids.is_meta());
  CHECK(on_meta.labelled == want);
  const train::LossOutput out = elm->loss(on_meta);
  CHECK(out.loss.is_meta());
  CHECK(out.count == want);
  out.loss.backward();
  std::size_t trained = 0, with_grad = 0;
  for (const auto& p : elm->parameters()) {
    if (!p.requires_grad()) continue;
    ++trained;
    if (p.grad().defined()) with_grad += p.grad().is_meta() && p.grad().sizes() == p.sizes();
  }
  CHECK(trained > 0);
  CHECK(with_grad > 0);
  // A slot beyond the sequence is refused on the CPU, before the copy.
  ElmBatch wrong = b;
  if (wrong.signal_positions.defined()) {
    wrong.signal_positions = wrong.signal_positions.clone();
    wrong.signal_positions.fill_(b.input_ids.size(1));
    CHECK_THROWS_WITH(wrong.to(torch::kMeta), Catch::Contains("beyond the sequence"));
  }
}

TEST_CASE("splicing replaces exactly the signal rows, the loss is the LLM's shifted cross-entropy", "[elm][splice]") {
  Fixture f;
  ElmConfig c = config_for("scratch", "st_mem", "signal", f);
  c.encoder_tokens = 2;
  ElmTokenizers tok = prepare_tokenizers(c);
  StMemLlava elm = build_elm<StMemLlava>(c, tok);
  elm->eval();
  data::ElmDataset ds(data::read_conversations(f.data), f.segments, tok.text, nullptr, data_options(c, tok, false));
  const ElmBatch b = ElmTrainData(ds, *tok.text.pad_id()).batch(std::vector<std::size_t>{0, 3});
  REQUIRE(b.signal_positions.size(1) == 2);
  torch::NoGradGuard g;
  const torch::Tensor plain = elm->llm->embed(b.input_ids);
  const torch::Tensor spliced = elm->input_embeddings(b);
  const torch::Tensor proj = elm->projector->forward(elm->encoder->embed(b.encoder_input, 2));
  const auto signal_id = *tok.text.token_to_id("<signal>");
  for (std::int64_t r = 0; r < 2; ++r) {
    for (std::int64_t j = 0; j < 2; ++j) {
      const auto p = b.signal_positions[r][j].item<std::int64_t>();
      CHECK(b.input_ids[r][p].item<std::int64_t>() == signal_id);
      CHECK(torch::equal(spliced[r][p], proj[r][j]));
    }
    torch::Tensor keep = torch::ones({b.input_ids.size(1)}, torch::kBool);
    for (std::int64_t j = 0; j < 2; ++j) keep[b.signal_positions[r][j].item<std::int64_t>()] = false;
    CHECK(torch::equal(spliced[r].index({keep}), plain[r].index({keep})));
  }
  // The loss: HF's shifted CE computed independently from the LLM's logits on the same embeddings.
  models::LmInputs in;
  in.inputs_embeds = spliced;
  in.attention_mask = b.attention_mask;
  in.position_ids = b.position_ids;
  const torch::Tensor logits = elm->llm->forward(in).logits;
  double sum = 0;
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < 2; ++r)
    for (std::int64_t t = 0; t + 1 < b.labels.size(1); ++t) {
      const auto y = b.labels[r][t + 1].item<std::int64_t>();
      if (y == -100) continue;
      sum -= torch::log_softmax(logits[r][t].to(torch::kFloat64), 0)[y].item<double>();
      ++n;
    }
  const auto out = elm->loss(b);
  CHECK(out.count == n);
  CHECK(out.loss.item<double>() == Approx(sum / static_cast<double>(n)).epsilon(1e-5));
  // Upstream's masked embeddings (quirk 12) differ from ours and from call to call.
  elm->encoder->embed_mode = models::encoders::EmbedMode::upstream_masked;
  const torch::Tensor m1 = elm->encoder->embed(b.encoder_input, 2), m2 = elm->encoder->embed(b.encoder_input, 2);
  CHECK(!torch::equal(m1, m2));
}

TEST_CASE("end-to-end ECG-Byte ids equal encode_chat on the same data, label rules", "[elm][ecg-byte]") {
  Fixture f;
  ElmConfig c = config_for("ecg-byte", "none", "ecg-tokens", f);
  ElmTokenizers tok = prepare_tokenizers(c);
  // signal_0 .. signal_N (the demo tokenizer has its own <pad>, so none is added).
  REQUIRE(tok.text.token_to_id("<pad>") == tok.text.pad_id());
  REQUIRE(c.added_tokens.size() == tok.ecg->vocab_size());
  CHECK(c.added_tokens.front() == "signal_0");
  CHECK(c.added_tokens.back() == "signal_" + std::to_string(tok.ecg->vocab_size() - 1));
  data::ElmDataset ds(data::read_conversations(f.data), f.segments, tok.text, &*tok.ecg, data_options(c, tok, false));
  const auto item = ds.item(2);
  REQUIRE(item);
  // Independently: symbols -> ECG-Byte ids -> "signal_<id>" ids -> encode_chat with upstream's budget.
  auto [seg, len] = ds.raw_segment(2);
  const auto ids = tok.ecg->encode(tokenize::symbolize(seg).symbols, tokenize::EncodeMode::longest_match);
  tokenize::ChatEncodeOptions co;
  co.pad_to_max = static_cast<std::size_t>(c.llm_input_len);
  co.truncation = tokenize::Truncation::keep_last;
  for (auto t : ids) co.ecg_token_ids.push_back(*tok.text.token_to_id("signal_" + std::to_string(t)));
  const auto want = tokenize::encode_chat(tok.text, tok.format, ds.conversation(2).turns, co);
  CHECK(item->enc.ids == want.ids);
  CHECK(item->enc.labels == want.labels);
  CHECK(item->enc.ecg_size > 0);
  // Upstream [P]: every end-of-turn token is labelled (system/user ones too).
  ElmConfig p = c;
  p.label_every_eot = true;
  data::ElmDataset ds2(data::read_conversations(f.data), f.segments, tok.text, &*tok.ecg, data_options(p, tok, false));
  const auto eot = *tok.text.token_to_id("<|eot_id|>");
  const auto item2 = ds2.item(2);
  std::size_t eots = 0, labelled_eots = 0;
  for (std::size_t k = 0; k < item2->enc.ids.size(); ++k)
    if (item2->enc.ids[k] == eot && item2->enc.attention_mask[k]) ++eots, labelled_eots += item2->enc.labels[k] == eot;
  CHECK(eots >= 2);
  CHECK(labelled_eots == eots);
  std::size_t ours = 0;
  for (std::size_t k = 0; k < item->enc.ids.size(); ++k) ours += item->enc.ids[k] == eot && item->enc.labels[k] == eot;
  CHECK(ours == 1);
}

TEST_CASE("ELM configuration and data refuse bad input clearly", "[elm][errors]") {
  Fixture f;
  ElmConfig c = config_for("llava", "st_mem", "signal", f);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("general vision encoder"));
  c = config_for("scratch", "clip", "signal", f);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("reads images"));
  c = config_for("ecg-byte", "st_mem", "ecg-tokens", f);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("takes no encoder"));
  c = config_for("finetune", "resnet", "signal", f);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("unknown encoder 'resnet'") && Catch::Contains("st_mem, mtae"));
  c = config_for("ecg-byte", "none", "ecg-tokens", f);
  c.llm = (f.dir / "nope").string();
  CHECK_THROWS_WITH(prepare_tokenizers(c), Catch::Contains("no config.json"));
  // A tokenizer folder whose chat format cannot be told.
  const auto odd = f.dir / "odd-llm";
  std::filesystem::create_directories(odd);
  for (const char* n : {"tokenizer.json", "config.json"}) std::filesystem::copy_file(demo_llm / n, odd / n, std::filesystem::copy_options::overwrite_existing);
  Json cfg = read_json(odd / "config.json");
  cfg["model_type"] = "mystery";
  cfg["architectures"] = {"MysteryForCausalLM"};
  write_json(odd / "config.json", cfg);
  c.llm = odd.string();
  CHECK_THROWS_WITH(prepare_tokenizers(c), Catch::Contains("cannot tell the chat format"));
  // Segments missing for every item, and a segments folder without index.
  c = config_for("ecg-byte", "none", "ecg-tokens", f);
  ElmTokenizers tok = prepare_tokenizers(c);
  std::vector<data::Conversation> lost{{"x", {"nowhere_0"}, {{data::Role::user, "hi"}, {data::Role::assistant, "yes"}}, "t"}};
  CHECK_THROWS_WITH(data::ElmDataset(lost, f.segments, tok.text, &*tok.ecg, data_options(c, tok, false)), Catch::Contains("nowhere_0"));
  CHECK_THROWS_WITH(data::ElmDataset(lost, f.dir / "empty", tok.text, &*tok.ecg, data_options(c, tok, false)), Catch::Contains("index.jsonl"));
  // Some items missing: counted, not silent.
  auto mixed = data::read_conversations(f.data);
  mixed.push_back(lost.front());
  data::ElmDataset ds(mixed, f.segments, tok.text, &*tok.ecg, data_options(c, tok, false));
  CHECK(ds.missing_ecg() == 1);
  CHECK(ds.report()["missing_examples"][0] == "nowhere_0");
  // A tokenizer without the ECG tokens.
  const auto plain = tokenize::HfTokenizer::from_directory(demo_llm);
  CHECK_THROWS_WITH(data::ElmDataset(data::read_conversations(f.data), f.segments, plain, &*tok.ecg, data_options(c, tok, false)), Catch::Contains("signal_0"));
}

TEST_CASE("ecgbench-train's library call: a run folder that resumes and refuses another composition", "[elm][run][slow]") {
  Fixture f;
  const auto run = test::temp_dir() / "elm-run";
  std::filesystem::remove_all(run);
  ElmConfig c = config_for("ecg-byte", "none", "ecg-tokens", f);
  TrainSettings s;
  s.data = {f.data.string()};
  s.segments = f.segments.string();
  s.out = run;
  s.batch_size = 4;
  s.epochs = 10;  // 16 items: 4 steps per epoch
  s.max_steps = 4;
  s.save_every = 2;
  s.schedule = "constant";
  s.lr = 1e-3;
  s.progress = false;
  const auto r = train_elm(c, s);
  CHECK(r.steps == 4);
  CHECK(std::filesystem::exists(run / "config.json"));
  CHECK(std::filesystem::exists(run / "checkpoints" / "step-4" / "model.safetensors"));
  CHECK(std::filesystem::exists(run / "data_report.json"));
  const ElmConfig back = ElmConfig::read(run);
  CHECK(back.added_tokens == c.added_tokens);
  CHECK(back.chat_format == "llama3");
  // Paths are stored relative to the run folder and resolved from it on reading.
  CHECK(std::filesystem::path(read_json(run / "config.json")["ecg_tokenizer"].get<std::string>()).is_relative());
  CHECK(std::filesystem::equivalent(back.ecg_tokenizer, f.ecg_tokenizer));
  CHECK(std::filesystem::equivalent(back.llm, demo_llm));
  // Resuming with more steps continues from step 4.
  ElmConfig again = ElmConfig::read(run);
  s.resume = true;
  s.max_steps = 6;
  CHECK(train_elm(again, s).steps == 6);
  // Another composition into the same folder is refused.
  ElmConfig other = config_for("encoder-free", "none", "signal", f);
  CHECK_THROWS_WITH(train_elm(other, s), Catch::Contains("another composition"));
  // A fresh run (resume off) into a folder holding checkpoints is refused, the checkpoints kept.
  s.resume = false;
  ElmConfig fresh = config_for("ecg-byte", "none", "ecg-tokens", f);
  CHECK_THROWS_WITH(train_elm(fresh, s), Catch::Contains("already holds a run (step-6)"));
  CHECK(std::filesystem::exists(run / "checkpoints" / "step-6" / "state.json"));
}

namespace {
/// Turns of an evaluation output keyed by (id, turn).
std::map<std::pair<std::string, std::size_t>, Json> read_turns(const std::filesystem::path& f) {
  std::map<std::pair<std::string, std::size_t>, Json> out;
  for_each_jsonl(f, [&](Json&& j, std::size_t) { out[{j["id"].get<std::string>(), j["turn"].get<std::size_t>()}] = j; });
  return out;
}
}  // namespace

TEST_CASE("evaluation: prompts, protocols, batching, KV cache, resume, refusals", "[elm][evaluate][slow]") {
  Fixture f;
  const auto run = test::temp_dir() / "eval-run";
  std::filesystem::remove_all(run);
  ElmConfig c = config_for("end2end-encoder", "st_mem", "signal", f);
  TrainSettings ts;
  ts.data = {f.data.string()};
  ts.segments = f.segments.string();
  ts.out = run;
  ts.batch_size = 4, ts.max_steps = 3, ts.schedule = "constant", ts.lr = 1e-3, ts.progress = false;
  train_elm(c, ts);
  // Two-turn conversations; the first gold answer is long, so own-history prompts differ in length.
  const auto test_file = test::temp_dir() / "eval-test.jsonl";
  std::vector<Json> rows;
  const std::string long_gold = "the rhythm is regular and the rate is within the normal range for an adult at rest";
  for (int i = 0; i < 6; ++i)
    rows.push_back(data::to_json(data::Conversation{"c" + std::to_string(i), {"rec" + std::to_string(i) + "_0"},
                                                    {{data::Role::user, "Describe the rhythm."}, {data::Role::assistant, long_gold},
                                                     {data::Role::user, "Is the heart rate normal?"}, {data::Role::assistant, i % 2 ? "tachycardia" : "normal"}},
                                                    "test"}));
  rows.push_back(data::to_json(data::Conversation{"lost", {"nowhere_0"}, {{data::Role::user, "hi"}, {data::Role::assistant, "yes"}}, "test"}));
  write_jsonl(test_file, rows);
  EvaluateSettings es;
  es.run = run, es.data = {test_file.string()}, es.segments = f.segments.string(), es.seeds = {0}, es.max_new_tokens = 4, es.progress = false;
  es.metrics = {"bleu", "rouge", "acc"};
  auto evaluate = [&](const std::string& name, std::int64_t batch, const std::string& protocol) {
    EvaluateSettings e = es;
    e.batch_size = batch, e.protocol = protocol, e.out = test::temp_dir() / name;
    std::filesystem::remove_all(e.out);
    const auto r = evaluate_elm(e);
    return std::make_pair(r.front(), read_turns(e.out / "turns_seed_0.jsonl"));
  };
  const auto [gold1, turns1] = evaluate("eval-b1", 1, "gold-history");
  const auto [gold4, turns4] = evaluate("eval-b4", 4, "gold-history");
  REQUIRE(turns1.size() == 12);  // 6 conversations x 2 assistant turns; the one without its ECG skipped
  CHECK(gold1["settings"]["skipped"]["missing_ecg"] == 1);
  // Batched (left-padded, KV cache) answers equal batch-1 answers.
  for (const auto& [key, t] : turns1) {
    INFO(key.first << " turn " << key.second);
    CHECK(turns4.at(key)["generated"] == t["generated"]);
    CHECK(turns4.at(key)["prompt_tokens"] == t["prompt_tokens"]);
  }
  CHECK(gold1["qa_results"] == gold4["qa_results"]);
  // The prompt of turn 1 is the chat template of the gold history up to the question, with the
  // generation prompt (independently: encode_chat).
  ElmTokenizers tok = prepare_tokenizers(c);
  {
    auto convs = data::read_conversations(test_file);
    const auto& turns = convs[0].turns;
    tokenize::ChatEncodeOptions co;
    co.add_generation_prompt = true;
    co.signal_slots = 1;
    const auto want = tokenize::encode_chat(tok.text, tok.format, std::span<const data::Turn>(turns.data(), 3), co);
    CHECK(turns1.at({"c0", 1})["prompt_tokens"].get<std::size_t>() == want.ids.size());
  }
  // Own history: turn 1's prompt holds the generated first answer instead of the long gold one.
  const auto [own, turns_own] = evaluate("eval-own", 4, "own-history");
  for (int i = 0; i < 6; ++i) {
    const std::string id = "c" + std::to_string(i);
    const auto gen0 = turns_own.at({id, 0})["generated"].get<std::string>();
    const std::int64_t diff = turns_own.at({id, 1})["prompt_tokens"].get<std::int64_t>() - turns1.at({id, 1})["prompt_tokens"].get<std::int64_t>();
    CHECK(diff == static_cast<std::int64_t>(tok.text.encode(gen0, false).size()) - static_cast<std::int64_t>(tok.text.encode(long_gold, false).size()));
    CHECK(turns_own.at({id, 0})["generated"] == turns1.at({id, 0})["generated"]);  // the first turn has no history
  }
  // Upstream's offset for 3-token headers: one answer token moves into the prompt.
  {
    data::ElmItem item;
    item.enc.ids = {5, 6, 7};
    item.enc.labels = {-100, -100, -100};
    item.enc.attention_mask = {1, 1, 1};
    item.enc.position_ids = {0, 1, 2};
    const auto ans = tok.text.encode("normal rhythm", false);
    REQUIRE(ans.size() >= 2);
    const auto rest = apply_upstream_offset(item, ans, tok.text);
    CHECK(item.enc.ids.size() == 4);
    CHECK(item.enc.ids.back() == ans.front());
    CHECK(item.enc.position_ids.back() == 3);
    CHECK(rest == std::string(tokenize::trim_whitespace(tok.text.decode(std::vector<std::int32_t>(ans.begin() + 1, ans.end()), true))));
  }
  // KV cache == no cache on the same batch.
  {
    StMemLlava elm = build_elm<StMemLlava>(c, tok);
    elm->load_trainable(*train::CheckpointStore(run).latest());
    elm->eval();
    data::ElmDataset ds(data::read_conversations(f.data), f.segments, tok.text, nullptr, data_options(c, tok, false));
    std::vector<data::ElmItem> items;
    for (std::size_t i : {0, 1, 2}) items.push_back(*ds.prompt(i, std::span<const data::Turn>(ds.conversation(i).turns.data(), 1)));
    const ElmBatch b = collate(items, *tok.text.pad_id(), 1);
    models::GenerationOptions g;
    g.max_new_tokens = 6;
    const auto with_cache = elm->generate(b, g);
    g.use_cache = false;
    CHECK(torch::equal(with_cache, elm->generate(b, g)));
  }
  // Resume: an evaluation cut short (half its turns written, no result file) finishes with the same files.
  {
    EvaluateSettings e = es;
    e.batch_size = 4, e.out = test::temp_dir() / "eval-b4";
    const auto seed_json = e.out / eval::seed_file_name(0, "none");
    const auto full = read_json(seed_json);
    std::filesystem::remove(seed_json);
    const auto lines = eval::text_lines(read_file(e.out / "turns_seed_0.jsonl"));
    std::string half;
    for (std::size_t i = 0; i < lines.size() / 2; ++i) half += lines[i] + "\n";
    write_file_atomically(e.out / "turns_seed_0.jsonl", half);
    const auto again = evaluate_elm(e).front();
    CHECK(again["qa_results"] == full["qa_results"]);
    CHECK(again["averages"] == full["averages"]);
    CHECK(read_turns(e.out / "turns_seed_0.jsonl").size() == 12);
  }
  // Refusals: no checkpoint, the LLM folder gone, an unknown protocol.
  {
    const auto empty = test::temp_dir() / "eval-empty-run";
    std::filesystem::create_directories(empty);
    std::filesystem::copy_file(run / "config.json", empty / "config.json", std::filesystem::copy_options::overwrite_existing);
    EvaluateSettings e = es;
    e.run = empty, e.out = test::temp_dir() / "eval-x";
    CHECK_THROWS_WITH(evaluate_elm(e), Catch::Contains("has no checkpoint"));
    Json cfg = read_json(run / "config.json");
    cfg["llm"] = (f.dir / "gone-llm").string();
    write_json(empty / "config.json", cfg);
    CHECK_THROWS_WITH(evaluate_elm(e), Catch::Contains("gone-llm") && Catch::Contains("config.json"));
    e = es;
    e.protocol = "both";
    CHECK_THROWS_WITH(evaluate_elm(e), Catch::Contains("unknown protocol 'both'"));
  }
}
