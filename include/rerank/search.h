// Retrieval over an Index (src/index): BM25 as Anserini scores it, BM25+RM3 pseudo-relevance
// feedback as Anserini's Rm3Reranker computes it, and the FirstStage wrappers around both.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/index.h"
#include "rerank/types.h"

namespace rerank {

struct FieldWeight {
  std::string field;
  float weight = 1.0f;
};

// Parses "title=1.0,text=0.5". Throws rerank::Error on a malformed spec.
std::vector<FieldWeight> parse_field_weights(const std::string& spec);

// A query as Lucene sees it: distinct analyzed terms, each with its boost (for a bag-of-words
// query the number of times the term occurs, as Anserini's BagOfWordsQueryGenerator does),
// sorted by term.
using WeightedTerms = std::vector<std::pair<std::string, float>>;
WeightedTerms bag_of_words(const std::string& query_text);

struct Hit {
  std::uint32_t doc = 0;  // internal document number
  float score = 0;
};

// Term-at-a-time BM25 over one index. Holds scratch accumulators, so one engine per thread; the
// Index itself is shared.
class Bm25Engine {
 public:
  Bm25Engine(std::shared_ptr<const Index> index, float k1 = 0.9f, float b = 0.4f);

  // The top k documents (score descending, ties by external id ascending). Each field's clause
  // scores are summed per document in double and rounded to float, then the fields likewise, as
  // Lucene's nested BooleanQuery does. Unknown field names throw rerank::Error.
  std::vector<Hit> search(const WeightedTerms& terms, const std::vector<FieldWeight>& fields, std::size_t k);

  const Index& index() const { return *index_; }
  // All fields of the index with weight 1 (the default query fields).
  std::vector<FieldWeight> default_fields() const;

 private:
  std::shared_ptr<const Index> index_;
  float k1_, b_;
  std::vector<double> field_acc_, total_acc_;
  std::vector<std::uint32_t> field_touched_, total_touched_;
  std::vector<std::uint8_t> in_field_, in_total_;
};

struct Rm3Options {
  int fb_terms = 10;
  int fb_docs = 10;
  float original_query_weight = 0.5f;
};

// The field RM3 reads feedback vectors from and expands: "contents" of a flat index, "text" of a
// multifield one (Anserini's Rm3Reranker works on its single "contents" field).
std::uint32_t feedback_field(const Index& index);

// Anserini's RM3 expansion of `query_text` from feedback hits (best first, their BM25 scores):
// each of the top fb_docs documents' vector keeps terms of 2..20 characters matching [a-z0-9]+
// that occur in at most 10% of the documents, pruned to its fb_terms heaviest; term weights are
// sum over documents of tf/|doc vector| * score, pruned to fb_terms, L1-normalised, then
// interpolated with the L1-normalised query. Ties in pruning break by term (Anserini's break by
// hash order). Returns the expanded query sorted by term.
WeightedTerms rm3_expand(const Index& index, const std::string& query_text, const std::vector<Hit>& feedback,
                         const Rm3Options& options = {});

struct SearchOptions {
  float k1 = 0.9f;
  float b = 0.4f;
  std::vector<FieldWeight> fields;  // empty: every field with weight 1
  bool rm3 = false;
  Rm3Options rm3_options;
  bool remove_query = false;  // drop a hit whose id equals the query id (Pyserini, BEIR)
};

// BM25 (or BM25+RM3 when options.rm3) as a FirstStage. Not thread-safe: one per thread.
class Bm25Retriever : public FirstStage {
 public:
  Bm25Retriever(std::shared_ptr<const Index> index, SearchOptions options);
  std::string name() const override;
  std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) override;
  std::unique_ptr<FirstStage> fork() const override;
  // The same with internal document numbers.
  std::vector<Hit> retrieve_hits(const Query& query, std::size_t k);

 private:
  std::shared_ptr<const Index> index_;
  Bm25Engine engine_;
  SearchOptions options_;
  std::vector<FieldWeight> fields_;
};

// BM25+RM3 as its own first stage: a Bm25Retriever with options.rm3 forced on.
class Rm3Retriever : public Bm25Retriever {
 public:
  Rm3Retriever(std::shared_ptr<const Index> index, SearchOptions options)
      : Bm25Retriever(std::move(index), with_rm3(std::move(options))) {}

 private:
  static SearchOptions with_rm3(SearchOptions options) {
    options.rm3 = true;
    return options;
  }
};

// BM25 (or BM25+RM3) options from name=value strings (FirstStageOptions::params: k1, b, fields,
// remove_query, fb_terms, fb_docs, original_query_weight); throws rerank::Error naming a bad value.
SearchOptions search_options_from(const std::map<std::string, std::string>& params, bool rm3);
// The option keys search_options_from reads.
std::vector<std::string> search_option_keys(bool rm3);

}  // namespace rerank
