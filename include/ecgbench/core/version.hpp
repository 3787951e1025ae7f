// Library version; bumped with releases and written into every manifest the apps produce.
#pragma once

#define ECGBENCH_VERSION_MAJOR 0
#define ECGBENCH_VERSION_MINOR 1
#define ECGBENCH_VERSION_PATCH 0

namespace ecgbench {
inline constexpr const char* version = "0.1.0";
}
