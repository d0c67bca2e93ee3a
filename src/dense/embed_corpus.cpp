// Encoding a corpus into a vector file, a batch of documents at a time.
#include <filesystem>

#include "dense/encoding.h"
#include "rerank/dense.h"
#include "rerank/embedding_model.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace {

// One vector per document, or one per window when chunking; normalised when asked.
std::vector<std::vector<std::vector<float>>> embed_batch(EmbeddingModel& model,
                                                         const std::vector<std::string>& texts,
                                                         const DenseEncoding& e) {
  std::vector<std::vector<std::vector<float>>> out;
  if (e.chunk_tokens > 0) {
    const auto stride = static_cast<std::size_t>(e.chunk_stride > 0 ? e.chunk_stride : e.chunk_tokens);
    out = model.embed_windows(texts, static_cast<std::size_t>(e.chunk_tokens), stride);
  } else {
    for (auto& v : model.embed(texts)) out.push_back({std::move(v)});
  }
  if (e.normalize)
    for (auto& doc : out)
      for (auto& v : doc) normalize_vector(v.data(), v.size());
  return out;
}

}  // namespace

VectorFileStats embed_corpus(const std::string& corpus_path, const std::string& model_path,
                             const std::string& path, const EmbedCorpusOptions& options) {
  const DenseEncoding& e = options.encoding;
  if (e.max_tokens < 0 || e.chunk_tokens < 0 || e.chunk_stride < 0)
    throw Error("token counts of the dense encoding must not be negative");
  if (e.chunk_stride > e.chunk_tokens)
    throw Error("chunk stride exceeds the chunk length: windows would skip text");
  dense::EncoderRecord record;
  record.encoding = e;
  record.model_path = std::filesystem::absolute(model_path).string();
  const auto model = Model::load(model_path);
  record.model_name = model->info().name;
  dense::file_identity(model_path, record.model_bytes, record.model_crc32);
  RuntimeOptions runtime = options.runtime;
  runtime.max_input_tokens = e.max_tokens;
  EmbeddingModel embedder(model, runtime);
  CorpusReader reader(corpus_path);
  VectorWriter writer(path, static_cast<std::size_t>(embedder.dims()), options.precision,
                      dense::to_json(record), options.overwrite);
  std::uint64_t done = 0;
  const std::size_t batch = std::max<std::size_t>(options.batch_documents, 1);
  std::vector<std::string> ids, texts;
  Document doc;
  bool more = true;
  while (more) {
    ids.clear();
    texts.clear();
    while (texts.size() < batch && (more = reader.next(doc))) {
      ids.push_back(doc.doc_id);
      texts.push_back(e.document_prefix + document_text(doc.title, doc.text));
    }
    if (texts.empty()) break;
    const auto vectors = embed_batch(embedder, texts, e);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::vector<float> rows;
      for (const auto& v : vectors[i]) rows.insert(rows.end(), v.begin(), v.end());
      writer.add(ids[i], rows.data(), vectors[i].size());
    }
    done += ids.size();
    if (options.progress && !ids.empty())
      options.progress(done, reader.bytes_total() ? static_cast<double>(reader.bytes_read()) /
                                                        static_cast<double>(reader.bytes_total())
                                                  : 1.0);
  }
  if (done == 0) throw Error(corpus_path + ": the corpus has no documents");
  return writer.finish();
}

}  // namespace rerank
