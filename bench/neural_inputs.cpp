// Prepares identical inputs for the neural rerank benchmark (bench/neural_bench.sh): for the first N
// judged queries, `depth` first-stage candidates with documents truncated to whole words fitting
// `doc-tokens` tokens of the model's own tokenizer, so llama-server and rerank.cpp see the same text
// and neither has to truncate. Also counts the tokens of every pair exactly as llama-server frames
// it and estimates the FLOPs of scoring them from the model's tensor shapes.
//
//   bench_neural_inputs --model M.gguf --queries Q.jsonl --corpus C.jsonl [--run RUN] [--qrels TSV]
//                       --num-queries N --depth 100 --doc-tokens 256 [--max-pair-tokens 512] --out DIR
// Writes DIR/queries.jsonl, corpus.jsonl (title "", truncated text), run.trec, requests.jsonl
// ({"qid","query","doc_ids","documents"} per query) and stats.json.
// --max-pair-tokens (bench/encoder_peers.sh's long workload: the model's 512 positions) also cuts each
// document to what fits next to its query, so that no pair is longer; the requests then carry each
// pair's own cut, while corpus.jsonl keeps a document's first one (for `rerank rerank`, which
// neural_bench.py's --via-cli runs without this option).
#include <gguf.h>
#include <llama.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rerank/tokenizer.h"
#include "rerank/types.h"

namespace {

using json = nlohmann::json;
struct Doc {
  std::string title, text;
};

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

std::string join(const std::vector<std::string>& w, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += (i ? " " : "") + w[i];
  return s;
}

// The longest whole-word prefix of `text` that tokenizes to at most `limit` tokens.
std::string truncate_words(const rerank::Tokenizer& tok, const std::string& text, std::size_t limit) {
  const auto w = words_of(text);
  if (tok.tokenize(join(w, w.size()), false, false).size() <= limit) return join(w, w.size());
  std::size_t lo = 0, hi = w.size();  // lo fits, hi does not
  while (hi - lo > 1) {
    const std::size_t mid = (lo + hi) / 2;
    (tok.tokenize(join(w, mid), false, false).size() <= limit ? lo : hi) = mid;
  }
  return join(w, lo);
}

struct Shape {
  double layer_matmul_params = 0, head_params = 0;
  double n_layer = 0, n_head = 0, head_dim = 0;
  bool causal = true;
};

Shape read_shape(const std::string& path) {
  gguf_init_params p{true, nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), p);
  if (!g) throw std::runtime_error(path + ": not a GGUF file");
  Shape s;
  const std::string arch = gguf_get_val_str(g, gguf_find_key(g, "general.architecture"));
  auto u32 = [&](const std::string& k, double def) {
    const auto id = gguf_find_key(g, (arch + "." + k).c_str());
    return id < 0 ? def : double(gguf_get_val_u32(g, id));
  };
  s.n_layer = u32("block_count", 0);
  s.n_head = u32("attention.head_count", 0);
  s.head_dim = u32("attention.key_length", u32("embedding_length", 0) / std::max(1.0, s.n_head));
  s.causal = arch != "bert";
  // Weights are read from the tensor table only (no_alloc): sizes, not data.
  for (std::int64_t i = 0; i < gguf_get_n_tensors(g); ++i) {
    const std::string name = gguf_get_tensor_name(g, i);
    if (name.find(".weight") == std::string::npos) continue;
    const std::size_t bytes = gguf_get_tensor_size(g, i);
    const ggml_type t = gguf_get_tensor_type(g, i);
    const double elems = double(bytes) / double(ggml_type_size(t)) * double(ggml_blck_size(t));
    const bool matrix = name.find("norm") == std::string::npos;
    if (name.rfind("blk.", 0) == 0 && matrix) s.layer_matmul_params += elems;
    if (name.rfind("cls", 0) == 0) s.head_params += elems;
  }
  gguf_free(g);
  return s;
}

double pair_flops(const Shape& s, double t) {
  const double attn_pairs = s.causal ? t * (t + 1) / 2 : t * t;
  return 2 * s.layer_matmul_params * t + 4 * s.n_layer * s.n_head * s.head_dim * attn_pairs +
         2 * s.head_params;
}

// Token count of the pair as llama-server's format_prompt_rerank builds it.
std::size_t server_pair_tokens(const rerank::Tokenizer& tok, const llama_model* m, const std::string& q,
                               const std::string& d) {
  const char* tmpl = llama_model_chat_template(m, "rerank");
  if (tmpl) {
    std::string p = tmpl;
    for (auto [key, val] : {std::pair<std::string, std::string>{"{query}", q}, {"{document}", d}})
      for (std::size_t at; (at = p.find(key)) != std::string::npos;) p.replace(at, key.size(), val);
    return tok.tokenize(p, false, true).size();
  }
  const llama_vocab* v = llama_model_get_vocab(m);
  return tok.tokenize(q, false, false).size() + tok.tokenize(d, false, false).size() +
         (llama_vocab_get_add_bos(v) ? 1 : 0) + (llama_vocab_get_add_eos(v) ? 2 : 0) +
         (llama_vocab_get_add_sep(v) ? 1 : 0);
}

