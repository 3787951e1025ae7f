// Tests for CSV, PTB-XL / MIMIC / CODE-15 metadata, the CODE-15 HDF5 reader and SNOMED names.
#include <catch2/catch.hpp>

#include <fstream>

#include "ecgbench/io/code15.hpp"
#include "ecgbench/io/csv.hpp"
#include "ecgbench/io/mimic.hpp"
#include "ecgbench/io/ptbxl.hpp"
#include "ecgbench/io/snomed.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::io;
namespace fs = std::filesystem;

TEST_CASE("CSV: quotes, commas, newlines, CRLF, BOM", "[io][csv]") {
  const auto t = CsvTable::parse("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"multi\nline\",\r\n\n3,,z", "t.csv");
  REQUIRE(t.size() == 3);
  CHECK(t.header() == std::vector<std::string>{"a", "b", "c"});
  CHECK(t.at(0, "b") == "x, y");
  CHECK(t.at(0, "c") == "say \"hi\"");
  CHECK(t.at(1, "b") == "multi\nline");
  CHECK(t.at(1, "c").empty());
  CHECK(t.line_of(2) == 6);  // the quoted newline and the blank line both count
  CHECK(t.at(2, "c") == "z");
  CHECK_THROWS_WITH(CsvTable::parse("a,b\n1,2,3\n", "n.csv"), Catch::Contains("n.csv:2") && Catch::Contains("3 fields, header has 2"));
  CHECK_THROWS_WITH(CsvTable::parse("a,b\n1,\"open\n", "q.csv"), Catch::Contains("q.csv:2") && Catch::Contains("unterminated"));
  CHECK_THROWS_WITH(t.column("nope"), Catch::Contains("missing column 'nope'"));
  CHECK_THROWS_WITH(CsvTable::parse("", "e.csv"), Catch::Contains("empty CSV"));
}

TEST_CASE("PTB-XL database and SCP statements", "[io][ptbxl]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto rows = read_ptbxl_database(test_data_path / "ptbxl_database_excerpt.csv");
  REQUIRE(rows.size() == 11);
  CHECK(rows[0].ecg_id == 1);
  CHECK(rows[0].patient_id == 15709);
  CHECK(rows[0].filename_lr == "records100/00000/00001_lr");
  const auto& r6000 = rows[1];
  CHECK(r6000.ecg_id == 6000);
  CHECK(r6000.patient_id == 5028);
  CHECK(r6000.age == 59.0);
  CHECK(r6000.report == "sinus rhythm. minor non-specific t wave flattening in v3,4.");
  REQUIRE(r6000.scp_codes.size() == 3);
  CHECK(r6000.scp_codes[0] == std::pair<std::string, double>{"NORM", 100.0});
  CHECK(r6000.scp_codes[1].first == "NT_");
  CHECK(r6000.strat_fold == 10);
  CHECK(r6000.filename_hr == "records500/06000/06000_hr");
  const auto scp = read_scp_statements(test_data_path / "scp_statements.csv");
  CHECK(scp.size() == 71);
  CHECK(scp.at("NDT").description == "non-diagnostic T abnormalities");
  CHECK(scp.at("NST_").diagnostic_class == "STTC");
  CHECK(scp.at("SR").rhythm);
  CHECK_THROWS_WITH(parse_scp_codes("{'NORM': abc}", "db.csv", 7), Catch::Contains("db.csv:7") && Catch::Contains("invalid likelihood"));
  CHECK_THROWS_WITH(parse_scp_codes("NORM", "db.csv", 8), Catch::Contains("not a dict literal"));
  CHECK(parse_scp_codes("{}", "x", 1).empty());
}

