// Tests for include/ecgbench/models: Hugging Face parity on the tiny random checkpoints of
// ../shared/data/golden (logits, hidden states, inputs_embeds path, greedy generation), generation
// variants, LoRA, safetensors round trips and bad checkpoints.
#include "support/catch_with_torch.hpp"

#include <fstream>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"
#include "ecgbench/eval/bertscore.hpp"
#include "ecgbench/models/models.hpp"
#include "support/meta_device.hpp"
#include "support/tensor_compare.hpp"
#include "support/test_data.hpp"
#include "support/toy_roberta.hpp"

using namespace ecgbench;
using namespace ecgbench::models;

namespace {

/// max |a - b| over the valid (mask = 1) positions of [B, T, ...] tensors.
double max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask = {}) {
  REQUIRE(a.sizes() == b.sizes());
  torch::Tensor d = (a - b).abs();
  if (mask.defined()) {
    torch::Tensor m = mask.to(torch::kBool);
    while (m.dim() < d.dim()) m = m.unsqueeze(-1);
    d = d * m;
  }
  return d.max().item<double>();
}

// atol = rtol = 1e-4 on valid positions, as the golden README suggests.
void check_close(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& mask = {}) {
  INFO("max abs difference " << max_diff(got, want, mask));
  CHECK(test::count_outside(got, want, mask, 1e-4, 1e-4) == 0);
}

const char* const causal_models[] = {"llama", "qwen2", "gemma2", "gpt2", "opt"};

}  // namespace

TEST_CASE("causal LMs match transformers: logits, hidden states, inputs_embeds, generation", "[models][llm]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  for (const std::string name : causal_models) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto lm = load_causal_lm(dir);
    const torch::Tensor ids = load_npy_tensor(dir / "input_ids.npy"), mask = load_npy_tensor(dir / "attention_mask.npy");
    REQUIRE(mask.select(0, 1).sum().item<std::int64_t>() < ids.size(1));  // the padded row is there
    LmInputs in;
    in.input_ids = ids;
    in.attention_mask = mask;
    if (name != "opt") in.position_ids = load_npy_tensor(dir / "position_ids.npy");
    in.output_hidden_states = true;
    const LmOutput out = lm->forward(in);
    check_close(out.logits, load_npy_tensor(dir / "logits.npy"), mask);
    REQUIRE(static_cast<std::int64_t>(out.hidden_states.size()) == lm->num_layers() + 1);
    for (std::size_t i = 0; i < out.hidden_states.size(); ++i) {
      INFO("hidden state " << i);
      check_close(out.hidden_states[i], load_npy_tensor(dir / ("hidden_states_" + std::to_string(i) + ".npy")), mask);
    }
    // Default positions = generate()'s cumsum(mask) - 1: same logits without passing them.
    LmInputs implicit = in;
    implicit.position_ids = torch::Tensor();
    CHECK(max_diff(lm->forward(implicit).logits, out.logits, mask) < 1e-6);
    // Plain arange positions (model(input_ids, attention_mask) in transformers).
    if (name != "opt") {
      LmInputs arange = in;
      arange.position_ids = torch::arange(ids.size(1)).unsqueeze(0).expand({ids.size(0), ids.size(1)});
      check_close(lm->forward(arange).logits, load_npy_tensor(dir / "logits_arange_positions.npy"), mask);
    }
    // The inputs_embeds path: raw lookup equals transformers', logits equal the ids path.
    const torch::Tensor embeds = lm->embed(ids);
    check_close(embeds, load_npy_tensor(dir / "inputs_embeds.npy"));
    LmInputs from_embeds = in;
    from_embeds.input_ids = torch::Tensor();
    from_embeds.inputs_embeds = embeds;
    CHECK(max_diff(lm->forward(from_embeds).logits, out.logits, mask) == 0.0);
    // Greedy generation with and without the KV cache, from ids and from embeddings.
    const torch::Tensor want = load_npy_tensor(dir / "generated_ids.npy");
    const torch::Tensor prompt = ids.narrow(0, 0, 1);
    GenerationOptions g;
    g.max_new_tokens = want.size(1) - prompt.size(1);
    GenerationInputs gi;
    gi.input_ids = prompt;
    CHECK(torch::equal(generate(lm, gi, g), want));
    g.use_cache = false;
    CHECK(torch::equal(generate(lm, gi, g), want));
    g.use_cache = true;
    GenerationInputs ge;
    ge.inputs_embeds = lm->embed(prompt);
    CHECK(torch::equal(generate(lm, ge, g), want.narrow(1, prompt.size(1), g.max_new_tokens)));
  }
}

