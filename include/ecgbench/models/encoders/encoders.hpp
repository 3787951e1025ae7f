// Umbrella for the ECG-native encoders: ST-MEM, MTAE, MLAE, MERL, their blocks and loading.
#pragma once

#include "ecgbench/models/encoders/load.hpp"
#include "ecgbench/models/encoders/masked_autoencoder.hpp"
#include "ecgbench/models/encoders/masking.hpp"
#include "ecgbench/models/encoders/merl.hpp"
#include "ecgbench/models/encoders/mtae.hpp"
#include "ecgbench/models/encoders/resnet1d.hpp"
#include "ecgbench/models/encoders/st_mem.hpp"
#include "ecgbench/models/encoders/vit_block.hpp"
