// `rerank convert --kind KIND --to FORMAT IN [OUT]`: converts judgements, queries, documents, runs and
// candidate lists between the formats of docs/formats.md. The input format is recognised from the
// file's content; OUT is written atomically (or to stdout when absent or "-").
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "cli/command.h"
#include "rerank/atomic_file.h"
#include "rerank/error.h"
#include "rerank/io.h"
#include "rerank/io_writers.h"
#include "rerank/pipeline.h"

namespace rerank::cli {

namespace {

struct ConvertArgs {
  std::string kind, to, in, out, corpus, queries, tag;
  std::size_t depth = 0;
};

// Formats each kind can be written as.
const std::map<std::string, std::vector<std::string>>& targets() {
  static const std::map<std::string, std::vector<std::string>> t = {
      {"qrels", {"trec", "beir"}},  {"queries", {"beir", "trec", "tsv"}},
      {"corpus", {"beir", "trec"}}, {"run", {"trec", "candidates"}},
      {"candidates", {"run"}},
  };
  return t;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Options that only make sense together are checked while parsing, so mistakes are usage errors (exit 2).
void check_combination(const ConvertArgs& a) {
  const auto& allowed = targets().at(a.kind);
  if (std::find(allowed.begin(), allowed.end(), a.to) == allowed.end())
    throw CLI::ValidationError("--to", "a " + a.kind + " file can be converted to: " + join(allowed));
  const bool to_candidates = a.kind == "run" && a.to == "candidates";
  if (to_candidates && (a.corpus.empty() || a.queries.empty()))
    throw CLI::ValidationError("--to candidates", "needs --corpus and --queries");
  if (!to_candidates && (!a.corpus.empty() || !a.queries.empty()))
    throw CLI::ValidationError("--corpus/--queries", "only used with --kind run --to candidates");
  if (!to_candidates && a.depth)
    throw CLI::ValidationError("--depth", "only used with --kind run --to candidates");
  const bool writes_run = a.to == "run" || (a.kind == "run" && a.to == "trec");
  if (!writes_run && !a.tag.empty()) throw CLI::ValidationError("--tag", "only used when writing a run");
}

// Where the output goes: a file replaced atomically on success, or stdout.
class Output {
 public:
  explicit Output(const std::string& path) {
    if (!path.empty() && path != "-") file_ = std::make_unique<io::AtomicOstream>(path);
  }
  std::ostream& stream() { return file_ ? static_cast<std::ostream&>(*file_) : std::cout; }
  void finish() {
    if (file_)
      file_->commit();
    else if (!std::cout.flush())
      throw Error("cannot write to standard output");
  }

 private:
  std::unique_ptr<io::AtomicOstream> file_;
};

std::size_t count_judgements(const Qrels& qrels) {
  std::size_t n = 0;
  for (const auto& [q, docs] : qrels) n += docs.size();
  return n;
}

std::size_t convert_qrels(const ConvertArgs& a, std::ostream& out) {
  const Qrels qrels = read_qrels(a.in);
  if (a.to == "trec")
    write_trec_qrels(out, qrels);
  else
    write_beir_qrels(out, qrels);
  return count_judgements(qrels);
}

std::size_t convert_queries(const ConvertArgs& a, std::ostream& out) {
  const auto queries = read_queries(a.in);
  for (const auto& q : queries) {
    if (a.to == "beir")
      write_beir_query(out, q);
    else if (a.to == "trec")
      write_trec_topic(out, q);
    else
      write_tsv_query(out, q);
  }
  return queries.size();
}

std::size_t convert_corpus(const ConvertArgs& a, std::ostream& out) {
  CorpusReader reader(a.in);
  Document doc;
  std::size_t n = 0;
  while (reader.next(doc)) {
    if (a.to == "beir")
      write_beir_document(out, doc);
    else
      write_trec_document(out, doc);
    ++n;
  }
  return n;
}

std::size_t count_entries(const Run& run) {
  std::size_t n = 0;
  for (const auto& [q, docs] : run.by_query) n += docs.size();
  return n;
}

// Each query of the run becomes one candidates line, documents in the run's order (its first --depth):
// the heads of the pipeline's join (rerank/pipeline.h).
std::size_t run_to_candidates(const ConvertArgs& a, std::ostream& out) {
  const Run run = read_run(a.in);
  const auto jobs = jobs_from_run(run, a.queries, a.corpus, a.depth ? a.depth : kWholeList, a.in);
  for (const auto& job : jobs) write_candidates(out, job.head);
  return jobs.size();
}

std::size_t candidates_to_run(const ConvertArgs& a, std::ostream& out) {
  CandidatesReader reader(a.in);
  Run run;
  if (!a.tag.empty()) run.tag = a.tag;
  CandidateList list;
  while (reader.next(list)) {
    auto& docs = run.by_query[list.query.id];
    for (const auto& c : list.candidates) docs.push_back({c.doc_id, c.score});
  }
  write_run(out, run);
  return count_entries(run);
}

std::size_t rewrite_run(const ConvertArgs& a, std::ostream& out) {
  Run run = read_run(a.in);
  if (!a.tag.empty()) run.tag = a.tag;
  write_run(out, run);
  return count_entries(run);
}

const char* unit(const ConvertArgs& a) {
  if (a.kind == "qrels") return "judgements";
  if (a.kind == "queries") return "queries";
  if (a.kind == "corpus") return "documents";
  if (a.kind == "run" && a.to == "candidates") return "candidate lists";
  return "run lines";
}

std::function<int()> setup_convert(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  std::vector<std::string> kinds;
  for (const auto& [k, v] : targets()) kinds.push_back(k);
  app.add_option("--kind", args->kind, "What IN holds: " + join(kinds))
      ->required()
      ->check(CLI::IsMember(kinds));
  app.add_option("--to", args->to,
                 "Output format. qrels: trec, beir; queries: beir, trec, tsv; corpus: beir, trec; "
                 "run: trec, candidates; candidates: run")
      ->required()
      ->check(CLI::IsMember({"trec", "beir", "tsv", "candidates", "run"}));
  app.add_option("--corpus", args->corpus, "Documents for --kind run --to candidates (BEIR or TREC)");
  app.add_option("--queries", args->queries, "Queries for --kind run --to candidates (BEIR, TREC or TSV)");
  app.add_option("--depth", args->depth, "With --to candidates: keep each query's first N documents")
      ->check(CLI::PositiveNumber);
  app.add_option("--tag", args->tag, "Run tag when writing a run (default: the input's, or \"rerank\")");
  app.add_option("IN", args->in, "Input file; its format is recognised from its content")->required();
  app.add_option("OUT", args->out,
                 "Output file, replaced only when the conversion succeeds (default: stdout)");
  app.footer(
      "Examples:\n"
      "  rerank convert --kind qrels --to trec qrels/test.tsv qrels.txt\n"
      "  rerank convert --kind queries --to beir topics.trec queries.jsonl\n"
      "  rerank convert --kind run --to candidates --corpus corpus.jsonl --queries queries.jsonl run.txt "
      "cands.jsonl\n"
      "Formats: docs/formats.md");
  app.parse_complete_callback([args] { check_combination(*args); });
  return [args] {
    const ConvertArgs& a = *args;
    Output output(a.out);
    std::size_t n = 0;
    if (a.kind == "qrels")
      n = convert_qrels(a, output.stream());
    else if (a.kind == "queries")
      n = convert_queries(a, output.stream());
    else if (a.kind == "corpus")
      n = convert_corpus(a, output.stream());
    else if (a.kind == "run" && a.to == "candidates")
      n = run_to_candidates(a, output.stream());
    else if (a.kind == "run")
      n = rewrite_run(a, output.stream());
    else
      n = candidates_to_run(a, output.stream());
    output.finish();
    if (output.stream().rdbuf() != std::cout.rdbuf())
      std::cerr << "rerank convert: wrote " << n << ' ' << unit(a) << " to " << a.out << "\n";
    return 0;
  };
}

const CommandRegistration kConvert(
    "convert", "Convert judgements, queries, documents, runs and candidates between formats", setup_convert);

}  // namespace

}  // namespace rerank::cli
