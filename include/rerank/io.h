// Readers and writers for the IR world's formats (src/io). Formats are recognised from content,
// so a caller hands any supported file to the same function. Every reader validates UTF-8 and
// reports malformed input as rerank::InputError ("file:line: what is wrong").
#pragma once
#include <fstream>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rerank/types.h"

namespace rerank {

// ---- documents: BEIR corpus.jsonl ({"_id","title","text"}) or TREC <DOC><DOCNO>..</DOCNO>..</DOC>
// Streams: one document in memory at a time.
class CorpusReader {
 public:
  explicit CorpusReader(const std::string& path);
  ~CorpusReader();
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  // Next document, or false at the end of the file.
  bool next(Document& doc);
  const std::string& path() const;
  // Bytes consumed so far and the file's size, for progress reporting.
  std::uint64_t bytes_read() const;
  std::uint64_t bytes_total() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One pass over the corpus keeping only the documents whose ids are wanted (for reranking a run).
std::unordered_map<std::string, Document> read_documents(const std::string& path,
                                                         const std::unordered_set<std::string>& wanted);

// ---- queries: BEIR queries.jsonl, TREC topics (<top><num><title>), or "qid<TAB>text" lines.
std::vector<Query> read_queries(const std::string& path);

// ---- judgements: TREC "qid iter docid rel" or BEIR TSV with header "query-id corpus-id score".
Qrels read_qrels(const std::string& path);
void write_trec_qrels(std::ostream& out, const Qrels& qrels);
void write_beir_qrels(std::ostream& out, const Qrels& qrels);

// ---- runs: TREC "qid Q0 docid rank score tag". Order within a query is the file's order.
Run read_run(const std::string& path);
// Writes each query's list in its stored order with ranks 1..n.
void write_run(std::ostream& out, const Run& run);
void write_run(const std::string& path, const Run& run);  // atomically: temp file, then rename

// ---- candidates JSONL (docs/formats.md): one query with its candidate documents per line.
class CandidatesReader {
 public:
  explicit CandidatesReader(const std::string& path);
  ~CandidatesReader();
  bool next(CandidateList& list);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};
void write_candidates(std::ostream& out, const CandidateList& list);

}  // namespace rerank