// Measured (norm-wise, valid positions): LMs 1.1-1.7 % (bf16 weights) and 0.75-1.5 % (autocast),
// vision towers 2.1-2.3 %, on these tiny random float32 checkpoints (2 layers, 64 wide, weights
// ~N(0, 0.02): logits are small sums with much cancellation). The GPU issue's 1e-2 is not reached for
// every model: rounding the weights alone costs 0.5-1.0 %. Asserted: within 3e-2 and within 3x
// that floor.
TEST_CASE("bf16 weights and bf16 autocast on the CPU stay within 3e-2 of transformers' float32 goldens and 3x the weight-rounding floor", "[models][bf16]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  for (const std::string name : causal_models) {
    const auto dir = test_data_path / name;
    const torch::Tensor ids = load_npy_tensor(dir / "input_ids.npy"), mask = load_npy_tensor(dir / "attention_mask.npy");
    const torch::Tensor want = load_npy_tensor(dir / "logits.npy");
    LmInputs in;
    in.input_ids = ids;
    in.attention_mask = mask;
    if (name != "opt") in.position_ids = load_npy_tensor(dir / "position_ids.npy");
    // The floor: the weights rounded to bf16 and computed in float32 (0.5-1.0 % here, measured by
    // benchmarks/python/bf16_floor.py too). bf16 compute may add to it, not multiply it.
    double floor = 0;
    {
      auto rounded = load_causal_lm(dir);
      for (auto& w : rounded.module().parameters()) w.set_data(w.to(torch::kBFloat16).to(torch::kFloat32));
      floor = test::relative_error(rounded->forward(in).logits, want, mask);
    }
    INFO("model " << name << ": weights rounded to bf16, float32 compute: " << floor);
    CHECK(floor > 1e-3);
    for (const Precision p : {Precision::bf16, Precision::bf16_autocast}) {
      INFO("precision " << to_string(p));
      auto lm = load_causal_lm(dir, p == Precision::bf16 ? torch::kBFloat16 : torch::kFloat32);
      const PrecisionScope amp(p, torch::kCPU);
      const double r = test::relative_error(lm->forward(in).logits, want, mask);
      INFO("relative error " << r);
      CHECK(r <= 3e-2);
      CHECK(r <= 3 * floor);
      CHECK(r > 1e-5);  // really computed in bf16 (float32 agrees to ~1e-7)
    }
  }
  for (const char* name : {"vit", "clip_vision", "siglip_vision"}) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto enc = load_vision_encoder(dir, torch::kBFloat16);
    const auto out = std::visit([&](auto& e) { return e->encode(load_npy_tensor(dir / "pixel_values.npy").to(torch::kBFloat16), false); }, enc);
    CHECK(out.last_hidden_state.scalar_type() == torch::kBFloat16);
    CHECK(test::relative_error(out.last_hidden_state, load_npy_tensor(dir / "last_hidden_state.npy"), {}) <= 3e-2);
  }
  // place(): bf16 converts floating-point parameters and buffers only (Module::to(dtype) would turn
  // BatchNorm's int64 step count into bf16).
  torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  place(*net, torch::kCPU, Precision::bf16);
  for (const auto& t : net->parameters()) CHECK(t.scalar_type() == torch::kBFloat16);
  for (const auto& b : net->named_buffers()) CHECK(b.value().scalar_type() == (b.key().find("num_batches_tracked") != std::string::npos ? torch::kLong : torch::kBFloat16));
  place(*net, torch::kCPU, Precision::bf16_autocast);  // autocast keeps whatever the weights are
  CHECK(net->parameters().front().scalar_type() == torch::kBFloat16);
  CHECK_THROWS_WITH(parse_precision("fp16"), Catch::Contains("unknown precision 'fp16'"));
  CHECK_THROWS_WITH(parse_device("tpu"), Catch::Contains("unknown device 'tpu'"));
  if (!torch::cuda::is_available()) CHECK_THROWS_WITH(parse_device("cuda"), Catch::Contains("has no CUDA or sees no GPU"));
}

