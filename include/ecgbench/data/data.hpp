// Umbrella for data set logic: base data sets, preprocessing, splits, sampling.
#pragma once

#include "ecgbench/data/base_dataset.hpp"
#include "ecgbench/data/conversation.hpp"
#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/data/mapping.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/data/sampling.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/data/split.hpp"
