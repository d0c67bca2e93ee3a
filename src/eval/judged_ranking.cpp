// From a query's retrieved documents and judgements to the grade at each rank, following
// trec_eval's form_res_rels.c.
#include "eval/judged_ranking.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "rerank/error.h"

namespace rerank::eval::detail {

void judge(const std::string& qid, const std::unordered_map<std::string, int>& judgements,
           const std::vector<ScoredDoc>* docs, const EvalOptions& options, RankingScratch& scratch,
           JudgedRanking& out) {
  auto& entries = scratch.entries;
  entries.clear();
  if (docs) {
    scratch.seen.clear();
    scratch.seen.reserve(docs->size());
    for (const ScoredDoc& d : *docs) {
      if (std::isnan(d.score))
        throw Error("query \"" + qid + "\": document \"" + d.doc_id +
                    "\" has a NaN score, which cannot be ranked");
      // trec_eval refuses a ranking that lists a document twice ("duplicate docs").
      if (!scratch.seen.insert(d.doc_id).second)
        throw Error("query \"" + qid + "\": document \"" + d.doc_id + "\" is retrieved twice");
      entries.push_back({d.score, &d.doc_id});
    }
  }
  // trec_eval ignores the rank column: higher score first, equal scores by docid in descending
  // byte order (its comp_sim_docno: strcmp(p2->docno, p1->docno)).
  std::sort(entries.begin(), entries.end(),
            [](const RankingScratch::Entry& a, const RankingScratch::Entry& b) {
              if (a.score != b.score) return a.score > b.score;
              return *a.doc_id > *b.doc_id;
            });
  if (options.max_docs > 0 && entries.size() > static_cast<std::size_t>(options.max_docs))
    entries.resize(static_cast<std::size_t>(options.max_docs));

  out.grades.clear();
  out.grades.reserve(entries.size());
  for (const auto& e : entries) {
    const auto it = judgements.find(*e.doc_id);
    if (it == judgements.end()) out.grades.push_back(kNotInQrels);
    // A negative grade is trec_eval's "in the pool but unjudged": non-relevant everywhere, and
    // bpref neither counts it as judged non-relevant nor as relevant.
    else
      out.grades.push_back(it->second < 0 ? kNegativeJudgement : it->second);
  }

  out.num_rel = 0;
  out.num_nonrel = 0;
  out.ideal_gains.clear();
  for (const auto& [doc, grade] : judgements) {
    if (grade < 0) continue;
    if (grade >= options.relevance_level)
      ++out.num_rel;
    else
      ++out.num_nonrel;
    if (grade > 0) out.ideal_gains.push_back(grade);
  }
  std::sort(out.ideal_gains.begin(), out.ideal_gains.end(), std::greater<int>());
}

}  // namespace rerank::eval::detail
