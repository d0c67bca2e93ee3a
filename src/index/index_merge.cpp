// Merging the spills into the final index file, and the atomic publish (temp dir, rename).
#include <fcntl.h>  // AT_FDCWD
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "index/format.h"
#include "index/section_file.h"
#include "index/writer_impl.h"
#include "rerank/analyzer.h"
#include "rerank/error.h"

namespace rerank {

namespace fs = std::filesystem;
using namespace index_format;

namespace {

// The next term record of one spill's terms file.
struct SpillCursor {
  std::unique_ptr<index_io::InFile> in;
  std::size_t spill = 0;
  std::uint32_t ordinal = 0;  // record number within the spill
  bool valid = false;
  std::uint32_t field = 0;
  std::string term;
  std::uint32_t doc_freq = 0;
  std::uint64_t total_term_freq = 0;
  std::uint32_t last_doc = 0;
  std::string postings;

  void advance() {
    std::uint32_t length = 0;
    if (!in->get(field)) {
      valid = false;
      return;
    }
    if (valid) ++ordinal;
    valid = true;
    std::uint64_t postings_length = 0;
    if (!in->get(length)) throw Error("truncated spill file while merging");
    term.resize(length);
    if (!in->read(term.data(), length) || !in->get(doc_freq) || !in->get(total_term_freq) ||
        !in->get(last_doc) || !in->get(postings_length))
      throw Error("truncated spill file while merging");
    postings.resize(postings_length);
    if (!in->read(postings.data(), postings_length)) throw Error("truncated spill file while merging");
  }
};

struct CursorAfter {
  bool operator()(const SpillCursor* a, const SpillCursor* b) const {
    if (a->field != b->field) return a->field > b->field;
    if (a->term != b->term) return a->term > b->term;
    return a->spill > b->spill;
  }
};

// Appends one spill's postings of the current term: the first spill's as they are, a later one's
// with its absolute first document re-encoded as a gap from the previous spill's last (`previous`).
void append_postings(index_io::OutFile& out, const SpillCursor& c, const std::uint32_t* previous,
                     std::string& gap) {
  if (!previous) {
    out.write(c.postings);  // streamed: a term's postings never sit whole in memory
    return;
  }
  std::uint64_t first_doc = 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(c.postings.data());
  const auto* end = p + c.postings.size();
  const std::uint8_t* rest = get_varint(p, end, first_doc);
  if (!rest) throw Error("corrupt spill file while merging");
  gap.clear();
  put_varint(gap, first_doc - *previous);
  out.write(gap);
  out.write(rest, static_cast<std::size_t>(end - rest));
}

}  // namespace

IndexWriter::Impl::MergedTerms IndexWriter::Impl::merge_terms() {
  MergedTerms merged;
  merged.entries = std::make_unique<index_io::OutFile>(temp_path("terms.tmp"));
  merged.term_bytes = std::make_unique<index_io::OutFile>(temp_path("termbytes.tmp"));
  merged.postings = std::make_unique<index_io::OutFile>(temp_path("postings.tmp"));
  merged.to_global.resize(spills.size());
  std::vector<SpillCursor> cursors(spills.size());
  std::priority_queue<SpillCursor*, std::vector<SpillCursor*>, CursorAfter> heap;
  for (std::size_t r = 0; r < spills.size(); ++r) {
    merged.to_global[r].resize(spills[r].term_count);
    cursors[r].in = std::make_unique<index_io::InFile>(spills[r].terms_path);
    cursors[r].spill = r;
    cursors[r].advance();
    if (cursors[r].valid) heap.push(&cursors[r]);
  }
  std::uint32_t& global = merged.count;
  merged.field_term_begin.assign(field_names.size() + 1, 0);
  std::string gap;  // a spill's re-encoded first document
  while (!heap.empty()) {
    const std::uint32_t field = heap.top()->field;
    const std::string term = heap.top()->term;
    TermEntry entry{};
    entry.term_offset = merged.term_bytes->size();
    entry.term_length = static_cast<std::uint32_t>(term.size());
    entry.field = field;
    entry.postings_offset = merged.postings->size();
    std::optional<std::uint32_t> previous_last;
    while (!heap.empty() && heap.top()->field == field && heap.top()->term == term) {
      SpillCursor* c = heap.top();
      heap.pop();
      merged.to_global[c->spill][c->ordinal] = global;
      append_postings(*merged.postings, *c, previous_last ? &*previous_last : nullptr, gap);
      previous_last = c->last_doc;
      entry.doc_freq += c->doc_freq;
      entry.total_term_freq += c->total_term_freq;
      c->advance();
      if (c->valid) heap.push(c);
    }
    entry.postings_length = merged.postings->size() - entry.postings_offset;
    merged.term_bytes->write(term);
    merged.entries->put(entry);
    for (std::size_t f = field + 1; f < merged.field_term_begin.size(); ++f)
      merged.field_term_begin[f] = global + 1;
    ++global;
  }
  cursors.clear();
  merged.entries->close();
  merged.term_bytes->close();
  merged.postings->close();
  return merged;
}

std::unique_ptr<index_io::OutFile> IndexWriter::Impl::merge_doc_vectors(const MergedTerms& terms,
                                                                        std::vector<std::uint64_t>& offsets) {
  auto out = std::make_unique<index_io::OutFile>(temp_path("docvec.tmp"));
  offsets.reserve(num_docs + 1);
  std::string buffer;
  for (std::size_t r = 0; r < spills.size(); ++r) {
    const std::vector<std::uint32_t>& to_global = terms.to_global[r];
    index_io::InFile in(spills[r].docvec_path);
    for (std::uint32_t d = 0; d < spills[r].doc_count; ++d) {
      buffer.clear();
      const std::uint64_t count = in.get_varint();
      std::uint64_t ordinal = 0;
      std::uint32_t previous = 0;
      for (std::uint64_t i = 0; i < count; ++i) {
        ordinal += in.get_varint();
        const std::uint64_t freq = in.get_varint();
        if (ordinal >= to_global.size()) throw Error("corrupt spill file while merging");
        const std::uint32_t g = to_global[ordinal];
        put_varint(buffer, g - previous);
        put_varint(buffer, freq);
        previous = g;
      }
      out->write(buffer);
      offsets.push_back(out->size());
    }
    std::error_code ec;
    fs::remove(spills[r].docvec_path, ec);
    fs::remove(spills[r].terms_path, ec);
  }
  out->close();
  return out;
}

IndexWriter::Impl::DocIdOrder IndexWriter::Impl::sort_doc_ids() const {
  std::string ids;
  {
    index_io::InFile in(temp_path("docids.tmp"));
    ids.resize(doc_id_offsets.back());
    if (!ids.empty() && !in.read(ids.data(), ids.size())) throw Error("cannot read back document ids");
  }
  auto id_of = [&](std::uint32_t d) {
    return std::string_view(ids).substr(doc_id_offsets[d], doc_id_offsets[d + 1] - doc_id_offsets[d]);
  };
  DocIdOrder out;
  out.order.resize(num_docs);
  for (std::uint32_t d = 0; d < num_docs; ++d) out.order[d] = d;
  std::stable_sort(out.order.begin(), out.order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return id_of(a) < id_of(b); });
  out.rank.resize(num_docs);
  for (std::uint32_t i = 0; i < num_docs; ++i) out.rank[out.order[i]] = i;
  return out;
}

