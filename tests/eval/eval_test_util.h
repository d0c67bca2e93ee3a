// Small helpers for the evaluation tests: in-memory judgements and runs, and reading one printed
// value out of a report.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "rerank/eval.h"

namespace rerank::test {

// {"q1", {{"d1", 1}, {"d2", 0}}}
inline Qrels make_qrels(
    std::initializer_list<std::pair<std::string, std::initializer_list<std::pair<std::string, int>>>>
        queries) {
  Qrels q;
  for (const auto& [qid, docs] : queries)
    for (const auto& [doc, grade] : docs) q[qid][doc] = grade;
  return q;
}

// {"q1", {{"d1", 0.9}, {"d2", 0.8}}}: documents in the listed (file) order.
inline Run make_run(
    std::initializer_list<std::pair<std::string, std::initializer_list<std::pair<std::string, double>>>>
        queries,
    std::string tag = "test") {
  Run r;
  r.tag = std::move(tag);
  for (const auto& [qid, docs] : queries) {
    auto& list = r.by_query[qid];
    for (const auto& [doc, score] : docs) list.push_back({doc, score});
  }
  return r;
}

inline eval::Report run_eval(const Qrels& qrels, const Run& run, std::initializer_list<std::string> measures,
                             eval::EvalOptions options = {}) {
  return eval::evaluate(qrels, run, eval::parse_measures(std::vector<std::string>(measures)), options);
}

// The unformatted value of a column for one query (NaN if absent).
inline double value_of(const eval::Report& report, const std::string& qid, const std::string& column) {
  for (std::size_t c = 0; c < report.columns.size(); ++c)
    if (report.columns[c].name == column)
      for (const auto& q : report.queries)
        if (q.qid == qid) return q.values[c];
  return std::nan("");
}

// The value as trec_eval prints it ("0.6714", "5"), for one query or "all"; "missing" if absent.
inline std::string printed(const eval::Report& report, const std::string& qid, const std::string& column) {
  for (std::size_t c = 0; c < report.columns.size(); ++c) {
    if (report.columns[c].name != column) continue;
    double value = 0;
    bool found = false;
    if (qid == "all") {
      value = report.summary[c];
      found = true;
    }
    for (const auto& q : report.queries)
      if (q.qid == qid) value = q.values[c], found = true;
    if (!found) return "missing";
    char buf[64];
    if (report.columns[c].type == eval::ValueType::kCount)
      std::snprintf(buf, sizeof buf, "%ld", static_cast<long>(value));
    else
      std::snprintf(buf, sizeof buf, "%6.4f", value);
    return buf;
  }
  return "missing";
}

}  // namespace rerank::test
