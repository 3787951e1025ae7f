// Umbrella for the evaluation metrics (torch-free part).
#pragma once

#include "ecgbench/eval/bleu.hpp"
#include "ecgbench/eval/meteor.hpp"
#include "ecgbench/eval/porter_stemmer.hpp"
#include "ecgbench/eval/rouge.hpp"
#include "ecgbench/eval/statistics.hpp"
#include "ecgbench/eval/text.hpp"
#include "ecgbench/eval/wordnet.hpp"
