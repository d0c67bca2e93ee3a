// The dense and hybrid first stages, registered with the first-stage registry from a static
// initialiser (the dense archive is linked whole, as the rerankers').
#include <algorithm>
#include <cctype>
#include <thread>

#include "rerank/dense.h"
#include "rerank/error.h"
#include "rerank/fusion.h"
#include "rerank/options.h"
#include "rerank/parallel.h"
#include "rerank/search.h"

namespace rerank {
namespace {

struct DenseOptions {
  bool hnsw = false;
  std::size_t ef_search = 100;
  std::string model;  // empty: the path the vector file records
  bool remove_query = false;
};

const std::vector<std::string> kDenseKeys = {"search", "ef_search", "model", "remove_query"};

DenseOptions dense_options_from(const std::map<std::string, std::string>& params) {
  OptionReader reader("dense", params);
  DenseOptions o;
  const std::string search = reader.text("search", "exact");
  if (search != "exact" && search != "hnsw")
    throw Error("dense: search must be exact or hnsw, not '" + search + "'");
  o.hnsw = search == "hnsw";
  o.ef_search = static_cast<std::size_t>(reader.integer("ef_search", 100, 1, 1 << 20));
  o.model = reader.text("model", "");
  o.remove_query = reader.on_off("remove_query", false);
  return o;
}

std::string vectors_name(const std::string& kind, const std::string& argument) {
  const std::string name = argument.empty() ? "dense" : argument;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
      throw Error(kind + ":NAME: '" + name + "' is not a vector file name (letters, digits, '-', '_', '.')");
  return name;
}

bool blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

class DenseRetriever : public FirstStage {
 public:
  DenseRetriever(std::string spec, std::shared_ptr<const VectorSet> vectors,
                 std::shared_ptr<const HnswIndex> graph, std::shared_ptr<const QueryEncoder> encoder,
                 bool remove_query)
      : spec_(std::move(spec)),
        vectors_(std::move(vectors)),
        graph_(std::move(graph)),
        encoder_(std::move(encoder)),
        remove_query_(remove_query) {}

  std::string name() const override { return spec_; }
  std::unique_ptr<FirstStage> fork() const override { return std::make_unique<DenseRetriever>(*this); }

  std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) override {
    return retrieve_many({query}, k, 1).front();
  }

  std::vector<std::vector<ScoredDoc>> retrieve_many(const std::vector<Query>& queries, std::size_t k,
                                                    unsigned threads) const override {
    // Queries without text retrieve nothing, as with BM25 (their vector would be the model's
    // special tokens alone).
    std::vector<std::size_t> asked;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < queries.size(); ++i)
      if (!blank(queries[i].text)) {
        asked.push_back(i);
        texts.push_back(queries[i].text);
      }
    std::vector<std::vector<ScoredDoc>> out(queries.size());
    if (texts.empty() || k == 0) return out;
    const std::vector<float> vectors = encoder_->encode(texts);
    const std::size_t wanted = remove_query_ ? k + 1 : k;
    std::vector<std::vector<VectorHit>> hits(texts.size());
    if (graph_) {
      const std::size_t dims = vectors_->dims();
      detail::parallel_for(
          texts.size(), threads ? threads : std::max(1u, std::thread::hardware_concurrency()),
          [&](std::size_t, std::size_t i) { hits[i] = graph_->search(vectors.data() + i * dims, wanted); });
    } else {
      hits = search_exact(*vectors_, vectors.data(), texts.size(), wanted, threads);
    }
    for (std::size_t i = 0; i < asked.size(); ++i)
      out[asked[i]] = to_scored(hits[i], queries[asked[i]].id, k);
    return out;
  }

 private:
  std::vector<ScoredDoc> to_scored(const std::vector<VectorHit>& hits, const std::string& query_id,
                                   std::size_t k) const {
    std::vector<ScoredDoc> out;
    for (const auto& h : hits) {
      std::string id(vectors_->doc_id(h.doc));
      if (remove_query_ && id == query_id) continue;
      out.push_back({std::move(id), h.score});
      if (out.size() == k) break;
    }
    return out;
  }

  std::string spec_;
  std::shared_ptr<const VectorSet> vectors_;
  std::shared_ptr<const HnswIndex> graph_;
  std::shared_ptr<const QueryEncoder> encoder_;
  bool remove_query_;
};

