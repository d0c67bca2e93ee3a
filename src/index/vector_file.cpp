// Writing a vector file (streamed, then published by rename) and opening one (mmap, checked).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

#include "index/file_util.h"
#include "index/vector_format.h"
#include "rerank/error.h"
#include "rerank/vectors.h"

namespace rerank {

namespace fs = std::filesystem;
using namespace vector_format;

struct VectorWriter::Impl {
  std::string path, temp_rows, temp_file;
  std::size_t dims = 0;
  VectorPrecision precision = VectorPrecision::kF32;
  std::string encoder;
  std::unique_ptr<index_io::OutFile> rows;
  std::vector<std::uint64_t> id_offsets{0};
  std::string id_bytes;
  std::unordered_set<std::string> seen;
  std::vector<std::uint32_t> row_doc;
  std::uint32_t max_rows_per_doc = 0;
  std::vector<std::uint8_t> row_buffer;
  bool finished = false;

  ~Impl() {
    if (finished) return;
    rows.reset();
    std::error_code ec;
    fs::remove(temp_rows, ec);
    fs::remove(temp_file, ec);
  }

  std::string meta() const {
    nlohmann::json encoder_json = nlohmann::json::object();
    if (!encoder.empty()) encoder_json = nlohmann::json::parse(encoder);
    return nlohmann::json{{"format", "rerank.cpp vectors"},
                          {"dims", dims},
                          {"precision", to_string(precision)},
                          {"documents", id_offsets.size() - 1},
                          {"rows", row_doc.size()},
                          {"max_rows_per_doc", max_rows_per_doc},
                          {"encoder", encoder_json}}
        .dump();
  }

  // Each document's position in byte order of the ids.
  std::vector<std::uint32_t> id_ranks() const {
    const std::size_t n = id_offsets.size() - 1;
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    auto id = [&](std::uint32_t d) {
      return std::string_view(id_bytes).substr(id_offsets[d], id_offsets[d + 1] - id_offsets[d]);
    };
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return id(a) < id(b); });
    std::vector<std::uint32_t> rank(n);
    for (std::uint32_t i = 0; i < n; ++i) rank[order[i]] = i;
    return rank;
  }
};

VectorWriter::VectorWriter(std::string path, std::size_t dims, VectorPrecision precision, std::string encoder,
                           bool overwrite)
    : impl_(std::make_unique<Impl>()) {
  if (dims == 0 || dims > 65536) throw Error(path + ": vectors of " + std::to_string(dims) + " dimensions");
  if (!overwrite && fs::exists(path)) throw Error(path + " exists (pass --overwrite to replace it)");
  if (!encoder.empty() && !nlohmann::json::accept(encoder))
    throw Error("internal error: encoder description is not JSON");
  impl_->path = path;
  const std::string pid = std::to_string(::getpid());
  impl_->temp_rows = path + ".rows.tmp-" + pid;
  impl_->temp_file = path + ".tmp-" + pid;
  impl_->dims = dims;
  impl_->precision = precision;
  impl_->encoder = std::move(encoder);
  impl_->rows = std::make_unique<index_io::OutFile>(impl_->temp_rows);
  impl_->row_buffer.resize(vector_row_bytes(precision, dims));
}

VectorWriter::~VectorWriter() = default;

void VectorWriter::add(std::string_view doc_id, const float* vectors, std::size_t rows) {
  Impl& w = *impl_;
  if (w.finished) throw Error("internal error: VectorWriter::add after finish");
  if (rows == 0) throw Error("document " + std::string(doc_id) + " has no vector");
  if (!w.seen.emplace(doc_id).second) throw Error("document id " + std::string(doc_id) + " occurs twice");
  for (std::size_t i = 0; i < rows * w.dims; ++i)
    if (!std::isfinite(vectors[i]))
      throw Error("document " + std::string(doc_id) + ": its vector has a non-finite component");
  const auto doc = static_cast<std::uint32_t>(w.id_offsets.size() - 1);
  for (std::size_t r = 0; r < rows; ++r) {
    encode_vector_row(w.precision, vectors + r * w.dims, w.dims, w.row_buffer.data());
    w.rows->write(w.row_buffer.data(), w.row_buffer.size());
    w.row_doc.push_back(doc);
  }
  w.max_rows_per_doc = std::max(w.max_rows_per_doc, static_cast<std::uint32_t>(rows));
  w.id_bytes.append(doc_id);
  w.id_offsets.push_back(w.id_bytes.size());
}

