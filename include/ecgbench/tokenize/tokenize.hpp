// Umbrella for the tokenizers: ECG-Byte and text (torch-free).
#pragma once

#include "ecgbench/tokenize/bpe_trainer.hpp"
#include "ecgbench/tokenize/corpus.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "ecgbench/tokenize/ecg_symbols.hpp"
#include "ecgbench/tokenize/pickle_reader.hpp"

// Text tokenizers (Hugging Face files, SentencePiece) and chat templates.
#include "ecgbench/tokenize/added_tokens.hpp"
#include "ecgbench/tokenize/byte_level_bpe.hpp"
#include "ecgbench/tokenize/chat_template.hpp"
#include "ecgbench/tokenize/default_system_prompt.hpp"
#include "ecgbench/tokenize/hf_tokenizer.hpp"
#include "ecgbench/tokenize/sentencepiece_bpe.hpp"
#include "ecgbench/tokenize/split_regex.hpp"
#include "ecgbench/tokenize/text_tokenizer_concept.hpp"
#include "ecgbench/tokenize/utf8.hpp"
#include "ecgbench/tokenize/wordpiece.hpp"
