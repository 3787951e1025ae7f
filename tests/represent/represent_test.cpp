// Tests for include/ecgbench/represent: the stacked signal and the upstream-compatible plot against
// ../shared/data/golden/ecg-image (made by ecg_plot + matplotlib 3.6 and PIL), the image processors
// (Pillow-exact resize) against transformers' pixel values, perturbation probes, augmentation, and
// the clinical plot read back by content.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/represent/represent.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::represent;

namespace {

const char* const image_cases[] = {"06000_hr_0", "06001_hr_1", "06002_hr_0_2s"};

double mean_abs_diff(const RgbImage& a, const RgbImage& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  double s = 0;
  for (std::size_t i = 0; i < a.rgb.size(); ++i) s += std::abs(int(a.rgb[i]) - int(b.rgb[i])) / 255.0;
  return s / static_cast<double>(a.rgb.size());
}

/// Per 120-pixel band and column, the centroid row of the trace's blueness (blue minus red).
std::vector<double> trace_centroids(const RgbImage& img) {
  std::vector<double> out;
  for (int band = 0; band + 120 <= img.height; band += 120)
    for (int x = 0; x < img.width; ++x) {
      double w = 0, wy = 0;
      for (int y = band; y < band + 120; ++y) {
        const double b = std::max(0, int(img.at(x, y, 2)) - int(img.at(x, y, 0)));
        w += b, wy += b * y;
      }
      out.push_back(w > 20 ? wy / w : NAN);
    }
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p / 100 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  return v[lo] + (v[std::min(lo + 1, v.size() - 1)] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

TEST_CASE("stacked signal equals upstream's image byte for byte", "[represent][golden]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/ecg-image");
  for (const std::string id : image_cases) {
    INFO(id);
    const auto a = npy::load(test_data_path / id / "signal.npy");
    const auto sig = a.to_vector<float>();
    const RgbImage mine = stacked_signal(sig, 12), want = read_png(test_data_path / id / "stacked.png");
    REQUIRE(mine.width == want.width);
    REQUIRE(mine.height == 12);
    CHECK(mine.rgb == want.rgb);
  }
}

TEST_CASE("the upstream-compatible plot matches ecg_plot + matplotlib", "[represent][golden][plot]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/ecg-image");
  for (const std::string id : image_cases) {
    INFO(id);
    const auto sig = npy::load(test_data_path / id / "signal.npy").to_vector<float>();
    const RgbImage mine = upstream_ecg_plot(sig, 12), want = read_png(test_data_path / id / "ecg_plot.png");
    CHECK(mine.width == want.width);
    CHECK(mine.height == 720);
    const double mad = mean_abs_diff(mine, want);
    INFO("mean absolute difference " << mad);
    CHECK(mad <= 0.03);
    const auto c1 = trace_centroids(mine), c2 = trace_centroids(want);
    std::vector<double> d;
    for (std::size_t i = 0; i < c1.size(); ++i)
      if (!std::isnan(c1[i]) && !std::isnan(c2[i])) d.push_back(std::abs(c1[i] - c2[i]));
    REQUIRE(d.size() > c1.size() / 2);
    INFO("centroid median " << percentile(d, 50) << " px, p99 " << percentile(d, 99) << " px");
    CHECK(percentile(d, 50) <= 0.5);
    CHECK(percentile(d, 99) <= 3.0);
    // Drawn as Agg draws it, almost every byte is matplotlib's: 99.0-99.3 % measured; the rest are
    // the label glyphs (FreeType in matplotlib, Cairo here) and +-1 where Agg's integer cell
    // arithmetic rounds an area differently (Cairo's own stroker gave 91.9-94.6 %).
    std::size_t same = 0;
    for (std::size_t i = 0; i < mine.rgb.size(); ++i) same += mine.rgb[i] == want.rgb[i];
    const double exact = static_cast<double>(same) / static_cast<double>(mine.rgb.size());
    INFO("bytes equal to matplotlib's " << exact);
    CHECK(exact >= 0.985);
    // Away from the labels no byte is off by more than 3 (the y axis's tick marks included).
    int worst = 0;
    for (int y = 0; y < mine.height; ++y)
      for (int x = 0; x < mine.width; ++x) {
        const bool near_label = (x % (mine.width / 2)) < 40 && (y % 120) >= 60 && (y % 120) < 90;  // baselines at 80 + 120 i
        if (!near_label)
          for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(int(mine.at(x, y, c)) - int(want.at(x, y, c))));
      }
    CHECK(worst <= 3);
  }
  // The swapped labels are ecg_plot's: row 3 (aVR data in PTB-XL order) is labelled aVL.
  CHECK(EcgPlotOptions{}.lead_names[3] == "aVL");
  CHECK(EcgPlotOptions{}.lead_names[4] == "aVR");
}

