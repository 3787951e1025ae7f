// Umbrella for ECG-Byte (torch-free).
#pragma once

#include "ecgbench/tokenize/bpe_trainer.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "ecgbench/tokenize/ecg_symbols.hpp"
#include "ecgbench/tokenize/pickle_reader.hpp"
