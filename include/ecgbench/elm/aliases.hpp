// Named compositions for every upstream configuration (encoder x LLM family x paradigm). The
// Llama class covers Llama 3, Qwen 2.5 and Gemma 2 (switched by config.json).
#pragma once

#include "ecgbench/elm/elm.hpp"
#include "ecgbench/elm/paradigm.hpp"
#include "ecgbench/models/encoders/encoders.hpp"
#include "ecgbench/models/encoders/no_encoder.hpp"
#include "ecgbench/models/llm/gpt2.hpp"
#include "ecgbench/models/llm/llama.hpp"
#include "ecgbench/models/llm/opt.hpp"
#include "ecgbench/models/projectors/linear_projector.hpp"
#include "ecgbench/models/vision/hf_vision_encoder.hpp"

namespace ecgbench::elm {

using models::LinearProjector;
using models::NoProjector;
namespace enc = models::encoders;

template <class L> using StMemElm = Elm<enc::StMem, LinearProjector, L, TwoStage>;
template <class L> using MtaeElm = Elm<enc::Mtae, LinearProjector, L, TwoStage>;  ///< MTAE and MLAE (options say which)
template <class L> using MerlElm = Elm<enc::Merl, LinearProjector, L, TwoStage>;
template <class L> using VisionElm = Elm<models::HfVisionEncoder, LinearProjector, L, TwoStage>;  ///< CLIP, SigLIP, ViT
template <class L> using EncoderFreeElm = Elm<enc::SignalFlatten, LinearProjector, L, EncoderFree>;
template <class L> using EcgByteElm = Elm<enc::NoEncoder, NoProjector, L, EndToEndEcgByte>;

using StMemLlava = StMemElm<models::LlamaForCausalLm>;
using MtaeLlava = MtaeElm<models::LlamaForCausalLm>;
using MlaeLlava = MtaeElm<models::LlamaForCausalLm>;
using MerlLlava = MerlElm<models::LlamaForCausalLm>;
using VisionLlava = VisionElm<models::LlamaForCausalLm>;
using EncoderFreeLlama = EncoderFreeElm<models::LlamaForCausalLm>;
using EcgByteLlama = EcgByteElm<models::LlamaForCausalLm>;
using EcgByteGpt2 = EcgByteElm<models::Gpt2LmHeadModel>;
using EcgByteOpt = EcgByteElm<models::OptForCausalLm>;

}  // namespace ecgbench::elm
