// Hugging Face image processors as transformers' slow (PIL) classes compute them (ViTImageProcessor,
// SiglipImageProcessor, CLIPImageProcessor), from `preprocessor_config.json`: resize (fixed size,
// or the shortest edge to s with the long side int(s long / short)) with Pillow's exact filters,
// centre crop (top = (h - c) // 2), rescale (x in float64 times the factor, then float32) and
// normalise ((x - mean) / std in float32). Output: pixel_values [3, H, W] float32, channel-first.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/represent/image.hpp"
#include "ecgbench/represent/pil_resize.hpp"

namespace ecgbench::represent {

struct PixelValues {
  std::int64_t channels = 3, height = 0, width = 0;
  std::vector<float> values;  ///< channel-first
};

struct ImageProcessor {
  bool do_resize = true;
  int height = 224, width = 224;  ///< fixed size (when shortest_edge == 0)
  int shortest_edge = 0;          ///< CLIP: resize so the shorter side is this
  Resample resample = Resample::bilinear;
  bool do_center_crop = false;
  int crop_height = 224, crop_width = 224;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f}, std{0.5f, 0.5f, 0.5f};
  std::string name = "custom";

  /// google/vit-base-patch16-224-in21k: 224x224 BILINEAR, mean / std 0.5.
  static ImageProcessor vit() {
    ImageProcessor p;
    p.name = "vit";
    return p;
  }
  /// google/siglip-base-patch16-224: 224x224 BICUBIC, mean / std 0.5.
  static ImageProcessor siglip() {
    ImageProcessor p;
    p.resample = Resample::bicubic;
    p.name = "siglip";
    return p;
  }
  /// openai/clip-vit-base-patch32: shortest edge 224 BICUBIC, centre crop 224, CLIP's mean / std.
  static ImageProcessor clip() {
    ImageProcessor p;
    p.shortest_edge = 224;
    p.resample = Resample::bicubic;
    p.do_center_crop = true;
    p.mean = {0.48145466f, 0.4578275f, 0.40821073f};
    p.std = {0.26862954f, 0.26130258f, 0.27577711f};
    p.name = "clip";
    return p;
  }
  /// `vit`, `siglip`, `clip`, or a folder with preprocessor_config.json.
  static ImageProcessor named_or_directory(const std::string& s) {
    if (s == "vit") return vit();
    if (s == "siglip") return siglip();
    if (s == "clip") return clip();
    return from_directory(s);
  }
  static ImageProcessor from_directory(const std::filesystem::path& dir) {
    const auto f = std::filesystem::is_directory(dir) ? dir / "preprocessor_config.json" : dir;
    if (!std::filesystem::exists(f)) throw Error({f.string(), {}, {}, {}}, "no preprocessor_config.json (give vit, siglip, clip or a folder holding one)");
    return from_json(read_json(f), f.string());
  }
  static ImageProcessor from_json(const Json& j, const std::string& file) {
    return with_json_errors(file, [&] {
      ImageProcessor p;
      p.name = j.value("image_processor_type", std::string("custom"));
      p.do_resize = j.value("do_resize", true);
      if (j.contains("size")) {
        const Json& s = j["size"];
        if (s.is_number_integer()) p.height = p.width = json_as<int>(s, file, "size");
        else if (s.contains("shortest_edge")) p.shortest_edge = json_as<int>(s["shortest_edge"], file, "size.shortest_edge");
        else p.height = json_get<int>(s, "height", file, "size"), p.width = json_get<int>(s, "width", file, "size");
      }
      const int r = j.value("resample", 2);
      if (r == 2) p.resample = Resample::bilinear;
      else if (r == 3) p.resample = Resample::bicubic;
      else if (r == 0) p.resample = Resample::nearest;
      else throw Error({file, {}, {}, "resample"}, "unsupported resample filter " + std::to_string(r) + " (0 nearest, 2 bilinear, 3 bicubic)");
      p.do_center_crop = j.value("do_center_crop", false);
      if (j.contains("crop_size")) {
        const Json& c = j["crop_size"];
        if (c.is_number_integer()) p.crop_height = p.crop_width = json_as<int>(c, file, "crop_size");
        else p.crop_height = json_get<int>(c, "height", file, "crop_size"), p.crop_width = json_get<int>(c, "width", file, "crop_size");
      }
      p.do_rescale = j.value("do_rescale", true);
      p.rescale_factor = j.value("rescale_factor", 1.0 / 255.0);
      p.do_normalize = j.value("do_normalize", true);
      if (j.contains("image_mean")) {
        const auto m = json_as<std::vector<double>>(j["image_mean"], file, "image_mean");
        if (m.size() != 3) throw Error({file, {}, {}, "image_mean"}, "needs three values");
        for (int c = 0; c < 3; ++c) p.mean[static_cast<std::size_t>(c)] = static_cast<float>(m[static_cast<std::size_t>(c)]);
      }
      if (j.contains("image_std")) {
        const auto m = json_as<std::vector<double>>(j["image_std"], file, "image_std");
        if (m.size() != 3) throw Error({file, {}, {}, "image_std"}, "needs three values");
        for (int c = 0; c < 3; ++c) p.std[static_cast<std::size_t>(c)] = static_cast<float>(m[static_cast<std::size_t>(c)]);
      }
      if (p.do_resize && p.shortest_edge <= 0 && (p.height <= 0 || p.width <= 0)) throw Error({file, {}, {}, "size"}, "size must be positive");
      return p;
    });
  }

