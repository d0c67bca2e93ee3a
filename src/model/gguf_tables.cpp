#include "model/gguf_tables.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "rerank/error.h"

namespace rerank::detail {

GgufMeta::GgufMeta(const std::string& path) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/&tensors};
  gguf = gguf_init_from_file(path.c_str(), params);
  if (!gguf) throw Error(path + ": corrupt GGUF file (cannot read its tensor tables)");
}

GgufMeta::~GgufMeta() {
  if (tensors) ggml_free(tensors);
  gguf_free(gguf);
}

std::size_t GgufMeta::offset(const char* name) const {
  return gguf_get_data_offset(gguf) + gguf_get_tensor_offset(gguf, gguf_find_tensor(gguf, name));
}

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open the model file to read its tables");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    throw Error(path + ": cannot read the size of the model file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw Error(path + ": cannot map the model file to read its tables");
  data_ = static_cast<const unsigned char*>(p);
}

MappedFile::~MappedFile() { ::munmap(const_cast<unsigned char*>(data_), size_); }

void MappedFile::release_pages(std::size_t offset, std::size_t size) const {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t end = std::min(size_, offset + size);
  const std::size_t first = (offset + page - 1) / page * page, last = end == size_ ? end : end / page * page;
  if (first >= last) return;
  // Advice only: a failure changes nothing but the memory held.
  ::madvise(const_cast<unsigned char*>(data_) + first, last - first, MADV_DONTNEED);
}

void dequantize_row(int type, const unsigned char* src, int width, float* out) {
  if (type == GGML_TYPE_F32) {
    std::memcpy(out, src, sizeof(float) * static_cast<std::size_t>(width));
    return;
  }
  ggml_get_type_traits(static_cast<ggml_type>(type))->to_float(src, out, width);
}

std::vector<float> read_tensor_row(const std::string& path, const GgufMeta& meta, const char* name,
                                   std::int64_t row) {
  const ggml_tensor* t = ggml_get_tensor(meta.tensors, name);
  if (!t || ggml_n_dims(t) > 2 || row < 0 || row >= t->ne[1]) return {};
  const auto* traits = ggml_get_type_traits(t->type);
  if (t->type != GGML_TYPE_F32 && (!traits || !traits->to_float)) return {};
  std::vector<unsigned char> bytes(t->nb[1]);
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(meta.offset(name) + static_cast<std::size_t>(row) * t->nb[1]));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw Error(path + ": truncated GGUF file (cannot read a row of " + name + ")");
  std::vector<float> out(static_cast<std::size_t>(t->ne[0]));
  dequantize_row(t->type, bytes.data(), static_cast<int>(t->ne[0]), out.data());
  return out;
}

}  // namespace rerank::detail
