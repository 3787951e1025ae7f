# Finds the dependencies of ecgbench's components. Used by the build and by the installed
# ecgbenchConfig.cmake, so a user project gets the same targets with one find_package(ecgbench):
#   core  (torch-free: I/O, signal kernels, data, tokenizers, metrics, representations)
#   rag   (the FAISS retrieval database; FAISS needs OpenMP)
#   torch (LibTorch: models, training, ELMs; torch.distributed's Gloo)
# Set ECGBENCH_FIND_RAG / ECGBENCH_FIND_TORCH to OFF to skip a component's packages.
include(CMakeFindDependencyMacro)
macro(ecgbench_find_dependency)
  if(CMAKE_FIND_PACKAGE_NAME)  # inside find_package(ecgbench): propagate QUIET/REQUIRED
    find_dependency(${ARGN})
  else()  # our own build: fail loudly with the package name
    find_package(${ARGN} REQUIRED)
  endif()
endmacro()

# --- core ---------------------------------------------------------------------------------------------
set(THREADS_PREFER_PTHREAD_FLAG ON)
ecgbench_find_dependency(Threads)
ecgbench_find_dependency(nlohmann_json 3)
ecgbench_find_dependency(Eigen3 3.3 NO_MODULE)
# FindHDF5 probes with the C compiler.
if(NOT CMAKE_C_COMPILER_LOADED)
  enable_language(C)
endif()
ecgbench_find_dependency(HDF5 COMPONENTS C)
# Text tokenizers: PCRE2 (pre-tokenizer patterns; Debian ships no CMake package, so pkg-config) and
# ICU (NFC). SentencePiece models are read by our own code: Debian's libsentencepiece carries a
# protobuf-lite that crashes a process that also loads LibTorch's libprotobuf.
ecgbench_find_dependency(PkgConfig)
pkg_check_modules(ECGBENCH_PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
ecgbench_find_dependency(ICU COMPONENTS uc data)
# Images (represent/): Cairo draws the plots and reads / writes PNG.
pkg_check_modules(ECGBENCH_CAIRO REQUIRED IMPORTED_TARGET cairo)

# --- rag ------------------------------------------------------------------------------------------------
if(NOT DEFINED ECGBENCH_FIND_RAG OR ECGBENCH_FIND_RAG)
  # FAISS's exported targets need OpenMP found first.
  ecgbench_find_dependency(OpenMP)
  ecgbench_find_dependency(faiss)
endif()

# --- torch ----------------------------------------------------------------------------------------------
if(NOT DEFINED ECGBENCH_FIND_TORCH OR ECGBENCH_FIND_TORCH)
  ecgbench_find_dependency(Torch)
  # torch.distributed's Gloo backend: its headers' inline code calls libgloo (Debian: /usr/lib/libgloo.so).
  find_library(ECGBENCH_GLOO_LIBRARY NAMES gloo)
endif()
