// Umbrella for the training engine: Trainer, optimisers, schedules, checkpoints, data parallelism.
#pragma once

#include "ecgbench/train/checkpoint.hpp"
#include "ecgbench/train/distributed.hpp"
#include "ecgbench/train/optimizer.hpp"
#include "ecgbench/train/sampler.hpp"
#include "ecgbench/train/schedule.hpp"
#include "ecgbench/train/trainable.hpp"
#include "ecgbench/train/trainer.hpp"
