// safetensors header and tensor table: a file that opens has every tensor inside the data, with
// byte counts equal to shape x dtype; writing its tensors again and reading them back is identical.
#include <map>

#include "ecgbench/models/hf/safetensors.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  const auto path = fuzz::write_scratch("fuzz.safetensors", fuzz::as_text(data, size));
  return fuzz::guarded([&] {
    const hf::SafetensorsFile f(path);
    std::map<std::string, hf::TensorBytes> out;
    for (const auto& [name, t] : f.tensors()) {
      ECGBENCH_FUZZ_ASSERT(static_cast<std::uint64_t>(t.numel()) * hf::element_size(t.dtype) == t.bytes);
      out[name] = {t.dtype, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.bytes)};
    }
    const auto again = fuzz::scratch_file("fuzz-again.safetensors");
    hf::write_safetensors(again, out, f.metadata());
    const hf::SafetensorsFile g(again);
    ECGBENCH_FUZZ_ASSERT(g.tensors().size() == f.tensors().size());
    for (const auto& [name, t] : g.tensors())
      ECGBENCH_FUZZ_ASSERT(std::string(reinterpret_cast<const char*>(t.data), t.bytes) == out[name].bytes && t.shape == out[name].shape);
  });
}
