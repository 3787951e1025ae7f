// Tests for include/ecgbench/models/encoders: ST-MEM, MTAE, MLAE and MERL against the outputs of
// upstream's own modules (../shared/data/golden/encoders), torch.save checkpoints, pretraining
// objectives, bad input.
#include "support/catch_with_torch.hpp"

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/models/encoders/encoders.hpp"
#include "ecgbench/models/tensor_io.hpp"
#include "support/test_data.hpp"
#include "support/zip_writer.hpp"

using namespace ecgbench;
using namespace ecgbench::models;
using namespace ecgbench::models::encoders;

namespace {

/// |got - want| <= atol + rtol |want| everywhere.
void check_close(const torch::Tensor& got, const torch::Tensor& want, double atol = 1e-4, double rtol = 1e-4) {
  REQUIRE(got.sizes() == want.sizes());
  const torch::Tensor g = got.detach().to(torch::kFloat64), w = want.to(torch::kFloat64);
  const double worst = ((g - w).abs() - rtol * w.abs()).max().item<double>();
  INFO("max |diff| " << (g - w).abs().max().item<double>() << ", max |want| " << w.abs().max().item<double>() << ", shape " << got.sizes());
  CHECK(worst <= atol);
}

double rel_diff(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got.detach().to(torch::kFloat64) - want.to(torch::kFloat64)).abs() / want.to(torch::kFloat64).abs().clamp_min(1e-30)).max().item<double>();
}

torch::Tensor golden(const std::filesystem::path& p) { return load_npy_tensor(p); }

}  // namespace

TEST_CASE("patch_size_for follows upstream's calculate_patch_size", "[models][encoders]") {
  CHECK(patch_size_for(500) == 20);
  CHECK(patch_size_for(1250) == 50);
  CHECK(patch_size_for(2500) == 100);
  CHECK(patch_size_for(2250) == 75);  // ST-MEM's own default (30 patches)
  CHECK(patch_size_for(1000) == 40);  // 25 patches (|25 - 32| = 7) beats p = 25's 40 patches (8)
  // No divisor gives 16..64 patches: the divisor nearest int(sqrt(L / 32)).
  CHECK(patch_size_for(7) == 1);
  CHECK(patch_size_for(13) == 1);
  CHECK_THROWS_WITH(patch_size_for(0), Catch::Contains("seq_len"));
}

TEST_CASE("masked autoencoders equal upstream's ST-MEM, MTAE and MLAE", "[models][encoders][golden]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/encoders");
  torch::NoGradGuard no_grad;
  for (const std::string name : {"st_mem", "mtae", "mlae"}) {
    INFO("encoder " << name);
    const auto dir = test_data_path / name;
    const EcgEncoderConfig cfg = read_ecg_encoder_config(dir / "manifest.json");
    REQUIRE(cfg.name == name);
    AnyEcgEncoder enc = make_ecg_encoder(cfg);
    const StateLoadReport rep = enc.load(dir / "weights.safetensors", /*strict=*/true);
    CHECK(rep.missing.empty());
    CHECK(rep.unexpected.empty());
    enc.module().eval();
    const torch::Tensor series = golden(dir / "series.npy"), noise = golden(dir / "noise.npy");
    auto run = [&](double ratio, const torch::Tensor& nz) {
      if (auto* m = enc.get<StMem>()) return (*m)->forward(series, ratio, nz);
      return (*enc.get<Mtae>())->forward(series, ratio, nz);
    };
    const MaeOutput out = run(0.75, noise);
    CHECK(rel_diff(out.loss, golden(dir / "loss.npy").reshape({})) < 1e-5);
    CHECK(torch::equal(out.mask.to(torch::kFloat32), golden(dir / "mask.npy").to(torch::kFloat32)));
    CHECK(torch::equal(out.ids_restore, golden(dir / "ids_restore.npy")));
    check_close(out.encoder_out, golden(dir / "encoder_out.npy"));
    check_close(out.pred, golden(dir / "pred.npy"));
    check_close(out.latents, golden(dir / "latents.npy"));
    // mask ratio 0: upstream's latents (its loss is 0/0 = nan there, as ours).
    const MaeOutput full = run(0.0, {});
    check_close(full.latents, golden(dir / "latents_unmasked.npy"));
    CHECK(std::isnan(full.loss.item<double>()));
    CHECK(std::isnan(golden(dir / "loss_unmasked.npy").item<double>()));
    // The classification path.
    const torch::Tensor vit = enc.get<StMem>() ? (*enc.get<StMem>())->vit_encoding(series) : (*enc.get<Mtae>())->vit_encoding(series);
    check_close(vit, golden(dir / "vit_encoding.npy"));
    // Stage-2 embeddings: upstream-compatible (masked with the recorded noise) and ours (unmasked:
    // the golden unmasked latents, averaged over leads for ST-MEM, pooled to k tokens).
    for (const std::int64_t k : {1, 4}) {
      INFO("tokens " << k);
      const torch::Tensor nz = golden(dir / ("noise_embeddings_" + std::to_string(k) + ".npy"));
      torch::Tensor masked, unmasked;
      if (auto* m = enc.get<StMem>()) {
        (*m)->embed_mode = EmbedMode::upstream_masked;
        masked = (*m)->embed(series, k, nz);
        (*m)->embed_mode = EmbedMode::unmasked;
        unmasked = (*m)->embed(series, k);
      } else {
        auto& m2 = *enc.get<Mtae>();
        m2->embed_mode = EmbedMode::upstream_masked;
        masked = m2->embed(series, k, nz);
        m2->embed_mode = EmbedMode::unmasked;
        unmasked = m2->embed(series, k);
      }
      check_close(masked, golden(dir / ("embeddings_" + std::to_string(k) + ".npy")));
      torch::Tensor lat = golden(dir / "latents_unmasked.npy");
      if (name == "st_mem") lat = lat.mean(1);
      CHECK(unmasked.size(1) == k);
      CHECK(unmasked.size(2) == enc.embedding_dim());
      // Adaptive average pooling by hand: token j averages rows floor(j n / k) .. ceil((j + 1) n / k) - 1.
      const auto n = lat.size(1);
      for (std::int64_t j = 0; j < k; ++j) {
        const auto a = (j * n) / k, b = ((j + 1) * n + k - 1) / k;
        check_close(unmasked.select(1, j), lat.narrow(1, a, b - a).mean(1));
      }
    }
  }
}

