// BEIR-style runs: the JSON results object and the 3-column TSV, both accepted by read_run.
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "rerank/io.h"

using rerank::read_run;
using rerank::test::input_error;
using rerank::test::write_temp;

TEST(RunBeir, JsonResultsAreOrderedByScoreThenDocId) {
  const auto path = write_temp(
      "rb1.json", "\xEF\xBB\xBF {\"q2\": {\"d1\": 0.5, \"d9\": 2, \"d3\": 2},\n \"q1\": {\"x\": -1.25}}");
  const rerank::Run run = read_run(path);
  ASSERT_EQ(run.by_query.size(), 2u);
  const auto& q2 = run.by_query.at("q2");
  ASSERT_EQ(q2.size(), 3u);
  EXPECT_EQ(q2[0].doc_id, "d3");  // tie at 2: document id ascending
  EXPECT_EQ(q2[1].doc_id, "d9");
  EXPECT_EQ(q2[2].doc_id, "d1");
  EXPECT_EQ(q2[2].score, 0.5);
  EXPECT_EQ(run.by_query.at("q1")[0].score, -1.25);
}

TEST(RunBeir, TsvWithAndWithoutHeaderKeepsFileOrder) {
  for (const std::string header : {"query-id\tcorpus-id\tscore\n", ""}) {
    const auto path = write_temp("rb2.tsv", header + "q1\td2\t0.25\nq1\td1\t0.75\nq7\td1\t3\n");
    const rerank::Run run = read_run(path);
    ASSERT_EQ(run.by_query.size(), 2u);
    EXPECT_EQ(run.by_query.at("q1")[0].doc_id, "d2");
    EXPECT_EQ(run.by_query.at("q1")[1].score, 0.75);
    EXPECT_EQ(run.by_query.at("q7")[0].score, 3.0);
  }
}

TEST(RunBeir, Errors) {
  const auto dir = std::string(RERANK_TEST_TMP) + "/io/";
  EXPECT_EQ(input_error([&] { read_run(write_temp("rbe1.tsv", "q1\td1\t1\nq1 Q0 d2 2 1.0 t\n")); }),
            dir + "rbe1.tsv:2: expected 3 columns \"query-id corpus-id score\", found 6");
  EXPECT_EQ(input_error([&] { read_run(write_temp("rbe2.json", "{\"q1\": {\"d1\": \"high\"}}")); }),
            dir + "rbe2.json: query \"q1\", document \"d1\": score is not a number");
  EXPECT_EQ(input_error([&] { read_run(write_temp("rbe3.json", "{\"q1\": [1, 2]}")); }),
            dir + "rbe3.json: query \"q1\": expected an object {\"document id\": score}");
  const std::string truncated =
      input_error([&] { read_run(write_temp("rbe4.json", "{\"q1\":\n {\"d1\": 1,\n")); });
  EXPECT_EQ(truncated.rfind(dir + "rbe4.json:3: JSON run: invalid JSON at column ", 0), 0u) << truncated;
  // Found by fuzz_run (fuzz/regressions/run/): a number beyond a double escaped as nlohmann's
  // out_of_range instead of an InputError.
  EXPECT_EQ(
      input_error([&] { read_run(write_temp("rbe6.json", "{\"q1\": {\"d1\": 3.4095828533172e607}}")); }),
      dir + "rbe6.json: JSON run: invalid JSON: number overflow parsing '3.4095828533172e607'");
  EXPECT_EQ(input_error([&] { read_run(write_temp("rbe7.json", "{\"q1\": " + std::string(100000, '['))); }),
            dir + "rbe7.json: JSON run: invalid JSON: nested deeper than 256 levels");
  EXPECT_EQ(input_error([&] { read_run(write_temp("rbe5.json", "{\"q1\": {\"d\xFF\": 1}}")); }),
            dir + "rbe5.json:1: invalid UTF-8 at byte 10 of the file");
}
