// The tiny BERT cross-encoder served by the fixture's Server (server_fixture.h) under one or more
// names, with an httplib client, and the library's own scores to compare the server's against.
#pragma once
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace rerank::test {

inline std::unique_ptr<Reranker> tiny_reranker() { return tiny("pointwise", Tiny::Bert); }

inline std::vector<ServedModel> tiny_models_named(const std::vector<std::string>& names) {
  std::vector<ServedModel> models;
  for (const auto& n : names) models.push_back({n, tiny_model(Tiny::Bert), tiny_reranker(), nullptr});
  return models;
}

class LiveServer : public Server {
 public:
  explicit LiveServer(ServeOptions options, std::vector<std::string> names = {"default"})
      : Server(std::move(options), tiny_models_named(names)) {}
  LiveServer(ServeOptions options, std::vector<ServedModel> models)
      : Server(std::move(options), std::move(models)) {}

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(60, 0);
    return c;
  }
};

// The library's raw scores for the query and texts, by document index.
inline std::vector<double> library_scores(const std::string& query, const std::vector<std::string>& texts) {
  CandidateList list{{"q", query}, {}};
  for (std::size_t i = 0; i < texts.size(); ++i)
    list.candidates.push_back({std::to_string(i), "", texts[i], 0});
  const auto result = tiny_reranker()->rerank({list})[0];
  std::vector<double> scores(texts.size());
  for (const auto& d : result.ranking) scores[std::stoul(d.doc_id)] = d.score;
  return scores;
}

}  // namespace rerank::test
