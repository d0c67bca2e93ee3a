#include <gtest/gtest.h>

#include <sstream>

#include "io_test_util.h"
#include "rerank/io.h"

using namespace rerank;
using rerank::test::input_error;
using rerank::test::write_temp;

TEST(Qrels, ReadsTrec) {
  const auto path = write_temp("q_trec.txt", "1 0 d1 1\n1 0 d2 0\n2 Q0 d1 2\n\n3 0 d9 -1\n");
  const Qrels q = read_qrels(path);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q.at("1").at("d1"), 1);
  EXPECT_EQ(q.at("1").at("d2"), 0);
  EXPECT_EQ(q.at("2").at("d1"), 2);
  EXPECT_EQ(q.at("3").at("d9"), -1);
  EXPECT_EQ(q.at("1").size(), 2u);
}

TEST(Qrels, ReadsBeirWithHeaderAndCrlf) {
  const auto path =
      write_temp("q_beir.tsv", "query-id\tcorpus-id\tscore\r\nq1\tdoc 1\t2\r\nq1\td2\t0\r\nq2\td3\t1\r\n");
  const Qrels q = read_qrels(path);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.at("q1").at("doc 1"), 2);  // BEIR columns are tab-separated, so ids may hold spaces
  EXPECT_EQ(q.at("q1").at("d2"), 0);
  EXPECT_EQ(q.at("q2").at("d3"), 1);
}

TEST(Qrels, ReadsBeirWithoutHeaderAndBom) {
  const auto path = write_temp("q_beir_nohead.tsv", "\xEF\xBB\xBFq1\td1\t1\nq1\td2\t2");
  const Qrels q = read_qrels(path);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q.at("q1").at("d1"), 1);
  EXPECT_EQ(q.at("q1").at("d2"), 2);
}

TEST(Qrels, EmptyAndHeaderOnlyFilesHaveNoJudgements) {
  EXPECT_TRUE(read_qrels(write_temp("q_empty.txt", "")).empty());
  EXPECT_TRUE(read_qrels(write_temp("q_blank.txt", "\n\n  \n")).empty());
  EXPECT_TRUE(read_qrels(write_temp("q_header.tsv", "query-id\tcorpus-id\tscore\n")).empty());
}

TEST(Qrels, RepeatedIdenticalJudgementIsAccepted) {
  const Qrels q = read_qrels(write_temp("q_rep.txt", "1 0 d1 1\n1 0 d1 1\n"));
  EXPECT_EQ(q.at("1").size(), 1u);
}

TEST(Qrels, Errors) {
  const auto dir = std::string(RERANK_TEST_TMP) + "/io/";
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e1.txt", "1 0 d1 1\n1 0 d2\n")); }),
            dir + "e1.txt:2: expected 4 columns \"qid iter docid rel\", found 3");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e2.txt", "1 0 d1 x\n")); }),
            dir + "e2.txt:1: relevance \"x\" is not an integer");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e3.txt", "1 0 d1 1.5\n")); }),
            dir + "e3.txt:1: relevance \"1.5\" is not an integer");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e4.txt", "\n1 0 d1 1\n1 0 d1 2\n")); }),
            dir + "e4.txt:3: conflicting judgements for query \"1\", document \"d1\": 1 and 2");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e5.txt", "1 0 d1 1 extra x\n")); }),
            dir +
                "e5.txt:1: expected TREC qrels \"qid iter docid rel\" or BEIR qrels "
                "\"query-id<TAB>corpus-id<TAB>score\", found 6 columns");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e6.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n")); }),
            dir + "e6.tsv:2: expected 3 tab-separated columns \"query-id corpus-id score\", found 2");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e7.tsv", "query-id\tcorpus-id\tscore\n\td1\t1\n")); }),
            dir + "e7.tsv:2: empty query-id");
  EXPECT_EQ(input_error([&] { read_qrels(write_temp("e8.txt", "1 0 d\xC3\x28 1\n")); }),
            dir + "e8.txt:1: invalid UTF-8 at byte 6 of the line");
  EXPECT_EQ(input_error([&] { read_qrels(dir + "does-not-exist.txt"); }),
            dir + "does-not-exist.txt: cannot open: No such file or directory");
  EXPECT_EQ(input_error([&] { read_qrels(dir); }), dir + ": is a directory, expected a file");
}

TEST(Qrels, WritersAreSortedAndRoundTrip) {
  Qrels q;
  q["2"]["b"] = 1;
  q["1"]["z"] = 0;
  q["1"]["a"] = 2;
  std::ostringstream trec, beir;
  write_trec_qrels(trec, q);
  write_beir_qrels(beir, q);
  EXPECT_EQ(trec.str(), "1 0 a 2\n1 0 z 0\n2 0 b 1\n");
  EXPECT_EQ(beir.str(), "query-id\tcorpus-id\tscore\n1\ta\t2\n1\tz\t0\n2\tb\t1\n");
  EXPECT_EQ(read_qrels(write_temp("rt.txt", trec.str())), q);
  EXPECT_EQ(read_qrels(write_temp("rt.tsv", beir.str())), q);
}
