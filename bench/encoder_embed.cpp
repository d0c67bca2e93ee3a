// The rerank.cpp side of bench/encoder_peers.sh for embedding models: embeds the texts of a JSONL
// file with the library's EmbeddingModel (as `rerank embed` does), timing only embed() (the model is
// loaded and the runtime built before the clock starts), and writes the pooled, unnormalised vectors.
//
//   bench_encoder_embed --model M.gguf --texts texts.jsonl --output vectors.npy [--threads N]
//                       [--max-tokens 256] [--runtime auto|llama|onednn] [--precision auto|f32|bf16|int8]
//                       [--workers N]
// texts.jsonl: one {"text": "..."} per line. vectors.npy: float32, one row per text, in input order
// (NumPy's .npy format, version 1.0). Prints one JSON line: seconds, load_seconds, texts, docs_per_s,
// dim and the runtime's reported cost (forward passes, tokens, FLOPs).
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rerank/embedding_model.h"
#include "rerank/model.h"

namespace {

using json = nlohmann::json;

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<std::string> texts;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    try {
      texts.push_back(json::parse(line).at("text").get<std::string>());
    } catch (const json::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + e.what());
    }
  }
  if (texts.empty()) throw std::runtime_error(path + ": no texts");
  return texts;
}

// NumPy's .npy format 1.0: magic, header length, a Python dict literal padded to 64 bytes, the data.
void write_npy(const std::string& path, const std::vector<std::vector<float>>& rows) {
  const std::size_t dim = rows.empty() ? 0 : rows.front().size();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows.size()) +
                       ", " + std::to_string(dim) + "), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  const char len_le[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_le, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& r : rows) {
    if (r.size() != dim) throw std::runtime_error("vectors of different sizes");
    out.write(reinterpret_cast<const char*>(r.data()),
              static_cast<std::streamsize>(r.size() * sizeof(float)));
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

}  // namespace

int main(int argc, char** argv) {
  using Runtime = rerank::RuntimeOptions::EncoderRuntime;
  rerank::RuntimeOptions options;
  options.max_input_tokens = 256;
  std::string model_path, texts_path, output, runtime = "auto", precision = "auto";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--model")
      model_path = v;
    else if (a == "--texts")
      texts_path = v;
    else if (a == "--output")
      output = v;
    else if (a == "--threads")
      options.threads = std::stoi(v);
    else if (a == "--max-tokens")
      options.max_input_tokens = std::stoi(v);
    else if (a == "--workers")
      options.workers = std::stoi(v);
    else if (a == "--runtime" && (v == "auto" || v == "llama" || v == "onednn"))
      runtime = v;
    else if (a == "--precision" && (v == "auto" || v == "f32" || v == "bf16" || v == "int8"))
      precision = v;
    else {
      std::cerr << "bench_encoder_embed: bad argument " << a << " " << v << "\n";
      return 2;
    }
  }
  if (model_path.empty() || texts_path.empty() || output.empty() || argc % 2 == 0) {
    std::cerr << "usage: bench_encoder_embed --model M.gguf --texts texts.jsonl --output vectors.npy "
                 "[--threads N]\n"
                 "       [--max-tokens 256] [--runtime auto|llama|onednn] [--precision auto|f32|bf16|int8] "
                 "[--workers N]\n";
    return 2;
  }
  options.encoder_runtime = runtime == "llama"    ? Runtime::Llama
                            : runtime == "onednn" ? Runtime::OneDnn
                                                  : Runtime::Auto;
  options.encoder_precision = rerank::parse_encoder_precision(precision);
  try {
    const auto texts = read_texts(texts_path);
    const auto t_load = std::chrono::steady_clock::now();
    rerank::EmbeddingModel model(rerank::Model::load(model_path), options);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<rerank::RerankCost> costs;
    const auto vectors = model.embed(texts, &costs);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double load_seconds = std::chrono::duration<double>(t0 - t_load).count();
    write_npy(output, vectors);
    rerank::RerankCost cost;
    for (const auto& c : costs) cost += c;
    std::cout << json{{"seconds", seconds},
                      {"load_seconds", load_seconds},
                      {"texts", texts.size()},
                      {"docs_per_s", double(texts.size()) / seconds},
                      {"dim", vectors.empty() ? 0 : vectors.front().size()},
                      {"runtime", runtime},
                      {"precision", precision},
                      {"forward_passes", cost.forward_passes},
                      {"prompt_tokens", cost.prompt_tokens},
                      {"flops", cost.flops}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_encoder_embed: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
