// The ELM runs' entry points (train_elm, pretrain_encoder, evaluate_elm, chat_elm) are inline
// functions of a header-only library: every translation unit that calls one compiles it, with all
// 18 compositions of the registry and the whole data pipeline behind it (minutes of -O3 each). A
// build that links ecgbench_elm_instances (our apps and tests; see apps/CMakeLists.txt) defines
// ECGBENCH_ELM_PREBUILT and sees them declared only: they are compiled once, in two translation
// units (training: ECGBENCH_ELM_DEFINE_TRAINING; evaluation and chat: ECGBENCH_ELM_DEFINE_INFERENCE),
// where they are ordinary external functions. Users of the headers change nothing.
#pragma once

#ifdef ECGBENCH_ELM_DEFINE_TRAINING
#define ECGBENCH_ELM_TRAINING_LINKAGE
#else
#define ECGBENCH_ELM_TRAINING_LINKAGE inline
#endif
#ifdef ECGBENCH_ELM_DEFINE_INFERENCE
#define ECGBENCH_ELM_INFERENCE_LINKAGE
#else
#define ECGBENCH_ELM_INFERENCE_LINKAGE inline
#endif