TEST_CASE("Agg rasteriser: exact coverage, Agg's rounding, non-zero winding, the plain blender", "[represent][plot][raster]") {
  // A black rectangle x in [1.25, 3.5], y in [0.5, 2] on white. Coverage per pixel, row 0: 0.375,
  // 0.5, 0.25; row 1: 0.75, 1, 0.5. Agg's cover = floor(256 c) signed (this winding is negative, so
  // the magnitude rounds up; all exact here): 96 128 64 / 192 255 128. matplotlib's plain blender
  // onto white: 65025 (256 - a) / (65280 + a), truncated: 96 -> 159, 128 -> 127, 64 -> 191, 192 -> 63.
  RgbImage img(5, 3, 255);
  Rasterizer ras(5, 3);
  const std::vector<PointD> rect{{1.25, 0.5}, {3.5, 0.5}, {3.5, 2.0}, {1.25, 2.0}};
  ras.add_polygon(rect);
  ras.render(img, Rgb8{0, 0, 0});
  const int want[3][5] = {{255, 159, 127, 191, 255}, {255, 63, 0, 127, 255}, {255, 255, 255, 255, 255}};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x)
      for (int c = 0; c < 3; ++c) {
        INFO(x << "," << y);
        CHECK(int(img.at(x, y, c)) == want[y][x]);
      }
  // The blender with a colour: cover 128 of (0, 0, 179) over (230, 77, 77) -> per channel
  // (((src << 8) - 255 d) 128 + 255 d 256) / 65408: 7507200 / 65408 = 114.8, 38.4, 128.1.
  std::uint8_t px[3] = {230, 77, 77};
  blend_plain(px, rgb8_from_float(0, 0, 0.7), 128);
  CHECK(int(px[0]) == 114);
  CHECK(int(px[1]) == 38);
  CHECK(int(px[2]) == 128);
  CHECK(int(rgb8_from_float(0.9, 0.3, 0.3).r) == 230);

  // Non-zero winding: two overlapping rectangles in one pass shade like their union (winding 2
  // clamps to full cover; like Agg, partial covers in one pixel add up, so the rows are whole here).
  RgbImage two(6, 2, 255), one(6, 2, 255);
  Rasterizer r2(6, 2);
  const std::vector<PointD> a{{0.5, 0}, {3.5, 0}, {3.5, 2}, {0.5, 2}}, b{{2.25, 0}, {5.25, 0}, {5.25, 2}, {2.25, 2}};
  const std::vector<PointD> u{{0.5, 0}, {5.25, 0}, {5.25, 2}, {0.5, 2}};
  r2.add_polygon(a), r2.add_polygon(b), r2.render(two, Rgb8{0, 0, 0});
  r2.add_polygon(u), r2.render(one, Rgb8{0, 0, 0});
  CHECK(two.rgb == one.rgb);

  // Area is conserved: a white triangle on black sums (in cover units) to its area within 1 %.
  RgbImage black(64, 64, 0);
  Rasterizer r3(64, 64);
  const std::vector<PointD> tri{{3.3, 5.7}, {60.1, 20.4}, {17.9, 58.2}};
  r3.add_polygon(tri), r3.render(black, Rgb8{255, 255, 255});
  double sum = 0;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) sum += black.at(x, y, 0) / 255.0;
  const double area = std::abs((60.1 - 3.3) * (58.2 - 5.7) - (17.9 - 3.3) * (20.4 - 5.7)) / 2;
  CHECK(sum == Approx(area).epsilon(0.01));

  // Clipped on the left: a polygon from x = -10 still covers column 0 fully.
  RgbImage clip(4, 1, 255);
  Rasterizer r4(4, 1);
  const std::vector<PointD> wide{{-10, 0}, {1.5, 0}, {1.5, 1}, {-10, 1}};
  r4.add_polygon(wide), r4.render(clip, Rgb8{0, 0, 0});
  CHECK(int(clip.at(0, 0, 0)) == 0);
  CHECK(int(clip.at(1, 0, 0)) == 127);  // half covered
  CHECK(int(clip.at(2, 0, 0)) == 255);
  // Far outside (1e12 px, as a broken signal makes): clipped in double first, the same pixels.
  RgbImage far(4, 3, 255);
  Rasterizer r5(4, 3);
  const std::vector<PointD> far_left{{-1e12, 0}, {1.5, 0}, {1.5, 1}, {-1e12, 1}}, tall{{2, -1e15}, {3, -1e15}, {3, 1e15}, {2, 1e15}};
  r5.add_polygon(far_left), r5.add_polygon(tall), r5.render(far, Rgb8{0, 0, 0});
  for (int y = 0; y < 3; ++y) CHECK(int(far.at(2, y, 0)) == 0);
  CHECK(int(far.at(0, 0, 0)) == 0);
  CHECK(int(far.at(1, 0, 0)) == 127);
  CHECK(int(far.at(0, 1, 0)) == 255);
  CHECK(int(far.at(3, 1, 0)) == 255);
  // And past the right edge: every column from the start on is covered.
  RgbImage right(6, 1, 255);
  Rasterizer r6(6, 1);
  const std::vector<PointD> far_right{{2.5, 0}, {1e12, 0}, {1e12, 1}, {2.5, 1}};
  r6.add_polygon(far_right), r6.render(right, Rgb8{0, 0, 0});
  CHECK(int(right.at(1, 0, 0)) == 255);
  CHECK(int(right.at(2, 0, 0)) == 127);
  for (int x = 3; x < 6; ++x) CHECK(int(right.at(x, 0, 0)) == 0);
}

