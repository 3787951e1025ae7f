// An 8-bit RGB image (row-major, interleaved) with PNG input and output (through Cairo, which
// Debian ships), written atomically.
#pragma once

#include <cairo.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench::represent {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  ///< height x width x 3

  RgbImage() = default;
  RgbImage(int w, int h, std::uint8_t fill = 255) : width(w), height(h), rgb(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3, fill) {}
  [[nodiscard]] std::uint8_t& at(int x, int y, int c) { return rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3 + static_cast<std::size_t>(c)]; }
  [[nodiscard]] std::uint8_t at(int x, int y, int c) const {
    return rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3 + static_cast<std::size_t>(c)];
  }
};

/// Copies an opaque Cairo surface (ARGB32 / RGB24) into an RgbImage.
inline RgbImage from_cairo(cairo_surface_t* s) {
  cairo_surface_flush(s);
  const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s), stride = cairo_image_surface_get_stride(s);
  const unsigned char* d = cairo_image_surface_get_data(s);
  RgbImage img(w, h);
  const bool alpha = cairo_image_surface_get_format(s) == CAIRO_FORMAT_ARGB32;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint32_t px;
      std::memcpy(&px, d + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride) + static_cast<std::size_t>(x) * 4, 4);
      std::uint32_t a = alpha ? (px >> 24) & 0xff : 255;
      for (int c = 0; c < 3; ++c) {
        std::uint32_t v = (px >> (16 - 8 * c)) & 0xff;  // premultiplied R, G, B
        if (a != 255) v = a ? (v * 255 + a / 2) / a + (255 - a) : 255;  // composite over white
        img.at(x, y, c) = static_cast<std::uint8_t>(std::min<std::uint32_t>(v, 255));
      }
    }
  return img;
}

inline RgbImage read_png(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error({path.string(), {}, {}, {}}, "image not found");
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(s));
    cairo_surface_destroy(s);
    throw Error({path.string(), {}, {}, {}}, "cannot read PNG: " + why);
  }
  RgbImage img = from_cairo(s);
  cairo_surface_destroy(s);
  return img;
}

inline void write_png(const std::filesystem::path& path, const RgbImage& img) {
  if (img.width <= 0 || img.height <= 0 || img.rgb.size() != static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height) * 3)
    throw Error({path.string(), {}, {}, {}}, "cannot write an empty or malformed image");
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img.width, img.height);
  unsigned char* d = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const std::uint32_t px = 0xff000000u | (std::uint32_t(img.at(x, y, 0)) << 16) | (std::uint32_t(img.at(x, y, 1)) << 8) | img.at(x, y, 2);
      std::memcpy(d + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride) + static_cast<std::size_t>(x) * 4, &px, 4);
    }
  cairo_surface_mark_dirty(s);
  std::string bytes;
  const auto st = cairo_surface_write_to_png_stream(
      s,
      [](void* closure, const unsigned char* data, unsigned int length) {
        static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
        return CAIRO_STATUS_SUCCESS;
      },
      &bytes);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) throw Error({path.string(), {}, {}, {}}, std::string("cannot encode PNG: ") + cairo_status_to_string(st));
  write_file_atomically(path, bytes);
}

}  // namespace ecgbench::represent
