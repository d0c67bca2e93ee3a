// What a request may ask beyond one default rerank call: another strategy on the same model, limits
// on long documents, and /search, which retrieves then reranks over a served index exactly as the
// library pipeline does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/tiny_embedding_model.h"
#include "rerank/dense.h"
#include "rerank/index.h"
#include "rerank/pipeline.h"
#include "rerank/strategy_pool.h"
#include "server_fixture.h"

namespace rerank {
namespace {

using namespace rerank::test;

const std::vector<std::string> kDocs = {"mars is red because of iron oxide", "bananas are yellow",
                                        "the red planet", "rust is iron oxide"};

// Document indices in the order the library's reranker gives them.
std::vector<std::size_t> library_order(Reranker& reranker, const std::string& query) {
  CandidateList list{{"q", query}, {}};
  for (std::size_t i = 0; i < kDocs.size(); ++i)
    list.candidates.push_back({std::to_string(i), "", kDocs[i], 0});
  std::vector<std::size_t> order;
  const auto results = reranker.rerank({list});
  for (const auto& d : results[0].ranking) order.push_back(std::stoul(d.doc_id));
  return order;
}

std::vector<std::size_t> served_order(const httplib::Result& r) {
  std::vector<std::size_t> order;
  const json body = json::parse(r->body);
  for (const auto& item : body["results"]) order.push_back(item["index"].get<std::size_t>());
  return order;
}

TEST(ServerStrategies, ARequestChoosesAnotherStrategyOnTheSameModel) {
  const std::string path = test::tiny_model(test::Tiny::Qwen3);
  auto pool = std::make_shared<StrategyPool>(RerankerOptions{path, 1, {}});
  Server s({}, {{"m", path, tiny("pointwise", test::Tiny::Qwen3), pool}});
  const json body = {{"query", "red planet"}, {"documents", kDocs}};
  for (const std::string strategy : {"setwise", "pairwise"}) {
    json asked = body;
    asked["strategy"] = strategy;
    asked["strategy_options"] = {{"passage_tokens", 16}};
    const auto r = s.post("/v2/rerank", asked);
    ASSERT_EQ(r->status, 200) << r->body;
    auto library = tiny(strategy, test::Tiny::Qwen3, {{"passage_tokens", "16"}});
    EXPECT_EQ(served_order(r), library_order(*library, "red planet")) << strategy;
    // Rank-only strategies report (n - rank) / n.
    EXPECT_DOUBLE_EQ(json::parse(r->body)["results"][1]["relevance_score"].get<double>(), 0.75);
  }
  auto pointwise = tiny("pointwise", test::Tiny::Qwen3);
  EXPECT_EQ(served_order(s.post("/v2/rerank", body)), library_order(*pointwise, "red planet"));
  json bad = body;
  bad["strategy"] = "setwise";
  bad["strategy_options"] = {{"topk", 0}};
  const auto r = s.post("/v2/rerank", bad);
  EXPECT_EQ(r->status, 422);
  EXPECT_THAT(json::parse(r->body)["message"].get<std::string>(), testing::HasSubstr("setwise: option topk"));
}

TEST(ServerStrategies, ACrossEncoderOffersNoOtherStrategy) {
  const std::string path = test::tiny_model(test::Tiny::Bert);
  Server s({}, {{"m", path, tiny("pointwise", test::Tiny::Bert), nullptr}});
  const auto r = s.post("/rerank", {{"query", "q"}, {"texts", {"a"}}, {"strategy", "listwise"}});
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(json::parse(r->body)["error"],
            "model 'm' serves strategy pointwise only; requests cannot choose another");
}

// The library's score of one document under `limits`.
double library_score(const std::string& query, const std::string& doc, DocumentLimits limits) {
  auto reranker = tiny("pointwise", test::Tiny::Bert, {{"max_length", "64"}});
  CandidateList list{{"q", query}, {{"0", "", doc, 0}}, limits};
  return reranker->rerank({list})[0].ranking[0].score;
}

TEST(ServerLimits, TruncationOptionsOfEachDialectReachTheModel) {
  Server s({}, {{"m", "tiny", tiny("pointwise", test::Tiny::Bert, {{"max_length", "64"}}), nullptr}});
  std::string doc;
  for (int i = 0; i < 120; ++i) doc += "word" + std::to_string(i % 17) + " ";
  const std::string query = "word3 word5";
  const auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  const auto relevance = [&](const std::string& route, json body) {
    body["query"] = query;
    const auto r = s.post(route, body);
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body)["results"][0]["relevance_score"].get<double>();
  };
  const double whole = library_score(query, doc, {});
  const double first_tokens = library_score(query, doc, {8, 0, false});
  const double first_window = library_score(query, doc, {0, 1, false});
  const double last_window = library_score(query, doc, {0, 1, true});
  EXPECT_NE(whole, first_tokens);  // the limits change what the model reads
  EXPECT_NE(first_window, last_window);
  EXPECT_DOUBLE_EQ(relevance("/v2/rerank", {{"documents", {doc}}}), sigmoid(whole));
  EXPECT_DOUBLE_EQ(relevance("/v2/rerank", {{"documents", {doc}}, {"max_tokens_per_doc", 8}}),
                   sigmoid(first_tokens));
  EXPECT_DOUBLE_EQ(relevance("/v1/rerank", {{"documents", {doc}}, {"max_chunks_per_doc", 1}}),
                   sigmoid(first_window));
  const auto tei = s.post("/rerank", {{"query", query},
                                      {"texts", {doc}},
                                      {"raw_scores", true},
                                      {"truncate", true},
                                      {"truncation_direction", "Left"}});
  EXPECT_DOUBLE_EQ(json::parse(tei->body)[0]["score"].get<double>(), last_window);