TEST_CASE("rotary frequencies equal transformers' (llama3 scaling)", "[models][llm]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  for (const char* name : {"llama", "qwen2", "gemma2"}) {
    const auto dir = test_data_path / name;
    const auto inv = rope_inverse_frequencies(LlamaOptions::from_config(hf::ModelConfig::load(dir)));
    CHECK(max_diff(inv, load_npy_tensor(dir / "rope_inv_freq.npy")) <= 1e-7);
  }
  // Positions given on a device get cos / sin computed directly (no table sized by a host read):
  // bit for bit the table's rows, here on the CPU for padded positions as generate() makes them.
  LlamaForCausalLm lm(LlamaOptions::from_config(hf::ModelConfig::load(test_data_path / "llama")));
  const torch::Tensor pos = torch::tensor({1, 1, 0, 1, 2, 3, 0, 1, 2, 3, 4, 300}, torch::kLong).view({2, 6});
  for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    const auto [cos_t, sin_t] = lm->rope(pos, -1, dtype);
    const auto [cos_d, sin_d] = lm->rope_direct(pos, dtype);
    CHECK(torch::equal(cos_t, cos_d));
    CHECK(torch::equal(sin_t, sin_d));
  }
}

namespace {
/// hidden_states_<i>.npy files transformers wrote (output_hidden_states=True): layers + 1, at least 2.
std::size_t golden_hidden_state_count(const std::filesystem::path& dir) {
  std::size_t n = 0;
  while (std::filesystem::exists(dir / ("hidden_states_" + std::to_string(n) + ".npy"))) ++n;
  const auto cfg = read_json(dir / "config.json");
  const Json& c = cfg.contains("vision_config") ? cfg["vision_config"] : cfg;
  CHECK(n == c["num_hidden_layers"].get<std::size_t>() + 1);
  return n;
}
}  // namespace

// Device-generic code (the GPU issue): with every weight on the meta device, a tensor the model
// made on the CPU instead of from its inputs' options stops the forward pass with a device error.
TEST_CASE("every LLM family and vision tower runs forward and backward on the meta device", "[models][meta]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  for (const std::string name : causal_models) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto lm = load_causal_lm(dir);
    test::to_meta(lm.module());
    for (const auto& p : lm.module().parameters()) REQUIRE(p.is_meta());
    LmInputs in;
    in.input_ids = load_npy_tensor(dir / "input_ids.npy").to(torch::kMeta);
    in.attention_mask = load_npy_tensor(dir / "attention_mask.npy").to(torch::kMeta);
    if (name != "opt") in.position_ids = load_npy_tensor(dir / "position_ids.npy").to(torch::kMeta);
    const torch::Tensor logits = lm->forward(in).logits;
    CHECK(logits.is_meta());
    CHECK(logits.sizes() == load_npy_tensor(dir / "logits.npy").sizes());
    logits.sum().backward();
    std::size_t with_grad = 0;
    for (const auto& p : lm.module().parameters())
      if (p.grad().defined()) with_grad += p.grad().is_meta() && p.grad().sizes() == p.sizes();
    CHECK(with_grad == lm.module().parameters().size());
  }
  for (const char* name : {"vit", "clip_vision", "siglip_vision"}) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto enc = load_vision_encoder(dir);
    std::visit([&](auto& e) {
      test::to_meta(*e);
      const auto out = e->encode(load_npy_tensor(dir / "pixel_values.npy").to(torch::kMeta), true);
      CHECK(out.last_hidden_state.is_meta());
      CHECK(out.last_hidden_state.sizes() == load_npy_tensor(dir / "last_hidden_state.npy").sizes());
      out.pooler_output.sum().backward();
      CHECK(e->parameters().front().grad().is_meta());
    }, enc);
  }
  // The check itself: a constant made on the CPU inside a meta model is refused by name.
  struct CpuConstant : torch::nn::Module {
    torch::nn::Linear fc{nullptr};
    CpuConstant() { fc = register_module("fc", torch::nn::Linear(4, 4)); }
    torch::Tensor forward(const torch::Tensor& x) { return fc->forward(x) + torch::ones({4}); }
  };
  auto bad = std::make_shared<CpuConstant>();
  test::to_meta(*bad);
  CHECK_THROWS_WITH(bad->forward(torch::zeros({2, 4}, torch::kMeta)), Catch::Contains("same device") && Catch::Contains("meta") && Catch::Contains("cpu"));
}

