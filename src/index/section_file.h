// The container both on-disk formats of the index stage use (the inverted index, index.rrx, and
// vector files, *.vec): a header with a magic, a version and a table of checksummed sections, then
// the sections, each 8-byte aligned, little endian:
//
//   magic[8], u32 version, u32 section_count, u64 file_size,
//   section_count x {u32 kind, u32 crc32, u64 offset, u64 length}, u32 crc32 of all the above
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "index/file_util.h"

namespace rerank::index_format {

struct ContainerFormat {
  const char* magic;  // 8 bytes
  std::uint32_t version;
  std::uint32_t sections;  // kinds are 1..sections, each present once
  const char* noun;        // "index", "vector file": named in errors
  const char* rebuild;     // how to make a new one, for errors: "rebuild it with `rerank index`"
};

// The sections of a file being written, in order: each either a finished temp file or bytes in
// memory.
class SectionWriter {
 public:
  void memory(std::uint32_t kind, std::string bytes);
  template <typename T>
  void memory(std::uint32_t kind, const std::vector<T>& v) {
    memory(kind, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
  }
  void file(std::uint32_t kind, const index_io::OutFile& f);

  // Writes the file at `path` (fsynced): the header, then the sections 8-byte aligned, removing
  // their temp files. Returns its size.
  std::uint64_t write(const std::string& path, const ContainerFormat& format) const;

 private:
  struct Section {
    std::uint32_t kind;
    std::string file;   // either a temp file...
    std::string bytes;  // ...or bytes in memory
    std::uint64_t length = 0;
    std::uint32_t crc = 0;
  };
  std::vector<Section> list_;
};

// A file of this container, memory-mapped and checked: header, version, bounds and every section's
// checksum. Errors name the file and the problem.
class MappedContainer {
 public:
  using Section = std::pair<const std::uint8_t*, std::uint64_t>;  // start and length

  // `missing` is the message for a file that does not exist.
  MappedContainer(const std::string& path, const ContainerFormat& format, const std::string& missing);
  ~MappedContainer();
  MappedContainer(const MappedContainer&) = delete;
  MappedContainer& operator=(const MappedContainer&) = delete;

  // Indexed by kind (kind 0 unused).
  const std::vector<Section>& sections() const { return sections_; }
  std::uint32_t header_crc() const { return header_crc_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void corrupt(const std::string& what) const;

 private:
  void read_sections();
  std::string path_;
  ContainerFormat format_;
  const std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  std::vector<Section> sections_;
  std::uint32_t header_crc_ = 0;
};

}  // namespace rerank::index_format
