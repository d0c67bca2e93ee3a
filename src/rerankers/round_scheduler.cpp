#include "rerankers/round_scheduler.h"

#include <algorithm>
#include <set>
#include <string>

#include "rerank/error.h"

namespace rerank::llm {

std::vector<Preference> Asker::ask(const std::vector<Shown>& prompts) {
  std::vector<Preference> out;
  out.reserve(prompts.size());
  bool missing = false;
  for (const auto& p : prompts) {
    auto it = known_.find(p);
    if (it == known_.end()) {
      if (std::find(pending_.begin(), pending_.end(), p) == pending_.end()) pending_.push_back(p);
      missing = true;
      continue;
    }
    out.push_back(it->second);
  }
  if (missing) throw Suspend{};
  return out;
}

RerankResult to_result(const CandidateList& list, const Ordering& ordering) {
  const std::size_t n = list.candidates.size();
  std::vector<bool> seen(n, false);
  RerankResult r;
  r.ranking.reserve(n);
  for (std::size_t i = 0; i < ordering.order.size(); ++i) {
    std::size_t c = ordering.order[i];
    if (c >= n || seen[c]) throw Error("internal error: a ranking algorithm did not return a permutation");
    seen[c] = true;
    double score = ordering.scores.empty() ? static_cast<double>(n - i) : ordering.scores[c];
    r.ranking.push_back({list.candidates[c].doc_id, score});
  }
  if (r.ranking.size() != n) throw Error("internal error: a ranking algorithm lost candidates");
  return r;
}

std::vector<RerankResult> run_rounds(const std::vector<CandidateList>& batch, const Algorithm& algorithm,
                                     const Answerer& answerer) {
  const std::size_t nq = batch.size();
  std::vector<std::map<Shown, Preference>> known(nq);
  std::vector<RerankCost> cost(nq);
  std::vector<Ordering> done(nq);
  std::vector<bool> finished(nq, false);
  while (true) {
    std::vector<Question> questions;
    for (std::size_t q = 0; q < nq; ++q) {
      if (finished[q]) continue;
      std::vector<Shown> pending;
      Asker asker(known[q], pending);
      try {
        done[q] = algorithm(asker, batch[q].candidates.size());
        finished[q] = true;
      } catch (const Suspend&) {
        for (auto& s : pending) questions.push_back({q, std::move(s)});
      }
    }
    if (questions.empty()) break;
    std::vector<Answer> answers = answerer(questions);
    if (answers.size() != questions.size()) throw Error("LLM backend returned a wrong number of answers");
    for (std::size_t i = 0; i < questions.size(); ++i) {
      const Question& qu = questions[i];
      if (answers[i].preference.size() != qu.shown.size())
        throw Error("LLM backend returned a wrong number of label scores");
      known[qu.query][qu.shown] = std::move(answers[i].preference);
      cost[qu.query] += answers[i].cost;
      cost[qu.query].model_calls += 1;
    }
  }
  std::vector<RerankResult> results;
  results.reserve(nq);
  for (std::size_t q = 0; q < nq; ++q) {
    results.push_back(to_result(batch[q], done[q]));
    results.back().cost = cost[q];
  }
  return results;
}

}  // namespace rerank::llm
