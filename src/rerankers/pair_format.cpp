#include "rerankers/pair_format.h"

#include <algorithm>

#include "rerank/error.h"

namespace rerank::pointwise {

Chunking parse_chunking(const std::string& name) {
  if (name == "maxp") return Chunking::MaxP;
  if (name == "firstp") return Chunking::FirstP;
  if (name == "sump") return Chunking::SumP;
  throw Error("unknown chunking '" + name + "' (valid: maxp, firstp, sump)");
}

double aggregate(const std::vector<double>& chunk_scores, Chunking chunking) {
  if (chunk_scores.empty()) throw Error("internal error: a document without chunks");
  switch (chunking) {
    case Chunking::FirstP:
      return chunk_scores.front();
    case Chunking::MaxP:
      return *std::max_element(chunk_scores.begin(), chunk_scores.end());
    case Chunking::SumP: {
      double sum = 0;
      for (double s : chunk_scores) sum += s;
      return sum;
    }
  }
  return chunk_scores.front();
}

PairFormat PairFormat::for_model(const Model& model, const std::string& user_template,
                                 const std::string& instruction, bool llama_server_encoding) {
  PairFormat f(model);
  f.llama_server_ = llama_server_encoding;
  const ModelInfo& info = model.info();
  if (!user_template.empty()) {
    f.template_ = user_template;
  } else if (!info.rerank_template.empty()) {
    f.template_ = info.rerank_template;
  } else if (info.kind == ModelKind::DecoderLM) {
    // Qwen3-Reranker's prompt, in the model's own chat format (its system turn, and the
    // <Instruct>/<Query>/<Document> user turn with placeholders that survive the rendering).
    f.template_ = model.decoder_prompt(qwen3_reranker_prompt().system, qwen3_reranker_prompt().user);
  }
  f.instruction_ = instruction.empty() ? qwen3_reranker_prompt().instruction : instruction;
  if (f.template_.empty()) {
    if (!instruction.empty())
      throw Error(
          "pointwise: option instruction needs a model with a prompt template (this is a plain "
          "cross-encoder)");
    return f;
  }
  if (f.template_.find("{query}") == std::string::npos || f.template_.find("{document}") == std::string::npos)
    throw Error("rerank prompt template must contain {query} and {document}");
  if (!instruction.empty() && f.template_.find("{instruction}") == std::string::npos) {
    // Templates with the instruction written in (llama.cpp's converted Qwen3-Reranker) get it
    // replaced on their "<Instruct>: " line.
    const std::string marker = "<Instruct>: ";
    const auto at = f.template_.find(marker);
    if (at == std::string::npos)
      throw Error(
          "pointwise: option instruction given but the prompt template has neither {instruction} nor an "
          "<Instruct>: line");
    const auto end = f.template_.find('\n', at);
    f.template_.replace(at + marker.size(),
                        end == std::string::npos ? std::string::npos : end - at - marker.size(),
                        "{instruction}");
  }
  return f;
}

// One pass over the template, so braces inside the query or document are never expanded.
std::string PairFormat::fill(const std::string& text, const std::string& query,
                             const std::string& document) const {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      if (text.compare(i, 7, "{query}") == 0) {
        out += query, i += 7;
        continue;
      }
      if (text.compare(i, 10, "{document}") == 0) {
        out += document, i += 10;
        continue;
      }
      if (text.compare(i, 13, "{instruction}") == 0) {
        out += instruction_, i += 13;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

PairFormat::QueryParts PairFormat::parts(const std::string& query) const {
  const Tokenizer& tok = model_->tokenizer();
  QueryParts p;
  if (!template_.empty()) {
    const auto at = template_.find("{document}");
    // The spaces just before {document} go with the document (document_tokens), as in a tokenization
    // of the whole prompt: "<Document>: Place" is ">:" "ĠPlace", not ">:" "Ġ" "Place".
    p.before_doc = tok.tokenize(fill(template_.substr(0, at - document_spaces()), query, ""), false, true);
    p.after_doc = tok.tokenize(fill(template_.substr(at + 10), query, ""), false, true);
    return p;
  }
  const SpecialTokens sp = tok.special_tokens();
  const auto q = tok.tokenize(query, false, false);
  if (!llama_server_ && sp.wordpiece) {
    // BERT: Hugging Face's pair encoding [CLS] query [SEP] document [SEP], whatever add_* flags the
    // converter wrote (llama-server omits the last [SEP] for GGUFs without add_eos).
    const std::int32_t sep = sp.sep >= 0 ? sp.sep : sp.eos;
    p.before_doc.push_back(sp.bos);
    p.before_doc.insert(p.before_doc.end(), q.begin(), q.end());
    p.before_doc.push_back(sep);
    p.after_doc.push_back(sep);
    return p;
  }
  if (!llama_server_ && model_->info().arch == "bert" && sp.bos >= 0 && sp.eos >= 0) {
    // RoBERTa/XLM-R (llama.cpp converts them as "bert" with a BPE or SentencePiece vocabulary):
    // Hugging Face's <s> query </s></s> document </s>. Their GGUFs carry no reliable add_* flags
    // (a converted XLM-R SentencePiece model has none, and llama.cpp's defaults add no <s>).
    p.before_doc.push_back(sp.bos);
    p.before_doc.insert(p.before_doc.end(), q.begin(), q.end());
    p.before_doc.insert(p.before_doc.end(), {sp.eos, sp.eos});
    p.after_doc.push_back(sp.eos);
    return p;
  }
  // Other architectures: llama-server's format_prompt_rerank framing.
  const std::int32_t eos = sp.eos >= 0 ? sp.eos : sp.sep;
  if (sp.add_bos) p.before_doc.push_back(sp.bos);
  p.before_doc.insert(p.before_doc.end(), q.begin(), q.end());
  if (sp.add_eos) p.before_doc.push_back(eos);
  if (sp.add_sep) p.before_doc.push_back(sp.sep);
  if (sp.add_eos) p.after_doc.push_back(eos);
  return p;
}

std::size_t PairFormat::second_segment_start(const QueryParts& parts) const {
  return template_.empty() && !llama_server_ ? parts.before_doc.size() : std::string::npos;
}

TokenIds PairFormat::document_tokens(const std::string& document) const {
  if (template_.empty()) return model_->tokenizer().tokenize(document, false, false);
  return model_->tokenizer().tokenize(std::string(document_spaces(), ' ') + document, false, false);
}

std::size_t PairFormat::document_spaces() const {
  const auto at = template_.find("{document}");
  std::size_t n = 0;
  while (n < at && template_[at - 1 - n] == ' ') ++n;
  return n;
}

TokenIds PairFormat::whole(const std::string& query, const std::string& document) const {
  const Tokenizer& tok = model_->tokenizer();
  if (!template_.empty()) return tok.tokenize(fill(template_, query, document), false, true);
  QueryParts p = parts(query);
  TokenIds out = p.before_doc;
  const auto d = tok.tokenize(document, false, false);
  out.insert(out.end(), d.begin(), d.end());
  out.insert(out.end(), p.after_doc.begin(), p.after_doc.end());
  return out;
}

namespace {

// The [begin, end) windows of `n` tokens, `window` long and `step` apart, from the start, or from
// the end backwards (nearest the end first).
std::vector<std::pair<std::size_t, std::size_t>> windows(std::size_t n, std::size_t window, std::size_t step,
                                                         bool from_end) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (!from_end) {
    for (std::size_t begin = 0;; begin += step) {
      out.emplace_back(begin, std::min(n, begin + window));
      if (begin + window >= n) break;
    }
    return out;
  }
  for (std::size_t end = n;; end -= step) {
    const std::size_t begin = end > window ? end - window : 0;
    out.emplace_back(begin, end);
    if (begin == 0) break;
  }
  return out;
}

}  // namespace

std::vector<TokenIds> pair_sequences(const PairFormat& format, const PairFormat::QueryParts& parts,
                                     const std::string& query, const std::string& document,
                                     std::size_t max_length, std::size_t overlap, Chunking chunking,
                                     const DocumentLimits& limits) {
  const std::size_t frame = parts.before_doc.size() + parts.after_doc.size();
  if (frame >= max_length)
    throw InvalidInput("the query with its prompt takes " + std::to_string(frame) +
                       " tokens, leaving no room for a document within max_length " +
                       std::to_string(max_length) +
                       " (queries are never truncated; raise option max_length)");
  const std::size_t window = max_length - frame;
  TokenIds doc_tokens = format.document_tokens(document);
  const bool cut = limits.max_tokens > 0 && doc_tokens.size() > limits.max_tokens;
  if (cut) {
    const std::size_t drop = doc_tokens.size() - limits.max_tokens;
    if (limits.from_end)
      doc_tokens.erase(doc_tokens.begin(), doc_tokens.begin() + static_cast<std::ptrdiff_t>(drop));
    else
      doc_tokens.resize(limits.max_tokens);
  }
  std::vector<TokenIds> out;
  if (!cut && doc_tokens.size() <= window) {
    TokenIds whole = format.whole(query, document);
    if (whole.size() <= max_length) {
      out.push_back(std::move(whole));
      return out;
    }
  }
  const std::size_t step = window - std::min(overlap, window / 2);
  auto spans = windows(doc_tokens.size(), window, step, limits.from_end);
  std::size_t keep = chunking == Chunking::FirstP ? 1 : spans.size();
  if (limits.max_chunks > 0) keep = std::min(keep, limits.max_chunks);
  spans.resize(std::min(keep, spans.size()));
  if (limits.from_end) std::reverse(spans.begin(), spans.end());  // in document order
  for (const auto& [begin, end] : spans) {
    TokenIds seq = parts.before_doc;
    seq.insert(seq.end(), doc_tokens.begin() + static_cast<std::ptrdiff_t>(begin),
               doc_tokens.begin() + static_cast<std::ptrdiff_t>(end));
    seq.insert(seq.end(), parts.after_doc.begin(), parts.after_doc.end());
    out.push_back(std::move(seq));
  }
  return out;
}

}  // namespace rerank::pointwise