TEST_CASE("Agg stroker: caps, round and inner-mitre joins", "[represent][plot][raster]") {
  // Width 2 along (0,0)-(10,0): square caps reach 1 past each end; butt caps stop there.
  const std::vector<PointD> h{{0, 0}, {10, 0}};
  auto near = [](PointD p, double x, double y) { return std::abs(p.x - x) < 1e-9 && std::abs(p.y - y) < 1e-9; };
  const auto sq = stroke_outline(h, {2.0, LineCap::square, LineJoin::round});
  REQUIRE(sq.size() == 4);
  CHECK(near(sq[0], -1, 1));
  CHECK(near(sq[1], -1, -1));
  CHECK(near(sq[2], 11, -1));
  CHECK(near(sq[3], 11, 1));
  const auto butt = stroke_outline(h, {2.0, LineCap::butt, LineJoin::round});
  REQUIRE(butt.size() == 4);
  CHECK(near(butt[0], 0, 1));
  CHECK(near(butt[2], 10, -1));
  // A right-angle turn (0,0)-(10,0)-(10,10): Agg's arc step is 2 acos(1 / 1.125) = 0.952 rad, so
  // a quarter turn gets one point between (10,-1) and (11,0), at 45 degrees; the inner side is the
  // mitre point (9,1).
  const std::vector<PointD> l{{0, 0}, {10, 0}, {10, 10}};
  const auto o = stroke_outline(l, {2.0, LineCap::square, LineJoin::round});
  REQUIRE(o.size() == 8);
  CHECK(near(o[2], 10, -1));
  CHECK(near(o[3], 10 + std::sqrt(0.5), -std::sqrt(0.5)));
  CHECK(near(o[4], 11, 0));
  CHECK(near(o[5], 11, 11));
  CHECK(near(o[6], 9, 11));
  CHECK(near(o[7], 9, 1));
  // Bevel: the two offset points instead of the arc.
  CHECK(stroke_outline(l, {2.0, LineCap::square, LineJoin::bevel}).size() == 7);
  // Coincident points collapse; fewer than two distinct points draw nothing.
  const std::vector<PointD> dup{{0, 0}, {0, 0}, {10, 0}};
  CHECK(stroke_outline(dup, {2.0}).size() == 4);
  const std::vector<PointD> dot{{3, 3}, {3, 3}};
  CHECK(stroke_outline(dot, {2.0}).empty());
}

