// The first-stage registry. Built-in kinds are registered explicitly when the registry is first used
// (as Xapian registers its weighting schemes), so linking the index library is all it takes; users
// add their own with register_first_stage.
#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "rerank/error.h"
#include "rerank/first_stage.h"
#include "rerank/fusion.h"
#include "rerank/io.h"
#include "rerank/options.h"
#include "rerank/parallel.h"
#include "rerank/run_first_stage.h"
#include "rerank/search.h"

namespace rerank {
namespace {

FirstStageKind bm25_kind(bool rm3) {
  return {search_option_keys(rm3), false,
          [rm3](const std::string& argument, const FirstStageOptions& o) {
            if (!argument.empty()) throw Error(std::string(rm3 ? "bm25+rm3" : "bm25") + " takes no argument");
            search_options_from(o.params, rm3);
          },
          [rm3](const std::string&, const FirstStageOptions& o) -> std::unique_ptr<FirstStage> {
            const SearchOptions options = search_options_from(o.params, rm3);
            if (o.index_path.empty()) throw Error(std::string(rm3 ? "bm25+rm3" : "bm25") + " needs an index");
            return std::make_unique<Bm25Retriever>(Index::open(o.index_path), options);
          }};
}

FirstStageKind run_kind() {
  return {{},
          false,
          [](const std::string& path, const FirstStageOptions&) {
            if (path.empty()) throw Error("run:FILE needs the run file's path after \"run:\"");
          },
          [](const std::string& path, const FirstStageOptions&) -> std::unique_ptr<FirstStage> {
            return RunRetriever::from_file(path);
          }};
}

// A function, not a global: kinds registered from other files' static initialisers (the dense stage's)
// build the registry before this file's globals would be initialised.
std::vector<std::string> fusion_keys() { return {"rrf_k", "weights", "depth"}; }

FusionOptions fusion_options_from(const std::map<std::string, std::string>& params, FusionMethod method,
                                  std::size_t lists) {
  OptionReader reader(method == FusionMethod::kRrf ? "rrf" : "interpolate", params);
  FusionOptions options;
  options.method = method;
  options.rrf_k = reader.real("rrf_k", 60, 1e-9, 1e9);
  options.depth = static_cast<std::size_t>(reader.integer("depth", 1000, 1, 1 << 30));
  if (reader.has("weights")) {
    if (method != FusionMethod::kInterpolation)
      throw Error("rrf: option weights applies to interpolate only");
    for (const auto& w : split_first_stage_list(params.at("weights"))) {
      OptionReader one("interpolate", {{"weights", w}});
      options.weights.push_back(one.real("weights", 0, -1e9, 1e9));
    }
    if (options.weights.size() != lists)
      throw Error("interpolate: " + std::to_string(options.weights.size()) + " weights for " +
                  std::to_string(lists) + " first stages");
  }
  return options;
}

std::set<std::string> keys_of(const std::string& spec);
std::unique_ptr<FirstStage> open_checked(const std::string& spec, const FirstStageOptions& options);

// The options a fused stage reads, so that it does not reject those of its siblings.
FirstStageOptions options_for(const std::string& spec, const FirstStageOptions& o) {
  FirstStageOptions mine{o.index_path, {}};
  const auto keys = keys_of(spec);
  for (const auto& [k, v] : o.params)
    if (keys.count(k)) mine.params[k] = v;
  return mine;
}

FirstStageKind fusion_kind(FusionMethod method) {
  return {fusion_keys(), true,
          [method](const std::string& argument, const FirstStageOptions& o) {
            const auto specs = split_first_stage_list(argument);
            if (argument.empty() || specs.empty())
              throw Error("fusion needs first stages: rrf(SPEC,SPEC,...)");
            fusion_options_from(o.params, method, specs.size());
            for (const auto& spec : specs) check_first_stage(spec, options_for(spec, o));
          },
          [method](const std::string& argument, const FirstStageOptions& o) -> std::unique_ptr<FirstStage> {
            const auto specs = split_first_stage_list(argument);
            FusionOptions options = fusion_options_from(o.params, method, specs.size());
            std::vector<std::unique_ptr<FirstStage>> stages;
            for (const auto& spec : specs) stages.push_back(open_checked(spec, options_for(spec, o)));
            return std::make_unique<FusionRetriever>(std::move(stages), std::move(options));
          }};
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, FirstStageKind> kinds;
  Registry() {
    kinds["bm25"] = bm25_kind(false);
    kinds["bm25+rm3"] = bm25_kind(true);
    kinds["run"] = run_kind();
    kinds["rrf"] = fusion_kind(FusionMethod::kRrf);
    kinds["interpolate"] = fusion_kind(FusionMethod::kInterpolation);
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

struct ParsedSpec {
  std::string name, argument;
};

ParsedSpec parse_spec(const std::string& spec) {
  const std::size_t cut = spec.find_first_of(":(");
  if (cut == std::string::npos) return {spec, ""};
  if (spec[cut] == ':') return {spec.substr(0, cut), spec.substr(cut + 1)};
  if (spec.back() != ')') throw Error("first stage '" + spec + "': missing ')'");
  return {spec.substr(0, cut), spec.substr(cut + 1, spec.size() - cut - 2)};
}

FirstStageKind kind_of(const std::string& name) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.kinds.find(name);
  if (it != r.kinds.end()) return it->second;
  std::string known;
  for (const auto& [n, k] : r.kinds) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown first stage '" + name + "' (available: " + known + ", run:FILE, rrf(...))");
}

// Every option key that some stage of `spec` reads.
std::set<std::string> keys_of(const std::string& spec) {
  const ParsedSpec p = parse_spec(spec);
  const FirstStageKind kind = kind_of(p.name);
  std::set<std::string> keys(kind.params.begin(), kind.params.end());
  if (kind.nests)
    for (const auto& sub : split_first_stage_list(p.argument)) keys.merge(keys_of(sub));
  return keys;
}

void check_known_options(const std::string& spec, const FirstStageOptions& options) {
  const std::set<std::string> keys = keys_of(spec);
  OptionReader reader("first stage " + spec, options.params);
  reader.accept({keys.begin(), keys.end()});
  reader.finish();
}

}  // namespace

void register_first_stage(const std::string& name, FirstStageKind kind) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.kinds[name] = std::move(kind);
}

std::vector<std::string> first_stage_names() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, kind] : r.kinds) names.push_back(name);
  return names;
}

