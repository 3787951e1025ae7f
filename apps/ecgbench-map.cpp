// ecgbench-map: map an instruction / QA data set onto a preprocessed index (one conversation per
// ECG segment), and mix mapped data sets.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <set>

#include "ecgbench/core/strings.hpp"
#include "ecgbench/core/version.hpp"
#include "ecgbench/data/mapping.hpp"

using namespace ecgbench;
using namespace ecgbench::data;
namespace fs = std::filesystem;

namespace {

// A .json file (list), a .jsonl file (one item per line), or a folder of them (recursively, sorted).
std::vector<std::pair<std::string, Json>> read_sources(const fs::path& input) {
  std::vector<fs::path> files;
  if (fs::is_directory(input)) {
    for (const auto& e : fs::recursive_directory_iterator(input))
      if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".jsonl")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error({input.string(), {}, {}, {}}, "no .json or .jsonl files in this folder");
  } else {
    files.push_back(input);
  }
  std::vector<std::pair<std::string, Json>> out;
  for (const auto& f : files) {
    if (f.extension() == ".jsonl") out.emplace_back(f.string(), Json(read_jsonl(f)));
    else out.emplace_back(f.string(), read_json(f));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Map instruction / QA data sets onto preprocessed ECG segments; mix mapped sets"};
  app.require_subcommand(0, 1);
  std::string dataset, input, index_path, out_dir, out_file, inputs, weights;
  bool comparison = false, no_shuffle = false;
  std::uint64_t seed = 0;
  std::string names;
  for (const auto& n : mapping_dataset_names()) names += (names.empty() ? "" : ", ") + n;
  app.add_option("--dataset", dataset, "one of: " + names);
  app.add_option("--input", input, "source .json / .jsonl file or folder (PULSE ECGBench: the JSONL export of its Parquet)");
  app.add_option("--index", index_path, "preprocessed OUT/index.jsonl of the base data set");
  app.add_option("--out", out_dir, "output folder");
  app.add_flag("--include-comparison", comparison, "ECG-QA: keep comparison_* questions (two ECGs)");
  auto* mix = app.add_subcommand("mix", "mix mapped JSONL files");
  mix->add_option("--inputs", inputs, "A.jsonl,B.jsonl,...")->required();
  mix->add_option("--weights", weights, "per input: fraction (< 1 subsample) or factor (> 1 oversample); default 1 each");
  mix->add_option("--seed", seed, "random seed")->capture_default_str();
  mix->add_flag("--no-shuffle", no_shuffle, "keep input order (with weights 1: plain concatenation)");
  mix->add_option("--out", out_file, "output JSONL")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    auto split_csv = [](const std::string& s) {  // "a,b," -> a, b (empty pieces dropped)
      std::vector<std::string> v;
      for (auto& piece : split(s, ','))
        if (!piece.empty()) v.push_back(std::move(piece));
      return v;
    };
    if (*mix) {
      std::vector<std::vector<Conversation>> sets;
      for (const auto& f : split_csv(inputs)) {
        std::vector<Conversation> cs;
        for_each_jsonl(f, [&](Json&& j, std::size_t line) { cs.push_back(conversation_from_json(j, f, "line " + std::to_string(line))); });
        sets.push_back(std::move(cs));
      }
      std::vector<double> w;
      for (const auto& s : split_csv(weights)) {
        try {
          w.push_back(std::stod(s));
        } catch (const std::exception&) {
          throw Error("--weights: '" + s + "' is not a number");
        }
      }
      const auto mixed = mix_conversations(sets, w, seed, !no_shuffle);
      std::vector<Json> rows;
      for (const auto& c : mixed) rows.push_back(to_json(c));
      write_jsonl(out_file, rows);
      std::printf("mixed %zu conversations into %s\n", rows.size(), out_file.c_str());
      return 0;
    }
    if (dataset.empty() || input.empty() || index_path.empty() || out_dir.empty())
      throw Error("--dataset, --input, --index and --out are required");
    const auto index = read_segment_index(index_path);
    if (index.empty()) throw Error({index_path, {}, {}, {}}, "empty index");
    MappingOptions opt;
    opt.include_comparison = comparison;
    std::vector<SourceItem> items;
    std::size_t raw = 0;
    for (const auto& [file, json] : read_sources(input)) {
      raw += json.is_array() ? json.size() : 0;
      auto part = read_mapping_source(dataset, json, file, opt);
      items.insert(items.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    const auto r = map_items(dataset, items, index);
    const std::string stem = dataset + "_mapped_" + std::to_string(index.front().segment_len);
    std::vector<Json> rows;
    for (const auto& c : r.conversations) rows.push_back(to_json(c));
    write_jsonl(fs::path(out_dir) / (stem + ".jsonl"), rows);
    Json unmatched = Json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(r.unmatched.size(), 1000); ++i) unmatched.push_back(r.unmatched[i]);
    write_json(fs::path(out_dir) / (stem + ".manifest.json"),
               Json{{"dataset", dataset}, {"input", input}, {"index", index_path}, {"version", version}, {"items_read", raw},
                    {"items_kept", r.items}, {"items_filtered", raw - r.items}, {"items_matched", r.matched},
                    {"items_unmatched", r.unmatched.size()}, {"unmatched_ids", unmatched}, {"conversations", rows.size()}});
    std::printf("%s: %zu items read, %zu kept, %zu matched, %zu unmatched -> %zu conversations in %s\n", dataset.c_str(), raw, r.items,
                r.matched, r.unmatched.size(), rows.size(), (fs::path(out_dir) / (stem + ".jsonl")).c_str());
    if (!r.unmatched.empty()) std::printf("unmatched item ids are listed in %s.manifest.json\n", stem.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-map: %s\n", e.what());
    return 1;
  }
  return 0;
}
