// The evaluation and chat entry points (evaluate_elm, chat_elm with every composition of the
// registry), compiled once for the apps and tests that link ecgbench_elm_instances: elm/prebuilt.hpp.
#define ECGBENCH_ELM_DEFINE_INFERENCE
#include "ecgbench/elm/chat.hpp"
#include "ecgbench/elm/evaluate.hpp"