  [[nodiscard]] PixelValues operator()(const RgbImage& input) const {
    if (!do_resize && !do_center_crop) return pixels(input);
    RgbImage img;
    const RgbImage* cur = &input;  // no copy of the (large) input image
    if (do_resize) {
      int w = width, h = height;
      if (shortest_edge > 0) {  // transformers' get_resize_output_image_size(default_to_square=False)
        const bool landscape = input.width >= input.height;
        const int short_side = landscape ? input.height : input.width, long_side = landscape ? input.width : input.height;
        const int new_long = static_cast<int>(static_cast<double>(shortest_edge) * long_side / short_side);
        w = landscape ? new_long : shortest_edge;
        h = landscape ? shortest_edge : new_long;
      }
      img = pil_resize(input, w, h, resample);
      cur = &img;
    }
    if (do_center_crop) {  // transformers' center_crop on an array (pads with zeros when smaller)
      RgbImage out(crop_width, crop_height, 0);
      const RgbImage& from = *cur;
      const int top = (from.height - crop_height) / 2 - ((from.height - crop_height) < 0 && (from.height - crop_height) % 2 ? 1 : 0);
      const int left = (from.width - crop_width) / 2 - ((from.width - crop_width) < 0 && (from.width - crop_width) % 2 ? 1 : 0);
      for (int y = 0; y < crop_height; ++y)
        for (int x = 0; x < crop_width; ++x) {
          const int sy = y + top, sx = x + left;
          if (sy < 0 || sx < 0 || sy >= from.height || sx >= from.width) continue;
          for (int c = 0; c < 3; ++c) out.at(x, y, c) = from.at(sx, sy, c);
        }
      img = std::move(out);
      cur = &img;
    }
    return pixels(*cur);
  }

  /// Rescale and normalise into [3, H, W] float32.
  [[nodiscard]] PixelValues pixels(const RgbImage& img) const {
    PixelValues px;
    px.height = img.height;
    px.width = img.width;
    px.values.resize(static_cast<std::size_t>(3 * img.height * img.width));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
          float v = do_rescale ? static_cast<float>(static_cast<double>(img.at(x, y, c)) * rescale_factor) : static_cast<float>(img.at(x, y, c));
          if (do_normalize) v = (v - mean[static_cast<std::size_t>(c)]) / std[static_cast<std::size_t>(c)];
          px.values[(static_cast<std::size_t>(c) * static_cast<std::size_t>(img.height) + static_cast<std::size_t>(y)) * static_cast<std::size_t>(img.width) +
                    static_cast<std::size_t>(x)] = v;
        }
    return px;
  }
};

}  // namespace ecgbench::represent
