// Small file helpers for the index writer: buffered binary output that reports I/O errors (a
// full disk must fail the build, not produce a short index) and a binary input stream.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace rerank::index_io {

class OutFile {
 public:
  explicit OutFile(const std::string& path);
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  template <typename T>
  void put(const T& value) {
    write(&value, sizeof(T));
  }
  std::uint64_t size() const { return size_; }
  std::uint32_t crc() const { return crc_; }
  // Flushes, fsyncs when asked, closes; throws on any error.
  void close(bool sync = false);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint32_t crc_ = 0;
};

class InFile {
 public:
  explicit InFile(const std::string& path);
  ~InFile();
  InFile(const InFile&) = delete;
  InFile& operator=(const InFile&) = delete;

  // Reads exactly n bytes; false at a clean end of file, throws on a short read.
  bool read(void* data, std::size_t n);
  template <typename T>
  bool get(T& value) {
    return read(&value, sizeof(T));
  }
  std::uint64_t get_varint();
  // Up to n bytes; 0 at the end of the file.
  std::size_t read_some(void* data, std::size_t n);

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

// Appends the file at `path` to `out` (used to assemble the final index from its sections).
void append_file(OutFile& out, const std::string& path);

}  // namespace rerank::index_io