std::map<std::string, std::string> only(const std::map<std::string, std::string>& params,
                                        const std::vector<std::string>& keys) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : params)
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) out[k] = v;
  return out;
}

std::unique_ptr<FirstStage> open_dense(const std::string& argument, const FirstStageOptions& o) {
  const std::string name = vectors_name("dense", argument);
  const DenseOptions options = dense_options_from(only(o.params, kDenseKeys));
  if (o.index_path.empty()) throw Error("dense needs an index directory (--index) holding its vectors");
  auto vectors = VectorSet::open(vector_file_path(o.index_path, name));
  std::shared_ptr<const HnswIndex> graph;
  if (options.hnsw) graph = HnswIndex::open(hnsw_file_path(o.index_path, name), vectors, options.ef_search);
  auto encoder = std::make_shared<const QueryEncoder>(*vectors, options.model, RuntimeOptions{});
  return std::make_unique<DenseRetriever>(argument.empty() ? "dense" : "dense:" + name, std::move(vectors),
                                          std::move(graph), std::move(encoder), options.remove_query);
}

FirstStageKind dense_kind() {
  return {kDenseKeys, false,
          [](const std::string& argument, const FirstStageOptions& o) {
            vectors_name("dense", argument);
            dense_options_from(only(o.params, kDenseKeys));
          },
          open_dense};
}

// hybrid[:NAME]: BM25 and dense[:NAME] over the same index, fused.
const std::vector<std::string> kHybridKeys = {"fusion", "dense_weight", "rrf_k", "depth"};

std::vector<std::string> hybrid_keys() {
  std::vector<std::string> keys = kHybridKeys;
  for (const auto& k : search_option_keys(false)) keys.push_back(k);
  for (const auto& k : kDenseKeys)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  return keys;
}

// The default weight of the dense list in interpolation: docs/dense.md explains the choice.
constexpr double kDefaultDenseWeight = 0.5;

FusionOptions hybrid_fusion_from(const std::map<std::string, std::string>& params) {
  OptionReader reader("hybrid", only(params, kHybridKeys));
  FusionOptions f;
  const std::string method = reader.text("fusion", "rrf");
  if (method != "rrf" && method != "interpolate")
    throw Error("hybrid: fusion must be rrf or interpolate, not '" + method + "'");
  f.method = method == "rrf" ? FusionMethod::kRrf : FusionMethod::kInterpolation;
  const double w = reader.real("dense_weight", kDefaultDenseWeight, 0, 1);
  if (reader.has("dense_weight") && f.method != FusionMethod::kInterpolation)
    throw Error("hybrid: dense_weight applies to fusion=interpolate only");
  if (f.method == FusionMethod::kInterpolation) f.weights = {1 - w, w};
  f.rrf_k = reader.real("rrf_k", 60, 1e-9, 1e9);
  f.depth = static_cast<std::size_t>(reader.integer("depth", 1000, 1, 1 << 30));
  return f;
}

FirstStageKind hybrid_kind() {
  return {hybrid_keys(), false,
          [](const std::string& argument, const FirstStageOptions& o) {
            vectors_name("hybrid", argument);
            hybrid_fusion_from(o.params);
            search_options_from(only(o.params, search_option_keys(false)), false);
            dense_options_from(only(o.params, kDenseKeys));
          },
          [](const std::string& argument, const FirstStageOptions& o) -> std::unique_ptr<FirstStage> {
            FusionOptions fusion = hybrid_fusion_from(o.params);
            if (o.index_path.empty()) throw Error("hybrid needs an index directory (--index)");
            std::vector<std::unique_ptr<FirstStage>> stages;
            stages.push_back(std::make_unique<Bm25Retriever>(
                Index::open(o.index_path),
                search_options_from(only(o.params, search_option_keys(false)), false)));
            stages.push_back(open_dense(argument, o));
            return std::make_unique<FusionRetriever>(std::move(stages), std::move(fusion));
          }};
}

const bool registered = [] {
  register_first_stage("dense", dense_kind());
  register_first_stage("hybrid", hybrid_kind());
  return true;
}();

}  // namespace
}  // namespace rerank