TEST_CASE("matplotlib's path converters: snapping, clipping, simplification", "[represent][plot][raster]") {
  // Snapping: rectilinear paths move to pixel centres for odd rounded widths, edges for even.
  std::vector<PointD> v{{10.3, 5.2}, {10.3, 40.7}};
  snap_if_rectilinear(v, 0.69);
  CHECK((v[0].x == 10.5 && v[0].y == 5.5 && v[1].x == 10.5 && v[1].y == 41.5));
  std::vector<PointD> e{{10.3, 5.2}, {10.3, 40.7}};
  snap_if_rectilinear(e, 2.0);
  CHECK((e[0].x == 10 && e[1].y == 41));
  std::vector<PointD> diag{{10.3, 5.2}, {12.3, 40.7}};
  snap_if_rectilinear(diag, 0.69);
  CHECK(diag[0].x == 10.3);

  // Clipping to [-1, 11] x [-1, 11]: a path leaving and re-entering becomes two subpaths.
  const std::vector<PointD> out_and_back{{5, 5}, {20, 5}, {20, 8}, {5, 8}};
  const auto parts = clip_polyline(out_and_back, 10, 10);
  REQUIRE(parts.size() == 2);
  REQUIRE(parts[0].size() == 2);
  CHECK((parts[0][1].x == Approx(11) && parts[0][1].y == Approx(5)));
  CHECK((parts[1][0].x == Approx(11) && parts[1][0].y == Approx(8) && parts[1][1].x == Approx(5)));

  // Simplification: 200 collinear points keep their ends (PathSimplifier repeats the last one).
  std::vector<PointD> line;
  for (int i = 0; i < 200; ++i) line.push_back({0.4 * i, 0.2 * i});
  const auto s = simplify_polyline(line);
  REQUIRE(s.size() == 3);
  CHECK((s[0].x == 0 && s[0].y == 0));
  CHECK((s[1].x == Approx(79.6) && s[2].x == Approx(79.6)));
  // A point 0.5 px off the line stays (0.5 > 1/9); one 0.05 px off merges.
  auto bump = line;
  bump[100].y += 0.5;
  const auto sb = simplify_polyline(bump);
  CHECK(std::any_of(sb.begin(), sb.end(), [&](PointD p) { return p.x == bump[100].x && p.y == bump[100].y; }));
  auto tiny = line;
  tiny[100].y += 0.05;
  CHECK(simplify_polyline(tiny).size() == 3);
  // Fewer than 128 vertices: left alone (matplotlib's should_simplify).
  const std::vector<PointD> short_line(line.begin(), line.begin() + 100);
  CHECK(simplify_polyline(short_line).size() == 100);
  // Going back past the start: the furthest points forward (229) and backward (20) both stay.
  std::vector<PointD> back;
  for (int i = 100; i < 230; ++i) back.push_back({static_cast<double>(i), 0});
  for (int i = 228; i >= 20; --i) back.push_back({static_cast<double>(i), 0});
  back.push_back({20, 30});
  const auto sbk = simplify_polyline(back);
  auto has = [&](double x, double y) { return std::any_of(sbk.begin(), sbk.end(), [&](PointD p) { return p.x == x && p.y == y; }); };
  CHECK(has(229, 0));
  CHECK(has(20, 0));
  CHECK(sbk.size() == 5);  // (100,0) (229,0) (20,0) (20,30) (20,30)
}

TEST_CASE("the upstream-compatible plot: traces where the signal says, extreme values clipped", "[represent][plot][raster]") {
  // Flat signals at 0 and at 1 mV: lead i's trace is the 0.69-px band around y = 60 + 120 i (rows
  // 59 and 60 a third covered each) in the first and 40 px higher in the second; elsewhere the two
  // images are the same grid.
  const std::vector<float> flat(12 * 1250, 0.0f), raised(12 * 1250, 1.0f);
  const RgbImage img = upstream_ecg_plot(flat, 12), up = upstream_ecg_plot(raised, 12);
  auto differs = [&](int x, int y) {
    for (int c = 0; c < 3; ++c)
      if (img.at(x, y, c) != up.at(x, y, c)) return true;
    return false;
  };
  for (int lead = 0; lead < 6; ++lead)
    for (int x : {250, 750}) {
      INFO("row " << lead << " x " << x);
      const int y = 60 + 120 * lead;
      CHECK(differs(x, y - 1));
      CHECK(differs(x, y));
      CHECK(differs(x, y - 41));
      CHECK(differs(x, y - 40));
      CHECK_FALSE(differs(x, y - 2));
      CHECK_FALSE(differs(x, y + 1));
      CHECK_FALSE(differs(x, y - 39));
      CHECK_FALSE(differs(x, y - 42));
      CHECK(int(img.at(x, y - 1, 2)) > int(img.at(x, y - 1, 0)) - 80);  // blue blended in (the grid alone is red)
    }
  // Amplitudes far beyond the canvas (a broken lead): clipped, drawn, no overflow.
  std::vector<float> wild(12 * 1250);
  for (std::size_t i = 0; i < wild.size(); ++i) wild[i] = (i % 2 ? 1e6f : -1e6f) * static_cast<float>(1 + i % 7);
  const RgbImage w = upstream_ecg_plot(wild, 12);
  CHECK(w.width == 1000);
  CHECK(w.height == 720);
  int dark_columns = 0;  // the zigzag crosses every row, so each column is mostly trace blue
  for (int x = 0; x < w.width; x += 10) dark_columns += w.at(x, 360, 0) < 100;
  CHECK(dark_columns > 90);
}

