// The training paradigms of ECG-Bench as policies of `Elm<E, P, L, T>` (upstream-inventory §7):
// what joins the ECG to the text and what trains.
//  - TwoStage: an encoder's k embeddings, projected by one Linear, replace k `<signal>` tokens'
//    embeddings. Covers 2-stage LLaVA (a frozen general vision encoder), scratch (our own stage-1
//    encoder checkpoint), finetune (a vision encoder further pretrained on ECG images) and
//    end-to-end (the encoder also learns from the LLM loss: ElmOptions::train_encoder).
//  - EncoderFree: the flattened normalised signal, projected by one Linear (Fuyu-style).
//  - EndToEndEcgByte: no encoder; ECG-Byte tokens (`signal_<id>`) are part of the LLM's vocabulary.
#pragma once

#include <concepts>
#include <string_view>

namespace ecgbench::elm {

struct TwoStage {
  static constexpr std::string_view name = "two-stage";
  static constexpr bool splices_embeddings = true;
};
struct EncoderFree {
  static constexpr std::string_view name = "encoder-free";
  static constexpr bool splices_embeddings = true;
};
struct EndToEndEcgByte {
  static constexpr std::string_view name = "ecg-byte";
  static constexpr bool splices_embeddings = false;
};

template <class T>
concept Paradigm = requires {
  { T::name } -> std::convertible_to<std::string_view>;
  { T::splices_embeddings } -> std::convertible_to<bool>;
};
static_assert(Paradigm<TwoStage> && Paradigm<EncoderFree> && Paradigm<EndToEndEcgByte>);

}  // namespace ecgbench::elm
