// The measures of one query, each following its trec_eval source file (m_<name>.c): the same
// definitions, the same edge cases and the same order of floating-point operations, so that the
// printed values agree to the last digit.
#include <algorithm>
#include <cmath>

#include "eval/judged_ranking.h"

namespace rerank::eval::detail {

namespace {

bool has_cutoffs(Measure m) {
  return m == Measure::kP || m == Measure::kRecall || m == Measure::kNdcgCut || m == Measure::kSuccess ||
         m == Measure::kJudged;
}

// m_map.c: precision at each relevant retrieved document, summed and divided by all relevant.
double average_precision(const JudgedRanking& r, long level) {
  long rel_so_far = 0;
  double sum = 0.0;
  for (std::size_t i = 0; i < r.grades.size(); ++i) {
    if (r.grades[i] >= level) {
      ++rel_so_far;
      sum += static_cast<double>(rel_so_far) / static_cast<double>(i + 1);
    }
  }
  return rel_so_far ? sum / static_cast<double>(r.num_rel) : 0.0;
}

// m_Rprec.c: relevant in the top R, over R (missing ranks count as non-relevant).
double r_precision(const JudgedRanking& r, long level) {
  const std::size_t look = std::min(r.grades.size(), static_cast<std::size_t>(r.num_rel));
  if (look == 0) return 0.0;
  long rel_so_far = 0;
  for (std::size_t i = 0; i < look; ++i)
    if (r.grades[i] >= level) ++rel_so_far;
  return static_cast<double>(rel_so_far) / static_cast<double>(r.num_rel);
}

// m_bpref.c: for each judged relevant document, the fraction of the first R judged non-relevant
// documents ranked below it; documents without a usable judgement are skipped.
double bpref(const JudgedRanking& r, long level) {
  long nonrel_so_far = 0;
  double sum = 0.0;
  for (const int g : r.grades) {
    if (g == kNotInQrels || g == kNegativeJudgement) continue;
    if (g >= 0 && g < level) {
      ++nonrel_so_far;
    } else if (nonrel_so_far > 0) {
      sum += 1.0 - static_cast<double>(std::min(nonrel_so_far, r.num_rel)) /
                       static_cast<double>(std::min(r.num_nonrel, r.num_rel));
    } else {
      sum += 1.0;
    }
  }
  return r.num_rel ? sum / static_cast<double>(r.num_rel) : sum;
}

// m_recip_rank.c
double reciprocal_rank(const JudgedRanking& r, long level) {
  for (std::size_t i = 0; i < r.grades.size(); ++i)
    if (r.grades[i] >= level) return 1.0 / static_cast<double>(i + 1);
  return 0.0;
}

// m_ndcg.c with its default gains (gain = grade): DCG over the whole ranking over the DCG of all
// judged documents ordered by grade. The relevance level does not apply to nDCG in trec_eval.
double ndcg(const JudgedRanking& r) {
  double dcg = 0.0;
  for (std::size_t i = 0; i < r.grades.size(); ++i) {
    const double gain = r.grades[i] > 0 ? static_cast<double>(r.grades[i]) : 0.0;
    if (gain != 0) dcg += gain / std::log2(static_cast<double>(i + 2));
  }
  double ideal = 0.0;
  for (std::size_t i = 0; i < r.ideal_gains.size(); ++i)
    ideal += static_cast<double>(r.ideal_gains[i]) / std::log2(static_cast<double>(i + 2));
  return ideal > 0.0 ? dcg / ideal : 0.0;
}

// m_P.c, m_recall.c, m_success.c, m_ndcg_cut.c and Judged@k: walk the ranking once and read the
// running counts at each cutoff. Cutoffs past the end of the ranking see the final counts (for P
// the missing ranks count as non-relevant: the divisor stays k).
void cutoff_measure(Measure m, const std::vector<long>& cutoffs, const JudgedRanking& r, long level,
                    double* out) {
  const std::size_t n = r.grades.size();
  long rel_so_far = 0, judged_so_far = 0;
  double dcg = 0.0, ideal = 0.0;
  std::size_t i = 0;
  for (std::size_t c = 0; c < cutoffs.size(); ++c) {
    const auto k = static_cast<std::size_t>(cutoffs[c]);
    for (; i < k && i < n; ++i) {
      const int g = r.grades[i];
      if (g >= level) ++rel_so_far;
      if (g != kNotInQrels) ++judged_so_far;  // ir_measures: any document in the qrels is judged
      if (m == Measure::kNdcgCut) {
        if (g > 0) dcg += static_cast<double>(g) / std::log2(static_cast<double>(i + 2));
      }
    }
    switch (m) {
      case Measure::kP:
        out[c] = static_cast<double>(rel_so_far) / static_cast<double>(k);
        break;
      case Measure::kRecall:
        out[c] = r.num_rel ? static_cast<double>(rel_so_far) / static_cast<double>(r.num_rel) : 0.0;
        break;
      case Measure::kSuccess:
        out[c] = rel_so_far ? 1.0 : 0.0;
        break;
      case Measure::kJudged: {
        const std::size_t depth = std::min(k, n);
        out[c] = depth ? static_cast<double>(judged_so_far) / static_cast<double>(depth) : 0.0;
        break;
      }
      case Measure::kNdcgCut:
        out[c] = dcg;
        break;
      default:
        break;
    }
  }
  if (m != Measure::kNdcgCut) return;
  // Ideal DCG at each cutoff: the judged grades, highest first, cut at k (m_ndcg_cut.c).
  std::size_t j = 0;
  for (std::size_t c = 0; c < cutoffs.size(); ++c) {
    const auto k = static_cast<std::size_t>(cutoffs[c]);
    for (; j < k && j < r.ideal_gains.size(); ++j)
      ideal += static_cast<double>(r.ideal_gains[j]) / std::log2(static_cast<double>(j + 2));
    if (ideal > 0.0) out[c] /= ideal;
  }
}

}  // namespace

std::vector<Column> make_columns(const std::vector<MeasureRequest>& requests) {
  std::vector<Column> columns;
  for (const auto& req : requests) {
    const std::string name = measure_name(req.measure);
    switch (req.measure) {
      case Measure::kRunid:
        columns.push_back({name, ValueType::kText, false});
        break;
      case Measure::kNumQ:
        columns.push_back({name, ValueType::kCount, false});
        break;
      case Measure::kNumRet:
      case Measure::kNumRel:
      case Measure::kNumRelRet:
        columns.push_back({name, ValueType::kCount, true});
        break;
      default:
        if (has_cutoffs(req.measure)) {
          for (long k : req.cutoffs)
            columns.push_back({name + "_" + std::to_string(k), ValueType::kFloat, true});
        } else {
          columns.push_back({name, ValueType::kFloat, true});
        }
    }
  }
  return columns;
}

void compute_measures(const JudgedRanking& r, const std::vector<MeasureRequest>& requests, long level,
                      double* values) {
  for (const auto& req : requests) {
    switch (req.measure) {
      case Measure::kRunid:
      case Measure::kNumQ:
        *values++ = 0.0;  // summary-only
        break;
      case Measure::kNumRet:
        *values++ = static_cast<double>(r.grades.size());
        break;
      case Measure::kNumRel:
        *values++ = static_cast<double>(r.num_rel);
        break;
      case Measure::kNumRelRet:
        *values++ = static_cast<double>(
            std::count_if(r.grades.begin(), r.grades.end(), [level](int g) { return g >= level; }));
        break;
      case Measure::kMap:
        *values++ = average_precision(r, level);
        break;
      case Measure::kRprec:
        *values++ = r_precision(r, level);
        break;
      case Measure::kBpref:
        *values++ = bpref(r, level);
        break;
      case Measure::kRecipRank:
        *values++ = reciprocal_rank(r, level);
        break;
      case Measure::kNdcg:
        *values++ = ndcg(r);
        break;
      default:
        cutoff_measure(req.measure, req.cutoffs, r, level, values);
        values += req.cutoffs.size();
    }
  }
}

}  // namespace rerank::eval::detail