VectorFileStats VectorWriter::finish() {
  Impl& w = *impl_;
  w.rows->close();
  index_format::SectionWriter sections;
  sections.memory(kVecMeta, w.meta());
  sections.memory(kVecIdOffsets, w.id_offsets);
  sections.memory(kVecIdBytes, w.id_bytes);
  sections.memory(kVecIdRank, w.id_ranks());
  sections.memory(kVecRowDoc, w.row_doc);
  sections.file(kVecRows, *w.rows);
  VectorFileStats stats;
  stats.documents = w.id_offsets.size() - 1;
  stats.rows = w.row_doc.size();
  stats.file_bytes = sections.write(w.temp_file, kContainer);
  std::error_code ec;
  fs::rename(w.temp_file, w.path, ec);
  if (ec) throw Error("cannot rename " + w.temp_file + " to " + w.path + ": " + ec.message());
  w.finished = true;
  return stats;
}

struct VectorSet::Impl {
  std::unique_ptr<index_format::MappedContainer> file;
  std::size_t dims = 0, row_bytes = 0;
  VectorPrecision precision = VectorPrecision::kF32;
  std::uint32_t docs = 0, max_rows_per_doc = 0;
  std::uint64_t rows = 0;
  std::string encoder;
  const std::uint64_t* id_offsets = nullptr;
  const char* id_bytes = nullptr;
  const std::uint32_t* id_rank = nullptr;
  const std::uint32_t* row_doc = nullptr;
  const std::uint8_t* row_data = nullptr;

  [[noreturn]] void corrupt(const std::string& what) const { file->corrupt(what); }
  void read_meta();
  void map_sections();
  void check_structure() const;
};

void VectorSet::Impl::read_meta() {
  const auto& meta = file->sections()[kVecMeta];
  try {
    const auto j = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(meta.first), meta.second));
    dims = j.at("dims").get<std::size_t>();
    precision = parse_vector_precision(j.at("precision").get<std::string>());
    docs = j.at("documents").get<std::uint32_t>();
    rows = j.at("rows").get<std::uint64_t>();
    max_rows_per_doc = j.at("max_rows_per_doc").get<std::uint32_t>();
    encoder = j.at("encoder").dump();
  } catch (const nlohmann::json::exception& e) {
    corrupt(std::string("bad metadata: ") + e.what());
  } catch (const Error& e) {
    corrupt(std::string("bad metadata: ") + e.what());
  }
  if (dims == 0 || dims > 65536) corrupt("bad dimension count " + std::to_string(dims));
  row_bytes = vector_row_bytes(precision, dims);
}

void VectorSet::Impl::map_sections() {
  const auto& s = file->sections();
  auto expect = [&](std::uint32_t kind, std::uint64_t bytes, const char* what) {
    if (s[kind].second != bytes) corrupt(std::string(what) + " has the wrong size");
    return s[kind].first;
  };
  const std::uint64_t n = docs;
  id_offsets = reinterpret_cast<const std::uint64_t*>(expect(kVecIdOffsets, (n + 1) * 8, "id offsets"));
  id_bytes = reinterpret_cast<const char*>(s[kVecIdBytes].first);
  id_rank = reinterpret_cast<const std::uint32_t*>(expect(kVecIdRank, n * 4, "id ranks"));
  row_doc = reinterpret_cast<const std::uint32_t*>(expect(kVecRowDoc, rows * 4, "row documents"));
  if (rows > (std::uint64_t{1} << 40) / std::max<std::size_t>(row_bytes, 1)) corrupt("row count");
  row_data = expect(kVecRows, rows * row_bytes, "vectors");
}

