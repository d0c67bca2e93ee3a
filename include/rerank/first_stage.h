// The one interface every first stage implements (BM25 over our index, BM25+RM3, a fusion of first
// stages, candidates read from another engine's run file), and the registry that builds one from a
// spec string, as rerankers are built by name:
//
//   bm25                       BM25 over FirstStageOptions::index_path
//   bm25+rm3                   BM25 with RM3 pseudo-relevance feedback
//   run:FILE                   another engine's TREC run
//   rrf(SPEC,SPEC,...)         reciprocal rank fusion of first stages
//   interpolate(SPEC,SPEC,...) interpolation of their min-max normalised scores
//
// A first stage's name() is the spec that builds it again.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rerank/types.h"

namespace rerank {

class FirstStage {
 public:
  virtual ~FirstStage() = default;
  virtual std::string name() const = 0;
  // The top `k` documents for the query, best first (ties broken by document id, ascending).
  virtual std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) = 0;
  // A first stage that retrieves the same lists, for another thread: read-only data (the index, a
  // run) is shared, scratch space is not. A FirstStage itself is not thread-safe.
  virtual std::unique_ptr<FirstStage> fork() const = 0;
  // Every query's top `k` with `threads` threads (0: all cores), in the order of `queries`. By
  // default retrieve() on one fork per thread; a first stage that gains from seeing all queries at
  // once overrides it (dense search: one matrix product per block of the collection for a batch of
  // queries, whose scores may differ from retrieve()'s in the last bits of float rounding).
  virtual std::vector<std::vector<ScoredDoc>> retrieve_many(const std::vector<Query>& queries, std::size_t k,
                                                            unsigned threads) const;
};

// Retrieves every query's top `k` with `threads` threads (0: all cores) through retrieve_many().
// A query id given twice is an error.
Run retrieve_all(const FirstStage& stage, const std::vector<Query>& queries, std::size_t k, unsigned threads,
                 const std::string& tag = "rerank");

// What first stages are built from. `params` are read and validated by the stages of the spec before
// any index or run is opened; an option no stage of the spec reads is an error naming it:
//   bm25, bm25+rm3: k1 (0.9), b (0.4), fields ("title=1,text=0.5"; default: every field),
//                   remove_query (on|off), and for RM3 fb_terms (10), fb_docs (10),
//                   original_query_weight (0.5)
//   rrf, interpolate: rrf_k (60), weights ("0.3,0.7"; interpolate only), depth (1000: documents of
//                   each fused list that take part)
struct FirstStageOptions {
  std::string index_path;  // for bm25 and bm25+rm3
  std::map<std::string, std::string> params;
};

// A registered kind of first stage: `argument` is what follows "name:" or sits inside "name(...)"
// (empty for a bare name); `check` only validates options (no files are opened).
struct FirstStageKind {
  std::vector<std::string> params;  // the option keys this kind reads
  bool nests = false;               // its argument is a list of first-stage specs (fusion)
  std::function<void(const std::string& argument, const FirstStageOptions& options)> check;
  std::function<std::unique_ptr<FirstStage>(const std::string& argument, const FirstStageOptions& options)>
      make;
};

void register_first_stage(const std::string& name, FirstStageKind kind);
std::vector<std::string> first_stage_names();
// Throws rerank::Error for an unknown name, a malformed spec or a bad option, before opening anything.
void check_first_stage(const std::string& spec, const FirstStageOptions& options);
// check_first_stage, then opens what the spec names.
std::unique_ptr<FirstStage> make_first_stage(const std::string& spec, const FirstStageOptions& options);

// Splits "a,b(c,d),e" at its top-level commas (fusion arguments).
std::vector<std::string> split_first_stage_list(const std::string& argument);

}  // namespace rerank
