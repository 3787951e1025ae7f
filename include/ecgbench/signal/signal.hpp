// Umbrella for the torch-free signal kernels.
#pragma once

#include "ecgbench/signal/cubic_spline.hpp"
#include "ecgbench/signal/polyphase.hpp"
#include "ecgbench/signal/segment.hpp"
