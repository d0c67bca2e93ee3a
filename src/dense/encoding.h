// What the vector file keeps about how its vectors were made (the "encoder" object of its
// metadata), private to the dense stage.
#pragma once
#include <cstdint>
#include <string>

#include "rerank/dense.h"

namespace rerank::dense {

struct EncoderRecord {
  DenseEncoding encoding;
  std::string model_path;  // absolute, as given when encoding
  std::string model_name;  // general.name
  std::uint64_t model_bytes = 0;
  std::uint32_t model_crc32 = 0;  // of the whole GGUF file
};

std::string to_json(const EncoderRecord& record);
// Throws rerank::Error naming `where` when the object lacks a field.
EncoderRecord from_json(const std::string& json, const std::string& where);

// Size and CRC-32 of a file (the model's identity).
void file_identity(const std::string& path, std::uint64_t& bytes, std::uint32_t& crc);

}  // namespace rerank::dense
