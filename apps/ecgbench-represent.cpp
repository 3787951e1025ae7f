// ecgbench-represent: one ECG as the representation an ELM reads: the plotted 12-lead image
// (upstream-compatible) or the stacked signal as a PNG, or with --processor the pixel_values
// [1, 3, H, W] float32 .npy a vision encoder receives; --image applies a processor to an existing PNG.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/represent/represent.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"An ECG as the image an ELM reads (plotted or stacked), or its vision-encoder pixel values"};
  std::string npy_in, image_in, representation = "image", processor, out;
  bool augment = false;
  std::uint64_t seed = 0;
  double fs = 250;
  auto* src = app.add_option("--npy", npy_in, "float32 [12, L] signal (mV)");
  app.add_option("--image", image_in, "an existing PNG to run through --processor")->excludes(src);
  app.add_option("--representation", representation, "image | stacked")->check(CLI::IsMember({"image", "stacked"}))->capture_default_str();
  app.add_flag("--augment", augment, "upstream's --augment_image (seeded)");
  app.add_option("--seed", seed, "augmentation seed")->capture_default_str();
  app.add_option("--fs", fs, "sampling rate of --npy (Hz)")->capture_default_str();
  app.add_option("--processor", processor, "vit | siglip | clip | a folder with preprocessor_config.json");
  app.add_option("--out", out, "OUT.png, or OUT.npy with --processor")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    represent::RgbImage img;
    if (!image_in.empty()) {
      img = represent::read_png(image_in);
    } else {
      if (npy_in.empty()) throw Error("give --npy SIGNAL.npy or --image IN.png");
      const auto a = npy::load(npy_in);
      if (a.shape().size() != 2 || a.shape()[0] != 12) throw Error({npy_in, {}, {}, {}}, "expected a [12, L] array");
      const std::vector<float> sig = a.to_vector<float>();
      if (representation == "stacked") img = represent::stacked_signal(sig, 12);
      else {
        represent::EcgPlotOptions po;
        po.sample_rate = fs;
        img = represent::upstream_ecg_plot(sig, 12, po);
      }
      if (augment) {
        Rng rng = make_rng(seed, 0x41554700ull);
        represent::augment_image(img, rng);
      }
    }
    if (!processor.empty()) {
      const auto px = represent::ImageProcessor::named_or_directory(processor)(img);
      const std::size_t shape[4] = {1, 3, static_cast<std::size_t>(px.height), static_cast<std::size_t>(px.width)};
      npy::save<float>(out, px.values, shape);
    } else {
      if (!image_in.empty()) throw Error("--image needs --processor");
      represent::write_png(out, img);
    }
    std::printf("%s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-represent: %s\n", e.what());
    return 1;
  }
  return 0;
}
