#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "io_test_util.h"
#include "rerank/io.h"

using namespace rerank;
using rerank::test::input_error;
using rerank::test::read_all;
using rerank::test::write_temp;

TEST(Run, ReadsKeepingFileOrderAndFullPrecision) {
  const auto path = write_temp("r1.txt",
                               "q2 Q0 d5 1 0.1234567890123456789 tagA\r\n"
                               "q1 Q0 d1 1 3 tagA\n"
                               "q2 Q0 d4 2 0.5 tagB\n"  // file order is kept even though the score is higher
                               "q1\tQ0\td2\t2\t-1e-300\ttagA\n"
                               "\n"
                               "q2 0 d6 7 +2.5E3 tagA\n");
  const rerank::Run run = read_run(path);
  EXPECT_EQ(run.tag, "tagA");
  ASSERT_EQ(run.by_query.size(), 2u);
  const auto& q1 = run.by_query.at("q1");
  ASSERT_EQ(q1.size(), 2u);
  EXPECT_EQ(q1[0].doc_id, "d1");
  EXPECT_EQ(q1[0].score, 3.0);
  EXPECT_EQ(q1[1].doc_id, "d2");
  EXPECT_EQ(q1[1].score, -1e-300);
  const auto& q2 = run.by_query.at("q2");
  ASSERT_EQ(q2.size(), 3u);
  EXPECT_EQ(q2[0].doc_id, "d5");
  EXPECT_EQ(q2[0].score, 0.1234567890123456789);
  EXPECT_EQ(q2[1].doc_id, "d4");
  EXPECT_EQ(q2[2].doc_id, "d6");
  EXPECT_EQ(q2[2].score, 2500.0);
}

TEST(Run, EmptyFileIsAnEmptyRun) {
  const rerank::Run run = read_run(write_temp("r_empty.txt", ""));
  EXPECT_TRUE(run.by_query.empty());
  EXPECT_EQ(run.tag, "rerank");
}

TEST(Run, Errors) {
  const auto dir = std::string(RERANK_TEST_TMP) + "/io/";
  EXPECT_EQ(input_error([&] { read_run(write_temp("re1.txt", "q1 Q0 d1 1 1.0\n")); }),
            dir + "re1.txt:1: expected 6 columns \"qid Q0 docid rank score tag\", found 5");
  EXPECT_EQ(input_error([&] { read_run(write_temp("re2.txt", "q1 Q0 d1 1 1.0 t\nq1 Q0 d2 2 abc t\n")); }),
            dir + "re2.txt:2: score \"abc\" is not a number");
  EXPECT_EQ(input_error([&] { read_run(write_temp("re3.txt", "q1 Q0 d1 one 1.0 t\n")); }),
            dir + "re3.txt:1: rank \"one\" is not an integer");
  EXPECT_EQ(input_error([&] { read_run(write_temp("re4.txt", "q1 Q0 d1 1 nan t\n")); }),
            dir + "re4.txt:1: score \"nan\" is not a number");
  EXPECT_EQ(input_error([&] { read_run(write_temp("re5.txt", "q1 Q0 d1 1 1e999 t\n")); }),
            dir + "re5.txt:1: score \"1e999\" is not a number");
  EXPECT_EQ(
      input_error([&] {
        read_run(write_temp("re6.txt", "q1 Q0 d1 1 3 t\nq2 Q0 d1 1 3 t\nq1 Q0 d2 2 2 t\nq1 Q0 d1 3 1 t\n"));
      }),
      dir + "re6.txt:4: document \"d1\" appears twice for query \"q1\" (first on line 1)");
  EXPECT_EQ(input_error([&] { read_run(write_temp("re7.txt", "q1 Q0 d\xFF 1 1 t\n")); }),
            dir + "re7.txt:1: invalid UTF-8 at byte 8 of the line");
}

TEST(Run, WriteUsesStoredOrderRanksAndRoundTrips) {
  rerank::Run run;
  run.tag = "bm25";
  run.by_query["b"] = {{"x", 0.1}, {"y", 0.30000000000000004}};
  run.by_query["a"] = {{"z", -2.0}, {"w", 1e21}};
  std::ostringstream out;
  write_run(out, run);
  EXPECT_EQ(out.str(),
            "a Q0 z 1 -2 bm25\n"
            "a Q0 w 2 1e+21 bm25\n"
            "b Q0 x 1 0.1 bm25\n"
            "b Q0 y 2 0.30000000000000004 bm25\n");
  const auto path = rerank::test::temp_path("r_written.txt");
  write_run(path, run);
  EXPECT_EQ(read_all(path), out.str());
  const rerank::Run back = read_run(path);
  EXPECT_EQ(back.tag, "bm25");
  ASSERT_EQ(back.by_query.size(), 2u);
  EXPECT_EQ(back.by_query.at("b")[1].score, 0.30000000000000004);
  EXPECT_EQ(back.by_query.at("a")[1].score, 1e21);
  // No temporary files are left next to the output.
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_EQ(e.path().filename().string().find("r_written.txt.tmp"), std::string::npos) << e.path();
}

TEST(Run, WriteRejectsIdsWithWhitespace) {
  rerank::Run run;
  run.by_query["q 1"] = {{"d", 1.0}};
  std::ostringstream out;
  try {
    write_run(out, run);
    FAIL() << "expected an error";
  } catch (const rerank::Error& e) {
    EXPECT_STREQ(e.what(), "query id \"q 1\" cannot be written to a TREC run (empty or contains whitespace)");
  }
}

TEST(Run, FailedWriteLeavesPreviousFileIntact) {
  const auto path = write_temp("r_keep.txt", "old\n");
  rerank::Run run;
  run.by_query["q"] = {{"bad id", 1.0}};
  EXPECT_THROW(write_run(path, run), rerank::Error);
  EXPECT_EQ(read_all(path), "old\n");
}

// A 200 x 1,000 run (200,000 lines, several read blocks) round-trips exactly.
TEST(Run, MillionLineRoundTrip) {
  rerank::Run run;
  run.tag = "big";
  for (int q = 0; q < 200; ++q) {
    std::string qid = "q";
    qid += std::to_string(q);
    auto& docs = run.by_query[qid];
    for (int d = 0; d < 1000; ++d) {
      std::string docid = "doc";
      docid += std::to_string((q * 7919 + d) % 100000);
      docs.push_back({docid, 1000.0 / (d + 1)});
    }
  }
  const auto path = rerank::test::temp_path("r_big.txt");
  write_run(path, run);
  const rerank::Run back = read_run(path);
  ASSERT_EQ(back.by_query.size(), 200u);
  std::size_t mismatches = 0;
  for (const auto& [qid, docs] : run.by_query) {
    const auto& got = back.by_query.at(qid);
    ASSERT_EQ(got.size(), docs.size());
    for (std::size_t i = 0; i < docs.size(); ++i)
      mismatches += got[i].doc_id != docs[i].doc_id || got[i].score != docs[i].score;
  }
  EXPECT_EQ(mismatches, 0u);
  std::remove(path.c_str());
}