void VectorSet::Impl::check_structure() const {
  const std::uint64_t n = docs;
  if (id_offsets[0] != 0 || id_offsets[n] != file->sections()[kVecIdBytes].second) corrupt("id offsets");
  std::vector<bool> rank_seen(n, false);
  for (std::uint64_t d = 0; d < n; ++d) {
    if (id_offsets[d] > id_offsets[d + 1]) corrupt("id offsets not increasing");
    if (id_rank[d] >= n || rank_seen[id_rank[d]]) corrupt("id ranks");
    rank_seen[id_rank[d]] = true;
  }
  // Every document has its vectors, consecutive, and no more than max_rows_per_doc of them.
  std::uint64_t expected = 0, run = 0;
  for (std::uint64_t r = 0; r < rows; ++r) {
    if (row_doc[r] == expected) {
      run = 1;
      ++expected;
    } else if (expected == 0 || row_doc[r] != expected - 1 || ++run > max_rows_per_doc) {
      corrupt("row " + std::to_string(r) + " belongs to no document in order");
    }
  }
  if (expected != n) corrupt("documents without vectors");
}

VectorSet::VectorSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VectorSet::~VectorSet() = default;

std::shared_ptr<const VectorSet> VectorSet::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->file = std::make_unique<index_format::MappedContainer>(
      path, kContainer, path + ": no such vector file (make one with `rerank index --embed MODEL.gguf`)");
  impl->read_meta();
  impl->map_sections();
  impl->check_structure();
  return std::shared_ptr<const VectorSet>(new VectorSet(std::move(impl)));
}

const std::string& VectorSet::path() const { return impl_->file->path(); }
std::size_t VectorSet::dims() const { return impl_->dims; }
VectorPrecision VectorSet::precision() const { return impl_->precision; }
std::uint32_t VectorSet::num_docs() const { return impl_->docs; }
std::uint64_t VectorSet::num_rows() const { return impl_->rows; }
std::size_t VectorSet::row_bytes() const { return impl_->row_bytes; }
std::uint32_t VectorSet::max_rows_per_doc() const { return impl_->max_rows_per_doc; }
const std::string& VectorSet::encoder() const { return impl_->encoder; }
std::uint32_t VectorSet::checksum() const { return impl_->file->header_crc(); }
std::string_view VectorSet::doc_id(std::uint32_t doc) const {
  return {impl_->id_bytes + impl_->id_offsets[doc], impl_->id_offsets[doc + 1] - impl_->id_offsets[doc]};
}
std::uint32_t VectorSet::doc_id_rank(std::uint32_t doc) const { return impl_->id_rank[doc]; }
std::uint32_t VectorSet::row_doc(std::uint64_t row) const { return impl_->row_doc[row]; }
const std::uint8_t* VectorSet::row(std::uint64_t row) const {
  return impl_->row_data + row * impl_->row_bytes;
}

VectorFileStats convert_vectors(const VectorSet& from, const std::string& path, VectorPrecision precision,
                                bool overwrite) {
  if (fs::exists(path) && fs::equivalent(path, from.path()))
    throw Error(path + ": converting a vector file onto itself");
  VectorWriter writer(path, from.dims(), precision, from.encoder(), overwrite);
  std::vector<float> rows;
  for (std::uint64_t r = 0; r < from.num_rows();) {
    const std::uint32_t doc = from.row_doc(r);
    std::uint64_t end = r + 1;
    while (end < from.num_rows() && from.row_doc(end) == doc) ++end;
    rows.resize((end - r) * from.dims());
    decode_vector_rows(from.precision(), from.row(r), end - r, from.dims(), rows.data());
    writer.add(from.doc_id(doc), rows.data(), end - r);
    r = end;
  }
  return writer.finish();
}

}  // namespace rerank
