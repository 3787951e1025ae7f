// PyTorch checkpoints (torch.save's zip + pickle): any input either reads as tensors that lie inside
// their storages with byte counts equal to shape x dtype, or fails with an Error; nothing outside the
// whitelist is ever accepted. Converting what reads to safetensors and back keeps every byte.
#include <map>

#include "ecgbench/models/hf/pytorch_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const hf::PytorchFile f(std::span<const unsigned char>(data, size), "fuzz.pth");
    std::map<std::string, hf::TensorBytes> out;
    for (const auto& [name, t] : f.tensors()) {
      ECGBENCH_FUZZ_ASSERT(static_cast<std::uint64_t>(t.numel()) * hf::element_size(t.dtype) == t.bytes);
      const auto* p = reinterpret_cast<const std::uint8_t*>(t.data);
      const bool inside = t.bytes == 0 || (p >= data && p + t.bytes <= data + size);
      if (!inside) (void)std::string(reinterpret_cast<const char*>(t.data), t.bytes);  // a copied view: ASan checks the buffer
      out[name] = {t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.bytes)};
    }
    const auto path = fuzz::scratch_file("fuzz-pth.safetensors");
    hf::write_safetensors(path, out);
    const hf::SafetensorsFile g(path);
    ECGBENCH_FUZZ_ASSERT(g.tensors().size() == out.size());
    for (const auto& [name, t] : g.tensors()) ECGBENCH_FUZZ_ASSERT(std::string(reinterpret_cast<const char*>(t.data), t.bytes) == out[name].bytes);
  });
}
