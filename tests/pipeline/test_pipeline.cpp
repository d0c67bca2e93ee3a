// The library pipeline the CLI and the server share: joining a run with texts, reranking heads in
// query batches, keeping tails below, and retrieve-then-rerank in one call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "error_message.h"
#include "rerank/error.h"
#include "rerank/index.h"
#include "rerank/io.h"
#include "rerank/pipeline.h"

namespace rerank {
namespace {

// Ranks candidates by the length of their text, longest first (score = length); records batch sizes.
class ByLength : public Reranker {
 public:
  std::string name() const override { return "by-length"; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    batch_sizes.push_back(batch.size());
    std::vector<RerankResult> out;
    for (const auto& list : batch) {
      RerankResult r;
      for (const auto& c : list.candidates)
        r.ranking.push_back({c.doc_id, static_cast<double>(document_text(c.title, c.text).size())});
      std::stable_sort(r.ranking.begin(), r.ranking.end(),
                       [](const ScoredDoc& a, const ScoredDoc& b) { return a.score > b.score; });
      r.cost.model_calls = list.candidates.size();
      out.push_back(std::move(r));
    }
    return out;
  }
  std::vector<std::size_t> batch_sizes;
};

std::string error_of(const std::function<void()>& f) { return test::error_of(f, "no error"); }

rerank::Run three_queries() {
  rerank::Run run;
  run.by_query["q1"] = {{"a", 9}, {"bbb", 8}, {"cc", 7}, {"dddd", 6}};
  run.by_query["q2"] = {{"cc", 3}, {"a", 2}};
  run.by_query["q3"] = {};
  return run;
}

std::unordered_map<std::string, Document> texts() {
  std::unordered_map<std::string, Document> docs;
  for (std::string id : {"a", "bbb", "cc", "dddd"}) docs[id] = {id, "", std::string(id.size() * 3, 'x')};
  return docs;
}

std::vector<Query> query_list() { return {{"q1", "one"}, {"q2", "two"}, {"q3", "three"}}; }

TEST(Pipeline, HeadsAreRerankedAndTailsKeptBelowInOrder) {
  const auto jobs = jobs_from_run(three_queries(), query_list(), texts(), 3);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].head.query.text, "one");
  EXPECT_EQ(jobs[0].head.candidates.size(), 3u);
  EXPECT_EQ(jobs[0].head.candidates[1].text, "xxxxxxxxx");
  EXPECT_EQ(jobs[0].head.candidates[1].score, 8);
  ASSERT_EQ(jobs[0].tail.size(), 1u);
  ByLength reranker;
  RerankRunOptions options;
  options.query_batch = 2;
  options.tag = "t";
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  options.progress = [&](std::size_t done, std::size_t total) { progress.push_back({done, total}); };
  const RerankedRun r = rerank_jobs(reranker, jobs, options);
  EXPECT_EQ(r.run.tag, "t");
  EXPECT_EQ(r.queries, 3u);
  EXPECT_EQ(r.documents, 5u);
  EXPECT_EQ(r.cost.model_calls, 5u);
  EXPECT_EQ(reranker.batch_sizes, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(progress, (std::vector<std::pair<std::size_t, std::size_t>>{{5, 5}, {5, 5}}));
  ASSERT_EQ(r.run.by_query.count("q3"), 0u);  // nothing to rank: left out
  const auto& q1 = r.run.by_query.at("q1");
  ASSERT_EQ(q1.size(), 4u);
  EXPECT_EQ(q1[0].doc_id, "bbb");
  EXPECT_EQ(q1[0].score, 9);
  EXPECT_EQ(q1[1].doc_id, "cc");
  EXPECT_EQ(q1[2].doc_id, "a");
  EXPECT_EQ(q1[3].doc_id, "dddd");  // below the depth: after the head, one lower
  EXPECT_EQ(q1[3].score, q1[2].score - 1);
}

TEST(Pipeline, QueryBatchesNeverChangeTheRun) {
  const auto jobs = jobs_from_run(three_queries(), query_list(), texts(), 2);
  ByLength a, b;
  RerankRunOptions one, many;
  one.query_batch = 1;
  many.query_batch = 16;
  const auto x = rerank_jobs(a, jobs, one), y = rerank_jobs(b, jobs, many);
  ASSERT_EQ(x.run.by_query.size(), y.run.by_query.size());
  for (const auto& [qid, list] : x.run.by_query) {
    ASSERT_EQ(list.size(), y.run.by_query.at(qid).size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(list[i].doc_id, y.run.by_query.at(qid)[i].doc_id);
      EXPECT_EQ(list[i].score, y.run.by_query.at(qid)[i].score);
    }
  }
}

TEST(Pipeline, MissingTextsNameTheQueryTheDocumentAndTheInputs) {
  rerank::Run run = three_queries();
  EXPECT_EQ(error_of([&] { jobs_from_run(run, {{"q1", "one"}}, texts(), 3, {"r.txt", "q.tsv", "c.jsonl"}); }),
            "query \"q2\" of r.txt is not in q.tsv");
  run.by_query["q1"].insert(run.by_query["q1"].begin(), {"zz", 10});
  EXPECT_EQ(error_of([&] { jobs_from_run(run, query_list(), texts(), 3, {"r.txt", "q.tsv", "c.jsonl"}); }),
            "document \"zz\" (query \"q1\") of r.txt is not in c.jsonl");
  // Below the depth a document needs no text.
  run.by_query["q1"].push_back({"yy", 1});
  run.by_query["q1"].erase(run.by_query["q1"].begin());
  EXPECT_EQ(jobs_from_run(run, query_list(), texts(), 4).at(0).tail.at(0).doc_id, "yy");
}

TEST(Pipeline, CandidateListsSplitAtTheDepth) {
  CandidateList list{{"q", "query"}, {{"d1", "", "t1", 3}, {"d2", "", "t2", 2}, {"d3", "", "t3", 1}}};
  const auto jobs = jobs_from_candidates({list}, 2);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].head.candidates.size(), 2u);
  ASSERT_EQ(jobs[0].tail.size(), 1u);
  EXPECT_EQ(jobs[0].tail[0].doc_id, "d3");
  EXPECT_EQ(jobs_from_candidates({list}, kWholeList)[0].tail.size(), 0u);
}

TEST(Pipeline, RetrieveThenRerankIsOneCall) {
  const auto dir = std::filesystem::path(RERANK_TEST_TMP) / "pipeline" / std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string corpus = (dir / "corpus.jsonl").string();
  std::ofstream(corpus) << "{\"_id\": \"short\", \"text\": \"apple\"}\n"
                           "{\"_id\": \"long\", \"text\": \"apple pie with a long crust\"}\n"
                           "{\"_id\": \"other\", \"text\": \"pear\"}\n";
  IndexWriter writer((dir / "index").string(), {});
  CorpusReader reader(corpus);
  for (Document d; reader.next(d);) writer.add(d);
  writer.finish();
  const auto bm25 = make_first_stage("bm25", {(dir / "index").string(), {}});
  ByLength reranker;
  const auto r = retrieve_and_rerank(*bm25, {{"q", "apple"}}, corpus, reranker, 10, 10, 1, {});
  const auto& list = r.run.by_query.at("q");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].doc_id, "long");  // BM25 puts the short one first; the reranker the long one
  EXPECT_EQ(bm25->retrieve({"q", "apple"}, 10)[0].doc_id, "short");
}

}  // namespace
}  // namespace rerank
