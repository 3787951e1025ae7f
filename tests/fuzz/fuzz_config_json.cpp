// Model config.json (and ECG encoder configurations): every architecture's options parser on arbitrary JSON either gives options or an
// Error naming the key (the parsers are torch-free, so this target needs no LibTorch).
#include "ecgbench/models/config/bert_options.hpp"
#include "ecgbench/models/config/ecg_encoder_options.hpp"
#include "ecgbench/models/config/gpt2_options.hpp"
#include "ecgbench/models/config/llama_options.hpp"
#include "ecgbench/models/config/opt_options.hpp"
#include "ecgbench/models/config/vision_options.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const hf::ModelConfig c{parse_json(fuzz::as_text(data, size), "config.json"), "config.json"};
    if (!c.json.is_object()) return;
    fuzz::guarded([&] { (void)models::LlamaOptions::from_config(c); });
    fuzz::guarded([&] { (void)models::Gpt2Options::from_config(c); });
    fuzz::guarded([&] { (void)models::OptOptions::from_config(c); });
    fuzz::guarded([&] { (void)models::VisionOptions::from_config(c); });
    fuzz::guarded([&] { (void)models::BertOptions::from_config(c); });
    fuzz::guarded([&] { (void)c.architecture(); });
    fuzz::guarded([&] {  // ECG encoder configurations: sizes that pass are consistent
      const auto e = models::parse_ecg_encoder_config(c.json, "encoder.json");
      if (e.is_merl()) ECGBENCH_FUZZ_ASSERT(e.merl.spacial_dim() > 0);
      else ECGBENCH_FUZZ_ASSERT(e.mae.num_patches() > 0 && e.mae.patch_dim() > 0);
    });
  });
}