std::uint64_t fnv(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {
      {"--depth", "100"}, {"--doc-tokens", "256"}, {"--num-queries", "5"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  for (const char* req : {"--model", "--queries", "--corpus", "--out"})
    if (!a.count(req)) {
      std::cerr << "bench_neural_inputs: missing " << req << "\n";
      return 2;
    }
  try {
    const std::size_t depth = std::stoul(a["--depth"]), doc_limit = std::stoul(a["--doc-tokens"]),
                      nq = std::stoul(a["--num-queries"]);
    const std::size_t max_pair = a.count("--max-pair-tokens") ? std::stoul(a["--max-pair-tokens"]) : 0;
    const auto tok = rerank::Tokenizer::load(a["--model"]);
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model* vm = llama_model_load_from_file(a["--model"].c_str(), mp);
    if (!vm) throw std::runtime_error(a["--model"] + ": llama.cpp cannot load it");
    const Shape shape = read_shape(a["--model"]);

    std::map<std::string, Doc> corpus;
    std::vector<std::string> corpus_order;
    for (const auto& j : read_jsonl(a["--corpus"])) {
      const std::string id = j.at("_id").get<std::string>();
      corpus[id] = {j.value("title", ""), j.value("text", "")};
      corpus_order.push_back(id);
    }
    std::map<std::string, std::string> queries;
    std::vector<std::string> query_order;
    for (const auto& j : read_jsonl(a["--queries"])) {
      queries[j.at("_id").get<std::string>()] = j.at("text").get<std::string>();
      query_order.push_back(j.at("_id").get<std::string>());
    }
    std::set<std::string> judged;
    if (a.count("--qrels")) {
      std::ifstream in(a["--qrels"]);
      for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string qid;
        ls >> qid;
        if (queries.count(qid)) judged.insert(qid);
      }
    }
    std::map<std::string, std::vector<std::pair<std::string, double>>> run;
    std::string source = "deterministic pseudo-random choice (no first-stage run given)";
    if (a.count("--run")) {
      source = "first-stage run " + a["--run"];
      std::ifstream in(a["--run"]);
      if (!in) throw std::runtime_error(a["--run"] + ": cannot open");
      for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string qid, q0, doc, rank;
        double score = 0;
        if (ls >> qid >> q0 >> doc >> rank >> score) run[qid].push_back({doc, score});
      }
    }
    std::vector<std::string> chosen;
    for (const auto& qid : query_order) {
      if (chosen.size() == nq) break;
      if (!judged.empty() && !judged.count(qid)) continue;
      if (a.count("--run") && run[qid].size() < depth) continue;
      chosen.push_back(qid);
    }
    if (chosen.size() < nq)
      throw std::runtime_error("only " + std::to_string(chosen.size()) + " usable queries");

    const std::filesystem::path out = a["--out"];
    std::filesystem::create_directories(out);
    std::ofstream qf(out / "queries.jsonl"), cf(out / "corpus.jsonl"), rf(out / "run.trec"),
        reqf(out / "requests.jsonl");
    std::map<std::pair<std::string, std::size_t>, std::string> truncated;  // (document, limit): its cut
    std::set<std::string> written;
    double tokens = 0, flops = 0, max_tokens = 0;
    for (const auto& qid : chosen) {
      qf << json{{"_id", qid}, {"text", queries[qid]}}.dump() << "\n";
      std::size_t limit = doc_limit;
      if (max_pair > 0) {  // the pair's framing and query take the rest
        const std::size_t frame = server_pair_tokens(tok, vm, queries[qid], "");
        if (frame >= max_pair) throw std::runtime_error("query " + qid + " alone exceeds --max-pair-tokens");
        limit = std::min(limit, max_pair - frame);
      }
      auto cands = run[qid];
      if (!a.count("--run")) {
        std::vector<std::string> ids = corpus_order;
        std::sort(ids.begin(), ids.end(),
                  [&](auto& x, auto& y) { return fnv(qid + "/" + x) < fnv(qid + "/" + y); });
        for (std::size_t i = 0; i < depth; ++i) cands.push_back({ids[i], double(depth - i)});
      }
      cands.resize(depth);
      json req{
          {"qid", qid}, {"query", queries[qid]}, {"doc_ids", json::array()}, {"documents", json::array()}};
      for (std::size_t r = 0; r < cands.size(); ++r) {
        const auto& [doc, score] = cands[r];
        if (!corpus.count(doc)) throw std::runtime_error("run names unknown document " + doc);
        auto it = truncated.find({doc, limit});
        if (it == truncated.end()) {
          const Doc& d = corpus[doc];
          const std::string full = rerank::document_text(d.title, d.text);
          it = truncated.emplace(std::pair{doc, limit}, truncate_words(tok, full, limit)).first;
          if (written.insert(doc).second)
            cf << json{{"_id", doc}, {"title", std::string()}, {"text", it->second}}.dump() << "\n";
        }
        rf << qid << " Q0 " << doc << " " << r + 1 << " " << score << " first-stage\n";
        req["doc_ids"].push_back(doc);
        req["documents"].push_back(it->second);
        const double t = double(server_pair_tokens(tok, vm, queries[qid], it->second));
        tokens += t;
        max_tokens = std::max(max_tokens, t);
        flops += pair_flops(shape, t);
      }
      reqf << req.dump() << "\n";
    }
    llama_model_free(vm);
    const json stats{{"queries", chosen.size()},
                     {"pairs", chosen.size() * depth},
                     {"pair_tokens", tokens},
                     {"max_pair_tokens", max_tokens},
                     {"flops", flops},
                     {"candidates", source},
                     {"layer_matmul_params", shape.layer_matmul_params}};
    std::ofstream(out / "stats.json") << stats.dump(2) << "\n";
    std::cout << stats.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_neural_inputs: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