TEST_CASE("matplotlib's tick locators", "[represent][plot]") {
  // MaxNLocator(10) with its default steps; values as matplotlib 3.6 gives them.
  CHECK(represent::detail::max_n_locator(0, 10, 10) == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  const auto x4 = represent::detail::max_n_locator(0, 4, 10);
  REQUIRE(x4.size() == 11);
  CHECK(x4[1] == Approx(0.4));
  CHECK(represent::detail::max_n_locator(-16.5, 1.5, 10) == std::vector<double>{-18, -16, -14, -12, -10, -8, -6, -4, -2, 0, 2});
  const auto m = represent::detail::auto_minor_locator({-18, -16, -14, -12, -10, -8, -6, -4, -2, 0, 2}, -16.5, 1.5, 0);
  REQUIRE(!m.empty());
  CHECK(m.front() == Approx(-15.5));  // 4 divisions of a major step of 2; -16 is a major
  CHECK(m.back() == Approx(1.5));
  CHECK(represent::detail::pyfloordiv(-7.0, 2.0) == -4.0);
  CHECK(represent::detail::pyfloordiv(10.0, 0.2) == 49.0);  // Python: 10 // 0.2 == 49.0
}

TEST_CASE("image processors equal transformers' slow processors", "[represent][golden][processor]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/ecg-image");
  for (const std::string id : image_cases)
    for (const std::string proc : {"vit", "siglip", "clip"})
      for (const std::string src : {"ecg_plot", "stacked"}) {
        INFO(id << " " << proc << " " << src);
        const RgbImage in = read_png(test_data_path / id / (src + ".png"));
        const PixelValues px = ImageProcessor::named_or_directory(proc)(in);
        const auto want = npy::load(test_data_path / id / ("pixel_values_" + proc + "_" + src + ".npy"));
        REQUIRE(want.shape() == std::vector<std::size_t>{1, 3, 224, 224});
        const auto w = want.to_vector<float>();
        REQUIRE(px.values.size() == w.size());
        double worst = 0;
        for (std::size_t i = 0; i < w.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(w[i] - px.values[i])));
        CHECK(worst <= 1e-6);
        // From our own rendering: within what the image difference allows (<= 0.03 / std).
        if (src == "ecg_plot") {
          const auto sig = npy::load(test_data_path / id / "signal.npy").to_vector<float>();
          const PixelValues ours = ImageProcessor::named_or_directory(proc)(upstream_ecg_plot(sig, 12));
          double mad = 0;
          for (std::size_t i = 0; i < w.size(); ++i) mad += std::abs(w[i] - ours.values[i]);
          mad /= static_cast<double>(w.size());
          const double limit = 0.03 / (proc == "clip" ? 0.26130258 : 0.5);
          INFO("mean |pixel value difference| from our rendering " << mad << " (limit " << limit << ")");
          CHECK(mad <= limit);
        }
      }
}

