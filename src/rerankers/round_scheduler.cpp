#include "rerankers/round_scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "rerank/error.h"

namespace rerank::llm {

namespace {
// Thrown out of Asker::ask to unwind an algorithm when its batch is abandoned (another query's
// algorithm or the backend failed).
struct Abandoned {};
}  // namespace

// The meeting point of the algorithms' threads and the scheduler.
class RoundSync {
 public:
  explicit RoundSync(std::size_t queries) : slots_(queries) {}

  // On an algorithm's thread.
  void run(std::size_t query, const Algorithm& algorithm, std::size_t n) {
    Asker asker(*this, query);
    Ordering ordering;
    std::exception_ptr error;
    try {
      ordering = algorithm(asker, n);
    } catch (const Abandoned&) {
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    slots_[query].done = true;
    slots_[query].ordering = std::move(ordering);
    slots_[query].error = error;
    to_scheduler_.notify_one();
  }
  std::vector<Preference> wait_for_answers(std::size_t query, std::vector<Shown> questions) {
    std::unique_lock<std::mutex> lock(mutex_);
    Slot& slot = slots_[query];
    slot.asked = std::move(questions);
    slot.waiting = true;
    to_scheduler_.notify_one();
    to_algorithms_.wait(lock, [&] { return !slot.waiting || abandoned_; });
    if (abandoned_) throw Abandoned{};
    return std::move(slot.answers);
  }

  // On the scheduler's thread: waits until every algorithm waits or is done, then returns the
  // questions of this round in query order (none: all are done, or one failed).
  std::vector<Question> next_round() {
    std::unique_lock<std::mutex> lock(mutex_);
    to_scheduler_.wait(lock, [&] {
      return std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.waiting || s.done; });
    });
    std::vector<Question> questions;
    for (const Slot& s : slots_)
      if (s.error) return questions;
    for (std::size_t q = 0; q < slots_.size(); ++q)
      if (slots_[q].waiting)
        for (const Shown& shown : slots_[q].asked) questions.push_back({q, shown});
    return questions;
  }
  void deliver(const std::vector<Question>& questions, std::vector<Answer>& answers) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < questions.size(); ++i)
      slots_[questions[i].query].answers.push_back(std::move(answers[i].preference));
    for (Slot& s : slots_) s.waiting = false;
    to_algorithms_.notify_all();
  }
  void abandon() {
    std::lock_guard<std::mutex> lock(mutex_);
    abandoned_ = true;
    to_algorithms_.notify_all();
  }
  // After the threads have ended: the first failure in query order, rethrown.
  void rethrow_failure() const {
    for (const Slot& s : slots_)
      if (s.error) std::rethrow_exception(s.error);
  }
  Ordering take_ordering(std::size_t query) { return std::move(slots_[query].ordering); }

 private:
  struct Slot {
    std::vector<Shown> asked;
    std::vector<Preference> answers;
    bool waiting = false;
    bool done = false;
    Ordering ordering;
    std::exception_ptr error;
  };
  std::mutex mutex_;
  std::condition_variable to_scheduler_, to_algorithms_;
  std::vector<Slot> slots_;
  bool abandoned_ = false;
};

std::vector<Preference> Asker::ask(const std::vector<Shown>& prompts) {
  std::vector<Shown> missing;
  std::set<Shown> seen;
  for (const auto& p : prompts)
    if (known_.find(p) == known_.end() && seen.insert(p).second) missing.push_back(p);
  if (!missing.empty()) {
    std::vector<Preference> answers = sync_.wait_for_answers(query_, missing);
    for (std::size_t i = 0; i < missing.size(); ++i) known_[std::move(missing[i])] = std::move(answers[i]);
  }
  std::vector<Preference> out;
  out.reserve(prompts.size());
  for (const auto& p : prompts) out.push_back(known_.at(p));
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

namespace {

// Ends the batch's threads however run_rounds leaves: abandoned algorithms unwind, then all join.
class AlgorithmThreads {
 public:
  explicit AlgorithmThreads(RoundSync& sync) : sync_(sync) {}
  ~AlgorithmThreads() {
    sync_.abandon();
    for (auto& t : threads_) t.join();
  }
  void start(std::function<void()> body) { threads_.emplace_back(std::move(body)); }

 private:
  RoundSync& sync_;
  std::vector<std::thread> threads_;
};

void check_answers(const std::vector<Question>& questions, const std::vector<Answer>& answers) {
  if (answers.size() != questions.size()) throw Error("LLM backend returned a wrong number of answers");
  for (std::size_t i = 0; i < questions.size(); ++i)
    if (answers[i].preference.size() != questions[i].shown.size())
      throw Error("LLM backend returned a wrong number of label scores");
}

}  // namespace

std::vector<RerankResult> run_rounds(const std::vector<CandidateList>& batch, const Algorithm& algorithm,
                                     const Answerer& answerer) {
  const std::size_t nq = batch.size();
  std::vector<RerankCost> cost(nq);
  RoundSync sync(nq);
  {
    AlgorithmThreads threads(sync);
    for (std::size_t q = 0; q < nq; ++q)
      threads.start([&sync, &algorithm, &batch, q] { sync.run(q, algorithm, batch[q].candidates.size()); });
    for (std::vector<Question> questions = sync.next_round(); !questions.empty();
         questions = sync.next_round()) {
      std::vector<Answer> answers = answerer(questions);
      check_answers(questions, answers);
      for (std::size_t i = 0; i < questions.size(); ++i) {
        cost[questions[i].query] += answers[i].cost;
        cost[questions[i].query].model_calls += 1;
      }
      sync.deliver(questions, answers);
    }
  }  // every algorithm has finished, or one failed and the others are abandoned
  sync.rethrow_failure();
  std::vector<RerankResult> results;
  results.reserve(nq);
  for (std::size_t q = 0; q < nq; ++q) {
    results.push_back(to_result(batch[q], sync.take_ordering(q)));
    results.back().cost = cost[q];
  }
  return results;
}

}  // namespace rerank::llm
