// Umbrella for the LibTorch models: Hugging Face checkpoints, causal LMs, encoders, generation, LoRA.
#pragma once

#include "ecgbench/models/encoders.hpp"
#include "ecgbench/models/generate.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/hf/safetensors.hpp"
#include "ecgbench/models/llm/causal_lm.hpp"
#include "ecgbench/models/llm/gpt2.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/llm/llama.hpp"
#include "ecgbench/models/llm/opt.hpp"
#include "ecgbench/models/lora.hpp"
#include "ecgbench/models/nn/layers.hpp"
#include "ecgbench/models/tensor_io.hpp"
#include "ecgbench/models/text/bert.hpp"
#include "ecgbench/models/vision/vision_towers.hpp"
