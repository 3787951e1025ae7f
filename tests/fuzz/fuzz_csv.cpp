// RFC-4180 CSV metadata (PTB-XL, MIMIC, CODE-15 tables): every parsed row has the header's width.
#include "ecgbench/io/csv.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const auto t = io::CsvTable::parse(fuzz::as_text(data, size), "fuzz.csv");
    for (std::size_t r = 0; r < t.size(); ++r) ECGBENCH_FUZZ_ASSERT(t.row(r).size() == t.header().size());
  });
}
