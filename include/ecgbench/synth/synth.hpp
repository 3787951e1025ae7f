// Umbrella for the synthetic ECG corpus.
#pragma once

#include "ecgbench/synth/dataset.hpp"
#include "ecgbench/synth/ecgsyn.hpp"
