// Catch2 v2 main for the test binary: the only translation unit that instantiates the runner.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
