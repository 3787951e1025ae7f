// Umbrella for ECG input: WFDB records, CODE-15 HDF5, data set metadata tables.
#pragma once

#include "ecgbench/io/code15.hpp"
#include "ecgbench/io/csv.hpp"
#include "ecgbench/io/leads.hpp"
#include "ecgbench/io/mimic.hpp"
#include "ecgbench/io/ptbxl.hpp"
#include "ecgbench/io/snomed.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/io/wfdb_header.hpp"
#include "ecgbench/io/wfdb_signal.hpp"
#include "ecgbench/io/wfdb_writer.hpp"
