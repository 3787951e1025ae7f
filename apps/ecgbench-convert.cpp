// ecgbench-convert: a PyTorch checkpoint (torch.save's zip format: .pth / .pt / .bin, plain or
// wrapped state dicts, DDP's "module." prefix) -> one safetensors file with the same tensor names and
// dtypes. Read without executing the pickle (a whitelist of torch's tensor records). Torch-free.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/models/hf/checkpoint_convert.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Convert a PyTorch checkpoint to safetensors"};
  std::string in, out, strip;
  app.add_option("--in", in, "checkpoint written by torch.save (.pth, .pt, .bin)")->required();
  app.add_option("--out", out, "output .safetensors")->required();
  app.add_option("--strip-prefix", strip, "remove this prefix from tensor names (e.g. 'st_mem.')");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto n = ecgbench::hf::convert_pytorch_to_safetensors(in, out, strip);
    std::printf("%s: %zu tensors -> %s\n", in.c_str(), n, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-convert: %s\n", e.what());
    return 1;
  }
  return 0;
}
