// Run-time CPU feature checks for kernels compiled twice (baseline x86-64 and AVX2): Debian builds
// for the baseline ISA (SSE2), and the 12-lead kernels are throughput-bound, so wider vectors pay.
#pragma once

namespace ecgbench::detail {

inline bool cpu_has_avx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
#else
  return false;
#endif
}

inline bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

}  // namespace ecgbench::detail

#if defined(__x86_64__) && defined(__GNUC__)
#define ECGBENCH_HAVE_AVX2_DISPATCH 1
#define ECGBENCH_TARGET_AVX2 [[gnu::target("avx2")]]
// For well-conditioned kernels only (FMA contraction changes the last bits).
#define ECGBENCH_TARGET_AVX2_FMA [[gnu::target("avx2,fma")]]
#else
#define ECGBENCH_HAVE_AVX2_DISPATCH 0
#define ECGBENCH_TARGET_AVX2
#define ECGBENCH_TARGET_AVX2_FMA
#endif
