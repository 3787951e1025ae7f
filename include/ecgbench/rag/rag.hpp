// Umbrella for retrieval augmentation (FAISS): the database and the prompt text.
#pragma once

#include "ecgbench/rag/database.hpp"
#include "ecgbench/rag/prompt.hpp"