TEST_CASE("image processor configuration and Pillow resizing", "[represent][processor]") {
  const auto dir = test::temp_dir() / "proc";
  std::filesystem::create_directories(dir);
  write_json(dir / "preprocessor_config.json",
             Json{{"image_processor_type", "CLIPImageProcessor"}, {"do_resize", true}, {"size", {{"shortest_edge", 32}}}, {"resample", 3}, {"do_center_crop", true},
                  {"crop_size", {{"height", 32}, {"width", 32}}}, {"do_rescale", true}, {"rescale_factor", 1.0 / 255}, {"do_normalize", true},
                  {"image_mean", {0.5, 0.5, 0.5}}, {"image_std", {0.25, 0.25, 0.25}}});
  const auto p = ImageProcessor::from_directory(dir);
  CHECK(p.shortest_edge == 32);
  CHECK(p.do_center_crop);
  CHECK(p.resample == Resample::bicubic);
  // A constant image stays constant through any resize; (200 / 255 - 0.5) / 0.25.
  RgbImage flat(80, 40, 200);
  const auto px = p(flat);
  CHECK(px.height == 32);
  CHECK(px.width == 32);
  for (float v : px.values) CHECK(v == Approx((200.0f / 255.0f - 0.5f) / 0.25f).epsilon(1e-6));
  // Pillow keeps a 1-pixel-wide vertical edge's total mass when downsampling by 2 (bilinear).
  RgbImage edge(8, 2, 0);
  for (int y = 0; y < 2; ++y)
    for (int c = 0; c < 3; ++c) edge.at(3, y, c) = 200;
  const RgbImage half = pil_resize(edge, 4, 2, Resample::bilinear);
  int total = 0;
  for (int x = 0; x < 4; ++x) total += half.at(x, 0, 0);
  CHECK(std::abs(total - 100) <= 1);
  write_json(dir / "bad" / "preprocessor_config.json", Json{{"resample", 5}});
  CHECK_THROWS_WITH(ImageProcessor::from_directory(dir / "bad"), Catch::Contains("resample") && Catch::Contains("bad"));
  CHECK_THROWS_WITH(ImageProcessor::from_directory(dir / "none"), Catch::Contains("preprocessor_config.json"));
}

TEST_CASE("perturbation probes: noise statistics, wander, seeding, blackout", "[represent][perturb]") {
  std::vector<float> base(12 * 1000);
  for (std::size_t c = 0; c < 12; ++c)
    for (std::size_t t = 0; t < 1000; ++t) base[c * 1000 + t] = static_cast<float>(std::sin(0.05 * t + c) * (1 + 0.1 * c));
  double mean = std::accumulate(base.begin(), base.end(), 0.0) / base.size(), var = 0, amax = 0;
  for (float v : base) var += (v - mean) * (v - mean), amax = std::max(amax, std::abs(double(v)));
  const double sd = std::sqrt(var / base.size());
  int noisy = 0, wandered = 0;
  for (std::uint64_t s = 0; s < 200; ++s) {
    auto x = base;
    Rng rng = make_rng(s);
    const NoiseDraw d = perturb(x, 12, Perturbation::noise, rng);
    if (!d.noise) {
      CHECK(x == base);
      continue;
    }
    ++noisy;
    CHECK(d.sigma == Approx(0.05 * sd).epsilon(1e-9));
    // Residual minus the wander is the Gaussian noise: its std is sigma.
    double r2 = 0;
    for (std::size_t c = 0; c < 12; ++c)
      for (std::size_t t = 0; t < 1000; ++t) {
        double w = 0;
        if (d.wander) w = 0.07 * amax * std::sin(d.k * M_PI * t / 999.0);
        const double r = x[c * 1000 + t] - base[c * 1000 + t] - w;
        r2 += r * r;
      }
    CHECK(std::sqrt(r2 / base.size()) == Approx(d.sigma).epsilon(0.05));
    if (d.wander) {
      ++wandered;
      CHECK((d.k >= 1 && d.k <= 5));
    }
    // The same seed gives the same perturbation.
    auto y = base;
    Rng again = make_rng(s);
    perturb(y, 12, Perturbation::noise, again);
    CHECK(x == y);
  }
  CHECK(noisy > 70);  // p 0.5 of 200
  CHECK(noisy < 130);
  CHECK(wandered > noisy / 4);
  CHECK(wandered < 3 * noisy / 4);
  auto z = base;
  Rng rng = make_rng(1);
  perturb(z, 12, Perturbation::blackout, rng);
  CHECK(std::all_of(z.begin(), z.end(), [](float v) { return v == 0.0f; }));
  CHECK(parse_perturbation("no-signal") == Perturbation::no_signal);
  CHECK_THROWS_WITH(parse_perturbation("jitter"), Catch::Contains("noise, blackout, no-signal"));
}