std::string IndexWriter::Impl::meta_json(const MergedTerms& terms) const {
  nlohmann::json meta;
  meta["format"] = "rerank.cpp index";
  meta["version"] = kVersion;
  meta["analyzer"] = kEnglishAnalyzerName;
  meta["layout"] = options.layout == FieldLayout::kFlat ? "flat" : "multifield";
  meta["num_docs"] = num_docs;
  meta["num_terms"] = terms.count;
  meta["field_term_begin"] = terms.field_term_begin;
  for (const auto& fs_ : field_stats)
    meta["fields"].push_back(
        {{"name", fs_.name}, {"doc_count", fs_.doc_count}, {"sum_total_term_freq", fs_.sum_total_term_freq}});
  return meta.dump();
}

void IndexWriter::Impl::publish() const {
  std::error_code ec;
  std::string old_dir;
  if (fs::exists(final_dir)) {
    if (!options.overwrite) throw Error(final_dir + " already exists");
    // One atomic exchange: at every moment final_dir holds the old index or the new one, even if
    // the process is killed here (moving the old one away first left a moment with neither).
    if (::renameat2(AT_FDCWD, tmp_dir.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
      fs::remove_all(tmp_dir, ec);  // now the old index
      return;
    }
    if (errno != EINVAL && errno != ENOSYS)
      throw Error("cannot replace " + final_dir + ": " + std::strerror(errno));
    // A file system without the exchange: the old index is moved away, then the new one in.
    old_dir = final_dir + ".old-" + std::to_string(::getpid());
    fs::rename(final_dir, old_dir, ec);
    if (ec) throw Error("cannot move away " + final_dir + ": " + ec.message());
  }
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) throw Error("cannot rename " + tmp_dir + " to " + final_dir + ": " + ec.message());
  if (!old_dir.empty()) fs::remove_all(old_dir, ec);
}

IndexBuildStats IndexWriter::Impl::merge_and_write() {
  if (options.progress) options.progress(num_docs, "merging");
  IndexBuildStats stats;
  stats.documents = num_docs;
  stats.spills = spills.size();
  const MergedTerms terms = merge_terms();
  stats.terms = terms.count;

  if (options.progress) options.progress(num_docs, "writing document vectors");
  std::vector<std::uint64_t> docvec_offsets{0};
  const auto docvec = merge_doc_vectors(terms, docvec_offsets);
  const DocIdOrder ids = sort_doc_ids();
  std::vector<std::uint8_t> all_norms;
  for (auto& n : norms) all_norms.insert(all_norms.end(), n.begin(), n.end());

  SectionWriter sections;
  sections.memory(kMeta, meta_json(terms));
  sections.memory(kDocIdOffsets, doc_id_offsets);
  sections.file(kDocIdBytes, *doc_id_bytes);
  sections.memory(kDocIdOrder, ids.order);
  sections.memory(kDocIdRank, ids.rank);
  sections.memory(kNorms, all_norms);
  sections.file(kTermEntries, *terms.entries);
  sections.file(kTermBytes, *terms.term_bytes);
  sections.file(kPostings, *terms.postings);
  sections.memory(kDocVecOffsets, docvec_offsets);
  sections.file(kDocVec, *docvec);
  stats.index_bytes = sections.write(temp_path(kFileName), kIndexContainer);

  publish();
  if (options.progress) options.progress(num_docs, "done");
  return stats;
}

}  // namespace rerank
