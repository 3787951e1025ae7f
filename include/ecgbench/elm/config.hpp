// The resolved configuration of an ELM run, torch-free: what `ecgbench-train` writes to
// RUN/config.json and `ecgbench-evaluate` / `ecgbench-chat` rebuild the model from. Also upstream's
// `assert_data_model_match`: which encoder goes with which representation and paradigm.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"

namespace ecgbench::elm {

inline const std::vector<std::string>& paradigm_names() {
  static const std::vector<std::string> v{"llava", "scratch", "finetune", "end2end-encoder", "encoder-free", "ecg-byte", "stage1"};
  return v;
}
inline const std::vector<std::string>& encoder_names() {
  static const std::vector<std::string> v{"st_mem", "mtae", "mlae", "merl", "clip", "siglip", "vit", "none"};
  return v;
}
inline bool is_vision_encoder(const std::string& e) { return e == "clip" || e == "siglip" || e == "vit"; }
inline bool is_ecg_encoder(const std::string& e) { return e == "st_mem" || e == "mtae" || e == "mlae" || e == "merl"; }

struct ElmConfig {
  std::string paradigm = "ecg-byte", encoder = "none", representation = "ecg-tokens";
  std::string llm;                 ///< Hugging Face folder of the LLM (config.json + tokenizer [+ weights])
  bool llm_from_scratch = false;   ///< initialise the LLM from its config.json instead of loading weights
  std::string encoder_config;      ///< ECG encoder configuration JSON (default: ViT-B / ResNet-101 sizes)
  std::string encoder_checkpoint;  ///< stage-1 weights (.safetensors / .pth) or a vision encoder folder
  std::string ecg_tokenizer;       ///< ECG-Byte tokenizer (JSON or upstream .pkl)
  std::int64_t seg_len = 1250, encoder_tokens = 1, llm_input_len = 1024;
  std::int64_t ecg_tokens_kept = 500;  ///< ECG-Byte: ECG tokens kept before text is cut (upstream [P] 500, [H] 250)
  bool peft = true;
  std::int64_t lora_rank = 16;
  double lora_alpha = 32, lora_dropout = 0.05;
  std::vector<std::string> lora_targets{"q_proj", "v_proj", "k_proj", "o_proj", "gate_proj", "down_proj", "up_proj"};
  std::string system_prompt;  ///< text; empty = none
  bool train_new_token_rows = false;
  // Upstream-compatibility switches (upstream-inventory §13), all off by default.
  bool label_every_eot = false;         ///< [P] labels every end-of-turn token
  bool upstream_masked_embeddings = false;  ///< quirk 12: 75 % masked encoder embeddings
  bool upstream_no_grad_encoder = false;    ///< quirk 13: --train_encoder is a no-op
  bool truncate_keep_first = false;     ///< [P] keeps the first llm_input_len tokens
  std::string chat_format;              ///< resolved: llama3 | chatml | gemma2 | gpt2 | opt
  std::vector<std::string> added_tokens;  ///< in the order they were added to the tokenizer
  std::int64_t first_added_token = -1;
  std::uint64_t seed = 0;
  std::string attention = "auto";  ///< the LLM's attention kernel: auto | eager | sdpa (models/nn/attention_kernel.hpp)
  // Retrieval augmentation (upstream's --rag): a database of ecgbench-rag build.
  std::string rag_db, rag_base = "signal", rag_mode = "system", rag_info = "combined";
  std::int64_t rag_k = 1;
  bool rag_upstream_lead_i_only = false;  ///< quirk 14: only lead I's features in the prompt
  Json training = Json::object();  ///< optimiser, schedule, batch, epochs as run

