// Benchmark of the LLM reranking strategies (listwise, FIRST, pairwise, setwise, InsertRank) on
// BM25 candidates: per strategy, model calls, tokens, wall time per query and queries per PetaFLOP
// (the E2R-FLOPs paper's hardware-independent throughput: 1e15 / FLOPs per query), plus the speed of a
// FIRST window relative to a listwise-generation window on the same windows.
//
// The model is a generated random-weight GGUF (Qwen3-0.6B shape by default): speeds and costs are
// real, rankings are meaningless. bench/llm_strategies.sh builds the BM25 run and calls this.
//
//   bench_llm_strategies --run RUN --queries Q --corpus C [--model M.gguf | --shape qwen3-0.6b]
//       [--nq 1] [--depth 100] [--passage-tokens 64] [--strategies listwise,first,...] [--threads N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "rerank/error.h"
#include "rerank/io.h"
#include "rerank/reranker.h"
#include "rerank/test_models.h"

namespace {

struct Args {
  std::string run, queries, corpus, model, shape = "qwen3-0.6b", out_dir = "bench-models";
  std::size_t nq = 1, depth = 100;
  int passage_tokens = 64, threads = 0;
  std::string strategies = "first,listwise,insertrank,setwise,pairwise,embedding,e2rank";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto v = [&]() -> std::string {
      if (i + 1 >= argc) throw rerank::Error("missing value for " + k);
      return argv[++i];
    };
    if (k == "--run")
      a.run = v();
    else if (k == "--queries")
      a.queries = v();
    else if (k == "--corpus")
      a.corpus = v();
    else if (k == "--model")
      a.model = v();
    else if (k == "--shape")
      a.shape = v();
    else if (k == "--model-dir")
      a.out_dir = v();
    else if (k == "--nq")
      a.nq = std::stoul(v());
    else if (k == "--depth")
      a.depth = std::stoul(v());
    else if (k == "--passage-tokens")
      a.passage_tokens = std::stoi(v());
    else if (k == "--threads")
      a.threads = std::stoi(v());
    else if (k == "--strategies")
      a.strategies = v();
    else
      throw rerank::Error("unknown option " + k);
  }
  if (a.run.empty() || a.queries.empty() || a.corpus.empty())
    throw rerank::Error("usage: bench_llm_strategies --run RUN --queries Q --corpus C [options]");
  return a;
}

std::vector<rerank::CandidateList> load_batch(const Args& a) {
  const rerank::Run run = rerank::read_run(a.run);
  std::vector<rerank::CandidateList> batch;
  std::unordered_set<std::string> wanted;
  for (const auto& q : rerank::read_queries(a.queries)) {
    auto it = run.by_query.find(q.id);
    if (it == run.by_query.end() || it->second.empty()) continue;
    rerank::CandidateList list{q, {}};
    for (std::size_t i = 0; i < it->second.size() && i < a.depth; ++i) {
      list.candidates.push_back({it->second[i].doc_id, "", "", it->second[i].score});
      wanted.insert(it->second[i].doc_id);
    }
    batch.push_back(std::move(list));
    if (batch.size() == a.nq) break;
  }
  const auto docs = rerank::read_documents(a.corpus, wanted);
  for (auto& list : batch)
    for (auto& c : list.candidates) {
      auto d = docs.find(c.doc_id);
      if (d == docs.end()) throw rerank::Error("document " + c.doc_id + " of the run is not in the corpus");
      c.title = d->second.title;
      c.text = d->second.text;
    }
  return batch;
}

std::string model_path(const Args& a) {
  if (!a.model.empty()) return a.model;
  std::filesystem::create_directories(a.out_dir);
  const std::string path = a.out_dir + "/qwen3-" + a.shape + "-f16.gguf";
  if (!std::filesystem::exists(path)) {
    rerank::TestModelSpec spec;
    spec.arch = rerank::TestModelArch::Qwen3;
    spec.shape = rerank::parse_test_model_shape(a.shape);
    spec.seed = 1;
    spec.type = rerank::TestModelType::F16;
    std::fprintf(stderr, "writing %s\n", path.c_str());
    rerank::write_test_model(spec, path);
  }
  return path;
}

struct Variant {
  std::string label, strategy;
  std::map<std::string, std::string> params;
};

