// What every fuzz harness shares (fuzz/README.md): the input written to a scratch file for the
// readers that take paths, the rule that bad input may only end in rerank::Error, and checksums
// mended so that mutations reach the parsers behind them.
#pragma once
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include "rerank/error.h"

namespace rerank::fuzz {

// A file of this process holding the current input (in /dev/shm when there is one: no disk writes).
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& suffix) {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/rerank-fuzz-" + std::to_string(getpid()) + suffix;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  const std::string& write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) std::abort();  // the harness's own failure, not the input's
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `parse` on one input. A rerank::Error is the answer bad input must get (a clear message);
// any other exception escaping a reader (std::out_of_range, a JSON library's, bad_alloc) is a
// finding, and so is an empty message: both abort, which libFuzzer reports as a crash.
template <typename Parse>
void expect_clean_outcome(Parse&& parse) {
  try {
    parse();
  } catch (const rerank::Error& e) {
    if (std::strlen(e.what()) == 0) {
      std::fprintf(stderr, "rerank::Error with an empty message\n");
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "escaped exception (not rerank::Error): %s\n", e.what());
    std::abort();
  }
}

// The input written to this process's scratch file for `suffix`, then read(path) run as
// expect_clean_outcome runs it: the harness of a reader that takes a path.
template <typename Read>
void read_as_file(const char* suffix, const std::uint8_t* data, std::size_t size, Read&& read) {
  static const ScratchFile file(suffix);  // one per harness: each instantiates this once
  const std::string& path = file.write({reinterpret_cast<const char*>(data), size});
  expect_clean_outcome([&] { read(path); });
}

// The checked container of index and vector files (src/index/section_file.h):
//   magic[8], u32 version, u32 section_count, u64 file_size,
//   section_count x {u32 kind, u32 crc32, u64 offset, u64 length}, u32 crc32 of all the above.
// Recomputes every checksum whose bytes lie inside the file, so that a mutation inside a section or
// the header is seen by the parser behind the checksums instead of only by the checksum test.
inline void mend_container_checksums(std::string& file) {
  auto u32_at = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, file.data() + at, 4);
    return v;
  };
  auto u64_at = [&](std::size_t at) {
    std::uint64_t v;
    std::memcpy(&v, file.data() + at, 8);
    return v;
  };
  auto crc = [&](std::size_t at, std::size_t n) {
    return static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(file.data() + at), static_cast<uInt>(n)));
  };
  constexpr std::size_t kFixed = 8 + 4 + 4 + 8, kEntry = 4 + 4 + 8 + 8;
  if (file.size() < kFixed) return;
  const std::uint64_t count = u32_at(12);
  if (count > 64 || file.size() < kFixed + count * kEntry + 4) return;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t entry = kFixed + i * kEntry;
    const std::uint64_t offset = u64_at(entry + 8), length = u64_at(entry + 16);
    if (offset > file.size() || length > file.size() - offset) continue;
    const std::uint32_t sum = crc(offset, length);
    std::memcpy(file.data() + entry + 4, &sum, 4);
  }
  const std::size_t header = kFixed + count * kEntry;
  const std::uint32_t sum = crc(0, header);
  std::memcpy(file.data() + header, &sum, 4);
}

// The first byte of an input chooses among a harness's variants; the rest is the payload.
struct Control {
  std::uint8_t byte = 0;
  std::string_view payload;
};
inline Control split_control(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {};
  return {data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

}  // namespace rerank::fuzz