TEST_CASE("torch.save checkpoints load to the same tensors as safetensors", "[models][encoders][golden][pth]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/encoders/st_mem");
  const hf::Checkpoint st(test_data_path / "weights.safetensors"), pth(test_data_path / "weights.pth");
  REQUIRE(st.tensors().size() == pth.tensors().size());
  for (const auto& [name, view] : st.tensors()) {
    INFO(name);
    const hf::TensorView* p = pth.find(name);
    REQUIRE(p);
    CHECK(p->shape == view->shape);
    CHECK(torch::equal(hf::to_torch(*p), hf::to_torch(*view)));
  }
  // The wrapper's plain values are kept.
  const hf::PytorchFile f(test_data_path / "weights.pth");
  REQUIRE(f.extras().count("epoch"));
  CHECK(f.extras().at("epoch").i == 3);
  // An encoder loads from it strictly.
  AnyEcgEncoder enc = make_ecg_encoder(read_ecg_encoder_config(test_data_path / "manifest.json"));
  CHECK(enc.load(test_data_path / "weights.pth", true).missing.empty());
}

TEST_CASE("PyTorch checkpoint reader: strided views, DDP prefixes, refusals", "[models][encoders][pth]") {
  auto s32 = [](const std::string& s) {
    std::string o;
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) o.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return "X" + o + s;
  };
  // {"module.w": _rebuild_tensor_v2(storage 0 (6 floats), 0, (2, 3), (1, 2), False, OrderedDict())}
  const std::string pickle = std::string("\x80\x02}(") + s32("module.w") + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" + s32("storage") +
                             "ctorch\nFloatStorage\n" + s32("0") + s32("cpu") + "K\x06tQ" + std::string("K\0", 2) + "(K\x02K\x03t" + "(K\x01K\x02t" + "\x89" +
                             "ccollections\nOrderedDict\n)R" + "tRu.";
  std::string storage;
  for (int i = 0; i < 6; ++i) {
    const float v = static_cast<float>(i);
    storage.append(reinterpret_cast<const char*>(&v), 4);
  }
  const auto dir = test::temp_dir() / "pth";
  std::filesystem::create_directories(dir);
  const auto good = dir / "strided.pth";
  write_file_atomically(good, test::make_zip({{"archive/data.pkl", pickle}, {"archive/byteorder", "little"}, {"archive/data/0", storage}}));
  const hf::Checkpoint ck(good);
  const hf::TensorView* w = ck.find("w");  // DDP's "module." stripped
  REQUIRE(w);
  const torch::Tensor t = hf::to_torch(*w);
  CHECK(torch::equal(t, torch::tensor({0.f, 2.f, 4.f, 1.f, 3.f, 5.f}).view({2, 3})));

  // A pickle naming anything outside the whitelist is refused before anything runs.
  const auto evil = dir / "evil.pth";
  write_file_atomically(evil, test::make_zip({{"archive/data.pkl", std::string("\x80\x02") + "cos\nsystem\n" + s32("touch /tmp/pwned") + "\x85R."}}));
  CHECK_THROWS_WITH(hf::Checkpoint(evil), Catch::Contains("evil.pth") && Catch::Contains("'os.system' is not on the whitelist"));
  // A view past its storage, a storage of the wrong size, no pickle, legacy format, not a zip.
  const std::string past = std::string(pickle).replace(pickle.find("(K\x01K\x02t"), 6, "(K\x03K\x02t");
  write_file_atomically(dir / "past.pth", test::make_zip({{"archive/data.pkl", past}, {"archive/data/0", storage}}));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "past.pth"), Catch::Contains("outside its storage") && Catch::Contains("module.w"));
  write_file_atomically(dir / "short.pth", test::make_zip({{"archive/data.pkl", pickle}, {"archive/data/0", storage.substr(4)}}));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "short.pth"), Catch::Contains("archive/data/0") && Catch::Contains("6 elements"));
  write_file_atomically(dir / "nopkl.pth", test::make_zip({{"archive/data/0", storage}}));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "nopkl.pth"), Catch::Contains("no data.pkl"));
  write_file_atomically(dir / "legacy.pth", std::string("\x80\x02\x8a\x0a", 4) + std::string(40, '\0'));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "legacy.pth"), Catch::Contains("legacy torch.save format"));
  write_file_atomically(dir / "junk.pth", std::string(100, 'x'));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "junk.pth"), Catch::Contains("junk.pth") && Catch::Contains("zip"));
  const std::string zip = test::make_zip({{"archive/data.pkl", pickle}, {"archive/data/0", storage}});
  write_file_atomically(dir / "cut.pth", zip.substr(0, zip.size() - 30));
  CHECK_THROWS_WITH(hf::Checkpoint(dir / "cut.pth"), Catch::Contains("cut.pth"));
}