std::vector<Variant> variants(const std::string& list) {
  const std::map<std::string, std::vector<Variant>> all = {
      {"listwise", {{"listwise w20 s10", "listwise", {}}}},
      {"first", {{"first w20 s10", "first", {}}}},
      {"insertrank", {{"insertrank w20 s10", "insertrank", {}}}},
      {"setwise",
       {{"setwise heapsort c3 k10", "setwise", {{"variant", "heapsort"}}},
        {"setwise bubblesort c3 k10", "setwise", {{"variant", "bubblesort"}}}}},
      {"pairwise",
       {{"pairwise heapsort k10", "pairwise", {{"variant", "heapsort"}}},
        {"pairwise sliding k10", "pairwise", {{"variant", "sliding"}}}}},
      {"setwise-heapsort", {{"setwise heapsort c3 k10", "setwise", {{"variant", "heapsort"}}}}},
      {"setwise-bubblesort", {{"setwise bubblesort c3 k10", "setwise", {{"variant", "bubblesort"}}}}},
      {"pairwise-heapsort", {{"pairwise heapsort k10", "pairwise", {{"variant", "heapsort"}}}}},
      {"pairwise-sliding", {{"pairwise sliding k10", "pairwise", {{"variant", "sliding"}}}}},
      {"allpair", {{"pairwise allpair", "pairwise", {{"variant", "allpair"}}}}},
      {"embedding", {{"embedding", "embedding", {}}}},
      {"e2rank", {{"e2rank k20", "e2rank", {}}}},
  };
  std::vector<Variant> out;
  std::stringstream ss(list);
  for (std::string name; std::getline(ss, name, ',');) {
    auto it = all.find(name);
    if (it == all.end()) throw rerank::Error("unknown strategy in --strategies: " + name);
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  const auto batch = load_batch(args);
  if (batch.empty()) throw rerank::Error("no query of the run has candidates");
  const std::string model = model_path(args);
  const double nq = static_cast<double>(batch.size());
  std::printf("LLM strategies on %zu queries x %zu candidates, passages cut to %d tokens, model %s\n\n",
              batch.size(), batch[0].candidates.size(), args.passage_tokens, model.c_str());
  std::printf("%-28s %10s %12s %10s %10s %12s %12s %14s\n", "strategy", "calls/q", "prompt tok/q", "cached/q",
              "gen/q", "passes/q", "s/query", "queries/PFLOP");
  std::map<std::string, double> seconds_per_call;
  for (const auto& v : variants(args.strategies)) {
    rerank::RerankerOptions o;
    o.model_path = model;
    o.threads = args.threads;
    o.params = v.params;
    o.params["passage_tokens"] = std::to_string(args.passage_tokens);
    // E2Rank's query holds 20 passages: room for them in one sequence.
    o.params["context_tokens"] = "8192";
    auto reranker = rerank::make_reranker(v.strategy, o);
    const auto start = std::chrono::steady_clock::now();
    const auto results = reranker->rerank(batch);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rerank::RerankCost total;
    for (const auto& r : results) total += r.cost;
    const double flops_per_query = total.flops / nq;
    std::printf("%-28s %10.1f %12.0f %10.0f %10.1f %12.1f %12.2f %14.1f\n", v.label.c_str(),
                static_cast<double>(total.model_calls) / nq, static_cast<double>(total.prompt_tokens) / nq,
                static_cast<double>(total.cached_tokens) / nq,
                static_cast<double>(total.generated_tokens) / nq,
                static_cast<double>(total.forward_passes) / nq, secs / nq,
                flops_per_query > 0 ? 1e15 / flops_per_query : 0.0);
    std::fflush(stdout);
    if (total.model_calls) seconds_per_call[v.strategy] = secs / static_cast<double>(total.model_calls);
  }
  if (seconds_per_call.count("first") && seconds_per_call.count("listwise"))
    std::printf("\nFIRST vs listwise generation, same windows: %.2f s vs %.2f s per window = %.1fx faster\n",
                seconds_per_call["first"], seconds_per_call["listwise"],
                seconds_per_call["listwise"] / seconds_per_call["first"]);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_llm_strategies: %s\n", e.what());
  return 1;
}
