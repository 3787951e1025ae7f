// Options of the ECG-native encoders (ST-MEM, MTAE, MLAE, MERL), torch-free so that configurations
// can be validated and fuzzed without LibTorch. Sizes follow upstream ECG-Bench's constructors
// (`st_mem_vit_base_dec256d4b`, `mtae_vit_small_dec256d4b`, `get_resnet("resnet101")`, ...) and
// `calculate_patch_size` (elms/build_encoder.py).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

/// Upstream's `calculate_patch_size(L)`: among the divisors p of L with 16 <= L / p <= 64 the one
/// whose L / p is closest to 32 (first on ties); otherwise the divisor closest to int(sqrt(L / 32)).
/// 500 -> 20, 1250 -> 50, 2500 -> 100.
inline std::int64_t patch_size_for(std::int64_t seq_len) {
  if (seq_len <= 0) throw Error("patch_size_for: seq_len must be positive, got " + std::to_string(seq_len));
  std::vector<std::int64_t> factors;
  for (std::int64_t i = 1; i <= seq_len; ++i)
    if (seq_len % i == 0) factors.push_back(i);
  std::int64_t best = -1;
  for (auto p : factors) {
    const auto n = seq_len / p;
    if (n < 16 || n > 64) continue;
    if (best < 0 || std::llabs(n - 32) < std::llabs(seq_len / best - 32)) best = p;
  }
  if (best > 0) return best;
  const auto target = static_cast<std::int64_t>(std::sqrt(static_cast<double>(seq_len) / 32.0));
  best = factors.front();
  for (auto p : factors)
    if (std::llabs(p - target) < std::llabs(best - target)) best = p;
  return best;
}

/// Which masked autoencoder: ST-MEM (per-lead patches with SEP tokens, lead-wise decoding), MTAE
/// (temporal patches across all leads, CLS), MLAE (one token per lead group, CLS).
enum class MaeKind { st_mem, mtae, mlae };

inline const char* mae_kind_name(MaeKind k) {
  switch (k) {
    case MaeKind::st_mem: return "st_mem";
    case MaeKind::mtae: return "mtae";
    case MaeKind::mlae: return "mlae";
  }
  return "?";
}

struct MaeOptions {
  MaeKind kind = MaeKind::st_mem;
  std::int64_t seq_len = 1250, patch_size = 50, num_leads = 12;
  std::int64_t embed_dim = 768, depth = 12, num_heads = 12, dim_head = 64;
  std::int64_t decoder_embed_dim = 256, decoder_depth = 4, decoder_num_heads = 4, decoder_dim_head = 64;
  std::int64_t mlp_ratio = 4;
  bool qkv_bias = true, norm_pix_loss = false;
  double encoder_norm_eps = 1e-5, decoder_norm_eps = 1e-6;  // upstream: nn.LayerNorm default / partial(eps=1e-6)
  double mask_ratio = 0.75, drop_path_rate = 0.0;

  /// Tokens per lead group (ST-MEM: per lead) along the sequence.
  [[nodiscard]] std::int64_t num_patches() const { return kind == MaeKind::mlae ? num_leads / patch_size : seq_len / patch_size; }
  /// Values per patch, i.e. the reconstruction head's output per token.
  [[nodiscard]] std::int64_t patch_dim() const {
    switch (kind) {
      case MaeKind::st_mem: return patch_size;
      case MaeKind::mtae: return patch_size * num_leads;
      case MaeKind::mlae: return patch_size * seq_len;
    }
    return 0;
  }

  /// Checks every size; errors name `where` (a file) and the offending key.
  void validate(const std::string& where = "encoder options") const {
    auto positive = [&](std::int64_t v, const char* key) {
      if (v <= 0 || v > (std::int64_t{1} << 32)) throw Error({where, {}, {}, key}, std::string("'") + key + "' must be positive and plausible, got " + std::to_string(v));
    };
    positive(seq_len, "seq_len");
    positive(patch_size, "patch_size");
    positive(num_leads, "num_leads");
    positive(embed_dim, "embed_dim");
    positive(depth, "depth");
    positive(num_heads, "num_heads");
    positive(dim_head, "dim_head");
    positive(decoder_embed_dim, "decoder_embed_dim");
    positive(decoder_depth, "decoder_depth");
    positive(decoder_num_heads, "decoder_num_heads");
    positive(decoder_dim_head, "decoder_dim_head");
    positive(mlp_ratio, "mlp_ratio");
    if (kind == MaeKind::mlae) {
      if (num_leads % patch_size) throw Error({where, {}, {}, "patch_size"}, "MLAE: num_leads (" + std::to_string(num_leads) + ") must be divisible by patch_size (" + std::to_string(patch_size) + ")");
    } else if (seq_len % patch_size) {
      throw Error({where, {}, {}, "patch_size"}, "seq_len (" + std::to_string(seq_len) + ") must be divisible by patch_size (" + std::to_string(patch_size) + ")");
    }
    if (embed_dim % 2 || decoder_embed_dim % 2) throw Error({where, {}, {}, "embed_dim"}, "sin-cos position tables need even widths");
    if (!(mask_ratio >= 0 && mask_ratio < 1)) throw Error({where, {}, {}, "mask_ratio"}, "mask_ratio must be in [0, 1)");
    if (!(drop_path_rate >= 0 && drop_path_rate < 1)) throw Error({where, {}, {}, "drop_path_rate"}, "drop_path_rate must be in [0, 1)");
  }