std::vector<std::string> split_first_stage_list(const std::string& argument) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char c : argument) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) throw Error("first stage list '" + argument + "': unbalanced ')'");
    if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (depth != 0) throw Error("first stage list '" + argument + "': missing ')'");
  parts.push_back(current);
  for (const auto& p : parts)
    if (p.empty()) throw Error("first stage list '" + argument + "' has an empty entry");
  return parts;
}

void check_first_stage(const std::string& spec, const FirstStageOptions& options) {
  if (spec.empty()) throw Error("empty first stage name");
  check_known_options(spec, options);
  const ParsedSpec p = parse_spec(spec);
  kind_of(p.name).check(p.argument, options);
}

namespace {
// Opens a spec that check_first_stage has passed (with its nested specs).
std::unique_ptr<FirstStage> open_checked(const std::string& spec, const FirstStageOptions& options) {
  const ParsedSpec p = parse_spec(spec);
  return kind_of(p.name).make(p.argument, options);
}
}  // namespace

std::unique_ptr<FirstStage> make_first_stage(const std::string& spec, const FirstStageOptions& options) {
  check_first_stage(spec, options);
  return open_checked(spec, options);
}

std::vector<std::vector<ScoredDoc>> FirstStage::retrieve_many(const std::vector<Query>& queries,
                                                              std::size_t k, unsigned threads) const {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::min<std::size_t>(threads, std::max<std::size_t>(queries.size(), 1));
  // Each worker retrieves with its own fork (first stages keep per-search scratch space).
  std::vector<std::unique_ptr<FirstStage>> forks;
  for (std::size_t w = 0; w < workers; ++w) forks.push_back(fork());
  std::vector<std::vector<ScoredDoc>> results(queries.size());
  detail::parallel_for(queries.size(), workers, [&](std::size_t worker, std::size_t i) {
    results[i] = forks[worker]->retrieve(queries[i], k);
  });
  return results;
}

Run retrieve_all(const FirstStage& stage, const std::vector<Query>& queries, std::size_t k, unsigned threads,
                 const std::string& tag) {
  std::set<std::string> ids;
  for (const auto& q : queries)
    if (!ids.insert(q.id).second) throw Error("query id " + q.id + " occurs twice");
  auto results = stage.retrieve_many(queries, k, threads);
  Run run;
  run.tag = tag;
  for (std::size_t i = 0; i < queries.size(); ++i) run.by_query[queries[i].id] = std::move(results[i]);
  return run;
}

}  // namespace rerank
