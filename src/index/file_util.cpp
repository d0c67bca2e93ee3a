#include "index/file_util.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "index/format.h"
#include "rerank/error.h"

namespace rerank::index_format {

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  // zlib's slicing implementation: several GB/s, which matters for vector files of gigabytes.
  return static_cast<std::uint32_t>(::crc32_z(crc, static_cast<const Bytef*>(data), n));
}

}  // namespace rerank::index_format

namespace rerank::index_io {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

OutFile::OutFile(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw Error("cannot create " + path + ": " + errno_text());
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

OutFile::~OutFile() {
  if (f_) std::fclose(f_);
}

void OutFile::write(const void* data, std::size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, f_) != n) throw Error("cannot write " + path_ + ": " + errno_text());
  crc_ = index_format::crc32_update(crc_, data, n);
  size_ += n;
}

void OutFile::close(bool sync) {
  if (!f_) return;
  std::FILE* f = f_;
  f_ = nullptr;
  bool ok = std::fflush(f) == 0;
  if (ok && sync) ok = ::fsync(::fileno(f)) == 0;
  const std::string why = ok ? "" : errno_text();
  if (std::fclose(f) != 0 && ok) throw Error("cannot write " + path_ + ": " + errno_text());
  if (!ok) throw Error("cannot write " + path_ + ": " + why);
}

InFile::InFile(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) throw Error("cannot open " + path + ": " + errno_text());
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
}

InFile::~InFile() {
  if (f_) std::fclose(f_);
}

bool InFile::read(void* data, std::size_t n) {
  const std::size_t got = std::fread(data, 1, n, f_);
  if (got == n) return true;
  if (got == 0 && std::feof(f_)) return false;
  throw Error("unexpected end of " + path_);
}

std::uint64_t InFile::get_varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const int c = std::fgetc(f_);
    if (c == EOF) throw Error("unexpected end of " + path_);
    v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
    if (!(c & 0x80)) return v;
  }
  throw Error("corrupt varint in " + path_);
}

std::size_t InFile::read_some(void* data, std::size_t n) {
  const std::size_t got = std::fread(data, 1, n, f_);
  if (got < n && std::ferror(f_)) throw Error("cannot read " + path_ + ": " + errno_text());
  return got;
}

void append_file(OutFile& out, const std::string& path) {
  InFile in(path);
  std::vector<char> buffer(1 << 20);
  while (const std::size_t n = in.read_some(buffer.data(), buffer.size())) out.write(buffer.data(), n);
}

}  // namespace rerank::index_io
