// On-disk layout of an index (one file, DIR/index.rrx), shared by the writer and the reader.
//
//   header:  magic[8] "RRIDX\r\n\x1a", u32 version, u32 section_count, u64 file_size,
//            section_count x {u32 kind, u32 crc32, u64 offset, u64 length}, u32 crc32 of all the above
//   sections (each 8-byte aligned, little endian):
//     kMeta          JSON: analyzer, layout, fields with their statistics, counts
//     kDocIdOffsets  u64[N+1] into kDocIdBytes
//     kDocIdBytes    external ids, concatenated
//     kDocIdOrder    u32[N]: internal numbers sorted by external id (byte order)
//     kDocIdRank     u32[N]: position of each document in that order (the score tie-breaker)
//     kNorms         u8[F*N]: Lucene's one-byte length of field f of document d at f*N+d
//     kTermEntries   TermEntry[T], sorted by (field, term bytes)
//     kTermBytes     term strings, concatenated
//     kPostings      per term: varint first doc, varint freq, then (varint doc gap, varint freq)...
//     kDocVecOffsets u64[N+1] into kDocVec
//     kDocVec        per document: (varint term-entry gap, varint freq)... in term-entry order
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "index/section_file.h"

namespace rerank::index_format {

inline constexpr char kMagic[8] = {'R', 'R', 'I', 'D', 'X', '\r', '\n', '\x1a'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr const char* kFileName = "index.rrx";

enum SectionKind : std::uint32_t {
  kMeta = 1,
  kDocIdOffsets,
  kDocIdBytes,
  kDocIdOrder,
  kDocIdRank,
  kNorms,
  kTermEntries,
  kTermBytes,
  kPostings,
  kDocVecOffsets,
  kDocVec,
  kSectionCount = kDocVec  // kinds are 1..kSectionCount
};

inline constexpr ContainerFormat kIndexContainer{kMagic, kVersion, kSectionCount, "index",
                                                 "rebuild it with `rerank index`"};

struct SectionEntry {
  std::uint32_t kind;
  std::uint32_t crc32;
  std::uint64_t offset;
  std::uint64_t length;
};
static_assert(sizeof(SectionEntry) == 24);

inline constexpr std::size_t kFixedHeaderBytes = 8 + 4 + 4 + 8;
inline std::size_t header_bytes(std::size_t sections) {
  return kFixedHeaderBytes + sections * sizeof(SectionEntry) + 4;
}

struct TermEntry {
  std::uint64_t term_offset;
  std::uint32_t term_length;
  std::uint32_t field;
  std::uint32_t doc_freq;
  std::uint32_t reserved;
  std::uint64_t postings_offset;
  std::uint64_t postings_length;
  std::uint64_t total_term_freq;
};
static_assert(sizeof(TermEntry) == 48);

// CRC-32 (IEEE 802.3, as zlib), incremental: crc = crc32_update(crc, data, n), starting from 0.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n);

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Decodes a varint at p (p < end); returns nullptr on a truncated or overlong encoding.
inline const std::uint8_t* get_varint(const std::uint8_t* p, const std::uint8_t* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const std::uint8_t byte = *p++;
    v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return p;
  }
  return nullptr;
}

}  // namespace rerank::index_format
