// `rerank rerank --model M.gguf --queries Q --corpus C (--run RUN | --candidates FILE) --output OUT`:
// reranks each query's top --depth candidates with a neural reranker and writes a TREC run. The
// documents below the depth follow the reranked ones in their original order, with scores lowered
// so that the run stays sorted. Progress with an ETA and a cost summary go to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <unordered_map>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/io.h"
#include "rerank/reranker.h"

namespace rerank::cli {

namespace {

struct RerankArgs {
  std::string model, queries, corpus, run, candidates, output, strategy = "pointwise", chunking, instruction;
  std::string tag = "rerank";
  std::size_t depth = 100;
  std::size_t query_batch = 16;
  int max_length = 0;
  int threads = 0;
  std::vector<std::string> params;
};

struct Job {
  CandidateList head;           // reranked
  std::vector<ScoredDoc> tail;  // below the depth, kept in order
};

std::vector<Job> jobs_from_run(const RerankArgs& a) {
  if (a.queries.empty() || a.corpus.empty()) throw Error("--run needs --queries and --corpus");
  std::unordered_map<std::string, std::string> query_text;
  for (auto& q : read_queries(a.queries)) query_text[q.id] = q.text;
  const Run run = read_run(a.run);
  std::unordered_set<std::string> wanted;
  for (const auto& [qid, docs] : run.by_query)
    for (std::size_t i = 0; i < docs.size() && i < a.depth; ++i) wanted.insert(docs[i].doc_id);
  const auto documents = read_documents(a.corpus, wanted);
  std::vector<Job> jobs;
  for (const auto& [qid, docs] : run.by_query) {
    auto q = query_text.find(qid);
    if (q == query_text.end())
      throw Error(a.queries + ": no query '" + qid + "' (it is in the run " + a.run + ")");
    Job job;
    job.head.query = {qid, q->second};
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (i >= a.depth) {
        job.tail.push_back(docs[i]);
        continue;
      }
      auto d = documents.find(docs[i].doc_id);
      if (d == documents.end())
        throw Error(a.corpus + ": no document '" + docs[i].doc_id + "' (it is in the run " + a.run + ")");
      job.head.candidates.push_back({docs[i].doc_id, d->second.title, d->second.text, docs[i].score});
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<Job> jobs_from_candidates(const RerankArgs& a) {
  std::vector<Job> jobs;
  CandidatesReader reader(a.candidates);
  for (CandidateList list; reader.next(list);) {
    Job job;
    job.head.query = list.query;
    for (std::size_t i = 0; i < list.candidates.size(); ++i) {
      if (i < a.depth)
        job.head.candidates.push_back(std::move(list.candidates[i]));
      else
        job.tail.push_back({list.candidates[i].doc_id, list.candidates[i].score});
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// A one-line progress bar with an ETA: redrawn in place on a terminal, a line every 10 s otherwise;
// silent for jobs that finish within two seconds.
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), tty_(isatty(STDERR_FILENO)) {}
  void update(std::size_t done) {
    const double elapsed = seconds();
    if (elapsed < 2.0 && done < total_) return;
    if (done < total_ && elapsed - last_ < (tty_ ? 0.25 : 10.0)) return;
    last_ = elapsed;
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const std::size_t width = 30, filled = total_ ? width * done / total_ : width;
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
    std::fprintf(stderr, "%s[%s] %zu/%zu documents, %.1f docs/s, ETA %s%s", tty_ ? "\r" : "", bar.c_str(),
                 done, total_, rate, rate > 0 ? clock_text((total_ - done) / rate).c_str() : "?",
                 tty_ ? "" : "\n");
    shown_ = true;
  }
  void finish() {
    if (shown_ && tty_) std::fputc('\n', stderr);
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::size_t total_;
  bool tty_;
  bool shown_ = false;
  double last_ = -1e9;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::function<int()> setup_rerank(CLI::App& app) {
  auto a = std::make_shared<RerankArgs>();
  app.add_option("--model", a->model, "GGUF reranker: a cross-encoder or a decoder LM")->required();
  app.add_option("--queries", a->queries,
                 "Queries: BEIR queries.jsonl, TREC topics or \"qid<TAB>text\" (with --run)");
  app.add_option("--corpus", a->corpus, "Documents: BEIR corpus.jsonl or TREC SGML (with --run)");
  auto* run = app.add_option("--run", a->run, "First-stage TREC run to rerank");
  auto* cands =
      app.add_option("--candidates", a->candidates, "Candidates JSONL (query and documents per line)");
  run->excludes(cands);
  app.add_option("--output", a->output, "Reranked TREC run to write")->required();
  app.add_option("--depth", a->depth, "Rerank each query's top N candidates (default 100)");
  app.add_option("--max-length", a->max_length,
                 "Tokens per pair; longer documents are chunked (default: model's)");
  app.add_option("--chunking", a->chunking, "Aggregate chunk scores: maxp (default), firstp or sump")
      ->check(CLI::IsMember({"maxp", "firstp", "sump"}));
  app.add_option("--threads", a->threads, "CPU threads (default: all cores)");
  app.add_option("--strategy", a->strategy, "Reranking strategy (default pointwise)");
  app.add_option("--instruction", a->instruction, "Task instruction for LLM rerankers' prompts");
  app.add_option("--param", a->params, "Strategy option KEY=VALUE (repeatable; see docs/rerankers.md)");
  app.add_option("--tag", a->tag, "Run tag of the output (default rerank)");
  app.add_option("--query-batch", a->query_batch, "Queries handed to the reranker at once (default 16)")
      ->check(CLI::PositiveNumber);
  return [a] {
    if (a->run.empty() == a->candidates.empty()) throw Error("give exactly one of --run and --candidates");
    if (a->depth == 0) throw Error("--depth must be at least 1");
    RerankerOptions options;
    options.model_path = a->model;
    options.threads = a->threads;
    for (const auto& p : a->params) {
      const auto eq = p.find('=');
      if (eq == std::string::npos || eq == 0) throw Error("--param expects KEY=VALUE, got '" + p + "'");
      options.params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    if (a->max_length > 0) options.params["max_length"] = std::to_string(a->max_length);
    if (!a->chunking.empty()) options.params["chunking"] = a->chunking;
    if (!a->instruction.empty()) options.params["instruction"] = a->instruction;
    auto reranker = make_reranker(a->strategy, options);
    const std::vector<Job> jobs = a->run.empty() ? jobs_from_candidates(*a) : jobs_from_run(*a);

    std::size_t total = 0, done = 0;
    for (const auto& j : jobs) total += j.head.candidates.size();
    Progress progress(total);
    Run out;
    out.tag = a->tag;
    RerankCost cost;
    // Queries go to the reranker in groups so strategies can batch model calls across queries
    // (scores do not depend on batch-mates, so the group size never changes the output).
    for (std::size_t first = 0; first < jobs.size(); first += a->query_batch) {
      const std::size_t last = std::min(jobs.size(), first + a->query_batch);
      std::vector<CandidateList> group;
      for (std::size_t j = first; j < last; ++j) group.push_back(jobs[j].head);
      std::vector<RerankResult> results = reranker->rerank(group);
      for (std::size_t j = first; j < last; ++j) {
        const Job& job = jobs[j];
        RerankResult& result = results[j - first];
        cost += result.cost;
        done += job.head.candidates.size();
        auto& ranking = out.by_query[job.head.query.id];
        ranking = std::move(result.ranking);
        // Below the depth: original order, scores strictly under the reranked ones.
        double floor = ranking.empty() ? 0.0 : ranking.back().score;
        for (const auto& d : job.tail) ranking.push_back({d.doc_id, floor -= 1.0});
        if (ranking.empty()) out.by_query.erase(job.head.query.id);
      }
      progress.update(done);
    }
    progress.finish();
    write_run(a->output, out);
    const double secs = progress.seconds();
    std::fprintf(stderr,
                 "reranked %zu queries, %zu documents in %.1f s (%.1f docs/s) with %s: %llu model calls, "
                 "%llu forward passes, %llu prompt tokens, %llu cached tokens, %llu generated tokens, "
                 "%llu repaired answers, %.3g GFLOP estimated\n",
                 jobs.size(), total, secs, secs > 0 ? total / secs : 0.0, a->strategy.c_str(),
                 static_cast<unsigned long long>(cost.model_calls),
                 static_cast<unsigned long long>(cost.forward_passes),
                 static_cast<unsigned long long>(cost.prompt_tokens),
                 static_cast<unsigned long long>(cost.cached_tokens),
                 static_cast<unsigned long long>(cost.generated_tokens),
                 static_cast<unsigned long long>(cost.repaired_answers), cost.flops / 1e9);
    return 0;
  };
}

const CommandRegistration registration("rerank", "Rerank a run's top candidates with a neural model (GGUF)",
                                       setup_rerank);

}  // namespace
}  // namespace rerank::cli
