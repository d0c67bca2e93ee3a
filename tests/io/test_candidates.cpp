#include <gtest/gtest.h>

#include <sstream>

#include "io_test_util.h"
#include "rerank/io.h"

using namespace rerank;
using rerank::test::input_error;
using rerank::test::write_temp;

namespace {
std::string dir() { return std::string(RERANK_TEST_TMP) + "/io/"; }

std::vector<CandidateList> read_all_lists(const std::string& path) {
  CandidatesReader reader(path);
  std::vector<CandidateList> lists;
  CandidateList l;
  while (reader.next(l)) lists.push_back(l);
  return lists;
}
}  // namespace

TEST(Candidates, ReadsLines) {
  const auto lists = read_all_lists(
      write_temp("cand.jsonl",
                 "{\"query_id\": \"q1\", \"query\": \"red planet\", \"candidates\": [{\"id\": \"d1\", "
                 "\"title\": \"Mars\", "
                 "\"text\": \"Mars is red.\", \"score\": 12.25}, {\"id\": 7, \"text\": \"Seven.\"}]}\r\n"
                 "\n"
                 "{\"query_id\": 2, \"query\": \"nothing\", \"candidates\": []}\n"));
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].query.id, "q1");
  EXPECT_EQ(lists[0].query.text, "red planet");
  ASSERT_EQ(lists[0].candidates.size(), 2u);
  EXPECT_EQ(lists[0].candidates[0].doc_id, "d1");
  EXPECT_EQ(lists[0].candidates[0].title, "Mars");
  EXPECT_EQ(lists[0].candidates[0].text, "Mars is red.");
  EXPECT_EQ(lists[0].candidates[0].score, 12.25);
  EXPECT_EQ(lists[0].candidates[1].doc_id, "7");
  EXPECT_EQ(lists[0].candidates[1].title, "");
  EXPECT_EQ(lists[0].candidates[1].score, 0.0);
  EXPECT_EQ(lists[1].query.id, "2");
  EXPECT_TRUE(lists[1].candidates.empty());
}

TEST(Candidates, WriteRoundTrips) {
  CandidateList l;
  l.query = {"q\"1", "caf\xC3\xA9 \n line"};
  l.candidates = {{"d1", "T", "x", 0.1}, {"d2", "", "y", -3.0}};
  std::ostringstream out;
  write_candidates(out, l);
  EXPECT_EQ(out.str(),
            "{\"query_id\":\"q\\\"1\",\"query\":\"caf\xC3\xA9 \\n "
            "line\",\"candidates\":[{\"id\":\"d1\",\"title\":\"T\","
            "\"text\":\"x\",\"score\":0.1},{\"id\":\"d2\",\"title\":\"\",\"text\":\"y\",\"score\":-3.0}]}\n");
  const auto back = read_all_lists(write_temp("cand_rt.jsonl", out.str()));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].query.id, l.query.id);
  EXPECT_EQ(back[0].query.text, l.query.text);
  ASSERT_EQ(back[0].candidates.size(), 2u);
  EXPECT_EQ(back[0].candidates[0].score, 0.1);
  EXPECT_EQ(back[0].candidates[1].doc_id, "d2");
  EXPECT_EQ(back[0].candidates[1].score, -3.0);
}

TEST(Candidates, EmptyFileHasNoLists) {
  EXPECT_TRUE(read_all_lists(write_temp("cand_empty.jsonl", "")).empty());
}

TEST(Candidates, Errors) {
  const std::string ok = "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": []}\n";
  EXPECT_EQ(input_error([&] { read_all_lists(write_temp("ca1.jsonl", ok + ok)); }),
            dir() + "ca1.jsonl:2: duplicate query_id \"q1\" (first on line 1)");
  EXPECT_EQ(input_error([] {
              read_all_lists(write_temp("ca2.jsonl", "{\"query_id\": \"q1\", \"query\": \"a\"}\n"));
            }),
            dir() + "ca2.jsonl:1: missing \"candidates\"");
  EXPECT_EQ(input_error([] {
              read_all_lists(
                  write_temp("ca3.jsonl", "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": {}}\n"));
            }),
            dir() + "ca3.jsonl:1: \"candidates\" must be an array, not object");
  EXPECT_EQ(input_error([] {
              read_all_lists(
                  write_temp("ca4.jsonl",
                             "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": [{\"id\": \"d\", "
                             "\"text\": \"t\"}, {\"id\": \"e\", \"text\": \"t\", \"score\": \"1\"}]}\n"));
            }),
            dir() + "ca4.jsonl:1: candidate 2: \"score\" must be a number, not string");
  EXPECT_EQ(
      input_error([] {
        read_all_lists(write_temp("ca5.jsonl",
                                  "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": [{\"id\": \"d\", "
                                  "\"text\": \"t\"}, {\"id\": \"d\", \"text\": \"u\"}]}\n"));
      }),
      dir() + "ca5.jsonl:1: candidate 2: id \"d\" repeats candidate 1");
  EXPECT_EQ(
      input_error([] {
        read_all_lists(write_temp(
            "ca6.jsonl", "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": [{\"text\": \"t\"}]}\n"));
      }),
      dir() + "ca6.jsonl:1: candidate 1: missing \"id\"");
  EXPECT_EQ(input_error([] {
              read_all_lists(
                  write_temp("ca7.jsonl", "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": [3]}\n"));
            }),
            dir() + "ca7.jsonl:1: candidate 1: expected a JSON object, found number");
  EXPECT_EQ(
      input_error([] {
        read_all_lists(write_temp(
            "ca8.jsonl", "{\"query_id\": \"q1\", \"query\": \"a\", \"candidates\": [{\"id\": \"d\"}]}\n"));
      }),
      dir() + "ca8.jsonl:1: candidate 1: missing \"text\"");
  EXPECT_EQ(input_error(
                [] { read_all_lists(write_temp("ca9.jsonl", "{\"query\": \"a\", \"candidates\": []}\n")); }),
            dir() + "ca9.jsonl:1: missing \"query_id\"");
  EXPECT_EQ(input_error([] {
              read_all_lists(
                  write_temp("ca10.jsonl", "{\"query_id\": \"q\", \"query\": \"\", \"candidates\": []}\n"));
            }),
            dir() + "ca10.jsonl:1: query \"q\" has empty text");
}
