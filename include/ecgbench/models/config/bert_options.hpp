// Options of the BERT / RoBERTa, parsed from config.json; torch-free so that configs can be
// validated (and fuzzed) without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

struct BertOptions {
  std::string model_type = "bert";  ///< bert | roberta
  std::int64_t vocab_size = 30522, hidden_size = 768, intermediate_size = 3072, num_layers = 12, num_heads = 12,
               max_position_embeddings = 512, type_vocab_size = 2, pad_token_id = 0;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";

  static BertOptions from_config(const hf::ModelConfig& c) {
    return with_json_errors(c.file, [&] { return from_config_unchecked(c); });
  }
  static BertOptions from_config_unchecked(const hf::ModelConfig& c) {
    BertOptions o;
    o.model_type = c.get<std::string>("model_type", "bert");
    if (o.model_type != "bert" && o.model_type != "roberta" && o.model_type != "xlm-roberta")
      throw Error({c.file, {}, {}, "model_type"}, "not a BERT or RoBERTa model: '" + o.model_type + "'");
    o.vocab_size = c.require_size("vocab_size");
    o.hidden_size = c.require_size("hidden_size");
    o.intermediate_size = c.require_size("intermediate_size");
    o.num_layers = c.require_size("num_hidden_layers");
    o.num_heads = c.require_size("num_attention_heads");
    o.max_position_embeddings = c.get_size("max_position_embeddings", 512);
    o.type_vocab_size = c.get_size("type_vocab_size", 2);
    o.pad_token_id = c.get<std::int64_t>("pad_token_id", o.model_type == "bert" ? 0 : 1);
    o.layer_norm_eps = c.get<double>("layer_norm_eps", 1e-12);
    o.hidden_act = c.get<std::string>("hidden_act", "gelu");
    if (c.get<std::string>("position_embedding_type", "absolute") != "absolute")
      throw Error({c.file, {}, {}, "position_embedding_type"}, "only absolute position embeddings are supported");
    check_activation(o.hidden_act, c.file);
    return o;
  }
  [[nodiscard]] bool roberta() const { return model_type != "bert"; }
};

}  // namespace ecgbench::models
