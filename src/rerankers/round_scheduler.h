// Multi-query scheduling for LLM strategies.
//
// A ranking algorithm (sliding windows, heapsort, bubble sort, all pairs) is written as plain
// sequential code over one query that asks a Asker to rank the passages of a prompt. The scheduler
// runs the algorithms of all queries of a batch in rounds: each round it (re)runs every unfinished
// algorithm until it asks something not answered yet, collects those questions from all queries, and
// answers them with ONE backend call. Algorithms are deterministic functions of the answers, so
// re-running from the start with the answers known so far replays them exactly (questions are cheap
// compared with a forward pass). Answers are memoised per query: the same prompt is never asked twice.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <vector>

#include "rerank/reranker.h"
#include "rerank/types.h"

namespace rerank::llm {

// The candidates shown in one prompt (indices into the query's candidate list), in prompt order.
using Shown = std::vector<std::size_t>;
// The model's preference for each shown candidate, in the same order: higher is more relevant.
using Preference = std::vector<double>;

// Thrown through an algorithm when it needs answers that are not known yet.
struct Suspend {};

class Asker {
 public:
  Asker(const std::map<Shown, Preference>& known, std::vector<Shown>& pending)
      : known_(known), pending_(pending) {}
  // Preferences for all prompts, asked together in one round.
  std::vector<Preference> ask(const std::vector<Shown>& prompts);
  Preference ask(const Shown& prompt) { return ask(std::vector<Shown>{prompt})[0]; }

 private:
  const std::map<Shown, Preference>& known_;
  std::vector<Shown>& pending_;
};

// The result of an algorithm: an order of all candidate indices, best first, and optionally a score
// per candidate index (empty: scores are derived from ranks).
struct Ordering {
  std::vector<std::size_t> order;
  std::vector<double> scores;
};

using Algorithm = std::function<Ordering(Asker& asker, std::size_t n)>;

struct Question {
  std::size_t query;  // index in the batch
  Shown shown;
};
struct Answer {
  Preference preference;
  RerankCost cost;
};
// Answers every question of a round (one backend call for all queries).
using Answerer = std::function<std::vector<Answer>(const std::vector<Question>&)>;

// Runs `algorithm` for every query of the batch. Each question answered counts as one model call in
// the cost of its query.
std::vector<RerankResult> run_rounds(const std::vector<CandidateList>& batch, const Algorithm& algorithm,
                                     const Answerer& answerer);

// An ordering as a ranking of the query's candidates.
RerankResult to_result(const CandidateList& list, const Ordering& ordering);

}  // namespace rerank::llm