TEST_CASE("augmentation is seeded and does what it draws", "[represent][augment]") {
  RgbImage img(64, 48, 255);
  for (int y = 20; y < 28; ++y)
    for (int x = 0; x < 64; ++x) img.at(x, y, 2) = 0, img.at(x, y, 0) = 30;
  int applied = 0;
  for (std::uint64_t s = 0; s < 50; ++s) {
    RgbImage a = img, b = img;
    Rng r1 = make_rng(s), r2 = make_rng(s);
    const AugmentDraw d = augment_image(a, r1);
    augment_image(b, r2);
    CHECK(a.rgb == b.rgb);
    if (!d.applied) {
      CHECK(a.rgb == img.rgb);
      continue;
    }
    ++applied;
    if (d.multiply) CHECK((d.factor >= 0.8 && d.factor <= 1.2));
    if (d.rotate) CHECK(std::abs(d.degrees) <= 5);
    if (d.blur) CHECK((d.sigma >= 0 && d.sigma <= 1.5));
    if (d.hue_sat) CHECK((std::abs(d.hue) <= 30 && std::abs(d.saturation) <= 30));
  }
  CHECK(applied > 15);  // p 0.6 of 50
  CHECK(applied < 45);
  // Rotation by 90 degrees about the centre maps a horizontal band to a vertical one.
  RgbImage sq(31, 31, 0);
  for (int x = 0; x < 31; ++x) sq.at(x, 15, 0) = 255;
  const RgbImage r = represent::detail::rotate(sq, 90);
  CHECK(r.at(15, 3, 0) > 200);
  CHECK(r.at(3, 15, 0) < 50);
}

TEST_CASE("the clinical plot: paper geometry, traces where the signal says, clear errors", "[represent][clinical]") {
  // 10 s at 250 Hz: lead I a constant 1 mV, the rest 0.
  std::vector<float> sig(12 * 2500, 0.0f);
  for (int t = 0; t < 2500; ++t) sig[static_cast<std::size_t>(t)] = 1.0f;
  ClinicalPlotOptions o;
  const RgbImage img = clinical_ecg_plot(sig, o);
  const ClinicalLayout g = clinical_layout(2500, o);
  CHECK(img.width == g.width);
  CHECK(img.width == static_cast<int>(std::lround((12 + 250 + 5) * 4.0)));  // 250 mm of paper for 10 s
  CHECK(img.height == static_cast<int>(std::lround((14 + 4 * 30 + 5) * 4.0)));
  // Major grid lines every 5 mm = 20 px: the darker columns along an empty horizontal band.
  const int probe_y = static_cast<int>(g.baseline(1) + 6 * 4);  // 6 mm below lead II's baseline: grid only
  std::vector<int> majors;
  for (int x = 0; x < img.width; ++x)
    if (img.at(x, probe_y, 1) < 180 && img.at(x, probe_y, 0) > 200) majors.push_back(x);
  REQUIRE(majors.size() > 10);
  for (std::size_t i = 1; i < majors.size(); ++i) CHECK(majors[i] - majors[i - 1] == 20);
  // Lead I (row 0, column 0) sits 10 mm = 40 px above its baseline; lead II (0 mV) on it.
  const int x = static_cast<int>(g.x_of(1.0, 25));
  auto dark = [&](int yy) { return img.at(x, yy, 0) < 100 && img.at(x, yy, 1) < 100; };
  CHECK(dark(static_cast<int>(std::lround(g.baseline(0) - 40))));
  CHECK(!dark(static_cast<int>(std::lround(g.baseline(0)))));
  CHECK(dark(static_cast<int>(std::lround(g.baseline(1)))));
  // Calibration pulse: 10 mm high at 7 mm left of the paper.
  const int cx = static_cast<int>(g.x0 - 7 * 4);
  bool pulse_top = false;
  for (int dx = 0; dx < 20; ++dx) pulse_top |= img.at(cx + dx, static_cast<int>(std::lround(g.baseline(3) - 40)), 0) < 100;
  CHECK(pulse_top);
  CHECK_THROWS_WITH(clinical_ecg_plot(std::vector<float>(11 * 100, 0.0f)), Catch::Contains("[12, samples]"));
  std::vector<float> bad(12 * 100, 0.0f);
  bad[5] = NAN;
  CHECK_THROWS_WITH(clinical_ecg_plot(bad), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(clinical_ecg_plot({}), Catch::Contains("[12, samples]"));
  CHECK_THROWS_WITH(upstream_ecg_plot(bad, 12), Catch::Contains("NaN"));
  // PNG round trip.
  const auto f = test::temp_dir() / "clinical.png";
  write_png(f, img);
  CHECK(read_png(f).rgb == img.rgb);
}
