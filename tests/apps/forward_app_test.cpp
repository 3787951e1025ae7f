// End-to-end test of ecgbench-forward on the golden checkpoints.
#include "support/catch_with_torch.hpp"

#include <cstdlib>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/models/tensor_io.hpp"
#include "support/test_data.hpp"
#include "support/toy_roberta.hpp"

using namespace ecgbench;

TEST_CASE("ecgbench-forward: logits, generation, encoders, errors", "[apps][models]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  const auto dir = test::temp_dir() / "app-forward";
  std::filesystem::create_directories(dir);
  const std::string app = std::string(ECGBENCH_APP_DIR) + "/ecgbench-forward";
  auto run = [&](const std::string& args, const std::string& log) {
    return std::system((app + " " + args + " >" + (dir / log).string() + " 2>&1").c_str());
  };
  const auto llama = test_data_path / "llama";
  REQUIRE(run("--model " + llama.string() + " --input-ids " + (llama / "input_ids.npy").string() + " --attention-mask " +
                  (llama / "attention_mask.npy").string() + " --out " + (dir / "logits.npy").string() + " --hidden-states", "a.log") == 0);
  const auto mask = models::load_npy_tensor(llama / "attention_mask.npy").to(torch::kBool).unsqueeze(-1);
  const auto got = models::load_npy_tensor(dir / "logits.npy"), want = models::load_npy_tensor(llama / "logits.npy");
  CHECK(((got - want).abs() * mask).max().item<double>() < 1e-4);
  CHECK(std::filesystem::exists(dir / "logits_hidden_2.npy"));
  // Generation: one row.
  models::save_npy_tensor(dir / "prompt.npy", models::load_npy_tensor(llama / "input_ids.npy").narrow(0, 0, 1));
  REQUIRE(run("--model " + llama.string() + " --input-ids " + (dir / "prompt.npy").string() + " --generate 8 --out " + (dir / "gen.npy").string(), "b.log") == 0);
  CHECK(torch::equal(models::load_npy_tensor(dir / "gen.npy"), models::load_npy_tensor(llama / "generated_ids.npy")));
  // A vision encoder.
  const auto vit = test_data_path / "vit";
  REQUIRE(run("--model " + vit.string() + " --pixel-values " + (vit / "pixel_values.npy").string() + " --out " + (dir / "vit.npy").string(), "c.log") == 0);
  CHECK((models::load_npy_tensor(dir / "vit.npy") - models::load_npy_tensor(vit / "last_hidden_state.npy")).abs().max().item<double>() < 1e-4);
  // Errors: floats as ids, two rows for --generate, missing input kind.
  CHECK(run("--model " + llama.string() + " --input-ids " + (llama / "logits.npy").string() + " --out " + (dir / "x.npy").string(), "d.log") != 0);
  CHECK(read_file(dir / "d.log").find("expected a 2-D") != std::string::npos);
  CHECK(run("--model " + llama.string() + " --input-ids " + (llama / "input_ids.npy").string() + " --generate 2 --out " + (dir / "x.npy").string(), "e.log") != 0);
  CHECK(read_file(dir / "e.log").find("one prompt row") != std::string::npos);
  CHECK(run("--model " + vit.string() + " --input-ids " + (llama / "input_ids.npy").string() + " --out " + (dir / "x.npy").string(), "f.log") != 0);
  CHECK(read_file(dir / "f.log").find("give --pixel-values") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "x.npy"));
}

TEST_CASE("ecgbench-eval scores BERTScore with a local checkpoint and summarises seeds", "[apps][eval][bertscore]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/roberta");
  const auto model = test::toy_roberta_dir(test_data_path);
  const auto dir = test::temp_dir() / "app-bertscore";
  std::filesystem::create_directories(dir);
  write_file_atomically(dir / "h.txt", std::string("sinus rhythm\nst elevation\n"));
  write_file_atomically(dir / "r.txt", std::string("sinus rhythm\nsinus rhythm with st elevation\n"));
  const std::string app = std::string(ECGBENCH_APP_DIR) + "/ecgbench-eval";
  auto run = [&](const std::string& args, const std::string& log) { return std::system((app + " " + args + " >" + (dir / log).string() + " 2>&1").c_str()); };
  REQUIRE(run("score --hyp " + (dir / "h.txt").string() + " --ref " + (dir / "r.txt").string() + " --metrics bertscore,bleu --bertscore-model " +
                  model.string() + " --bertscore-layer 1 --json", "s1.json") == 0);
  const Json s = read_json(dir / "s1.json");
  REQUIRE(s["BERTSCORE"]["hf-f1"].size() == 2);
  CHECK(s["BERTSCORE"]["hf-f1"][0].get<double>() == Approx(1.0).epsilon(1e-6));
  CHECK(s["BERTSCORE"]["hf-prec"][1].get<double>() > s["BERTSCORE"]["hf-rec"][1].get<double>());  // hyp inside ref
  write_json(dir / "run2.json", Json{{"BERTSCORE", {{"hf-prec", {0.5, 0.7}}, {"hf-rec", {0.5}}, {"hf-f1", {0.5}}}}});
  REQUIRE(run("results --inputs " + (dir / "s1.json").string() + "," + (dir / "run2.json").string() + " --format json", "t.json") == 0);
  const Json t = read_json(dir / "t.json");
  const double mean_prec = (s["BERTSCORE"]["hf-prec"][0].get<double>() + s["BERTSCORE"]["hf-prec"][1].get<double>()) / 2;
  CHECK(t["BERTSCORE hf-prec"]["mean"].get<double>() == Approx((mean_prec + 0.6) / 2 * 100));
  CHECK(run("score --hyp " + (dir / "h.txt").string() + " --ref " + (dir / "r.txt").string() + " --metrics bertscore", "e.log") != 0);
  CHECK(read_file(dir / "e.log").find("needs --bertscore-model") != std::string::npos);
}