TEST_CASE("MERL equals upstream's MERLPretrain / MERLFinetune", "[models][encoders][golden][merl]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/encoders/merl");
  const auto& dir = test_data_path;
  EcgEncoderConfig cfg = read_ecg_encoder_config(dir / "manifest.json");
  REQUIRE(cfg.name == "merl");
  CHECK(cfg.merl.spacial_dim() == 32);
  CHECK(cfg.merl.resnet.layers == std::vector<std::int64_t>{1, 1, 1, 1});
  const torch::Tensor series = golden(dir / "series.npy"), text = golden(dir / "text_emb.npy");
  {
    torch::NoGradGuard no_grad;
    Merl m(cfg.merl);
    AnyEcgEncoder any(m, "merl");
    CHECK(any.load(dir / "weights.safetensors", true).unexpected.empty());  // float16 file -> float32
    m->eval();
    const MerlOutput out = m->forward(series, text);
    // Relative tolerance where values are large (the ResNet output reaches ~1e2).
    check_close(out.resnet_out, golden(dir / "resnet_out.npy"), 1e-4, 1e-4);
    check_close(out.att_pool, golden(dir / "att_pool.npy").view(out.att_pool.sizes()));
    check_close(out.att_map, golden(dir / "att_map.npy").view(out.att_map.sizes()));
    CHECK(rel_diff(out.loss, golden(dir / "eval_loss.npy").reshape({})) < 1e-4);
    for (const std::int64_t k : {1, 4}) check_close(m->embed(series, k), golden(dir / ("embeddings_" + std::to_string(k) + ".npy")), 1e-4, 1e-4);
    CHECK(m->embed(series, 1).size(2) == 2048);
  }
  // Train mode with dropout 0: batch statistics, gradients, running statistics.
  cfg.merl.dropout = 0.0;
  Merl m(cfg.merl);
  AnyEcgEncoder any(m, "merl");
  any.load(dir / "weights.safetensors", true);
  m->train();
  const torch::Tensor loss = m->pretrain_loss(series, text);
  CHECK(rel_diff(loss, golden(dir / "train_loss.npy").reshape({})) < 1e-4);
  loss.backward();
  // This gradient passes through the whole ResNet with batch-statistics BatchNorm: float32 rounding
  // alone moves it by up to 3.8e-4 (max value 2.9). Measured with upstream's own modules in
  // python3-torch: float32 with another summation order lies 3.8e-4 from the golden, float64 6e-6.
  check_close(m->resnet->conv1->weight.grad(), golden(dir / "grad_conv1.npy"), 1e-3, 1e-3);
  check_close(m->proj_t[0]->as<torch::nn::Linear>()->weight.grad(), golden(dir / "grad_proj_t0.npy"), 1e-4, 1e-3);
  check_close(m->resnet->bn1->running_mean, golden(dir / "bn1_running_mean_after.npy"));
  check_close(m->resnet->bn1->running_var, golden(dir / "bn1_running_var_after.npy"));
  // Stage 2 without the pretraining head loads the same checkpoint non-strictly.
  AnyEcgEncoder finetune = make_ecg_encoder(cfg, /*merl_pretraining_head=*/false);
  const auto rep = finetune.load(dir / "weights.safetensors", false);
  CHECK(rep.missing.empty());
  CHECK(!rep.unexpected.empty());
  CHECK_THROWS_WITH(make_ecg_encoder(cfg, false).load(dir / "weights.safetensors", true), Catch::Contains("unexpected") && Catch::Contains("att_pool_head"));
}

