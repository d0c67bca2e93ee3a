// IndexWriter's state, shared by index_writer.cpp (accumulate and spill) and index_merge.cpp
// (merge the spills and assemble the final file). A spill is the sorted partial postings (and the
// forward vectors) of the documents indexed since the previous one, written to disk whenever the
// memory budget is reached.
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
  // One term's postings in the current spill. The first document is stored absolute, later ones as
  // gaps, so spills concatenate by re-encoding only their first document.
  struct TermAccumulator {
    std::string postings;
    std::uint32_t last_doc = 0;
    std::uint32_t doc_freq = 0;
    std::uint64_t total_term_freq = 0;
    std::uint32_t ordinal = 0;  // position in the spill's sorted term list, set when spilling
  };

  // A spill's files: its sorted terms with postings, and the forward vectors of its documents.
  struct SpillFiles {
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
  std::vector<TermAccumulator*> docvec_terms;  // forward vectors of the spill's documents
  std::vector<std::uint32_t> docvec_freqs;
  std::vector<std::size_t> docvec_doc_end;
  std::size_t memory_used = 0;
  std::vector<SpillFiles> spills;

  std::uint32_t num_docs = 0;
  std::unique_ptr<index_io::OutFile> doc_id_bytes;
  std::vector<std::uint64_t> doc_id_offsets{0};
  std::vector<std::vector<std::uint8_t>> norms;  // per field
  std::vector<FieldStats> field_stats;
  bool finished = false;

  std::string temp_path(const std::string& name) const { return tmp_dir + "/" + name; }
  void spill();
  IndexBuildStats merge_and_write();

  // merge_and_write's steps (index_merge.cpp).
  struct MergedTerms {
    std::unique_ptr<index_io::OutFile> entries, term_bytes, postings;  // closed
    std::vector<std::vector<std::uint32_t>> to_global;  // per spill: its term ordinals' final numbers
    std::vector<std::uint32_t> field_term_begin;        // per field: its first term number (and the end)
    std::uint32_t count = 0;
  };
  struct DocIdOrder {
    std::vector<std::uint32_t> order;  // documents by external id (byte order)
    std::vector<std::uint32_t> rank;   // each document's place in `order`
  };
  // The k-way merge of the spills' sorted terms into the final term entries and postings.
  MergedTerms merge_terms();
  // The spills' forward vectors renumbered to the final terms (removes the spills' files); appends
  // each document's end offset to `offsets`.
  std::unique_ptr<index_io::OutFile> merge_doc_vectors(const MergedTerms& terms,
                                                       std::vector<std::uint64_t>& offsets);
  DocIdOrder sort_doc_ids() const;
  std::string meta_json(const MergedTerms& terms) const;
  // Renames the finished temporary directory into place.
  void publish() const;
};

}  // namespace rerank
