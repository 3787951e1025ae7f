// Umbrella for the ELM compositions: Elm<E, P, L, T>, paradigms, aliases and the registry, the batch
// pipeline's tensors, training / stage-1 / evaluation runs.
#pragma once

#include "ecgbench/elm/aliases.hpp"
#include "ecgbench/elm/batch.hpp"
#include "ecgbench/elm/builder.hpp"
#include "ecgbench/elm/chat.hpp"
#include "ecgbench/elm/collate.hpp"
#include "ecgbench/elm/config.hpp"
#include "ecgbench/elm/elm.hpp"
#include "ecgbench/elm/evaluate.hpp"
#include "ecgbench/elm/paradigm.hpp"
#include "ecgbench/elm/stage1.hpp"
#include "ecgbench/elm/train_run.hpp"
