// ecgbench-forward: runs a Hugging Face checkpoint folder (config.json + safetensors) on inputs given
// as .npy files and writes the outputs as .npy: logits of a causal LM, the last hidden state of an
// encoder, or with --generate N the prompt followed by N greedy tokens. A parity tool for users
// porting models: compare its outputs with transformers' on the same inputs. With --ecg-encoder it
// runs an ECG encoder (ST-MEM, MTAE, MLAE, MERL) on a series and writes upstream's outputs under the
// golden files' names into --out DIR.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/models/encoders/encoders.hpp"
#include "ecgbench/models/models.hpp"

using namespace ecgbench;
using namespace ecgbench::models;

namespace {

std::filesystem::path sibling(const std::filesystem::path& out, const std::string& suffix) {
  return out.parent_path() / (out.stem().string() + suffix + ".npy");
}

torch::ScalarType parse_dtype(const std::string& s) {
  if (s == "float32") return torch::kFloat32;
  if (s == "bfloat16") return torch::kBFloat16;
  if (s == "float16") return torch::kFloat16;
  if (s == "float64") return torch::kFloat64;
  throw Error("unknown --dtype '" + s + "' (float32, bfloat16, float16, float64)");
}

torch::Tensor require_ids(const std::string& path, const char* what) {
  torch::Tensor t = load_npy_tensor(path);
  if (t.dim() != 2) throw Error({path, {}, {}, what}, "expected a 2-D [batch, tokens] integer array, got " + std::to_string(t.dim()) + " dimensions");
  if (t.is_floating_point()) throw Error({path, {}, {}, what}, "expected integers, got floating point");
  return t.to(torch::kLong);
}

/// The ECG-encoder parity run: every output upstream's module computes, as `<name>.npy` in `dir`.
void run_ecg_encoder(const std::string& name, const std::string& config, const std::string& weights, const std::string& series_path,
                     const std::string& noise_path, double mask_ratio, std::int64_t embed_tokens, bool upstream_masked, const std::string& text_path,
                     bool train_mode, const std::filesystem::path& dir) {
  using namespace ecgbench::models::encoders;
  EcgEncoderConfig cfg = config.empty() ? parse_ecg_encoder_config(Json{{"encoder", name}}, "--ecg-encoder") : read_ecg_encoder_config(config);
  if (cfg.name != name && !(name == "mlae" && cfg.name == "mtae")) throw Error({config, {}, {}, "encoder"}, "the configuration describes '" + cfg.name + "', not '" + name + "'");
  if (train_mode && cfg.is_merl()) cfg.merl.dropout = 0.0;  // train mode = batch statistics; dropout off so outputs are comparable
  AnyEcgEncoder enc = make_ecg_encoder(cfg);
  if (!weights.empty()) enc.load(weights, /*strict=*/false);
  train_mode ? enc.module().train() : enc.module().eval();
  const torch::Tensor series = load_npy_tensor(series_path).to(torch::kFloat32);
  std::filesystem::create_directories(dir);
  auto save = [&](const std::string& n, const torch::Tensor& t) { save_npy_tensor(dir / (n + ".npy"), t); };
  if (auto* merl = enc.get<Merl>()) {
    if (text_path.empty()) throw Error("MERL's pretraining outputs need --text-emb (the text encoder's pooler output)");
    const torch::Tensor text = load_npy_tensor(text_path).to(torch::kFloat32);
    const MerlOutput o = (*merl)->forward(series, text);
    save(train_mode ? "train_loss" : "eval_loss", o.loss);
    save("resnet_out", o.resnet_out);
    save("att_pool", o.att_pool);
    save("att_map", o.att_map);
    if (embed_tokens > 0) {
      torch::NoGradGuard g;
      save("embeddings_" + std::to_string(embed_tokens), (*merl)->embed(series, embed_tokens));
    }
    return;
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor noise = noise_path.empty() ? torch::Tensor() : load_npy_tensor(noise_path).to(torch::kFloat32);
  auto run = [&](double ratio, const torch::Tensor& nz) {
    if (auto* m = enc.get<StMem>()) return (*m)->forward(series, ratio, nz);
    return (*enc.get<Mtae>())->forward(series, ratio, nz);
  };
  const MaeOutput o = run(mask_ratio, noise);
  save("loss", o.loss);
  save("mask", o.mask);
  save("ids_restore", o.ids_restore);
  save("encoder_out", o.encoder_out);
  save("pred", o.pred);
  save("latents", o.latents);
  save("vit_encoding", enc.get<StMem>() ? (*enc.get<StMem>())->vit_encoding(series) : (*enc.get<Mtae>())->vit_encoding(series));
  if (embed_tokens > 0) {
    const EmbedMode mode = upstream_masked ? EmbedMode::upstream_masked : EmbedMode::unmasked;
    if (auto* m = enc.get<StMem>()) (*m)->embed_mode = mode;
    else (*enc.get<Mtae>())->embed_mode = mode;
    const torch::Tensor e = enc.get<StMem>() ? (*enc.get<StMem>())->embed(series, embed_tokens, noise) : (*enc.get<Mtae>())->embed(series, embed_tokens, noise);
    save("embeddings_" + std::to_string(embed_tokens), e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a Hugging Face checkpoint on .npy inputs (parity tool)"};
  std::string model, input_ids, attention_mask, position_ids, token_type_ids, pixel_values, out, dtype = "float32", device = "cpu", precision;
  std::int64_t generate_n = -1;
  int threads = 1;
  bool hidden = false;
  std::string ecg_encoder, enc_config, enc_weights, series, noise, text_emb;
  double mask_ratio = 0.75;
  std::int64_t embed_tokens = 0;
  bool upstream_masked = false, train_mode = false;
  app.add_option("--model", model, "checkpoint folder (config.json + model.safetensors[.index.json])");
  app.add_option("--ecg-encoder", ecg_encoder, "run an ECG encoder instead: st_mem | mtae | mlae | merl (writes .npy files into --out DIR)")
      ->check(CLI::IsMember({"st_mem", "mtae", "mlae", "merl"}));
  app.add_option("--config", enc_config, "ECG encoder configuration (JSON; a golden manifest.json works)");
  app.add_option("--weights", enc_weights, "ECG encoder weights: .safetensors or .pth / .pt (torch.save)");
  app.add_option("--series", series, "float32 [batch, 12, samples], min-max normalised");
  app.add_option("--noise", noise, "masking noise (ST-MEM [B, 12, n], MTAE/MLAE [B, n]) instead of the seeded RNG");
  app.add_option("--mask-ratio", mask_ratio, "MAE mask ratio of the pretraining pass")->capture_default_str();
  app.add_option("--embed-tokens", embed_tokens, "also write the stage-2 embeddings with K tokens (embeddings_K.npy)");
  app.add_flag("--upstream-masked", upstream_masked, "stage-2 embeddings as upstream computes them: masked with the mask ratio (--noise reused)");
  app.add_option("--text-emb", text_emb, "MERL: float32 [batch, 768] text-encoder pooler output");
  app.add_flag("--train-mode", train_mode, "MERL: train mode (batch statistics, dropout 0), writes train_loss.npy");
  app.add_option("--input-ids", input_ids, "int64 [batch, tokens] (text models)");
  app.add_option("--attention-mask", attention_mask, "[batch, tokens], 1 = token, 0 = padding (left padding for causal LMs)");
  app.add_option("--position-ids", position_ids, "[batch, tokens] (default: cumsum(mask) - 1, pads at 1, as generate() does)");
  app.add_option("--token-type-ids", token_type_ids, "[batch, tokens] (BERT)");
  app.add_option("--pixel-values", pixel_values, "float32 [batch, channels, height, width] (vision encoders)");
  app.add_option("--out", out, "output .npy: logits, last hidden state, or generated ids")->required();
  app.add_option("--generate", generate_n, "greedy-generate N tokens after the prompt (one row); writes int64 [1, T + N]");
  app.add_flag("--hidden-states", hidden, "also write every hidden state to OUT_hidden_<i>.npy (encoders: pooler to OUT_pooler.npy)");
  app.add_option("--dtype", dtype, "float32 | bfloat16 | float16 | float64")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--precision", precision, "fp32 | bf16-autocast (float32 weights, bf16 matmuls) | bf16 (= --dtype bfloat16)");
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    torch::set_num_threads(threads);
    if (!ecg_encoder.empty()) {
      if (series.empty()) throw Error("--ecg-encoder needs --series");
      run_ecg_encoder(ecg_encoder, enc_config, enc_weights, series, noise, mask_ratio, embed_tokens, upstream_masked, text_emb, train_mode, out);
      return 0;
    }
    if (model.empty()) throw Error("give --model DIR (a Hugging Face checkpoint) or --ecg-encoder NAME");
    torch::NoGradGuard no_grad;
    const torch::Device dev = parse_device(device);
    const Precision prec = precision.empty() ? (dtype == "bfloat16" ? Precision::bf16 : Precision::fp32) : parse_precision(precision);
    if (!precision.empty() && dtype != "float32") throw Error("give --precision or --dtype, not both");
    check_precision(prec, dev);
    const auto type = prec == Precision::bf16 ? torch::kBFloat16 : parse_dtype(dtype);
    const PrecisionScope amp(prec, dev);
    const auto config = hf::ModelConfig::load(model);
    if (is_vision_config(config)) {
      if (pixel_values.empty()) throw Error("this is a vision encoder: give --pixel-values");
      auto enc = load_vision_encoder(model, type, dev);
      const torch::Tensor px = load_npy_tensor(pixel_values).to(dev).to(type);
      const EncoderOutput o = std::visit([&](auto& e) { return e->encode(px, hidden); }, enc);
      save_npy_tensor(out, o.last_hidden_state);
      if (hidden) {
        save_npy_tensor(sibling(out, "_pooler"), o.pooler_output);
        for (std::size_t i = 0; i < o.hidden_states.size(); ++i) save_npy_tensor(sibling(out, "_hidden_" + std::to_string(i)), o.hidden_states[i]);
      }
    } else if (is_text_encoder_config(config)) {
      if (input_ids.empty()) throw Error("this is a text encoder: give --input-ids");
      auto bert = load_bert(model, type, dev);
      const torch::Tensor ids = require_ids(input_ids, "input ids");
      const torch::Tensor mask = attention_mask.empty() ? torch::Tensor() : require_ids(attention_mask, "attention mask");
      const torch::Tensor tt = token_type_ids.empty() ? torch::Tensor() : require_ids(token_type_ids, "token type ids");
      const EncoderOutput o = bert->encode(ids, mask, tt, hidden);
      save_npy_tensor(out, o.last_hidden_state);
      if (hidden) {
        save_npy_tensor(sibling(out, "_pooler"), o.pooler_output);
        for (std::size_t i = 0; i < o.hidden_states.size(); ++i) save_npy_tensor(sibling(out, "_hidden_" + std::to_string(i)), o.hidden_states[i]);
      }
    } else {
      if (input_ids.empty()) throw Error("this is a causal LM: give --input-ids");
      auto lm = load_causal_lm(model, type, dev);
      const torch::Tensor ids = require_ids(input_ids, "input ids").to(dev);
      const torch::Tensor mask = attention_mask.empty() ? torch::Tensor() : require_ids(attention_mask, "attention mask").to(dev);
      if (mask.defined() && mask.sizes() != ids.sizes()) throw Error({attention_mask, {}, {}, {}}, "attention mask shape differs from the input ids");
      if (generate_n >= 0) {
        if (ids.size(0) != 1) throw Error({input_ids, {}, {}, {}}, "--generate takes one prompt row");
        GenerationInputs gi;
        gi.input_ids = ids;
        gi.attention_mask = mask;
        GenerationOptions g;
        g.max_new_tokens = generate_n;
        save_npy_tensor(out, generate(lm, gi, g));
      } else {
        LmInputs in;
        in.input_ids = ids;
        in.attention_mask = mask;
        if (!position_ids.empty()) in.position_ids = require_ids(position_ids, "position ids").to(dev);
        in.output_hidden_states = hidden;
        const LmOutput o = lm->forward(in);
        save_npy_tensor(out, o.logits);
        for (std::size_t i = 0; i < o.hidden_states.size(); ++i) save_npy_tensor(sibling(out, "_hidden_" + std::to_string(i)), o.hidden_states[i]);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-forward: %s\n", e.what());
    return 1;
  }
  return 0;
}
