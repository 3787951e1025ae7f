// The instruction/QA data sets' JSON (ECG-QA, ECG-Chat, PULSE, GEM readers): the first byte picks
// the data set; items that read have at least one turn and a source id.
#include "ecgbench/core/json.hpp"
#include "ecgbench/data/mapping.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  if (size < 1) return 0;
  const auto& names = data::mapping_dataset_names();
  const std::string name = names[data[0] % names.size()];
  return fuzz::guarded([&] {
    const Json j = parse_json(fuzz::as_text(data + 1, size - 1), "fuzz.json");
    data::MappingOptions opt;
    opt.include_comparison = data[0] & 0x80;
    for (const auto& item : data::read_mapping_source(name, j, "fuzz.json", opt)) ECGBENCH_FUZZ_ASSERT(!item.turns.empty());
  });
}
