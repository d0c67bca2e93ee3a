#include "server/batcher.h"

#include "server/dialects.h"

namespace rerank::server {

Batcher::Batcher(std::string model, Reranker& reranker, std::size_t capacity, std::size_t max_batch,
                 std::size_t max_documents, Metrics& metrics)
    : model_(std::move(model)),
      reranker_(reranker),
      capacity_(capacity),
      max_batch_(max_batch ? max_batch : 1),
      max_documents_(max_documents ? max_documents : 1),
      metrics_(metrics),
      worker_([this] { loop(); }) {}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

Ticket Batcher::submit(CandidateList list, std::shared_ptr<Reranker> strategy) {
  Pending p{
      std::move(list), std::move(strategy), {}, std::make_shared<std::atomic<Abandoned>>(Abandoned::No)};
  Ticket ticket{p.result.get_future(), p.abandoned};
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_)
      throw RequestError(429,
                         "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting");
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return ticket;
}

std::size_t Batcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

// Everything waiting, in arrival order, up to max_batch requests and max_documents documents (a
// larger request alone), without those nobody waits for; empty when stopping
// with nothing left.
std::vector<Batcher::Pending> Batcher::take_batch() {
  std::vector<Pending> batch;
  std::unique_lock lock(mutex_);
  while (batch.empty()) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return batch;
    std::size_t documents = 0;
    while (!queue_.empty() && batch.size() < max_batch_) {
      Pending& next = queue_.front();
      const Abandoned why = next.abandoned->load();
      if (why != Abandoned::No) {
        metrics_.request_abandoned(model_, why == Abandoned::TimedOut ? "timeout" : "disconnected");
        queue_.pop_front();
        continue;
      }
      const std::size_t size = next.list.candidates.size();
      if (!batch.empty() && documents + size > max_documents_) break;  // the next call takes it
      documents += size;
      batch.push_back(std::move(next));
      queue_.pop_front();
    }
  }
  return batch;
}

void Batcher::run_group(Reranker& reranker, std::vector<Pending*>& group) {
  std::vector<CandidateList> lists;
  lists.reserve(group.size());
  for (auto* p : group) lists.push_back(std::move(p->list));
  if (!answer(reranker, group, lists) && group.size() > 1)
    // One request's input (a query too long for the model) must not fail its batch-mates.
    for (std::size_t i = 0; i < group.size(); ++i) {
      std::vector<Pending*> alone{group[i]};
      std::vector<CandidateList> one{std::move(lists[i])};
      answer(reranker, alone, one);
    }
}

// One reranker call for `lists` (those of `group`): answers every request and returns true, or, when
// the call fails, answers only a lone request with the error and returns false.
bool Batcher::answer(Reranker& reranker, std::vector<Pending*>& group,
                     const std::vector<CandidateList>& lists) {
  try {
    auto results = reranker.rerank(lists);
    if (results.size() != group.size()) throw Error(reranker.name() + " returned a wrong number of results");
    std::size_t documents = 0;
    std::uint64_t tokens = 0;
    for (const auto& l : lists) documents += l.candidates.size();
    for (const auto& r : results) tokens += r.cost.prompt_tokens;
    metrics_.batch_done(model_, group.size(), documents, tokens);
    for (std::size_t i = 0; i < group.size(); ++i) group[i]->result.set_value(std::move(results[i]));
    return true;
  } catch (...) {
    if (group.size() == 1) group.front()->result.set_exception(std::current_exception());
    return false;
  }
}

void Batcher::loop() {
  for (;;) {
    std::vector<Pending> batch = take_batch();
    if (batch.empty()) return;
    // One call per strategy, in the order the strategies first appear.
    std::vector<bool> done(batch.size(), false);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (done[i]) continue;
      std::vector<Pending*> group;
      for (std::size_t j = i; j < batch.size(); ++j)
        if (!done[j] && batch[j].strategy == batch[i].strategy) group.push_back(&batch[j]), done[j] = true;
      run_group(batch[i].strategy ? *batch[i].strategy : reranker_, group);
    }
  }
}

}  // namespace rerank::server