TEST_CASE("MERL's contrastive loss over gathered shards equals the loss of the combined batch", "[models][encoders][merl]") {
  // Two simulated ranks: each rank's loss uses all 2b rows with its own shard differentiable.
  torch::manual_seed(3);
  const auto a = torch::randn({6, 8}), b = torch::randn({6, 8});
  const double whole = merl_contrastive_loss(a, b, 0.07).item<double>();
  for (std::size_t rank : {0u, 1u}) {
    const auto r = static_cast<std::int64_t>(rank);
    // all_gather as two ranks see it: every rank's shard of the same global tensor.
    auto shards_of = [](const torch::Tensor& whole_tensor) {
      return ContrastiveGather{[whole_tensor](const torch::Tensor&) { return std::vector<torch::Tensor>{whole_tensor.narrow(0, 0, 3), whole_tensor.narrow(0, 3, 3)}; }, 0};
    };
    ContrastiveGather ga = shards_of(a), gb = shards_of(b);
    ga.rank = gb.rank = rank;
    torch::Tensor local_a = a.narrow(0, r * 3, 3).clone().requires_grad_(true);
    const torch::Tensor loss = merl_contrastive_loss(ga(local_a), gb(b.narrow(0, r * 3, 3)), 0.07);
    CHECK(loss.item<double>() == Approx(whole).epsilon(1e-6));
    loss.backward();
    REQUIRE(local_a.grad().defined());
    CHECK(local_a.grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("pretraining objectives lower their loss on synthetic ECGs", "[models][encoders][train]") {
  torch::manual_seed(0);
  // ECG-like: a few sinusoids per lead, min-max normalised as upstream feeds encoders.
  const auto t = torch::linspace(0, 4 * M_PI, 200);
  std::vector<torch::Tensor> rows;
  for (int b = 0; b < 4; ++b)
    for (int c = 0; c < 12; ++c) rows.push_back(torch::sin(t * (1 + 0.1 * c) + b) + 0.3 * torch::sin(5 * t + c));
  torch::Tensor series = torch::stack(rows).view({4, 12, 200});
  series = (series - series.min()) / (series.max() - series.min() + 1e-6);
  for (const char* name : {"st_mem", "mtae", "mlae"}) {
    INFO(name);
    EcgEncoderConfig cfg = parse_ecg_encoder_config(
        {{"encoder", name}, {"seq_len", 200}, {"embed_dim", 32}, {"depth", 1}, {"num_heads", 2}, {"decoder_embed_dim", 16}, {"decoder_depth", 1}, {"decoder_num_heads", 1}},
        "test");
    AnyEcgEncoder enc = make_ecg_encoder(cfg);
    torch::optim::Adam opt(enc.module().parameters(), torch::optim::AdamOptions(1e-3));
    auto loss_of = [&] {
      if (auto* m = enc.get<StMem>()) {
        (*m)->seed(7);  // the same masks every step: the loss is comparable
        return (*m)->pretrain_loss(series);
      }
      (*enc.get<Mtae>())->seed(7);
      return (*enc.get<Mtae>())->pretrain_loss(series);
    };
    const double first = loss_of().item<double>();
    for (int step = 0; step < 15; ++step) {
      opt.zero_grad();
      loss_of().backward();
      opt.step();
    }
    CHECK(loss_of().item<double>() < 0.8 * first);
  }
  // MERL: CMA + UMA with random "report" embeddings.
  EcgEncoderConfig cfg = parse_ecg_encoder_config({{"encoder", "merl"}, {"seq_len", 200}, {"resnet", "resnet"}, {"text_dim", 16}, {"dropout", 0.0}}, "test");
  Merl m(cfg.merl);
  const torch::Tensor text = torch::randn({4, 16});
  torch::optim::Adam opt(m->parameters(), torch::optim::AdamOptions(1e-3));
  const double first = m->pretrain_loss(series, text).item<double>();
  for (int step = 0; step < 10; ++step) {
    opt.zero_grad();
    m->pretrain_loss(series, text).backward();
    opt.step();
  }
  CHECK(m->pretrain_loss(series, text).item<double>() < 0.8 * first);
}

TEST_CASE("ECG encoders refuse bad input with clear errors", "[models][encoders][errors]") {
  auto tiny = [](const char* name) {
    return parse_ecg_encoder_config({{"encoder", name}, {"seq_len", 500}, {"embed_dim", 16}, {"depth", 1}, {"num_heads", 1}, {"decoder_embed_dim", 8}, {"decoder_depth", 1}}, "tiny.json");
  };
  AnyEcgEncoder st = make_ecg_encoder(tiny("st_mem"));
  CHECK_THROWS_WITH(st.embed(torch::zeros({2, 11, 500}), 1), Catch::Contains("[batch, 12, 500]") && Catch::Contains("[2, 11, 500]"));
  CHECK_THROWS_WITH(st.embed(torch::zeros({2, 12, 499}), 1), Catch::Contains("[batch, 12, 500]"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"encoder", "st_mem"}, {"seq_len", 500}, {"patch_size", 30}}, "p.json"),
                    Catch::Contains("p.json") && Catch::Contains("divisible by patch_size"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"encoder", "bert"}}, "e.json"), Catch::Contains("st_mem, mtae, mlae, merl"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"class", "Foo"}}, "c.json"), Catch::Contains("unknown encoder class 'Foo'"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"encoder", "merl"}, {"resnet", "resnet7"}}, "r.json"), Catch::Contains("unknown ResNet 'resnet7'"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"encoder", "merl"}, {"seq_len", 1250}, {"spacial_dim", 32}}, "s.json"), Catch::Contains("spacial_dim 32 does not match"));
  CHECK_THROWS_WITH(parse_ecg_encoder_config({{"encoder", "mtae"}, {"depth", 0}}, "d.json"), Catch::Contains("'depth'"));
  AnyEcgEncoder merl = make_ecg_encoder(parse_ecg_encoder_config({{"encoder", "merl"}, {"seq_len", 500}, {"resnet", "resnet"}}, "m.json"));
  CHECK_THROWS_WITH(merl.embed(torch::zeros({1, 12, 400}), 1), Catch::Contains("[batch, 12, 500]"));

  // Checkpoints: a missing tensor (strict), a wrong shape.
  const auto dir = test::temp_dir() / "enc_ckpt";
  std::filesystem::create_directories(dir);
  std::map<std::string, hf::TensorBytes> tensors;
  for (const auto& p : st.module().named_parameters(true)) {
    hf::TensorBytes b;
    const torch::Tensor t = p.value().detach().contiguous();
    b.shape = t.sizes().vec();
    b.bytes.assign(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * 4));
    tensors[p.key()] = b;
  }
  auto with = tensors;
  with.erase("encoder.norm.weight");
  hf::write_safetensors(dir / "missing.safetensors", with);
  CHECK_THROWS_WITH(make_ecg_encoder(tiny("st_mem")).load(dir / "missing.safetensors", true),
                    Catch::Contains("missing.safetensors") && Catch::Contains("missing 'encoder.norm.weight'"));
  const auto rep = make_ecg_encoder(tiny("st_mem")).load(dir / "missing.safetensors", false);
  CHECK(rep.missing == std::vector<std::string>{"encoder.norm.weight"});
  with = tensors;
  with["decoder_head.bias"].shape = {5, 4};
  with["decoder_head.bias"].bytes.assign(80, '\0');
  hf::write_safetensors(dir / "shape.safetensors", with);
  CHECK_THROWS_WITH(make_ecg_encoder(tiny("st_mem")).load(dir / "shape.safetensors", false),
                    Catch::Contains("shape.safetensors") && Catch::Contains("decoder_head.bias") && Catch::Contains("does not match"));
}
