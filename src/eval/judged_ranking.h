// A query's ranking turned into the relevance grade at each rank, the form every measure reads
// (trec_eval's form_res_rels.c). Internal to src/eval.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rerank/eval.h"
#include "rerank/types.h"

namespace rerank::eval::detail {

// Grade markers for retrieved documents that have no usable judgement, with trec_eval's values
// (RELVALUE_NONPOOL, RELVALUE_UNJUDGED): neither is ever relevant, and bpref skips both.
inline constexpr int kNotInQrels = -1;
inline constexpr int kNegativeJudgement = -2;

struct JudgedRanking {
  std::vector<int> grades;       // grade of the document at each rank (rank 1 first)
  long num_rel = 0;              // judged documents with grade >= relevance level
  long num_nonrel = 0;           // judged documents with 0 <= grade < relevance level
  std::vector<int> ideal_gains;  // positive grades of all judged documents, highest first (nDCG)
};

// Reusable buffers so that evaluating many queries allocates little.
struct RankingScratch {
  struct Entry {
    double score;
    const std::string* doc_id;
  };
  std::vector<Entry> entries;
  std::unordered_set<std::string_view> seen;
};

// Orders `docs` as trec_eval does (score descending, ties by docid descending, the rank column
// ignored), keeps the top options.max_docs, and looks up each document's grade. `docs` may be
// null (a query that retrieved nothing). Throws rerank::Error on a duplicate document or NaN score.
void judge(const std::string& qid, const std::unordered_map<std::string, int>& judgements,
           const std::vector<ScoredDoc>* docs, const EvalOptions& options, RankingScratch& scratch,
           JudgedRanking& out);

// The output columns for the requested measures, in trec_eval's order.
std::vector<Column> make_columns(const std::vector<MeasureRequest>& requests);

// Computes every requested measure for one query into `values` (one per column, as make_columns).
void compute_measures(const JudgedRanking& ranking, const std::vector<MeasureRequest>& requests,
                      long relevance_level, double* values);

}  // namespace rerank::eval::detail
