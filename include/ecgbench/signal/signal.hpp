// Umbrella for the torch-free signal kernels.
#pragma once

#include "ecgbench/signal/cubic_spline.hpp"
#include "ecgbench/signal/ecg_features.hpp"
#include "ecgbench/signal/iir.hpp"
#include "ecgbench/signal/normalize.hpp"
#include "ecgbench/signal/paper_filter.hpp"
#include "ecgbench/signal/polyphase.hpp"
#include "ecgbench/signal/wavelet.hpp"
#include "ecgbench/signal/welch.hpp"
#include "ecgbench/signal/segment.hpp"
