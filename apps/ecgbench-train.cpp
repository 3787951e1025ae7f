// ecgbench-train: trains an ECG-language model (or, with --paradigm stage1, an ECG encoder on its
// own objective). The paradigm, encoder and LLM family pick one of the compositions compiled in
// (elm/builder.hpp's registry); invalid combinations are refused with the valid choices.
// Upstream's `--model <encoder>_<llm>` spelling is accepted.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/strings.hpp"
#include "ecgbench/tokenize/default_system_prompt.hpp"
#include "ecgbench/elm/stage1.hpp"
#include "ecgbench/elm/train_run.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"Train an ECG-language model (or an ECG encoder: --paradigm stage1)"};
  elm::ElmConfig c;
  elm::TrainSettings s;
  std::string model, data, weights, system_prompt_file, text_encoder, out;
  bool upstream_compat = false, no_peft = false, paper_lora = false, head_lora = false, no_system_prompt = false;
  app.add_option("--paradigm", c.paradigm, "llava | scratch | finetune | end2end-encoder | encoder-free | ecg-byte | stage1")->capture_default_str();
  app.add_option("--encoder", c.encoder, "st_mem | mtae | mlae | merl | clip | siglip | vit | none")->capture_default_str();
  app.add_option("--model", model, "upstream's spelling <encoder>_<llm> (e.g. stmem_llama-3.2-1b-instruct, encoderfree_..., or just the LLM name)");
  app.add_option("--encoder-config", c.encoder_config, "ECG encoder configuration JSON (default: upstream's ViT-B / ResNet-101 sizes)");
  app.add_option("--encoder-checkpoint", c.encoder_checkpoint, "stage-1 weights (.safetensors / .pth) or a Hugging Face vision folder");
  app.add_option("--llm", c.llm, "Hugging Face LLM folder (config.json, tokenizer, safetensors)");
  app.add_flag("--llm-from-scratch", c.llm_from_scratch, "initialise the LLM from its config.json instead of loading weights");
  app.add_option("--ecg-tokenizer", c.ecg_tokenizer, "ECG-Byte tokenizer (ecgbench-tokenizer JSON or upstream .pkl)");
  app.add_option("--data", data, "mapped conversation JSONL file(s), comma-separated");
  app.add_option("--weights", weights, "mixing weights of --data, comma-separated");
  app.add_option("--segments", s.segments, "preprocessed segments folder")->required();
  app.add_option("--held-out", s.held_out, "held-out JSONL for the evaluation loss");
  app.add_option("--representation", c.representation, "signal | stacked | image | ecg-tokens")->capture_default_str();
  app.add_flag("--augment-image", s.augment_image, "upstream's image augmentation (image / stacked)");
  app.add_option("--seg-len", c.seg_len, "samples per segment")->capture_default_str();
  app.add_option("--encoder-tokens", c.encoder_tokens, "k <signal> slots / encoder tokens")->capture_default_str();
  app.add_option("--llm-input-len", c.llm_input_len, "tokens per training sequence (upstream's pad_to_max)")->capture_default_str();
  app.add_option("--ecg-tokens-kept", c.ecg_tokens_kept, "ecg-byte: ECG tokens kept before the text is cut (upstream paper era 500, HEAD 250)")->capture_default_str();
  app.add_option("--balance-answers", s.balance_answers, "oversample rare answers of each question, at most this factor (0: off)")->capture_default_str();
  app.add_option("--system-prompt", system_prompt_file, "system prompt text file (default: upstream's)");
  app.add_flag("--no-system-prompt", no_system_prompt, "no system prompt");
  app.add_flag("--peft", c.peft, "LoRA on the LLM (default on)");
  app.add_flag("--no-peft", no_peft, "train the whole LLM (its embedding table aside)");
  app.add_option("--lora-rank", c.lora_rank, "LoRA rank")->capture_default_str();
  app.add_option("--lora-alpha", c.lora_alpha, "LoRA alpha")->capture_default_str();
  app.add_option("--lora-dropout", c.lora_dropout, "LoRA dropout")->capture_default_str();
  app.add_flag("--lora-paper", paper_lora, "upstream paper era: q,k,v,o,gate,up,down, dropout 0.05 (default)");
  app.add_flag("--lora-head", head_lora, "upstream HEAD: q,v only, dropout 0");
  app.add_flag("--train-new-token-rows", c.train_new_token_rows, "ECG-Byte: train the added signal_<id> embedding rows");
  app.add_option("--optimizer", s.optimizer, "adam | adamw")->capture_default_str();
  app.add_option("--lr", s.lr, "learning rate (peak for noam-head, linear, cosine, constant)")->capture_default_str();
  app.add_option("--weight-decay", s.weight_decay, "weight decay")->capture_default_str();
  app.add_flag("--no-decay-norms-biases", s.no_decay_on_norms_and_biases, "no weight decay on norms and biases");
  app.add_option("--schedule", s.schedule, "noam-paper | noam-p | noam-head | linear | cosine | constant")->capture_default_str();
  app.add_option("--warmup", s.warmup, "warmup steps")->capture_default_str();
  app.add_option("--epochs", s.epochs, "epochs")->capture_default_str();
  app.add_option("--max-steps", s.max_steps, "stop after N optimizer steps (0: all epochs)")->capture_default_str();
  app.add_option("--batch-size", s.batch_size, "per rank")->capture_default_str();
  app.add_option("--grad-accum", s.grad_accum, "gradient accumulation")->capture_default_str();
  app.add_option("--ref-global-batch", s.ref_global_batch, "reference global batch of the lr scale (upstream's --ref_global_bs)");
  app.add_option("--clip", s.clip_norm, "gradient clipping max norm (0: off)")->capture_default_str();
  app.add_option("--save-every", s.save_every, "checkpoint every N steps (0: at the end)")->capture_default_str();
  app.add_option("--keep", s.keep, "checkpoints kept")->capture_default_str();
  app.add_option("--log-every", s.log_every, "metrics.jsonl every N steps")->capture_default_str();
  app.add_flag("--resume", s.resume, "continue the run in --out from its latest checkpoint");
  app.add_option("--seed", c.seed, "seed")->capture_default_str();
  app.add_option("--threads", s.threads, "intra-op threads")->capture_default_str();
  app.add_option("--device", s.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--attention", c.attention, "eager | sdpa (PyTorch >= 2.1) | auto")->capture_default_str();
  app.add_option("--precision", s.precision, "fp32 | bf16-autocast (fp32 weights, bf16 matmuls) | bf16 (bf16 weights)")->capture_default_str();
  app.add_option("--optimizer-kernel", s.optimizer_kernel, "auto (fused on CUDA, else foreach) | plain | foreach | fused")->capture_default_str();
  app.add_option("--rag-db", c.rag_db, "retrieval augmentation: a database of ecgbench-rag build");
  app.add_option("--rag-k", c.rag_k, "retrieved ECGs per prompt")->capture_default_str();
  app.add_option("--rag-base", c.rag_base, "signal | feature | combined")->capture_default_str();
  app.add_option("--rag-mode", c.rag_mode, "system | user-query")->capture_default_str();
  app.add_option("--rag-info", c.rag_info, "feature | report | combined")->capture_default_str();
  app.add_flag("--rag-upstream-lead-i-only", c.rag_upstream_lead_i_only, "upstream's bug: only lead I's features in the prompt");
  app.add_option("--text-encoder", text_encoder, "stage1 merl: BERT folder of the report encoder (MedCPT-Query-Encoder)");
  app.add_flag("--upstream-compat", upstream_compat, "reproduce upstream's bugs: every EOT labelled, masked encoder embeddings, no-op --train_encoder, keep-first truncation");
  app.add_flag("--label-every-eot", c.label_every_eot, "upstream [P]: label the EOT of system and user turns too");
  app.add_flag("--upstream-masked-embeddings", c.upstream_masked_embeddings, "upstream: 75 % masked encoder embeddings (quirk 12)");
  app.add_flag("--upstream-no-grad-encoder", c.upstream_no_grad_encoder, "upstream: the encoder never trains (quirk 13)");
  app.add_flag("--truncate-keep-first", c.truncate_keep_first, "upstream [P]: keep the first llm-input-len tokens");
  app.add_flag("--quiet", [&](std::int64_t) { s.progress = false; }, "no progress line");
  app.add_option("--out", out, "run folder")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    s.out = out;
    if (!model.empty()) {  // upstream: {encoder}_{llm}, or the LLM alone (end-to-end)
      const auto cut = model.find('_');
      const std::string enc = cut == std::string::npos ? "" : model.substr(0, cut);
      if (enc == "stmem" || enc == "st-mem") c.encoder = "st_mem";
      else if (enc == "encoderfree") c.paradigm = "encoder-free", c.encoder = "none";
      else if (!enc.empty()) c.encoder = enc;
      if (c.llm.empty()) throw Error("--model names the LLM '" + model.substr(cut == std::string::npos ? 0 : cut + 1) + "': give its folder with --llm");
    }
    if (upstream_compat) c.label_every_eot = c.upstream_masked_embeddings = c.upstream_no_grad_encoder = c.truncate_keep_first = c.rag_upstream_lead_i_only = true;
    if (no_peft) c.peft = false;
    if (head_lora) c.lora_targets = {"q_proj", "v_proj"}, c.lora_dropout = 0.0;
    (void)paper_lora;
    if (!no_system_prompt) c.system_prompt = system_prompt_file.empty() ? std::string(tokenize::default_system_prompt) : read_file(system_prompt_file);
    for (auto& d : split(data, ',')) if (!d.empty()) s.data.push_back(d);
    for (auto& w : split(weights, ',')) if (!w.empty()) s.weights.push_back(std::stod(w));
    train::TrainResult r;
    if (c.paradigm == "stage1") r = elm::pretrain_encoder(c, s, text_encoder);
    else r = elm::train_elm(c, s);
    std::printf("%s: %ld steps, %ld epochs, last loss %.4f, %.1f s%s\n", out.c_str(), static_cast<long>(r.steps), static_cast<long>(r.epochs), r.last_loss, r.seconds,
                r.resumed ? " (resumed)" : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-train: %s\n", e.what());
    return 1;
  }
  return 0;
}
