// Parsing trec_eval's -m arguments ("P.5,10", "ndcg_cut.10", "official") into measure requests.
#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>

#include "rerank/error.h"
#include "rerank/eval.h"

namespace rerank::eval {

namespace {

struct MeasureInfo {
  Measure measure;
  const char* name;
  std::vector<long> default_cutoffs;  // empty: the measure takes no parameters
};

// trec_eval's default cutoffs (m_P.c, m_recall.c, m_ndcg_cut.c, m_success.c). Judged@k is not in
// trec_eval; 10 is the cutoff most papers report.
const std::vector<MeasureInfo>& measure_table() {
  static const std::vector<long> kRankCutoffs = {5, 10, 15, 20, 30, 100, 200, 500, 1000};
  static const std::vector<MeasureInfo> table = {
      {Measure::kRunid, "runid", {}},
      {Measure::kNumQ, "num_q", {}},
      {Measure::kNumRet, "num_ret", {}},
      {Measure::kNumRel, "num_rel", {}},
      {Measure::kNumRelRet, "num_rel_ret", {}},
      {Measure::kMap, "map", {}},
      {Measure::kRprec, "Rprec", {}},
      {Measure::kBpref, "bpref", {}},
      {Measure::kRecipRank, "recip_rank", {}},
      {Measure::kP, "P", kRankCutoffs},
      {Measure::kRecall, "recall", kRankCutoffs},
      {Measure::kNdcg, "ndcg", {}},
      {Measure::kNdcgCut, "ndcg_cut", kRankCutoffs},
      {Measure::kSuccess, "success", {1, 5, 10}},
      {Measure::kJudged, "judged", {10}},
  };
  return table;
}

// trec_eval's nicknames, restricted to the measures implemented here (trec_eval's "official" also
// has gm_map and iprec_at_recall; "all_trec" has many more).
const std::map<std::string_view, std::vector<Measure>>& nicknames() {
  static const std::map<std::string_view, std::vector<Measure>> table = {
      {"official",
       {Measure::kRunid, Measure::kNumQ, Measure::kNumRet, Measure::kNumRel, Measure::kNumRelRet,
        Measure::kMap, Measure::kRprec, Measure::kBpref, Measure::kRecipRank, Measure::kP}},
      {"all_trec",
       {Measure::kRunid, Measure::kNumQ, Measure::kNumRet, Measure::kNumRel, Measure::kNumRelRet,
        Measure::kMap, Measure::kRprec, Measure::kBpref, Measure::kRecipRank, Measure::kP, Measure::kRecall,
        Measure::kNdcg, Measure::kNdcgCut, Measure::kSuccess}},
      {"all",
       {Measure::kRunid, Measure::kNumQ, Measure::kNumRet, Measure::kNumRel, Measure::kNumRelRet,
        Measure::kMap, Measure::kRprec, Measure::kBpref, Measure::kRecipRank, Measure::kP, Measure::kRecall,
        Measure::kNdcg, Measure::kNdcgCut, Measure::kSuccess, Measure::kJudged}},
  };
  return table;
}

const MeasureInfo* find_measure(std::string_view name) {
  for (const auto& info : measure_table())
    if (name == info.name) return &info;
  return nullptr;
}

std::string known_names() {
  std::string names;
  for (const auto& info : measure_table()) names.append(names.empty() ? "" : ", ").append(info.name);
  for (const auto& [nick, list] : nicknames()) names.append(", ").append(nick);
  return names;
}

// "5,10,15" -> {5, 10, 15}; each a positive integer, as trec_eval requires.
std::vector<long> parse_cutoffs(const std::string& arg, std::string_view params) {
  std::vector<long> cutoffs;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = params.find(',', start);
    const std::string_view item =
        params.substr(start, comma == std::string_view::npos ? comma : comma - start);
    long value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || value <= 0)
      throw Error("measure \"" + arg + "\": cutoff \"" + std::string(item) + "\" is not a positive integer");
    if (std::find(cutoffs.begin(), cutoffs.end(), value) != cutoffs.end())
      throw Error("measure \"" + arg + "\": duplicate cutoff " + std::to_string(value));
    cutoffs.push_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cutoffs;
}

}  // namespace

const char* measure_name(Measure m) {
  for (const auto& info : measure_table())
    if (info.measure == m) return info.name;
  return "?";
}

std::vector<MeasureRequest> parse_measures(const std::vector<std::string>& args) {
  // Per measure: requested at all, and the explicit cutoffs if any -m gave some. As in trec_eval,
  // explicit parameters replace the defaults ("-m all_trec -m P.7" gives P_7 only); unlike
  // trec_eval, which keeps only the first, several explicit lists for one measure are merged.
  std::map<Measure, std::optional<std::vector<long>>> wanted;
  const std::vector<std::string> defaults = {"official"};
  for (const std::string& arg : args.empty() ? defaults : args) {
    const std::size_t dot = arg.find('.');
    const std::string_view name = std::string_view(arg).substr(0, dot);
    const bool has_params = dot != std::string::npos;
    if (auto nick = nicknames().find(name); nick != nicknames().end()) {
      if (has_params)
        throw Error("measure \"" + arg + "\": the nickname " + std::string(name) + " takes no parameters");
      for (Measure m : nick->second) wanted.try_emplace(m);
      continue;
    }
    const MeasureInfo* info = find_measure(name);
    if (!info) throw Error("unknown measure \"" + arg + "\" (known: " + known_names() + ")");
    auto& slot = wanted[info->measure];
    if (!has_params) continue;
    if (info->default_cutoffs.empty())
      throw Error("measure \"" + arg + "\": " + info->name + " takes no parameters");
    std::vector<long> cutoffs = parse_cutoffs(arg, std::string_view(arg).substr(dot + 1));
    if (slot) cutoffs.insert(cutoffs.end(), slot->begin(), slot->end());
    std::sort(cutoffs.begin(), cutoffs.end());
    cutoffs.erase(std::unique(cutoffs.begin(), cutoffs.end()), cutoffs.end());
    slot = std::move(cutoffs);
  }
  std::vector<MeasureRequest> requests;
  for (const auto& info : measure_table()) {  // trec_eval's order, whatever the order of -m
    auto it = wanted.find(info.measure);
    if (it == wanted.end()) continue;
    requests.push_back({info.measure, it->second ? *it->second : info.default_cutoffs});
  }
  return requests;
}

}  // namespace rerank::eval
