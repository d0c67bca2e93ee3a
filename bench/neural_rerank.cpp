// The rerank.cpp side of bench/neural_bench.sh: scores the prepared requests (from
// bench_neural_inputs) with a registered reranker through the library API, timing only the
// scoring (the model is loaded before the clock starts, as llama-server's is).
//
//   bench_neural_rerank --model M.gguf --requests DIR/requests.jsonl --output RUN [--strategy pointwise]
//                       [--threads N] [--param name=value ...]
// Writes a TREC run with the scores and prints one JSON line: seconds, documents, docs_per_s and
// the reranker's reported cost (forward passes, prompt/cached tokens, FLOPs).
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rerank/reranker.h"

int main(int argc, char** argv) {
  using json = nlohmann::json;
  rerank::RerankerOptions options;
  std::string requests_path, output, strategy = "pointwise";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--model")
      options.model_path = v;
    else if (a == "--requests")
      requests_path = v;
    else if (a == "--output")
      output = v;
    else if (a == "--strategy")
      strategy = v;
    else if (a == "--threads")
      options.threads = std::stoi(v);
    else if (a == "--param" && v.find('=') != std::string::npos)
      options.params[v.substr(0, v.find('='))] = v.substr(v.find('=') + 1);
    else {
      std::cerr << "bench_neural_rerank: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (options.model_path.empty() || requests_path.empty() || output.empty()) {
    std::cerr << "usage: bench_neural_rerank --model M.gguf --requests requests.jsonl --output RUN\n";
    return 2;
  }
  try {
    std::vector<rerank::CandidateList> batch;
    std::ifstream in(requests_path);
    if (!in) throw std::runtime_error(requests_path + ": cannot open");
    std::size_t docs = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const json r = json::parse(line);
      rerank::CandidateList list;
      list.query = {r.at("qid").get<std::string>(), r.at("query").get<std::string>()};
      const auto& ids = r.at("doc_ids");
      const auto& texts = r.at("documents");
      for (std::size_t i = 0; i < ids.size(); ++i) {
        rerank::Candidate c;
        c.doc_id = ids[i].get<std::string>();
        c.text = texts[i].get<std::string>();
        c.score = double(ids.size() - i);
        list.candidates.push_back(std::move(c));
      }
      docs += list.candidates.size();
      batch.push_back(std::move(list));
    }
    const auto t_load = std::chrono::steady_clock::now();
    auto reranker = rerank::make_reranker(strategy, options);
    const auto t0 = std::chrono::steady_clock::now();
    const auto results = reranker->rerank(batch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double load_seconds = std::chrono::duration<double>(t0 - t_load).count();

    std::ofstream out(output);
    out << std::setprecision(9);
    rerank::RerankCost cost;
    for (std::size_t q = 0; q < results.size(); ++q) {
      cost += results[q].cost;
      std::size_t rank = 0;
      for (const auto& d : results[q].ranking)
        out << batch[q].query.id << " Q0 " << d.doc_id << " " << ++rank << " " << d.score << " rerank.cpp\n";
    }
    if (!out) throw std::runtime_error(output + ": write failed");
    std::cout << json{{"seconds", seconds},
                      {"load_seconds", load_seconds},
                      {"documents", docs},
                      {"docs_per_s", double(docs) / seconds},
                      {"forward_passes", cost.forward_passes},
                      {"prompt_tokens", cost.prompt_tokens},
                      {"cached_tokens", cost.cached_tokens},
                      {"flops", cost.flops}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_neural_rerank: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
