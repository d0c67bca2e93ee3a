// The reranker registry: strategies register a factory under their name from a static initialiser
// (see RerankerRegistration); the CLI, the server and library users create them by name.
#include <algorithm>
#include <map>
#include <mutex>

#include "rerank/error.h"
#include "rerank/reranker.h"

namespace rerank {

namespace {
struct Registry {
  std::mutex mutex;
  std::map<std::string, RerankerFactory> factories;
};
// Function-local static: registrations run from other translation units' static initialisers.
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

void register_reranker(const std::string& name, RerankerFactory factory) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  // Runs during static initialisation, where throwing would abort: a later registration wins.
  r.factories[name] = std::move(factory);
}

std::vector<std::string> reranker_names() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : r.factories) names.push_back(name);
  return names;
}

RerankerBuilder prepare_reranker(const std::string& name, const RerankerOptions& options) {
  RerankerFactory factory;
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    std::string known;
    for (const auto& n : reranker_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown reranking strategy '" + name + "' (available: " + known + ")");
  }
  return factory(options);
}

std::unique_ptr<Reranker> make_reranker(const std::string& name, const RerankerOptions& options) {
  return prepare_reranker(name, options)();
}

}  // namespace rerank