  /// Refuses combinations upstream refuses (`assert_data_model_match`), naming the valid choices.
  void validate() const {
    auto one_of = [](const std::string& v, const std::vector<std::string>& set, const char* what) {
      if (std::find(set.begin(), set.end(), v) == set.end()) {
        std::string all;
        for (const auto& s : set) all += (all.empty() ? "" : ", ") + s;
        throw Error(std::string("unknown ") + what + " '" + v + "' (" + all + ")");
      }
    };
    one_of(paradigm, paradigm_names(), "paradigm");
    one_of(encoder, encoder_names(), "encoder");
    one_of(representation, {"signal", "stacked", "image", "ecg-tokens"}, "representation");
    one_of(attention, {"auto", "eager", "sdpa"}, "attention");
    if (paradigm == "ecg-byte") {
      if (encoder != "none") throw Error("the ecg-byte paradigm takes no encoder (got '" + encoder + "'); encoder must be none");
      if (representation != "ecg-tokens") throw Error("the ecg-byte paradigm reads ECG-Byte tokens: representation must be ecg-tokens (got '" + representation + "')");
      if (ecg_tokenizer.empty()) throw Error("the ecg-byte paradigm needs an ECG-Byte tokenizer (ecg_tokenizer)");
    } else if (paradigm == "encoder-free") {
      if (encoder != "none") throw Error("the encoder-free paradigm projects the signal itself: encoder must be none (got '" + encoder + "')");
      if (representation != "signal") throw Error("the encoder-free paradigm reads the signal: representation must be signal (got '" + representation + "')");
    } else {
      if (encoder == "none") throw Error("the " + paradigm + " paradigm needs an encoder (st_mem, mtae, mlae, merl, clip, siglip, vit)");
      if (is_vision_encoder(encoder) && representation != "image" && representation != "stacked")
        throw Error("the " + encoder + " encoder reads images: representation must be image or stacked (got '" + representation + "')");
      if (is_ecg_encoder(encoder) && representation != "signal")
        throw Error("the " + encoder + " encoder reads the signal: representation must be signal (got '" + representation + "')");
      if (paradigm == "llava" && !is_vision_encoder(encoder)) throw Error("2-stage LLaVA uses a general vision encoder (clip, siglip, vit)");
      if ((paradigm == "scratch") && encoder_checkpoint.empty() && paradigm != "stage1")
        throw Error("2-stage scratch loads our own stage-1 encoder checkpoint: give encoder_checkpoint");
    }
    if (paradigm != "stage1" && llm.empty()) throw Error("give the LLM folder (llm)");
    if (encoder_tokens < 1) throw Error("encoder_tokens must be at least 1");
    if (ecg_tokens_kept < 1) throw Error("ecg_tokens_kept must be at least 1");
    if (!rag_db.empty()) {
      one_of(rag_base, {"signal", "feature", "combined"}, "rag base");
      one_of(rag_mode, {"system", "user-query"}, "rag mode");
      one_of(rag_info, {"feature", "report", "combined"}, "rag information");
      if (rag_k < 1) throw Error("rag_k must be at least 1");
    }
    if (seg_len < 16) throw Error("seg_len must be at least 16");
  }

