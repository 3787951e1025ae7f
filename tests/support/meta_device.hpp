// Models on the meta device: tensors with shapes and dtypes but no data, on which every op checks
// that its inputs share a device. A model whose parameters are all on meta and that makes a tensor
// on the CPU (a constant without its inputs' options) fails with "Expected all tensors to be on the
// same device ... meta and cpu", which is how the tests find code that would break on a GPU without
// one. Data-dependent ops (`item`, `nonzero`) cannot run on meta: the models keep them out of
// their forward and backward (the label count and the signal slots' bounds come from the CPU batch).
#pragma once

#include <torch/library.h>
#include <torch/torch.h>

#include <array>
#include <set>
#include <tuple>
#include <stdexcept>
#include <string>
#include <vector>

namespace ecgbench::test {

namespace meta_detail {

/// Ops whose output shape depends on values: they cannot run on meta (the models keep them out of
/// their steps; `item` / `nonzero` already refuse meta in ATen).
inline bool data_dependent(const std::string& name) {
  static const std::set<std::string> names{"aten::nonzero", "aten::masked_select", "aten::unique_consecutive", "aten::_unique2",
                                           "aten::unique_dim", "aten::argwhere", "aten::nonzero_numpy"};
  return names.count(name) > 0;
}

/// Replaces every tensor in `v` (a tensor, a tensor list, or a list holding tensors such as
/// `Tensor?[]`) by f(tensor); other values stay.
template <class F>
void map_tensors(c10::IValue& v, F&& f) {
  if (v.isTensor()) {
    v = f(v.toTensor());
  } else if (v.isTensorList()) {
    const c10::List<at::Tensor> src = v.toTensorList();
    c10::List<at::Tensor> l;
    for (std::size_t k = 0; k < src.size(); ++k) l.push_back(f(src.get(k)));
    v = l;
  } else if (v.isList()) {
    c10::impl::GenericList l = v.toList().copy();
    for (std::size_t k = 0; k < l.size(); ++k)
      if (l.get(k).isTensor()) l.set(k, f(l.get(k).toTensor()));
    v = l;
  }
}

/// The meta kernels LibTorch 1.13 lacks in C++ (PyTorch supplies them from Python,
/// torch/_meta_registrations.py): a boxed fallback for the Meta key that first refuses a mix of
/// meta and other devices (ATen's own message), then runs the op on CPU zeros of the same shapes
/// and returns meta tensors of the resulting shapes, or the meta argument an in-place or out=
/// result aliases. Zeros are only a way to get shapes: no value computed here is read.
inline void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  const std::string name = schema.operator_name().name;
  if (data_dependent(name)) throw std::runtime_error(name + " depends on tensor values: it cannot run on the meta device");
  for (const auto& r : schema.returns())
    if (r.type()->kind() != c10::TypeKind::TensorType && r.type()->kind() != c10::TypeKind::ListType)
      throw std::runtime_error(name + " returns a value read from a tensor: it cannot run on the meta device");
  const std::size_t n = schema.arguments().size(), first = stack->size() - n;
  const std::vector<c10::IValue> original(stack->begin() + static_cast<std::ptrdiff_t>(first), stack->end());
  bool meta = false;
  std::string other;
  auto to_cpu = [&](const at::Tensor& t) -> at::Tensor {
    if (!t.defined()) return t;
    if (t.is_meta()) {
      meta = true;
      return at::zeros(t.sizes(), t.options().device(at::kCPU));
    }
    if (t.dim() > 0 || !t.is_cpu()) other = t.device().str();  // a 0-dim CPU tensor is a scalar: allowed anywhere
    return t;
  };
  for (std::size_t i = first; i < stack->size(); ++i) map_tensors((*stack)[i], to_cpu);
  if (meta && !other.empty())
    throw std::runtime_error("Expected all tensors to be on the same device, but found at least two devices, meta and " + other + "! (" + name + ")");
  op.callBoxed(stack);
  const auto& returns = schema.returns();
  for (std::size_t i = 0; i < returns.size(); ++i) {
    c10::IValue& v = (*stack)[stack->size() - returns.size() + i];
    if (const auto* alias = returns[i].alias_info(); alias && alias->isWrite()) {
      // An out= or in-place result is the meta argument itself, resized as the op resized its copy.
      for (std::size_t a = 0; a < n; ++a) {
        const auto* arg = schema.arguments()[a].alias_info();
        if (!arg || arg->beforeSets() != alias->beforeSets() || !original[a].isTensor()) continue;
        const at::Tensor target = original[a].toTensor();
        if (v.isTensor() && target.is_meta() && v.toTensor().sizes() != target.sizes())
          target.unsafeGetTensorImpl()->shallow_copy_from(at::empty_strided(v.toTensor().sizes(), v.toTensor().strides(), target.options()).getIntrusivePtr());
        v = original[a];
      }
      continue;
    }
    map_tensors(v, [](const at::Tensor& t) { return t.defined() ? at::empty_strided(t.sizes(), t.strides(), t.options().device(at::kMeta)) : t; });
  }
}

/// Convolutions on meta reach ATen's `convolution_overrideable` (the backend for devices without
/// their own convolution), whose default only throws: shapes from the same convolution on CPU zeros.
inline at::Tensor convolution(const at::Tensor& input, const at::Tensor& weight, const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                              at::IntArrayRef padding, at::IntArrayRef dilation, bool transposed, at::IntArrayRef output_padding, std::int64_t groups) {
  auto zeros = [](const at::Tensor& t) { return at::zeros(t.sizes(), t.options().device(at::kCPU)); };
  const c10::optional<at::Tensor> b = bias && bias->defined() ? c10::optional<at::Tensor>(zeros(*bias)) : c10::nullopt;
  const at::Tensor out = at::convolution(zeros(input), zeros(weight), b, stride, padding, dilation, transposed, output_padding, groups);
  return at::empty(out.sizes(), out.options().device(at::kMeta));
}
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> convolution_backward(const at::Tensor& /*grad_output*/, const at::Tensor& input, const at::Tensor& weight,
                                                                          at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, bool transposed, at::IntArrayRef,
                                                                          std::int64_t groups, std::array<bool, 3> mask) {
  const std::int64_t out_channels = transposed ? weight.size(1) * groups : weight.size(0);
  return {mask[0] ? at::empty_like(input) : at::Tensor(), mask[1] ? at::empty_like(weight) : at::Tensor(),
          mask[2] ? at::empty({out_channels}, weight.options()) : at::Tensor()};
}

}  // namespace meta_detail

