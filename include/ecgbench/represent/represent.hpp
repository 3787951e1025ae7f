// Umbrella for the ECG representations (torch-free): stacked signal, the upstream-compatible plotted
// image (drawn as matplotlib's Agg backend draws), the clinical 12-lead plot, Hugging Face image
// processors with Pillow-exact resizing, augmentation and the evaluation probes.
#pragma once

#include "ecgbench/represent/augment.hpp"
#include "ecgbench/represent/clinical_plot.hpp"
#include "ecgbench/represent/ecg_plot.hpp"
#include "ecgbench/represent/image.hpp"
#include "ecgbench/represent/mpl_path.hpp"
#include "ecgbench/represent/perturb.hpp"
#include "ecgbench/represent/pil_resize.hpp"
#include "ecgbench/represent/pixel_input.hpp"
#include "ecgbench/represent/processor.hpp"
#include "ecgbench/represent/raster.hpp"
#include "ecgbench/represent/stacked.hpp"
#include "ecgbench/represent/stroke.hpp"
