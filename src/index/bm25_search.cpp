// Term-at-a-time BM25: for short queries over collections that fit a dense accumulator array,
// decoding each posting list once and adding into per-document accumulators beats document-at-a-
// time merging (no heap of cursors), and the exact Lucene sum order is easy to reproduce.
#include <algorithm>
#include <map>
#include <string>

#include "rerank/analyzer.h"
#include "rerank/bm25.h"
#include "rerank/error.h"
#include "rerank/options.h"
#include "rerank/search.h"

namespace rerank {

std::vector<FieldWeight> parse_field_weights(const std::string& spec) {
  std::vector<FieldWeight> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (item.empty() || eq == 0)
      throw Error("bad field weight '" + item + "' in '" + spec + "' (expected name=weight)");
    FieldWeight fw;
    fw.field = item.substr(0, eq);
    if (eq != std::string::npos) {
      const std::string number = item.substr(eq + 1);
      std::size_t used = 0;
      try {
        fw.weight = std::stof(number, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != number.size() || !(fw.weight >= 0))
        throw Error("bad weight '" + number + "' for field " + fw.field + " (expected a number >= 0)");
    }
    out.push_back(fw);
    start = comma + 1;
  }
  return out;
}

WeightedTerms bag_of_words(const std::string& query_text) {
  WeightedTerms terms;
  for (auto& [term, count] : english_term_counts(query_text))
    terms.emplace_back(std::move(term), static_cast<float>(count));
  return terms;
}

Bm25Engine::Bm25Engine(std::shared_ptr<const Index> index, float k1, float b)
    : index_(std::move(index)), k1_(k1), b_(b) {
  if (!index_) throw Error("Bm25Engine: no index");
  if (!(k1 >= 0) || !(b >= 0 && b <= 1)) throw Error("BM25 needs k1 >= 0 and 0 <= b <= 1");
  const std::size_t n = index_->num_docs();
  field_acc_.assign(n, 0.0);
  total_acc_.assign(n, 0.0);
  in_field_.assign(n, 0);
  in_total_.assign(n, 0);
}

std::vector<FieldWeight> Bm25Engine::default_fields() const {
  std::vector<FieldWeight> out;
  for (const auto& f : index_->fields()) out.push_back({f.name, 1.0f});
  return out;
}

std::vector<Hit> Bm25Engine::search(const WeightedTerms& terms, const std::vector<FieldWeight>& fields,
                                    std::size_t k) {
  const Index& index = *index_;
  const std::uint32_t n = index.num_docs();
  total_touched_.clear();
  for (const FieldWeight& fw : fields) {
    const int field = index.field_index(fw.field);
    if (field < 0) throw Error("the index has no field '" + fw.field + "'");
    const FieldStats& stats = index.fields()[static_cast<std::size_t>(field)];
    if (stats.doc_count == 0) continue;
    const float avgdl = bm25::average_length(stats.sum_total_term_freq, stats.doc_count);
    const std::uint8_t* norms = index.norms(static_cast<std::uint32_t>(field));
    field_touched_.clear();
    for (const auto& [term, boost] : terms) {
      const PostingList list = index.postings(static_cast<std::uint32_t>(field), term);
      if (list.doc_freq == 0) continue;
      // Nested BoostQuery: the term's boost times the field's weight, in float.
      const bm25::TermScorer scorer(boost * fw.weight, bm25::idf(list.doc_freq, stats.doc_count), k1_, b_,
                                    avgdl);
      PostingCursor cursor(list, n);
      std::uint32_t doc = 0, freq = 0;
      while (cursor.next(doc, freq)) {
        if (!in_field_[doc]) {
          in_field_[doc] = 1;
          field_acc_[doc] = 0.0;
          field_touched_.push_back(doc);
        }
        field_acc_[doc] += scorer.score(static_cast<float>(freq), norms[doc]);
      }
    }
    for (const std::uint32_t doc : field_touched_) {
      in_field_[doc] = 0;
      const double field_score = static_cast<float>(field_acc_[doc]);  // the field clause's float score
      if (!in_total_[doc]) {
        in_total_[doc] = 1;
        total_acc_[doc] = 0.0;
        total_touched_.push_back(doc);
      }
      total_acc_[doc] += field_score;
    }
  }

  std::vector<Hit> hits;
  hits.reserve(total_touched_.size());
  for (const std::uint32_t doc : total_touched_) {
    in_total_[doc] = 0;
    hits.push_back({doc, static_cast<float>(total_acc_[doc])});
  }
  auto better = [&index](const Hit& a, const Hit& b) {
    if (a.score != b.score) return a.score > b.score;
    return index.doc_id_rank(a.doc) < index.doc_id_rank(b.doc);
  };
  if (hits.size() > k) {
    std::nth_element(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(), better);
    hits.resize(k);
  }
  std::sort(hits.begin(), hits.end(), better);
  return hits;
}

std::uint32_t feedback_field(const Index& index) {
  int f = index.field_index("contents");
  if (f < 0) f = index.field_index("text");
  if (f < 0) f = 0;
  return static_cast<std::uint32_t>(f);
}

Bm25Retriever::Bm25Retriever(std::shared_ptr<const Index> index, SearchOptions options)
    : index_(index), engine_(std::move(index), options.k1, options.b), options_(std::move(options)) {
  fields_ = options_.fields.empty() ? engine_.default_fields() : options_.fields;
  for (const auto& fw : fields_)
    if (engine_.index().field_index(fw.field) < 0) {
      std::string known;
      for (const auto& f : engine_.index().fields()) known += (known.empty() ? "" : ", ") + f.name;
      throw Error("the index has no field '" + fw.field + "' (its fields: " + known + ")");
    }
  if (options_.rm3 && (options_.rm3_options.fb_docs < 1 || options_.rm3_options.fb_terms < 1))
    throw Error("RM3 needs at least one feedback document and one feedback term");
}

std::string Bm25Retriever::name() const { return options_.rm3 ? "bm25+rm3" : "bm25"; }

std::unique_ptr<FirstStage> Bm25Retriever::fork() const {
  return std::make_unique<Bm25Retriever>(index_, options_);
}

std::vector<Hit> Bm25Retriever::retrieve_hits(const Query& query, std::size_t k) {
  const std::size_t wanted = options_.remove_query ? k + 1 : k;
  std::vector<Hit> hits;
  const WeightedTerms terms = bag_of_words(query.text);
  if (!options_.rm3) {
    hits = engine_.search(terms, fields_, wanted);
  } else {
    const auto fb_docs = static_cast<std::size_t>(options_.rm3_options.fb_docs);
    const std::vector<Hit> feedback = engine_.search(terms, fields_, fb_docs);
    const WeightedTerms expanded = rm3_expand(engine_.index(), query.text, feedback, options_.rm3_options);
    const std::string field = engine_.index().fields()[feedback_field(engine_.index())].name;
    hits = engine_.search(expanded, {{field, 1.0f}}, wanted);
  }
  if (options_.remove_query) {
    std::erase_if(hits, [&](const Hit& h) { return engine_.index().doc_id(h.doc) == query.id; });
    if (hits.size() > k) hits.resize(k);
  }
  return hits;
}

std::vector<ScoredDoc> Bm25Retriever::retrieve(const Query& query, std::size_t k) {
  std::vector<ScoredDoc> out;
  for (const Hit& h : retrieve_hits(query, k))
    out.push_back({std::string(engine_.index().doc_id(h.doc)), h.score});
  return out;
}

std::vector<std::string> search_option_keys(bool rm3) {
  std::vector<std::string> keys = {"k1", "b", "fields", "remove_query"};
  if (rm3) keys.insert(keys.end(), {"fb_terms", "fb_docs", "original_query_weight"});
  return keys;
}

SearchOptions search_options_from(const std::map<std::string, std::string>& params, bool rm3) {
  OptionReader reader(rm3 ? "bm25+rm3" : "bm25", params);
  SearchOptions o;
  o.k1 = reader.real_float("k1", o.k1, 0, 1e6);
  o.b = reader.real_float("b", o.b, 0, 1);
  if (reader.has("fields")) o.fields = parse_field_weights(reader.text("fields", ""));
  o.remove_query = reader.on_off("remove_query", o.remove_query);
  o.rm3 = rm3;
  if (rm3) {
    o.rm3_options.fb_terms = reader.integer("fb_terms", o.rm3_options.fb_terms, 1, 1 << 20);
    o.rm3_options.fb_docs = reader.integer("fb_docs", o.rm3_options.fb_docs, 1, 1 << 20);
    o.rm3_options.original_query_weight =
        reader.real_float("original_query_weight", o.rm3_options.original_query_weight, 0, 1);
  }
  return o;
}

}  // namespace rerank
