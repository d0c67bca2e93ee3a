// How pointwise rerankers turn a (query, document) pair into model tokens, and how long documents
// are cut into chunks. Tokenization follows llama-server's /rerank exactly for documents that fit,
// so scores equal llama-server's on the same model and inputs.
#pragma once
#include <string>
#include <vector>

#include "rerank/chat_format.h"
#include "rerank/language_model.h"
#include "rerank/model.h"
#include "rerank/types.h"

namespace rerank::pointwise {

enum class Chunking { MaxP, FirstP, SumP };
Chunking parse_chunking(const std::string& name);  // "maxp", "firstp", "sump"
// MaxP: the best chunk; FirstP: the first chunk; SumP: the sum over chunks.
double aggregate(const std::vector<double>& chunk_scores, Chunking chunking);

class PairFormat {
 public:
  // Cross-encoders use their metadata rerank template if they have one, else Hugging Face's pair
  // encoding: [CLS] q [SEP] d [SEP] for BERT (WordPiece) vocabularies, <s> q </s></s> d </s> for
  // RoBERTa/XLM-R, and llama-server's framing [BOS] query [EOS] [SEP] document [EOS] (each special
  // token as the vocabulary asks) for other architectures. Decoders use `user_template` if given, else the
  // metadata rerank template, else Qwen3-Reranker's. Templates hold {query} and {document} (and optionally
  // {instruction}); a non-empty `instruction` replaces {instruction} or the "<Instruct>: " line.
  // `llama_server_encoding`: cross-encoder pairs exactly as llama-server --reranking frames them
  // (its add_* flag framing, every token of type 0): for comparing with it, not what HF models
  // were trained on.
  static PairFormat for_model(const Model& model, const std::string& user_template,
                              const std::string& instruction, bool llama_server_encoding = false);

  struct QueryParts {
    TokenIds before_doc;  // everything up to the document, the query included
    TokenIds after_doc;
  };
  QueryParts parts(const std::string& query) const;
  // Where the document's segment (BERT token type 1) starts in every sequence built from `parts`:
  // after the query framing; npos for prompt templates (one segment).
  std::size_t second_segment_start(const QueryParts& parts) const;
  // The pair as one tokenization of the whole prompt (llama-server's way).
  TokenIds whole(const std::string& query, const std::string& document) const;
  // The document alone (no special tokens), the unit in which long documents are chunked; with a
  // template, led by the spaces that precede {document} in it (see document_spaces).
  TokenIds document_tokens(const std::string& document) const;

 private:
  // Spaces right before {document} in the template: tokenized with the document, not the prompt, so
  // that a chunked document starts with the token a whole-prompt tokenization gives ("ĠPlace").
  std::size_t document_spaces() const;
  explicit PairFormat(const Model& model) : model_(&model) {}
  std::string fill(const std::string& text, const std::string& query, const std::string& document) const;
  const Model* model_;
  std::string template_;
  std::string instruction_;
  bool llama_server_ = false;
};

// The token sequences that score one document: the whole pair when it fits `max_length` tokens,
// else the document's tokens cut into windows overlapping by `overlap` tokens, each framed by the
// query parts (the query is never cut). FirstP keeps only the first window. `limits` (a caller's)
// first cut the document to its first or last max_tokens tokens, then keep the first or last
// max_chunks windows. Throws rerank::InvalidInput when the query alone leaves no room for the
// document.
std::vector<TokenIds> pair_sequences(const PairFormat& format, const PairFormat::QueryParts& parts,
                                     const std::string& query, const std::string& document,
                                     std::size_t max_length, std::size_t overlap, Chunking chunking,
                                     const DocumentLimits& limits = {});

}  // namespace rerank::pointwise