TEST_CASE("encoders match transformers: ViT, CLIP, SigLIP, BERT, RoBERTa", "[models][encoders]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  for (const char* name : {"vit", "clip_vision", "siglip_vision"}) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto enc = load_vision_encoder(dir);
    const auto out = std::visit([&](auto& e) { return e->encode(load_npy_tensor(dir / "pixel_values.npy"), true); }, enc);
    check_close(out.last_hidden_state, load_npy_tensor(dir / "last_hidden_state.npy"));
    check_close(out.pooler_output, load_npy_tensor(dir / "pooler_output.npy"));
    REQUIRE(out.hidden_states.size() == golden_hidden_state_count(dir));  // embeddings + one per layer
    for (std::size_t i = 0; i < out.hidden_states.size(); ++i)
      check_close(out.hidden_states[i], load_npy_tensor(dir / ("hidden_states_" + std::to_string(i) + ".npy")));
  }
  for (const char* name : {"bert", "roberta"}) {
    INFO("model " << name);
    const auto dir = test_data_path / name;
    auto bert = load_bert(dir);
    const torch::Tensor mask = load_npy_tensor(dir / "attention_mask.npy");
    const torch::Tensor tt = std::string(name) == "bert" ? load_npy_tensor(dir / "token_type_ids.npy") : torch::Tensor();
    const auto out = bert->encode(load_npy_tensor(dir / "input_ids.npy"), mask, tt, true);
    check_close(out.last_hidden_state, load_npy_tensor(dir / "last_hidden_state.npy"), mask);
    check_close(out.pooler_output, load_npy_tensor(dir / "pooler_output.npy"));
    REQUIRE(out.hidden_states.size() == golden_hidden_state_count(dir));
    for (std::size_t i = 0; i < out.hidden_states.size(); ++i)
      check_close(out.hidden_states[i], load_npy_tensor(dir / ("hidden_states_" + std::to_string(i) + ".npy")), mask);
  }
}

TEST_CASE("a prefix-less GPT-2 checkpoint (lm-buddy) loads and runs", "[models][llm]") {
  ECGBENCH_REQUIRE_TEST_DATA("models/tiny-gpt2-lm-buddy");
  torch::NoGradGuard no_grad;
  auto lm = load_causal_lm(test_data_path);
  const auto tok = tokenize::HfTokenizer::from_directory(test_data_path);
  const auto ids = tok.encode("sinus rhythm with left axis deviation");
  const torch::Tensor t = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  LmInputs in;
  in.input_ids = t;
  const auto out = lm->forward(in);
  CHECK(out.logits.size(2) == lm->vocab_size());
  CHECK(torch::isfinite(out.logits).all().item<bool>());
}