  [[nodiscard]] Json to_json() const {
    return {{"format", "ecgbench.elm-config"}, {"version", 1}, {"paradigm", paradigm}, {"encoder", encoder}, {"representation", representation},
            {"llm", llm}, {"llm_from_scratch", llm_from_scratch}, {"encoder_config", encoder_config}, {"encoder_checkpoint", encoder_checkpoint},
            {"ecg_tokenizer", ecg_tokenizer}, {"seg_len", seg_len}, {"encoder_tokens", encoder_tokens}, {"llm_input_len", llm_input_len}, {"ecg_tokens_kept", ecg_tokens_kept},
            {"peft", peft}, {"lora_rank", lora_rank}, {"lora_alpha", lora_alpha}, {"lora_dropout", lora_dropout}, {"lora_targets", lora_targets},
            {"system_prompt", system_prompt}, {"train_new_token_rows", train_new_token_rows}, {"label_every_eot", label_every_eot},
            {"upstream_masked_embeddings", upstream_masked_embeddings}, {"upstream_no_grad_encoder", upstream_no_grad_encoder},
            {"truncate_keep_first", truncate_keep_first}, {"chat_format", chat_format}, {"added_tokens", added_tokens},
            {"first_added_token", first_added_token}, {"seed", seed}, {"rag_db", rag_db}, {"rag_base", rag_base}, {"rag_mode", rag_mode},
            {"rag_info", rag_info}, {"rag_k", rag_k}, {"rag_upstream_lead_i_only", rag_upstream_lead_i_only}, {"attention", attention}, {"training", training}};
  }
  static ElmConfig from_json(const Json& j, const std::string& file) {
    return with_json_errors(file, [&] {
      if (!j.is_object() || j.value("format", "") != "ecgbench.elm-config") throw Error({file, {}, {}, "format"}, "not an ecgbench run configuration");
      ElmConfig c;
      auto s = [&](const char* k, std::string& v) { v = json_get<std::string>(j, k, file, ""); };
      auto b = [&](const char* k, bool& v) { v = json_get<bool>(j, k, file, ""); };
      auto i = [&](const char* k, std::int64_t& v) { v = json_get<std::int64_t>(j, k, file, ""); };
      s("paradigm", c.paradigm), s("encoder", c.encoder), s("representation", c.representation), s("llm", c.llm);
      b("llm_from_scratch", c.llm_from_scratch), s("encoder_config", c.encoder_config), s("encoder_checkpoint", c.encoder_checkpoint);
      s("ecg_tokenizer", c.ecg_tokenizer), i("seg_len", c.seg_len), i("encoder_tokens", c.encoder_tokens), i("llm_input_len", c.llm_input_len);
      c.ecg_tokens_kept = j.value("ecg_tokens_kept", std::int64_t{500});
      b("peft", c.peft), i("lora_rank", c.lora_rank);
      c.lora_alpha = json_get<double>(j, "lora_alpha", file, ""), c.lora_dropout = json_get<double>(j, "lora_dropout", file, "");
      c.lora_targets = json_get<std::vector<std::string>>(j, "lora_targets", file, "");
      s("system_prompt", c.system_prompt), b("train_new_token_rows", c.train_new_token_rows), b("label_every_eot", c.label_every_eot);
      b("upstream_masked_embeddings", c.upstream_masked_embeddings), b("upstream_no_grad_encoder", c.upstream_no_grad_encoder);
      b("truncate_keep_first", c.truncate_keep_first), s("chat_format", c.chat_format);
      c.added_tokens = json_get<std::vector<std::string>>(j, "added_tokens", file, "");
      i("first_added_token", c.first_added_token);
      c.seed = json_get<std::uint64_t>(j, "seed", file, "");
      c.rag_db = j.value("rag_db", std::string()), c.rag_base = j.value("rag_base", std::string("signal")), c.rag_mode = j.value("rag_mode", std::string("system"));
      c.rag_info = j.value("rag_info", std::string("combined")), c.rag_k = j.value("rag_k", std::int64_t{1});
      c.rag_upstream_lead_i_only = j.value("rag_upstream_lead_i_only", false);
      c.attention = j.value("attention", std::string("auto"));
      c.training = j.value("training", Json::object());
      return c;
    });
  }
  /// The file paths of a configuration (LLM folder, encoder files, tokenizer, RAG database).
  template <class F>
  void for_each_path(F&& f) {
    for (std::string* p : {&llm, &encoder_config, &encoder_checkpoint, &ecg_tokenizer, &rag_db})
      if (!p->empty()) f(*p);
  }
  /// Writes RUN/config.json with paths relative to the run folder, so a tree holding the run and its
  /// inputs can be moved as a whole (the demo's output folder, for one).
  void write(const std::filesystem::path& run_dir) const {
    namespace fs = std::filesystem;
    ElmConfig c = *this;
    const fs::path base = fs::weakly_canonical(fs::absolute(run_dir));
    c.for_each_path([&](std::string& p) {
      const fs::path abs = fs::weakly_canonical(fs::absolute(p));
      const fs::path rel = abs.lexically_relative(base);
      p = rel.empty() ? abs.string() : rel.string();
    });
    write_json(run_dir / "config.json", c.to_json());
  }
  /// Reads RUN/config.json; relative paths are taken from the run folder.
  static ElmConfig read(const std::filesystem::path& run_dir) {
    const auto f = run_dir / "config.json";
    if (!std::filesystem::exists(f)) throw Error({f.string(), {}, {}, {}}, "the run folder has no config.json (not an ecgbench-train run?)");
    ElmConfig c = from_json(read_json(f), f.string());
    c.for_each_path([&](std::string& p) {
      if (std::filesystem::path(p).is_relative()) p = (run_dir / p).lexically_normal().string();
    });
    return c;
  }
};

}  // namespace ecgbench::elm
