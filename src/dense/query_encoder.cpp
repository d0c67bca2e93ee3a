// Query vectors made as the documents' were: the same model file (checked by size and CRC-32), the
// query prefix and the normalisation recorded in the vector file.
#include <mutex>

#include "dense/encoding.h"
#include "rerank/dense.h"
#include "rerank/embedding_model.h"
#include "rerank/error.h"

namespace rerank {

struct QueryEncoder::Impl {
  dense::EncoderRecord record;
  std::size_t dims = 0;
  mutable std::mutex mutex;  // EmbeddingModel is not thread-safe
  std::unique_ptr<EmbeddingModel> model;
};

QueryEncoder::QueryEncoder(const VectorSet& vectors, const std::string& model_path, RuntimeOptions runtime)
    : impl_(std::make_unique<Impl>()) {
  impl_->record = dense::from_json(vectors.encoder(), vectors.path());
  impl_->dims = vectors.dims();
  const std::string path = model_path.empty() ? impl_->record.model_path : model_path;
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;
  try {
    dense::file_identity(path, bytes, crc);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (the model that encoded " + vectors.path() +
                "; give its path with the dense option model=PATH)");
  }
  if (bytes != impl_->record.model_bytes || crc != impl_->record.model_crc32)
    throw Error(path + " is not the model that encoded " + vectors.path() + " (" + impl_->record.model_path +
                ", " + std::to_string(impl_->record.model_bytes) + " bytes, CRC-32 " +
                std::to_string(impl_->record.model_crc32) + "); queries must be encoded by the same model");
  runtime.max_input_tokens = impl_->record.encoding.max_tokens;
  impl_->model = std::make_unique<EmbeddingModel>(Model::load(path), runtime);
  if (static_cast<std::size_t>(impl_->model->dims()) != impl_->dims)
    throw Error(path + ": vectors of " + std::to_string(impl_->model->dims()) + " dimensions, but " +
                vectors.path() + " holds " + std::to_string(impl_->dims));
}

QueryEncoder::~QueryEncoder() = default;

const DenseEncoding& QueryEncoder::encoding() const { return impl_->record.encoding; }

std::vector<float> QueryEncoder::encode(const std::vector<std::string>& texts) const {
  std::vector<std::string> prefixed;
  for (const auto& t : texts) prefixed.push_back(impl_->record.encoding.query_prefix + t);
  std::vector<std::vector<float>> vectors;
  {
    std::lock_guard lock(impl_->mutex);
    vectors = impl_->model->embed(prefixed);
  }
  std::vector<float> out;
  out.reserve(texts.size() * impl_->dims);
  for (auto& v : vectors) {
    if (impl_->record.encoding.normalize) normalize_vector(v.data(), v.size());
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

}  // namespace rerank
