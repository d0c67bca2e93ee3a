// On-disk layout of a vector file (DIR/NAME.vec), in the container of section_file.h:
//   kVecMeta       JSON: dims, precision, documents, rows, max_rows_per_doc, encoder (what made them)
//   kVecIdOffsets  u64[N+1] into kVecIdBytes
//   kVecIdBytes    external document ids, concatenated, in the order the documents were added
//   kVecIdRank     u32[N]: position of each document's id in byte order (the score tie-breaker)
//   kVecRowDoc     u32[R]: the document of each vector, non-decreasing (a document's chunks are
//                  consecutive)
//   kVecRows       R vectors of vector_row_bytes(precision, dims) bytes each
#pragma once
#include <cstdint>

#include "index/section_file.h"

namespace rerank::vector_format {

inline constexpr char kMagic[8] = {'R', 'R', 'V', 'E', 'C', '\r', '\n', '\x1a'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr const char* kExtension = ".vec";

enum SectionKind : std::uint32_t {
  kVecMeta = 1,
  kVecIdOffsets,
  kVecIdBytes,
  kVecIdRank,
  kVecRowDoc,
  kVecRows,
  kVecSectionCount = kVecRows
};

inline constexpr index_format::ContainerFormat kContainer{kMagic, kVersion, kVecSectionCount, "vector file",
                                                          "re-encode it with `rerank index --embed`"};

}  // namespace rerank::vector_format
