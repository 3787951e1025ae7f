// Umbrella for the torch-free core utilities.
#pragma once

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/core/mapped_file.hpp"
#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/core/progress.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/core/strings.hpp"
#include "ecgbench/core/version.hpp"