TEST_CASE("generation: sampling is seeded, top-k 1 is greedy, beam search", "[models][generate]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  auto lm = load_causal_lm(test_data_path / "llama");
  GenerationInputs gi;
  gi.input_ids = load_npy_tensor(test_data_path / "llama/input_ids.npy");
  gi.attention_mask = load_npy_tensor(test_data_path / "llama/attention_mask.npy");
  GenerationOptions greedy;
  greedy.max_new_tokens = 6;
  const torch::Tensor g = generate(lm, gi, greedy);
  // Batched left-padded generation: row 1 equals generating its unpadded prompt alone.
  GenerationInputs alone;
  const auto n_pad = gi.attention_mask.size(1) - gi.attention_mask.select(0, 1).sum().item<std::int64_t>();
  alone.input_ids = gi.input_ids.narrow(0, 1, 1).narrow(1, n_pad, gi.input_ids.size(1) - n_pad);
  CHECK(torch::equal(generate(lm, alone, greedy).narrow(1, alone.input_ids.size(1), 6), g.narrow(0, 1, 1).narrow(1, gi.input_ids.size(1), 6)));
  GenerationOptions s = greedy;
  s.do_sample = true;
  s.top_k = 1;
  CHECK(torch::equal(generate(lm, gi, s), g));
  s.top_k = 0;
  s.top_p = 0.9;
  s.temperature = 1.5;
  s.seed = 7;
  const torch::Tensor s1 = generate(lm, gi, s), s2 = generate(lm, gi, s);
  CHECK(torch::equal(s1, s2));
  s.seed = 8;
  bool differs = false;
  for (int k = 0; k < 5 && !differs; ++k, ++s.seed) differs = !torch::equal(generate(lm, gi, s), s1);
  CHECK(differs);
  // EOS stops a row and pads it.
  GenerationOptions stop = greedy;
  stop.eos_token_ids = {g[0][gi.input_ids.size(1) + 1].item<std::int64_t>()};
  stop.pad_token_id = 0;
  const torch::Tensor st = generate(lm, gi, stop);
  CHECK(st[0][gi.input_ids.size(1) + 1].item<std::int64_t>() == stop.eos_token_ids[0]);
  if (st.size(1) > gi.input_ids.size(1) + 2) CHECK(st[0][gi.input_ids.size(1) + 2].item<std::int64_t>() == 0);
  // Reading "every row finished" back only every few steps (what a GPU does) gives the same tokens
  // and the same length: every row stops here by its third new token, well before max_new_tokens.
  GenerationOptions all_stop = greedy;
  all_stop.max_new_tokens = 12;
  const std::int64_t t0 = gi.input_ids.size(1);
  all_stop.eos_token_ids = {g[0][t0 + 2].item<std::int64_t>(), g[1][t0 + 2].item<std::int64_t>()};
  all_stop.stop_check_every = 1;
  const torch::Tensor each = generate(lm, gi, all_stop);
  CHECK(each.size(1) <= t0 + 3);
  for (const std::int64_t every : {2, 5, 20}) {
    INFO("stop_check_every " << every);
    all_stop.stop_check_every = every;
    CHECK(torch::equal(generate(lm, gi, all_stop), each));
  }
  // Beam search: one beam is greedy; more beams find a sequence at least as likely as greedy here,
  // and the returned sequence's recomputed log-probability is finite.
  GenerationInputs one;
  one.input_ids = gi.input_ids.narrow(0, 0, 1);
  GenerationOptions beam = greedy;
  beam.num_beams = 1;
  const torch::Tensor gb = generate(lm, one, beam);
  CHECK(torch::equal(gb, g.narrow(0, 0, 1)));
  beam.num_beams = 4;
  beam.use_cache = true;
  const torch::Tensor b4 = generate(lm, one, beam);
  REQUIRE(b4.size(1) == gb.size(1));
  const auto t = one.input_ids.size(1);
  const double lp_beam = sequence_log_prob(lm, one.input_ids, b4.narrow(1, t, 6)).item<double>();
  const double lp_greedy = sequence_log_prob(lm, one.input_ids, gb.narrow(1, t, 6)).item<double>();
  CHECK(lp_beam >= lp_greedy - 1e-9);
  beam.use_cache = false;
  CHECK(torch::equal(generate(lm, one, beam), b4));
}

TEST_CASE("LoRA: zero B keeps outputs, only adapters get gradients, merge, PEFT files", "[models][lora]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  for (const char* name : {"qwen2", "gpt2"}) {
    INFO("model " << name);
    auto lm = load_causal_lm(test_data_path / name);
    LmInputs in;
    in.input_ids = load_npy_tensor(test_data_path / name / "input_ids.npy").narrow(0, 0, 1);
    torch::Tensor before;
    {
      torch::NoGradGuard g;
      before = lm->forward(in).logits;
    }
    LoraConfig cfg;
    cfg.r = 4;
    cfg.alpha = 8;
    cfg.dropout = 0.0;
    cfg.target_modules = std::string(name) == "gpt2" ? std::vector<std::string>{"c_attn", "c_proj"} : std::vector<std::string>{"q_proj", "v_proj"};
    const auto adapted = apply_lora(lm.module(), cfg);
    CHECK(adapted.size() == (std::string(name) == "gpt2" ? 6u : 4u));  // 2 layers x (q, v) or (c_attn, attn.c_proj, mlp.c_proj)
    {
      torch::NoGradGuard g;  // evaluation mode: no dropout
      CHECK(max_diff(lm->forward(in).logits, before) == 0.0);
    }
    lm.module().train();
    const torch::Tensor loss = lm->forward(in).logits.pow(2).mean();
    loss.backward();
    std::size_t with_grad = 0;
    for (const auto& p : lm.module().named_parameters(true)) {
      const bool adapter = p.key().find(".lora_") != std::string::npos;
      CHECK(p.value().requires_grad() == adapter);
      if (p.value().grad().defined()) {
        CHECK(adapter);
        ++with_grad;
      }
    }
    CHECK(with_grad == 2 * adapted.size());
    // Give B values, then merged and unmerged forwards agree.
    {
      torch::NoGradGuard g;
      for (auto& p : lm.module().named_parameters(true))
        if (p.key().find(".lora_B.") != std::string::npos) p.value().normal_(0.0, 0.05);
    }
    lm.module().eval();
    torch::NoGradGuard g;
    const torch::Tensor adapted_out = lm->forward(in).logits;
    CHECK(max_diff(adapted_out, before) > 1e-4);
    merge_lora(lm.module(), true);
    CHECK(max_diff(lm->forward(in).logits, adapted_out) < 1e-4);
    merge_lora(lm.module(), false);
    CHECK(max_diff(lm->forward(in).logits, adapted_out) < 1e-5);
    // PEFT format round trip into a fresh model.
    const auto dir = test::temp_dir() / (std::string("lora-") + name);
    save_lora(lm.module(), cfg, dir);
    const Json saved = read_json(dir / "adapter_config.json");
    CHECK(saved["r"] == 4);
    CHECK(saved["fan_in_fan_out"] == (std::string(name) == "gpt2"));
    const hf::SafetensorsFile st(dir / "adapter_model.safetensors");
    CHECK(st.tensors().begin()->first.rfind("base_model.model.", 0) == 0);
    auto fresh = load_causal_lm(test_data_path / name);
    load_lora(fresh.module(), dir);
    CHECK(max_diff(fresh->forward(in).logits, adapted_out) < 1e-5);
  }
}