  /// Upstream's named constructors: `<kind>_vit_{base,small}_dec256d4b` (ViT-B 768/12/12 or ViT-S
  /// 384/12/6; decoder 256 wide, 4 blocks, 4 heads). The patch follows `patch_size_for` (MLAE: 1).
  static MaeOptions named(MaeKind kind, const std::string& size, std::int64_t seq_len) {
    MaeOptions o;
    o.kind = kind;
    o.seq_len = seq_len;
    o.patch_size = kind == MaeKind::mlae ? 1 : patch_size_for(seq_len);
    if (size == "base") {
      o.embed_dim = 768, o.depth = 12, o.num_heads = 12;
    } else if (size == "small") {
      o.embed_dim = 384, o.depth = 12, o.num_heads = 6;
    } else {
      throw Error({"encoder name", {}, {}, size}, "unknown ViT size '" + size + "' (base, small)");
    }
    o.validate();
    return o;
  }
};

/// ResNet-1D of MERL (merl_blocks.py): conv1 k7 s2 (12 -> 64), no max-pool, four stages of basic or
/// bottleneck blocks with strides 1, 2, 2, 2.
struct ResNet1dOptions {
  bool bottleneck = true;
  std::vector<std::int64_t> layers{3, 4, 23, 3};
  std::int64_t in_channels = 12, num_classes = 10;  // upstream keeps an unused `linear` head in the state dict

  [[nodiscard]] std::int64_t expansion() const { return bottleneck ? 4 : 1; }
  [[nodiscard]] std::int64_t out_channels() const { return 512 * expansion(); }

  /// `resnet` (18-style, basic [2,2,2,2]), `resnet34`, `resnet50`, `resnet101`, `resnet152`, or
  /// upstream's own spelling `ResNet(Bottleneck, [1, 1, 1, 1])`.
  static ResNet1dOptions named(const std::string& name, const std::string& where = "encoder options") {
    ResNet1dOptions o;
    if (name == "resnet" || name == "resnet18") o.bottleneck = false, o.layers = {2, 2, 2, 2};
    else if (name == "resnet34") o.bottleneck = false, o.layers = {3, 4, 6, 3};
    else if (name == "resnet50") o.layers = {3, 4, 6, 3};
    else if (name == "resnet101") o.layers = {3, 4, 23, 3};
    else if (name == "resnet152") o.layers = {3, 8, 36, 3};
    else if (name.rfind("ResNet(", 0) == 0) {
      const auto comma = name.find(',');
      const auto open = name.find('['), close = name.find(']');
      if (comma == std::string::npos || open == std::string::npos || close == std::string::npos || close < open)
        throw Error({where, {}, {}, "resnet"}, "cannot read '" + name + "' (expected ResNet(Bottleneck, [a, b, c, d]))");
      const std::string block = name.substr(7, comma - 7);
      if (block == "Bottleneck") o.bottleneck = true;
      else if (block == "BasicBlock") o.bottleneck = false;
      else throw Error({where, {}, {}, "resnet"}, "unknown block '" + block + "' (Bottleneck, BasicBlock)");
      o.layers.clear();
      std::size_t i = open + 1;
      while (i < close) {
        while (i < close && (name[i] == ' ' || name[i] == ',')) ++i;
        if (i >= close) break;
        std::size_t end = i;
        while (end < close && name[end] >= '0' && name[end] <= '9') ++end;
        if (end == i || end - i > 4) throw Error({where, {}, {}, "resnet"}, "cannot read the block counts of '" + name + "'");
        o.layers.push_back(std::stoll(name.substr(i, end - i)));
        i = end;
      }
    } else {
      throw Error({where, {}, {}, "resnet"}, "unknown ResNet '" + name + "' (resnet, resnet34, resnet50, resnet101, resnet152)");
    }
    o.validate(where);
    return o;
  }
  void validate(const std::string& where = "encoder options") const {
    if (layers.size() != 4) throw Error({where, {}, {}, "resnet"}, "a ResNet-1D has four stages, got " + std::to_string(layers.size()));
    for (auto n : layers)
      if (n <= 0 || n > 1000) throw Error({where, {}, {}, "resnet"}, "block counts must be in 1..1000");
  }
};

