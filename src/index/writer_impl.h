// IndexWriter's state, shared by index_writer.cpp (accumulate and spill) and index_merge.cpp
// (merge the spilled runs and assemble the final file).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/file_util.h"
#include "rerank/index.h"

namespace rerank {

struct IndexWriter::Impl {
  // One term's postings in the current run. The first document is stored absolute, later ones as
  // gaps, so runs concatenate by re-encoding only their first document.
  struct TermAccumulator {
    std::string postings;
    std::uint32_t last_doc = 0;
    std::uint32_t doc_freq = 0;
    std::uint64_t total_term_freq = 0;
    std::uint32_t ordinal = 0;  // position in the run's sorted term list, set when spilling
  };

  // A spilled run: its sorted terms with postings, and the forward vectors of its documents.
  struct RunFiles {
    std::string terms_path;
    std::string docvec_path;
    std::uint64_t term_count = 0;
    std::uint32_t doc_count = 0;
  };

  std::string final_dir;
  std::string tmp_dir;
  IndexOptions options;
  std::vector<std::string> field_names;

  std::vector<std::unordered_map<std::string, TermAccumulator>> terms;  // per field
  std::vector<TermAccumulator*> docvec_terms;  // forward vectors of the run's documents
  std::vector<std::uint32_t> docvec_freqs;
  std::vector<std::size_t> docvec_doc_end;
  std::size_t memory_used = 0;
  std::vector<RunFiles> runs;

  std::uint32_t num_docs = 0;
  std::unique_ptr<index_io::OutFile> doc_id_bytes;
  std::vector<std::uint64_t> doc_id_offsets{0};
  std::vector<std::vector<std::uint8_t>> norms;  // per field
  std::vector<FieldStats> field_stats;
  bool finished = false;

  std::string temp_path(const std::string& name) const { return tmp_dir + "/" + name; }
  void spill();
  IndexBuildStats merge_and_write();
};

}  // namespace rerank