TEST_CASE("vocabulary resize keeps old rows and adds new ones", "[models][llm]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  for (const char* name : {"llama", "qwen2"}) {
    auto lm = load_causal_lm(test_data_path / name);
    LmInputs in;
    in.input_ids = load_npy_tensor(test_data_path / name / "input_ids.npy").narrow(0, 0, 1);
    const torch::Tensor before = lm->forward(in).logits;
    lm->resize_token_embeddings(lm->vocab_size() + 10);
    const torch::Tensor after = lm->forward(in).logits;
    CHECK(after.size(2) == before.size(2) + 10);
    CHECK(max_diff(after.narrow(2, 0, before.size(2)), before) < 1e-6);
  }
}

TEST_CASE("safetensors: write/read round trip, shards, F16/BF16, and bad files", "[models][safetensors]") {
  const auto dir = test::temp_dir() / "st";
  std::filesystem::create_directories(dir);
  const torch::Tensor a = torch::randn({3, 4}), b = torch::arange(6, torch::kLong).view({2, 3});
  auto bytes_of = [](const torch::Tensor& t) { return std::string(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * t.element_size())); };
  std::map<std::string, hf::TensorBytes> m;
  m["a"] = {hf::StDType::f32, {3, 4}, bytes_of(a)};
  m["b"] = {hf::StDType::i64, {2, 3}, bytes_of(b)};
  const torch::Tensor h = a.to(torch::kFloat16), bf = a.to(torch::kBFloat16);
  m["h"] = {hf::StDType::f16, {3, 4}, bytes_of(h)};
  m["bf"] = {hf::StDType::bf16, {3, 4}, bytes_of(bf)};
  hf::write_safetensors(dir / "x.safetensors", m);
  const std::string raw = read_file(dir / "x.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
  CHECK(n % 8 == 0);
  const hf::Checkpoint ck(dir / "x.safetensors");
  CHECK(torch::equal(hf::to_torch(*ck.find("a")), a));
  CHECK(torch::equal(hf::to_torch(*ck.find("b")), b));
  CHECK(torch::equal(hf::to_torch(*ck.find("h")), h));
  CHECK(torch::equal(hf::to_torch(*ck.find("bf")), bf));
  // A sharded index.
  hf::write_safetensors(dir / "s1.safetensors", {{"a", m["a"]}});
  hf::write_safetensors(dir / "s2.safetensors", {{"b", m["b"]}});
  write_json(dir / "model.safetensors.index.json", Json{{"metadata", {{"total_size", 0}}}, {"weight_map", {{"a", "s1.safetensors"}, {"b", "s2.safetensors"}}}});
  const hf::Checkpoint sharded(dir);
  CHECK(torch::equal(hf::to_torch(*sharded.find("b")), b));
  CHECK(sharded.file_of("b").find("s2.safetensors") != std::string::npos);

  auto header_file = [&](const std::string& name, const std::string& header, std::size_t data_bytes) {
    std::string h8 = header;
    std::string out;
    const std::uint64_t len = h8.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
    out += h8 + std::string(data_bytes, '\0');
    write_file_atomically(dir / name, out);
    return dir / name;
  };
  CHECK_THROWS_WITH(hf::SafetensorsFile(header_file("trunc.safetensors", "{\"a\": {\"dtype\": \"F32\"", 0)), Catch::Contains("invalid safetensors JSON header"));
  CHECK_THROWS_WITH(hf::SafetensorsFile(header_file("range.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
                    Catch::Contains("tensor 'a'") && Catch::Contains("outside the 8 data bytes"));
  CHECK_THROWS_WITH(hf::SafetensorsFile(header_file("shape.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16)),
                    Catch::Contains("need 12"));
  CHECK_THROWS_WITH(hf::SafetensorsFile(header_file("overlap.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
                    Catch::Contains("overlap"));
  CHECK_THROWS_WITH(hf::SafetensorsFile(header_file("dtype.safetensors", R"({"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", 1)),
                    Catch::Contains("unsupported dtype 'F8'"));
  write_file_atomically(dir / "huge.safetensors", std::string("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10));
  CHECK_THROWS_WITH(hf::SafetensorsFile(dir / "huge.safetensors"), Catch::Contains("exceeds the file size"));
  write_file_atomically(dir / "tiny.safetensors", std::string("abc"));
  CHECK_THROWS_WITH(hf::SafetensorsFile(dir / "tiny.safetensors"), Catch::Contains("shorter than its 8-byte header"));
}

TEST_CASE("bad checkpoints: missing tensor, wrong shape, unknown architecture", "[models][safetensors]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  const auto dir = test::temp_dir() / "bad-ckpt";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(test_data_path / "qwen2/config.json", dir / "config.json", std::filesystem::copy_options::overwrite_existing);
  const hf::SafetensorsFile good(test_data_path / "qwen2/model.safetensors");
  std::map<std::string, hf::TensorBytes> m;
  for (const auto& [name, t] : good.tensors())
    m[name] = {t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.bytes)};
  auto without = m;
  without.erase("model.layers.1.mlp.up_proj.weight");
  hf::write_safetensors(dir / "model.safetensors", without);
  CHECK_THROWS_WITH(load_causal_lm(dir), Catch::Contains("model.safetensors") && Catch::Contains("'model.layers.1.mlp.up_proj.weight'") &&
                                             Catch::Contains("missing"));
  auto wrong = m;
  wrong["model.norm.weight"] = {hf::StDType::f32, {32}, std::string(128, '\0')};
  hf::write_safetensors(dir / "model.safetensors", wrong);
  CHECK_THROWS_WITH(load_causal_lm(dir), Catch::Contains("'model.norm.weight'") && Catch::Contains("shape [32] does not match the model's [64]"));
  // A truncated download: the header promises more data than the file holds.
  const std::string full = read_file(test_data_path / "qwen2/model.safetensors");
  write_file_atomically(dir / "model.safetensors", full.substr(0, full.size() / 2));
  CHECK_THROWS_WITH(load_causal_lm(dir), Catch::Contains("model.safetensors") && Catch::Contains("outside the"));
  Json cfg = read_json(dir / "config.json");
  cfg["architectures"] = {"MambaForCausalLM"};
  cfg["model_type"] = "mamba";
  write_json(dir / "config.json", cfg);
  CHECK_THROWS_WITH(load_causal_lm(dir), Catch::Contains("unsupported architecture 'MambaForCausalLM'"));
  CHECK_THROWS_WITH(load_causal_lm(test::temp_dir() / "nothing-here"), Catch::Contains("config.json not found"));
  // Sizes: missing, zero (would divide by zero later) and implausibly large, each naming file and key.
  const auto config = [](const char* text) { return hf::ModelConfig{Json::parse(text), "cfg.json"}; };
  CHECK_THROWS_WITH(BertOptions::from_config(config(R"({"hidden_size": 8})")), Catch::Contains("cfg.json") && Catch::Contains("missing key 'vocab_size'"));
  CHECK_THROWS_WITH(Gpt2Options::from_config(config(R"({"vocab_size": 10, "n_embd": 8, "n_layer": 1, "n_head": 0})")),
                    Catch::Contains("cfg.json") && Catch::Contains("'n_head' must be positive, got 0"));
  CHECK_THROWS_WITH(LlamaOptions::from_config(config(R"({"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                                                          "num_attention_heads": 2, "head_dim": 1099511627777})")),
                    Catch::Contains("'head_dim' is implausibly large: 1099511627777"));
}


TEST_CASE("BERTScore: greedy cosine matching by hand", "[eval][bertscore]") {
  // Hypothesis tokens (CLS, a, SEP), reference (CLS, b, SEP) in 2-D; idf 0 on CLS/SEP.
  const auto t = [](std::vector<float> v) { return torch::tensor(v).view({1, 3, 2}); };
  const torch::Tensor hyp = t({1, 0, 1, 1, 0, 1}), ref = t({1, 0, 0, 1, 0, 1});
  const torch::Tensor mask = torch::ones({1, 3}, torch::kLong), idf = torch::tensor({0.f, 1.f, 0.f}).view({1, 3});
  auto [p, r, f] = eval::greedy_cos_idf(ref, mask, idf, hyp, mask, idf);
  // a = (1,1)/sqrt2 against ref tokens (1,0), (0,1), (0,1): best cos = 1/sqrt2. b = (0,1) against hyp
  // tokens (1,0), (1,1)/sqrt2, (0,1): best = 1 (the SEP token, which still takes part in the max).
  CHECK(p.item<double>() == Approx(1 / std::sqrt(2.0)).epsilon(1e-6));
  CHECK(r.item<double>() == Approx(1.0).epsilon(1e-6));
  CHECK(f.item<double>() == Approx(2 * (1 / std::sqrt(2.0)) / (1 / std::sqrt(2.0) + 1)).epsilon(1e-6));
}

TEST_CASE("BERTScore with a RoBERTa checkpoint: identity, symmetry, an independent computation", "[eval][bertscore]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/roberta");
  const auto dir = test::toy_roberta_dir(test_data_path);
  eval::BertScoreOptions o;
  o.layer = 1;
  o.batch_size = 2;
  const eval::BertScorer scorer(dir, o);
  const std::vector<std::string> refs{"sinus rhythm", "normal ecg", "sinus rhythm with st elevation"};
  const std::vector<std::string> hyps{"sinus rhythm", "sinus tachycardia", "st elevation"};
  const auto s = scorer.score(refs, hyps);
  REQUIRE(s.f1.size() == 3);
  CHECK(s.precision[0] == Approx(1.0).epsilon(1e-6));
  CHECK(s.f1[0] == Approx(1.0).epsilon(1e-6));
  const auto swapped = scorer.score(hyps, refs);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(swapped.precision[i] == Approx(s.recall[i]).epsilon(1e-6));
    CHECK(swapped.recall[i] == Approx(s.precision[i]).epsilon(1e-6));
  }
  // Independent: embed each sentence alone (no padding), loop over tokens in double.
  auto bert = models::load_bert(dir);
  torch::NoGradGuard g;
  auto embed = [&](const std::string& text) {
    const auto ids = scorer.encode(text);
    const auto out = bert->encode(torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end())).unsqueeze(0), {}, {}, true);
    return out.hidden_states[1].squeeze(0).to(torch::kFloat64);
  };
  for (std::size_t i = 0; i < 3; ++i) {
    const torch::Tensor h = embed(hyps[i]), r = embed(refs[i]);
    auto best = [](const torch::Tensor& a, const torch::Tensor& b) {  // mean over a's inner tokens of max cos against all of b
      double sum = 0;
      for (std::int64_t x = 1; x + 1 < a.size(0); ++x) {
        double m = -2;
        for (std::int64_t y = 0; y < b.size(0); ++y)
          m = std::max(m, (a[x] * b[y]).sum().item<double>() / (a[x].norm().item<double>() * b[y].norm().item<double>()));
        sum += m;
      }
      return sum / static_cast<double>(a.size(0) - 2);
    };
    INFO("pair " << i);
    CHECK(s.precision[i] == Approx(best(h, r)).epsilon(1e-5));
    CHECK(s.recall[i] == Approx(best(r, h)).epsilon(1e-5));
  }
  // Layer out of range, missing baseline row.
  o.layer = 7;
  CHECK_THROWS_WITH(eval::BertScorer(dir, o), Catch::Contains("layer 7 outside 0..2"));
  o.layer = 2;
  write_file_atomically(dir / "baseline.csv", std::string("LAYER,P,R,F\n1,0.8,0.8,0.8\n"));
  o.baseline = dir / "baseline.csv";
  CHECK_THROWS_WITH(eval::BertScorer(dir, o), Catch::Contains("no baseline row for layer 2"));
  // Rescaling: (x - b) / (1 - b).
  o.layer = 1;
  const eval::BertScorer rescaled(dir, o);
  CHECK(rescaled.score(refs, hyps).f1[1] == Approx((s.f1[1] - 0.8) / 0.2).epsilon(1e-6));
}