struct MerlOptions {
  ResNet1dOptions resnet;
  std::int64_t seq_len = 1250;
  std::int64_t proj_out = 256, proj_hidden = 256, att_pool_heads = 4, text_dim = 768, text_max_length = 64;
  double temperature = 0.07, dropout = 0.1;

  /// Length of the ResNet output (conv1 stride 2, then three stride-2 stages; kernel 3 padding 1):
  /// 79 for 1250 samples, 157 for 2500, 32 for 500 (upstream's `spacial_dim`).
  [[nodiscard]] std::int64_t spacial_dim() const {
    std::int64_t n = (seq_len + 2 * 3 - 7) / 2 + 1;
    for (int s = 0; s < 3; ++s) n = (n + 2 - 3) / 2 + 1;
    return n;
  }
  void validate(const std::string& where = "encoder options") const {
    resnet.validate(where);
    auto positive = [&](std::int64_t v, const char* key) {
      if (v <= 0 || v > (std::int64_t{1} << 32)) throw Error({where, {}, {}, key}, std::string("'") + key + "' must be positive and plausible, got " + std::to_string(v));
    };
    positive(seq_len, "seq_len");
    positive(proj_out, "proj_out");
    positive(proj_hidden, "proj_hidden");
    positive(att_pool_heads, "att_pool_heads");
    positive(text_dim, "text_dim");
    if (proj_out % att_pool_heads) throw Error({where, {}, {}, "att_pool_heads"}, "att_pool_heads must divide proj_out");
    if (seq_len < 16) throw Error({where, {}, {}, "seq_len"}, "MERL needs at least 16 samples per lead");
    if (!(temperature > 0)) throw Error({where, {}, {}, "temperature"}, "temperature must be positive");
    if (!(dropout >= 0 && dropout < 1)) throw Error({where, {}, {}, "dropout"}, "dropout must be in [0, 1)");
  }
};

/// Which encoder a configuration describes, with its options.
struct EcgEncoderConfig {
  std::string name;  ///< st_mem | mtae | mlae | merl
  MaeOptions mae;
  MerlOptions merl;
  [[nodiscard]] bool is_merl() const { return name == "merl"; }
};

