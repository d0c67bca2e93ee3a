// Multi-query scheduling for LLM strategies.
//
// A ranking algorithm (sliding windows, heapsort, bubble sort, all pairs) is written as plain
// sequential code over one query that asks an Asker to rank the passages of a prompt. The scheduler
// runs the algorithms of all queries of a batch side by side, each on its own thread, in rounds: a
// round ends when every unfinished algorithm waits for answers; their questions are then answered
// with ONE backend call, in query order, and the algorithms go on. Each algorithm runs once: an
// earlier design re-ran every algorithm from the start each round, which cost rounds x questions and
// took minutes for heapsort over 10,000 candidates (one question per round). Answers are memoised per
// query: the same prompt is never asked twice. The threads only wait; the backend call runs on the
// caller's thread, so results and backend calls do not depend on thread timing.
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

class RoundSync;

class Asker {
 public:
  // Preferences for all prompts, asked together in one round (none when all are known).
  std::vector<Preference> ask(const std::vector<Shown>& prompts);
  Preference ask(const Shown& prompt) { return ask(std::vector<Shown>{prompt})[0]; }

 private:
  friend class RoundSync;
  Asker(RoundSync& sync, std::size_t query) : sync_(sync), query_(query) {}
  RoundSync& sync_;
  std::size_t query_;
  std::map<Shown, Preference> known_;
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
