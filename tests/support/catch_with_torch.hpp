// Catch2 after LibTorch: torch's glog headers define CHECK (fatal on failure), which would silently
// replace Catch's CHECK in test files. Include this (not catch.hpp) in tests that use torch.
#pragma once

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>
