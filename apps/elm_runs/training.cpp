// The training entry points (train_elm with every composition of the registry, pretrain_encoder),
// compiled once for the apps and tests that link ecgbench_elm_instances: elm/prebuilt.hpp says why.
#define ECGBENCH_ELM_DEFINE_TRAINING
#include "ecgbench/elm/stage1.hpp"
#include "ecgbench/elm/train_run.hpp"
