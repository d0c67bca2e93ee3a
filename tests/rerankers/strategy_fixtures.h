// Candidate lists with known relevance grades for the LLM strategy tests.
#pragma once
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "oracle_backend.h"
#include "rerank/types.h"

namespace rerank::test {

// A passage text no other passage text contains.
inline std::string passage_for(const std::string& query, std::size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "<passage %s-%04zu>", query.c_str(), i);
  return buf;
}

// Candidates d0..d{n-1} in first-stage order with the given grades; grades are registered in `grades`.
inline CandidateList make_list(const std::string& query, const std::vector<int>& candidate_grades,
                               std::map<std::string, int>& grades) {
  CandidateList list;
  list.query = {query, std::string("question ").append(query)};
  for (std::size_t i = 0; i < candidate_grades.size(); ++i) {
    Candidate c;
    c.doc_id = std::string("d").append(std::to_string(i));
    c.text = passage_for(query, i);
    c.score = 100.0 - static_cast<double>(i) * 0.5;
    grades[c.text] = candidate_grades[i];
    list.candidates.push_back(c);
  }
  return list;
}

// n distinct grades 0..n-1 in a fixed pseudo-random first-stage order.
inline std::vector<int> shuffled_grades(std::size_t n, unsigned seed) {
  std::vector<int> g(n);
  for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<int>(i);
  std::mt19937 rng(seed);
  std::shuffle(g.begin(), g.end(), rng);
  return g;
}

// The doc ids of the ideal ranking (grade descending; first-stage order among equal grades).
inline std::vector<std::string> ideal_ids(const std::vector<int>& g) {
  std::vector<std::size_t> idx(g.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return g[a] > g[b]; });
  std::vector<std::string> ids;
  for (auto i : idx) ids.push_back(std::string("d").append(std::to_string(i)));
  return ids;
}

inline std::vector<std::string> ids_of(const std::vector<ScoredDoc>& ranking, std::size_t k = SIZE_MAX) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < ranking.size() && i < k; ++i) ids.push_back(ranking[i].doc_id);
  return ids;
}

inline std::vector<std::string> first_k(std::vector<std::string> v, std::size_t k) {
  v.resize(std::min(k, v.size()));
  return v;
}

}  // namespace rerank::test