/// Installs the fallback above once per process (before the first op on meta tensors).
inline void enable_meta_fallback() {
  static torch::Library lib(torch::Library::IMPL, "_", c10::DispatchKey::Meta, __FILE__, __LINE__);
  static torch::Library aten(torch::Library::IMPL, "aten", c10::DispatchKey::Meta, __FILE__, __LINE__);
  static const bool once = [] {
    lib.fallback(torch::CppFunction::makeFromBoxedFunction<&meta_detail::fallback>());
    aten.impl("convolution_overrideable", &meta_detail::convolution);
    aten.impl("convolution_backward_overrideable", &meta_detail::convolution_backward);
    return true;
  }();
  (void)once;
}

/// Moves every parameter and buffer of `m` to the meta device in place, keeping requires_grad.
/// Module::to(torch::kMeta) cannot in LibTorch 1.13: Tensor::set_data refuses CPU -> meta
/// (TensorImpl::has_compatible_shallow_copy_type counts only CPU, CUDA, MPS, HIP and XPU as dense),
/// so this does what set_data does after that check: the impl takes the meta tensor's metadata and
/// storage, and the module members that alias the parameter see the change.
inline void to_meta(torch::nn::Module& m) {
  enable_meta_fallback();
  torch::NoGradGuard g;
  auto move = [](torch::Tensor& t) {
    if (!t.defined() || t.is_meta()) return;
    const torch::Tensor meta = torch::empty_strided(t.sizes(), t.strides(), t.options().device(torch::kMeta));
    t.unsafeGetTensorImpl()->shallow_copy_from(meta.getIntrusivePtr());
  };
  for (auto& p : m.parameters(true)) move(p);
  for (auto& b : m.buffers(true)) move(b);
}

}  // namespace ecgbench::test