  const auto zero = s.post("/v2/rerank", {{"query", query}, {"documents", {doc}}, {"max_tokens_per_doc", 0}});
  EXPECT_EQ(zero->status, 422);
  EXPECT_EQ(json::parse(zero->body)["message"], "field 'max_tokens_per_doc' must be a positive integer");
  const auto up = s.post("/rerank", {{"query", query}, {"texts", {doc}}, {"truncation_direction", "Up"}});
  EXPECT_EQ(up->status, 422);
  EXPECT_EQ(json::parse(up->body)["error"], "field 'truncation_direction' must be \"Left\" or \"Right\"");
}

// A corpus and its BM25 index in a temporary directory.
struct TinyCollection {
  std::filesystem::path dir =
      std::filesystem::path(RERANK_TEST_TMP) / ("search-" + std::to_string(::getpid()));
  std::string corpus = (dir / "corpus.jsonl").string();
  std::string index = (dir / "index").string();
  TinyCollection() {
    std::filesystem::create_directories(dir);
    std::ofstream out(corpus);
    IndexOptions options;
    options.overwrite = true;
    IndexWriter writer(index, options);
    for (std::size_t i = 0; i < kDocs.size(); ++i) {
      const std::string n = std::to_string(i);
      const Document d{std::string("d").append(n), std::string("title ").append(n), kDocs[i]};
      out << json{{"_id", d.doc_id}, {"title", d.title}, {"text", d.text}}.dump() << "\n";
      writer.add(d);
    }
    writer.finish();
  }
  ~TinyCollection() { std::filesystem::remove_all(dir); }
};

TEST(ServerSearch, RetrievesThenReranksAsTheLibraryPipelineDoes) {
  TinyCollection c;
  ServeOptions o;
  o.search = SearchOptions{"bm25", {c.index, {}}, c.corpus, 3};
  Server s(o, {{"m", "tiny", tiny("pointwise", test::Tiny::Bert), nullptr}});
  const auto r = s.post("/search", {{"query", "red iron oxide"}, {"top_n", 2}});
  ASSERT_EQ(r->status, 200) << r->body;
  const json got = json::parse(r->body);

  auto reranker = tiny("pointwise", test::Tiny::Bert);
  const auto expected = retrieve_and_rerank(*make_first_stage("bm25", {c.index, {}}),
                                            {{"q", "red iron oxide"}}, c.corpus, *reranker, 3, 3, 1, {});
  const auto& list = expected.run.by_query.at("q");
  ASSERT_EQ(got["results"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got["results"][i]["id"], list[i].doc_id);
    EXPECT_EQ(got["results"][i]["score"].get<double>(), list[i].score);
    EXPECT_NEAR(got["results"][i]["relevance_score"].get<double>(), 1 / (1 + std::exp(-list[i].score)),
                1e-12);
    const std::size_t doc = std::stoul(list[i].doc_id.substr(1));
    EXPECT_EQ(got["results"][i]["document"]["text"], kDocs[doc]);
    EXPECT_EQ(got["results"][i]["document"]["title"], "title " + std::to_string(doc));
  }
  EXPECT_EQ(got["first_stage"], "bm25");
  EXPECT_GT(got["usage"]["total_tokens"].get<int>(), 0);
  EXPECT_GE(got["timings"]["total_ms"].get<double>(), got["timings"]["rerank_ms"].get<double>());

  const auto sent = s.post("/search", {{"query", "q"}, {"documents", {"a"}}});
  EXPECT_EQ(sent->status, 422);
  EXPECT_THAT(sent->body, testing::HasSubstr("/search retrieves its documents"));
  const auto nothing = s.post("/search", {{"query", "zzzz unknownword"}});
  EXPECT_EQ(nothing->status, 200);
  EXPECT_EQ(json::parse(nothing->body)["results"], json::array());
}

TEST(ServerSearch, HybridFirstStageRetrievesAsTheLibraryDoes) {
  TinyCollection c;
  embed_corpus(c.corpus, test::tiny_embedding_model(), vector_file_path(c.index, "dense"), {});
  for (const std::string spec : {"dense", "hybrid"}) {
    SCOPED_TRACE(spec);
    ServeOptions o;
    o.search = SearchOptions{spec, {c.index, {}}, c.corpus, 3};
    Server s(o, {{"m", "tiny", tiny("pointwise", test::Tiny::Bert), nullptr}});
    const auto r = s.post("/search", {{"query", "red iron oxide"}, {"top_n", 3}});
    ASSERT_EQ(r->status, 200) << r->body;
    const json got = json::parse(r->body);
    auto reranker = tiny("pointwise", test::Tiny::Bert);
    const auto expected = retrieve_and_rerank(*make_first_stage(spec, {c.index, {}}),
                                              {{"q", "red iron oxide"}}, c.corpus, *reranker, 3, 3, 1, {});
    const auto& list = expected.run.by_query.at("q");
    ASSERT_EQ(got["results"].size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got["results"][i]["id"], list[i].doc_id);
  }
}

TEST(ServerSearch, IsA404WithoutAnIndex) {
  Server s({}, {{"m", "tiny", tiny("pointwise", test::Tiny::Bert), nullptr}});
  const auto r = s.post("/search", {{"query", "q"}});
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["message"], "this server has no index: start it with --index and --corpus");
}

}  // namespace
}  // namespace rerank
