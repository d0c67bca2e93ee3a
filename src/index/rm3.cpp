// RM3 as Anserini's Rm3Reranker and FeatureVector compute it, including their float/double mix.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rerank/analyzer.h"
#include "rerank/error.h"
#include "rerank/search.h"

namespace rerank {
namespace {

using Features = std::map<std::string, float>;  // term -> weight, ordered for determinism

bool is_feedback_term(std::string_view t) {
  if (t.size() < 2 || t.size() > 20) return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

// FeatureVector.pruneToSize: keep the k heaviest (ties: by term, where Anserini's follow hash order).
void prune(Features& f, int k) {
  if (static_cast<int>(f.size()) <= k) return;
  std::vector<std::pair<std::string, float>> v(f.begin(), f.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  v.resize(static_cast<std::size_t>(k));
  f = Features(v.begin(), v.end());
}

double l1_norm(const Features& f) {
  double norm = 0.0;
  for (const auto& [t, w] : f) norm += std::abs(w);
  return norm;
}

void scale_to_unit_l1(Features& f) {
  const double norm = l1_norm(f);
  for (auto& [t, w] : f) w = static_cast<float>(w / norm);
}

}  // namespace

WeightedTerms rm3_expand(const Index& index, const std::string& query_text, const std::vector<Hit>& feedback,
                         const Rm3Options& options) {
  Features query;
  for (auto& [term, count] : english_term_counts(query_text))
    query[std::move(term)] = static_cast<float>(count);
  scale_to_unit_l1(query);

  const std::uint32_t field = feedback_field(index);
  const std::size_t num_docs = std::min(feedback.size(), static_cast<std::size_t>(options.fb_docs));
  const float total_docs = static_cast<float>(index.num_docs());
  std::vector<Features> vectors(num_docs);
  std::vector<float> norms(num_docs);
  Features vocabulary;
  for (std::size_t i = 0; i < num_docs; ++i) {
    for (const DocTerm& t : index.doc_vector(feedback[i].doc)) {
      if (t.field != field || !is_feedback_term(t.term)) continue;
      // Terms in more than 10% of the documents act as stop words.
      if (static_cast<float>(t.doc_freq) / total_docs > 0.1f) continue;
      vectors[i][std::string(t.term)] += static_cast<float>(t.freq);
    }
    prune(vectors[i], options.fb_terms);
    norms[i] = static_cast<float>(l1_norm(vectors[i]));
    for (const auto& [t, w] : vectors[i]) vocabulary[t] = 0.0f;
  }

  Features model;
  for (const auto& [term, unused] : vocabulary) {
    float weight = 0.0f;
    for (std::size_t i = 0; i < num_docs; ++i) {
      if (norms[i] <= 0.001f) continue;  // empty feedback vector
      const auto it = vectors[i].find(term);
      const float tf = it == vectors[i].end() ? 0.0f : it->second;
      weight += (tf / norms[i]) * feedback[i].score;
    }
    model[term] = weight;
  }
  prune(model, options.fb_terms);
  scale_to_unit_l1(model);

  // FeatureVector.interpolate: (float)(w * q + (1.0 - w) * rm), the first product in float.
  Features expanded = query;
  for (const auto& [t, w] : model) expanded.try_emplace(t, 0.0f);
  const float w = options.original_query_weight;
  for (auto& [t, value] : expanded) {
    const auto q = query.find(t);
    const auto m = model.find(t);
    const float qv = q == query.end() ? 0.0f : q->second;
    const float mv = m == model.end() ? 0.0f : m->second;
    value = static_cast<float>(static_cast<double>(w * qv) + (1.0 - static_cast<double>(w)) * mv);
  }
  return {expanded.begin(), expanded.end()};
}

}  // namespace rerank
