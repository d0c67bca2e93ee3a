// The data that flows between the stages: documents, queries, judgements, ranked lists.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace rerank {

struct Document {
  std::string doc_id;
  std::string title;
  std::string text;
};

struct Query {
  std::string id;
  std::string text;
};

// Relevance judgements: query id -> document id -> grade. Negative grades are judged non-relevant.
using Qrels = std::map<std::string, std::unordered_map<std::string, int>>;

struct ScoredDoc {
  std::string doc_id;
  double score = 0.0;
};

// A ranked list per query, best first. Query order is kept as std::map (sorted ids), as TREC runs are.
struct Run {
  std::map<std::string, std::vector<ScoredDoc>> by_query;
  std::string tag = "rerank";
};

// One query with the candidate documents to rerank (the JSONL candidates format, docs/formats.md).
struct Candidate {
  std::string doc_id;
  std::string title;
  std::string text;
  double score = 0.0;  // first-stage score
};

// What a model reads of a document: "title text" (the BEIR convention), or whichever is not empty.
inline std::string document_text(const std::string& title, const std::string& text) {
  if (title.empty()) return text;
  if (text.empty()) return title;
  return title + " " + text;
}

// How much of each long document a reranker reads, when a caller limits it (Cohere's
// max_tokens_per_doc and max_chunks_per_doc, TEI's truncate); 0: the reranker's own limits.
struct DocumentLimits {
  std::size_t max_tokens = 0;  // the document's first (or last) this many tokens
  std::size_t max_chunks = 0;  // of a document cut into windows (pointwise), this many windows
  bool from_end = false;       // keep the end of the document instead of its start (pointwise)
};

struct CandidateList {
  Query query;
  std::vector<Candidate> candidates;
  DocumentLimits limits = {};
};

}  // namespace rerank