TEST_CASE("MIMIC-IV-ECG record list joined with machine measurements", "[io][mimic]") {
  const auto dir = test::temp_dir() / "mimic";
  fs::create_directories(dir);
  std::ofstream(dir / "record_list.csv") << "subject_id,study_id,file_name,ecg_time,path\n"
                                             "10000032,40689238,40689238,2180-07-23 08:44:00,files/p1000/p10000032/s40689238/40689238\n"
                                             "10000032,44458630,44458630,2180-07-23 09:54:00,files/p1000/p10000032/s44458630/44458630\n"
                                             "10000033,1,1,x,files/p1000/p10000033/s1/1\n";
  std::string mm = "subject_id,study_id,cart_id";
  for (int k = 0; k <= 17; ++k) mm += ",report_" + std::to_string(k);
  mm += "\n10000032,40689238,6848,Sinus rhythm,Possible right atrial abnormality,,Borderline ECG";
  for (int k = 4; k <= 17; ++k) mm += ",";
  mm += "\n10000032,44458630,6848";
  for (int k = 0; k <= 17; ++k) mm += ",";
  mm += "\n";
  std::ofstream(dir / "machine_measurements.csv") << mm;
  const auto recs = read_mimic_records(dir / "record_list.csv", dir / "machine_measurements.csv");
  REQUIRE(recs.size() == 1);  // second study has no report, third no measurements row
  CHECK(recs[0].report == "Sinus rhythm Possible right atrial abnormality Borderline ECG");
  CHECK(recs[0].path == "files/p1000/p10000032/s40689238/40689238");
}

TEST_CASE("CODE-15 HDF5 layout file and exams.csv", "[io][code15]") {
  ECGBENCH_REQUIRE_TEST_DATA("code15-layout/exams_part_demo.hdf5");
  const Code15Part part(test_data_path);
  REQUIRE(part.size() == 6);
  CHECK(part.samples() == 4096);
  CHECK(part.exam_ids() == std::vector<std::int64_t>{6000, 6001, 6002, 6003, 6004, 0});
  const auto x = part.read(0);
  // Documented content: PTB-XL 6000 in mV, 48 zero samples of padding on each side.
  for (int t = 0; t < 48; ++t)
    for (int l = 0; l < 12; ++l) REQUIRE(x[t * 12 + l] == 0.0f);
  const auto ptb = test::data_dir() / "ptbxl/records500/06000/06000_hr";
  ECGBENCH_REQUIRE_FIXTURE(ptb.string() + ".hea");
  {
    // First sample after the padding is the record's first sample (a linear resampler keeps t=0).
    const auto ecg = read_ecg12(ptb);
    for (int l = 0; l < 12; ++l) CHECK(x[48 * 12 + l] == Approx(ecg.lead(l)[0]).margin(1e-6));
  }
  const auto pad = part.read(5);
  CHECK(std::all_of(pad.begin(), pad.end(), [](float v) { return v == 0.0f; }));
  CHECK_THROWS_WITH(part.read(6), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(Code15Part(test::temp_dir() / "none.hdf5"), Catch::Contains("none.hdf5"));
  std::ofstream(test::temp_dir() / "fake.hdf5") << "not hdf5 at all";
  CHECK_THROWS_WITH(Code15Part(test::temp_dir() / "fake.hdf5"), Catch::Contains("not a readable HDF5"));

  std::ofstream(test::temp_dir() / "exams.csv")
      << "exam_id,age,is_male,nn_predicted_age,1dAVb,RBBB,LBBB,SB,ST,AF,patient_id,death,timey,normal_ecg,trace_file\n"
         "6000,59,False,60.1,False,True,False,False,False,True,5028,,,False,exams_part_demo.hdf5\n";
  const auto exams = read_code15_exams(test::temp_dir() / "exams.csv");
  REQUIRE(exams.size() == 1);
  CHECK(exams[0].labels == std::vector<std::string>{"RBBB", "AF"});
  CHECK(exams[0].is_male == false);
  CHECK(exams[0].trace_file == "exams_part_demo.hdf5");
}

TEST_CASE("SNOMED #Dx codes map to names", "[io][snomed]") {
  CHECK(find_snomed(426783006)->name == "sinus rhythm");
  CHECK(find_snomed(164889003)->abbreviation == "AF");
  CHECK_FALSE(find_snomed(1).has_value());
  CHECK_THROWS_WITH(parse_dx_codes("426783006,abc", "x.hea"), Catch::Contains("x.hea") && Catch::Contains("'abc'"));
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl/cinc2021");
  const auto h = read_wfdb_header(test_data_path / "HR06000");
  // Documented in ptbxl/SOURCE.md: HR06000's Dx is T-wave abnormal + sinus rhythm.
  CHECK(dx_labels(h) == std::vector<std::string>{"t wave abnormal", "sinus rhythm"});
}