/// Reads an encoder configuration: our own `{"encoder": "st_mem", "size": "base", "seq_len": 1250, ...}`
/// (any key of the options overrides the named size), upstream-style class names
/// (`"class": "ST_MEM" | "MTAE" | "MLAE" | "MERLPretrain" | "MERLFinetune"`, as in the golden
/// manifests' `config` objects), or a named constructor (`"name": "st_mem_vit_base_dec256d4b"`).
/// `file` labels errors. Unknown encoders are refused with the valid choices.
inline EcgEncoderConfig parse_ecg_encoder_config(const Json& j, const std::string& file) {
  return with_json_errors(file, [&] {
    if (!j.is_object()) throw Error({file, {}, {}, {}}, "an encoder configuration must be a JSON object");
    const hf::ModelConfig c{j, file};
    std::string enc = c.get<std::string>("encoder", "");
    std::string size = c.get<std::string>("size", "base");
    if (enc.empty() && j.contains("name")) {
      const auto name = c.get<std::string>("name", "");
      for (const char* k : {"st_mem", "mtae", "mlae"})
        for (const char* s : {"base", "small"})
          if (name == std::string(k) + "_vit_" + s + "_dec256d4b") enc = k, size = s;
      if (name == "merl") enc = "merl";
      if (enc.empty()) throw Error({file, {}, {}, "name"}, "unknown encoder constructor '" + name + "'");
    }
    if (enc.empty() && j.contains("class")) {
      const auto cls = c.get<std::string>("class", "");
      if (cls == "ST_MEM" || cls == "ST_MEM_Ours") enc = "st_mem";
      else if (cls == "MTAE" || cls == "MTAE_Ours") enc = "mtae";
      else if (cls == "MLAE" || cls == "MLAE_Ours") enc = "mlae";
      else if (cls == "MERLPretrain" || cls == "MERLFinetune") enc = "merl";
      else throw Error({file, {}, {}, "class"}, "unknown encoder class '" + cls + "' (ST_MEM, MTAE, MLAE, MERLPretrain, MERLFinetune)");
    }
    if (enc.empty()) throw Error({file, {}, {}, "encoder"}, "missing key 'encoder' (st_mem, mtae, mlae, merl)");
    EcgEncoderConfig out;
    out.name = enc;
    const std::int64_t seq_len = c.get_size("seq_len", 1250);
    if (enc == "merl") {
      MerlOptions& m = out.merl;
      m.seq_len = seq_len;
      const Json& r = j.contains("resnet") ? j["resnet"] : Json("resnet101");
      if (r.is_string()) {
        m.resnet = ResNet1dOptions::named(r.get<std::string>(), file);
      } else if (r.is_object()) {
        const hf::ModelConfig rc{r, file};
        const auto block = rc.get<std::string>("block", "bottleneck");
        if (block != "bottleneck" && block != "basic") throw Error({file, {}, {}, "resnet.block"}, "block must be 'bottleneck' or 'basic'");
        m.resnet.bottleneck = block == "bottleneck";
        m.resnet.layers = rc.require<std::vector<std::int64_t>>("layers");
      } else {
        throw Error({file, {}, {}, "resnet"}, "'resnet' must be a name or an object {block, layers}");
      }
      m.proj_out = c.get_size("proj_out", m.proj_out);
      m.proj_hidden = c.get_size("proj_hidden", m.proj_hidden);
      m.att_pool_heads = c.get_size("att_pool_heads", m.att_pool_heads);
      m.text_dim = c.get_size("text_dim", m.text_dim);
      m.text_max_length = c.get_size("text_max_length", m.text_max_length);
      m.temperature = c.get<double>("temperature", m.temperature);
      m.dropout = c.get<double>("dropout", m.dropout);
      m.validate(file);
      if (j.contains("spacial_dim") && c.get_size("spacial_dim", 0) != m.spacial_dim())
        throw Error({file, {}, {}, "spacial_dim"}, "spacial_dim " + std::to_string(c.get_size("spacial_dim", 0)) + " does not match seq_len " +
                                                      std::to_string(seq_len) + " (the ResNet gives " + std::to_string(m.spacial_dim()) + ")");
      return out;
    }
    MaeKind kind;
    if (enc == "st_mem") kind = MaeKind::st_mem;
    else if (enc == "mtae") kind = MaeKind::mtae;
    else if (enc == "mlae") kind = MaeKind::mlae;
    else throw Error({file, {}, {}, "encoder"}, "unknown ECG encoder '" + enc + "' (st_mem, mtae, mlae, merl)");
    MaeOptions o = MaeOptions::named(kind, size, seq_len);
    o.patch_size = c.get_size("patch_size", o.patch_size);
    o.num_leads = c.get_size("num_leads", o.num_leads);
    o.embed_dim = c.get_size("embed_dim", o.embed_dim);
    o.depth = c.get_size("depth", o.depth);
    o.num_heads = c.get_size("num_heads", o.num_heads);
    o.dim_head = c.get_size("dim_head", o.dim_head);
    o.decoder_embed_dim = c.get_size("decoder_embed_dim", o.decoder_embed_dim);
    o.decoder_depth = c.get_size("decoder_depth", o.decoder_depth);
    o.decoder_num_heads = c.get_size("decoder_num_heads", o.decoder_num_heads);
    o.decoder_dim_head = c.get_size("decoder_dim_head", o.decoder_dim_head);
    o.mlp_ratio = c.get_size("mlp_ratio", o.mlp_ratio);
    o.qkv_bias = c.get<bool>("qkv_bias", o.qkv_bias);
    o.norm_pix_loss = c.get<bool>("norm_pix_loss", o.norm_pix_loss);
    o.mask_ratio = c.get<double>("mask_ratio", o.mask_ratio);
    o.drop_path_rate = c.get<double>("drop_path_rate", o.drop_path_rate);
    if (j.contains("norm_eps") && j["norm_eps"].is_object()) {
      const hf::ModelConfig ne{j["norm_eps"], file};
      o.encoder_norm_eps = ne.get<double>("encoder blocks and encoder.norm", o.encoder_norm_eps);
      o.decoder_norm_eps = ne.get<double>("decoder_norm", o.decoder_norm_eps);
    }
    o.encoder_norm_eps = c.get<double>("encoder_norm_eps", o.encoder_norm_eps);
    o.decoder_norm_eps = c.get<double>("decoder_norm_eps", o.decoder_norm_eps);
    o.validate(file);
    out.mae = o;
    return out;
  });
}

}  // namespace ecgbench::models
