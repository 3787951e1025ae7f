// ecgbench: header-only C++20 toolkit for ECG-language models. Include this for everything, or
// one folder's umbrella (core/core.hpp, io/io.hpp, ...) for less compile time. Torch-free:
// core io signal data tokenize eval represent synth (ecgbench::core) and rag (ecgbench::rag, FAISS);
// LibTorch: models train elm (ecgbench::torch; this header needs ecgbench::ecgbench).
#pragma once

#include "ecgbench/core/core.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/elm/elm_all.hpp"
#include "ecgbench/eval/bertscore.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/io/io.hpp"
#include "ecgbench/models/models.hpp"
#include "ecgbench/rag/rag.hpp"
#include "ecgbench/represent/represent.hpp"
#include "ecgbench/signal/signal.hpp"
#include "ecgbench/synth/synth.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
#include "ecgbench/train/train.hpp"
