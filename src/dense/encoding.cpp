#include "dense/encoding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "rerank/error.h"

namespace rerank {

DenseEncoding default_encoding(const ModelInfo& model) {
  std::string name = model.name + " " + std::filesystem::path(model.path).filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  DenseEncoding e;
  // e5 was trained with these prefixes on both sides (Wang et al. 2022, the model cards).
  if (name.find("e5-") != std::string::npos || name.find("e5_") != std::string::npos) {
    e.query_prefix = "query: ";
    e.document_prefix = "passage: ";
  } else if (name.find("bge") != std::string::npos && name.find("en") != std::string::npos &&
             name.find("v1.5") != std::string::npos) {
    // bge English v1.5: the instruction before short queries for retrieval (its model card).
    e.query_prefix = "Represent this sentence for searching relevant passages: ";
  }
  return e;
}

std::string vector_file_path(const std::string& index_dir, const std::string& name) {
  return index_dir + "/" + name + ".vec";
}

std::string hnsw_file_path(const std::string& index_dir, const std::string& name) {
  return index_dir + "/" + name + ".hnsw";
}

namespace dense {

std::string to_json(const EncoderRecord& r) {
  const DenseEncoding& e = r.encoding;
  return nlohmann::json{{"model_path", r.model_path},     {"model_name", r.model_name},
                        {"model_bytes", r.model_bytes},   {"model_crc32", r.model_crc32},
                        {"query_prefix", e.query_prefix}, {"document_prefix", e.document_prefix},
                        {"max_tokens", e.max_tokens},     {"chunk_tokens", e.chunk_tokens},
                        {"chunk_stride", e.chunk_stride}, {"normalize", e.normalize}}
      .dump();
}

EncoderRecord from_json(const std::string& json, const std::string& where) {
  EncoderRecord r;
  try {
    const auto j = nlohmann::json::parse(json);
    r.model_path = j.at("model_path").get<std::string>();
    r.model_name = j.at("model_name").get<std::string>();
    r.model_bytes = j.at("model_bytes").get<std::uint64_t>();
    r.model_crc32 = j.at("model_crc32").get<std::uint32_t>();
    r.encoding.query_prefix = j.at("query_prefix").get<std::string>();
    r.encoding.document_prefix = j.at("document_prefix").get<std::string>();
    r.encoding.max_tokens = j.at("max_tokens").get<int>();
    r.encoding.chunk_tokens = j.at("chunk_tokens").get<int>();
    r.encoding.chunk_stride = j.at("chunk_stride").get<int>();
    r.encoding.normalize = j.at("normalize").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": the vectors' encoder record is incomplete (" + e.what() +
                "); re-encode with `rerank index --embed`");
  }
  return r;
}

void file_identity(const std::string& path, std::uint64_t& bytes, std::uint32_t& crc) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path + ": " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  uLong c = crc32_z(0, nullptr, 0);
  bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    c = crc32_z(c, reinterpret_cast<const Bytef*>(buffer.data()), n);
    bytes += n;
  }
  if (in.bad()) throw Error("cannot read " + path);
  crc = static_cast<std::uint32_t>(c);
}

}  // namespace dense

void normalize_vector(float* v, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(v[i]) * v[i];
  const double norm = std::sqrt(sum);
  if (norm > 0)
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(v[i] / norm);
}

}  // namespace rerank
