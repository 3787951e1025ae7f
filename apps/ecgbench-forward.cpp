// ecgbench-forward: runs a Hugging Face checkpoint folder (config.json + safetensors) on inputs given
// as .npy files and writes the outputs as .npy: logits of a causal LM, the last hidden state of an
// encoder, or with --generate N the prompt followed by N greedy tokens. A parity tool for users
// porting models: compare its outputs with transformers' on the same inputs.
#include <CLI/CLI.hpp>

#include <cstdio>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a Hugging Face checkpoint on .npy inputs (parity tool)"};
  std::string model, input_ids, attention_mask, position_ids, token_type_ids, pixel_values, out, dtype = "float32", device = "cpu";
  std::int64_t generate_n = -1;
  int threads = 1;
  bool hidden = false;
  app.add_option("--model", model, "checkpoint folder (config.json + model.safetensors[.index.json])")->required();
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
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    torch::set_num_threads(threads);
    torch::NoGradGuard no_grad;
    const torch::Device dev(device);
    const auto type = parse_dtype(dtype);
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
