// ecgbench: header-only C++20 toolkit for ECG-language models. Include this for everything, or
// one folder's umbrella (core/core.hpp, io/io.hpp, ...) for less compile time; everything but
// models/ is torch-free (link ecgbench::core for those, ecgbench::ecgbench for this header).
#pragma once

#include "ecgbench/core/core.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/eval/bertscore.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/io/io.hpp"
#include "ecgbench/models/models.hpp"
#include "ecgbench/signal/signal.hpp"
#include "ecgbench/synth/synth.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
