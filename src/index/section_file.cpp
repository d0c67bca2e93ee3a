#include "index/section_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "index/format.h"
#include "rerank/error.h"

namespace rerank::index_format {

namespace {
template <typename T>
T read_at(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

void SectionWriter::memory(std::uint32_t kind, std::string bytes) {
  Section s{kind, "", std::move(bytes)};
  s.length = s.bytes.size();
  s.crc = crc32_update(0, s.bytes.data(), s.bytes.size());
  list_.push_back(std::move(s));
}

void SectionWriter::file(std::uint32_t kind, const index_io::OutFile& f) {
  list_.push_back({kind, f.path(), "", f.size(), f.crc()});
}

std::uint64_t SectionWriter::write(const std::string& path, const ContainerFormat& format) const {
  std::uint64_t offset = header_bytes(list_.size());
  std::vector<SectionEntry> table;
  for (const auto& s : list_) {
    offset = (offset + 7) & ~std::uint64_t{7};
    table.push_back({s.kind, s.crc, offset, s.length});
    offset += s.length;
  }
  const std::uint64_t file_size = offset;
  std::string header(format.magic, 8);
  auto append_raw = [&](const auto& v) { header.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  append_raw(format.version);
  append_raw(static_cast<std::uint32_t>(list_.size()));
  append_raw(file_size);
  for (const auto& e : table) append_raw(e);
  append_raw(crc32_update(0, header.data(), header.size()));

  index_io::OutFile out(path);
  out.write(header);
  for (std::size_t i = 0; i < list_.size(); ++i) {
    static const char zeros[8] = {};
    out.write(zeros, table[i].offset - out.size());
    if (list_[i].file.empty())
      out.write(list_[i].bytes);
    else
      index_io::append_file(out, list_[i].file);
    if (!list_[i].file.empty()) {
      std::error_code ec;
      std::filesystem::remove(list_[i].file, ec);
    }
  }
  if (out.size() != file_size) throw Error("internal error: " + std::string(format.noun) + " size mismatch");
  out.close(/*sync=*/true);
  return file_size;
}

MappedContainer::MappedContainer(const std::string& path, const ContainerFormat& format,
                                 const std::string& missing)
    : path_(path), format_(format) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw Error(missing);
    throw Error("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw Error("cannot stat " + path + ": " + why);
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw Error("cannot map " + path + ": " + why);
    }
    base_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
  try {
    read_sections();
  } catch (...) {
    // A throwing constructor runs no destructor: unmap here, or every file refused leaks its
    // mapping (fuzz_index found 27,000 of them in one process).
    if (base_) ::munmap(const_cast<std::uint8_t*>(base_), size_);
    throw;
  }
}

MappedContainer::~MappedContainer() {
  if (base_) ::munmap(const_cast<std::uint8_t*>(base_), size_);
}

void MappedContainer::corrupt(const std::string& what) const {
  throw Error(path_ + ": corrupt " + format_.noun + " (" + what + "); " + format_.rebuild);
}

void MappedContainer::read_sections() {
  if (size_ < kFixedHeaderBytes) corrupt("file is truncated: " + std::to_string(size_) + " bytes");
  if (std::memcmp(base_, format_.magic, 8) != 0)
    throw Error(path_ + ": not a rerank.cpp " + format_.noun + " (bad magic)");
  const auto version = read_at<std::uint32_t>(base_ + 8);
  if (version != format_.version)
    throw Error(path_ + ": " + format_.noun + " format version " + std::to_string(version) +
                " is not supported (this build reads " + std::to_string(format_.version) + "); " +
                format_.rebuild);
  const auto count = read_at<std::uint32_t>(base_ + 12);
  const auto file_size = read_at<std::uint64_t>(base_ + 16);
  if (count != format_.sections) corrupt("unexpected section count " + std::to_string(count));
  if (file_size != size_)
    corrupt("file is " + std::to_string(size_) + " bytes, header says " + std::to_string(file_size) +
            (size_ < file_size ? " (truncated)" : ""));
  const std::size_t header_size = header_bytes(count);
  if (size_ < header_size) corrupt("header is truncated");
  header_crc_ = read_at<std::uint32_t>(base_ + header_size - 4);
  if (crc32_update(0, base_, header_size - 4) != header_crc_) corrupt("header checksum mismatch");

  sections_.assign(format_.sections + 1, Section{nullptr, 0});
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto e = read_at<SectionEntry>(base_ + kFixedHeaderBytes + i * sizeof(SectionEntry));
    if (e.kind < 1 || e.kind > format_.sections || sections_[e.kind].first) corrupt("bad section table");
    if (e.offset % 8 != 0 || e.offset > size_ || e.length > size_ - e.offset)
      corrupt("section out of bounds");
    if (crc32_update(0, base_ + e.offset, e.length) != e.crc32)
      corrupt("checksum mismatch in section " + std::to_string(e.kind));
    sections_[e.kind] = {base_ + e.offset, e.length};
  }
}

}  // namespace rerank::index_format
