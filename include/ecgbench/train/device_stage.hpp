// Staging host batches on an accelerator ahead of the step that uses them: the trainer's loader
// thread pins the batch and copies it `non_blocking` on a side stream while the current step runs;
// the compute stream waits on an event, not the host. Written against c10's device-generic stream
// and event interfaces (no CUDA headers), so the CPU build compiles it; only CUDA devices take it.
#pragma once

#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/torch.h>

#include <concepts>
#include <memory>
#include <vector>

namespace ecgbench::train {

/// A batch that can be staged: a pinned copy, a copy on a device, and its tensors (for the caching
/// allocator's stream bookkeeping).
template <class B>
concept StageableBatch = requires(const B& b, torch::Device d) {
  { b.pin_memory() } -> std::same_as<B>;
  { b.to(d, true) } -> std::same_as<B>;
  { b.tensors() } -> std::same_as<std::vector<torch::Tensor>>;
};

/// A batch on its way to the device and the event that says its copies are done (null: nothing to wait for).
template <class Batch>
struct StagedBatch {
  Batch batch;
  std::unique_ptr<c10::Event> ready;
};

/// Batch: a StageableBatch (not a constraint on the class, so that the trainer can name the type for any batch).
template <class Batch>
class DeviceStager {
 public:
  explicit DeviceStager(torch::Device device) : device_(device), impl_(device.type()), side_(impl_.getStreamFromGlobalPool(device)) {}

  /// On the loader thread: pin, copy on the side stream, record the event.
  StagedBatch<Batch> stage(const Batch& host) const {
    const c10::StreamGuard on_side(side_);
    StagedBatch<Batch> s{host.pin_memory().to(device_, true), std::make_unique<c10::Event>(device_.type())};
    s.ready->record(side_);
    return s;
  }

  /// On the compute thread: the compute stream waits for the copies; the memory they landed in is
  /// marked as used by the compute stream, so that the allocator does not hand it to the next
  /// batch's copy while this step still reads it.
  Batch receive(StagedBatch<Batch> s) const {
    const c10::Stream compute = impl_.getStream(device_);
    if (s.ready) s.ready->block(compute);
    for (const auto& t : s.batch.tensors())
      if (t.defined() && t.device() == device_) impl_.recordDataPtrOnStream(t.storage().data_ptr(), compute);
    return std::move(s.batch);
  }

 private:
  torch::Device device_;
  c10::impl::VirtualGuardImpl impl_;
  c10::Stream side_;
};

}  // namespace ecgbench::train
