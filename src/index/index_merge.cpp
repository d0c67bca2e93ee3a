// Merging the spilled runs into the final index file, and the atomic publish (temp dir, rename).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "index/format.h"
#include "index/writer_impl.h"
#include "rerank/analyzer.h"
#include "rerank/error.h"

namespace rerank {

namespace fs = std::filesystem;
using namespace index_format;

namespace {

// The next term record of one run's terms file.
struct RunCursor {
  std::unique_ptr<index_io::InFile> in;
  std::size_t run = 0;
  std::uint32_t ordinal = 0;  // record number within the run
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
    if (!in->get(length)) throw Error("truncated run file while merging");
    term.resize(length);
    if (!in->read(term.data(), length) || !in->get(doc_freq) || !in->get(total_term_freq) ||
        !in->get(last_doc) || !in->get(postings_length))
      throw Error("truncated run file while merging");
    postings.resize(postings_length);
    if (!in->read(postings.data(), postings_length)) throw Error("truncated run file while merging");
  }
};

struct CursorAfter {
  bool operator()(const RunCursor* a, const RunCursor* b) const {
    if (a->field != b->field) return a->field > b->field;
    if (a->term != b->term) return a->term > b->term;
    return a->run > b->run;
  }
};

struct PendingSection {
  std::uint32_t kind;
  std::string file;   // either a temp file...
  std::string bytes;  // ...or bytes in memory
  std::uint64_t length = 0;
  std::uint32_t crc = 0;
};

template <typename T>
std::string as_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

IndexBuildStats IndexWriter::Impl::merge_and_write() {
  if (options.progress) options.progress(num_docs, "merging");
  IndexBuildStats stats;
  stats.documents = num_docs;
  stats.spilled_runs = runs.size();

  // ---- terms and postings: k-way merge of the runs
  index_io::OutFile entries_out(temp_path("terms.tmp"));
  index_io::OutFile term_bytes_out(temp_path("termbytes.tmp"));
  index_io::OutFile postings_out(temp_path("postings.tmp"));
  std::vector<std::vector<std::uint32_t>> to_global(runs.size());
  std::vector<RunCursor> cursors(runs.size());
  std::priority_queue<RunCursor*, std::vector<RunCursor*>, CursorAfter> heap;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    to_global[r].resize(runs[r].term_count);
    cursors[r].in = std::make_unique<index_io::InFile>(runs[r].terms_path);
    cursors[r].run = r;
    cursors[r].advance();
    if (cursors[r].valid) heap.push(&cursors[r]);
  }
  std::uint32_t global = 0;
  std::vector<std::uint32_t> field_term_begin(field_names.size() + 1, 0);
  std::string gap;  // a run's re-encoded first document
  while (!heap.empty()) {
    RunCursor* first = heap.top();
    const std::uint32_t field = first->field;
    const std::string term = first->term;
    TermEntry entry{};
    entry.term_offset = term_bytes_out.size();
    entry.term_length = static_cast<std::uint32_t>(term.size());
    entry.field = field;
    entry.postings_offset = postings_out.size();
    bool have_previous = false;
    std::uint32_t previous_last = 0;
    while (!heap.empty() && heap.top()->field == field && heap.top()->term == term) {
      RunCursor* c = heap.top();
      heap.pop();
      to_global[c->run][c->ordinal] = global;
      if (!have_previous) {
        postings_out.write(c->postings);  // streamed: a term's postings never sit whole in memory
      } else {
        // Re-encode the run's absolute first document as a gap from the previous run's last.
        std::uint64_t first_doc = 0;
        const auto* p = reinterpret_cast<const std::uint8_t*>(c->postings.data());
        const auto* end = p + c->postings.size();
        const std::uint8_t* rest = get_varint(p, end, first_doc);
        if (!rest) throw Error("corrupt run file while merging");
        gap.clear();
        put_varint(gap, first_doc - previous_last);
        postings_out.write(gap);
        postings_out.write(rest, static_cast<std::size_t>(end - rest));
      }
      have_previous = true;
      previous_last = c->last_doc;
      entry.doc_freq += c->doc_freq;
      entry.total_term_freq += c->total_term_freq;
      c->advance();
      if (c->valid) heap.push(c);
    }
    entry.postings_length = postings_out.size() - entry.postings_offset;
    term_bytes_out.write(term);
    entries_out.put(entry);
    for (std::size_t f = field + 1; f < field_term_begin.size(); ++f) field_term_begin[f] = global + 1;
    ++global;
  }
  cursors.clear();
  entries_out.close();
  term_bytes_out.close();
  postings_out.close();
  stats.terms = global;

  // ---- forward vectors, renumbered to final term entries
  if (options.progress) options.progress(num_docs, "writing document vectors");
  index_io::OutFile docvec_out(temp_path("docvec.tmp"));
  std::vector<std::uint64_t> docvec_offsets{0};
  docvec_offsets.reserve(num_docs + 1);
  std::string buffer;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    index_io::InFile in(runs[r].docvec_path);
    for (std::uint32_t d = 0; d < runs[r].doc_count; ++d) {
      buffer.clear();
      const std::uint64_t count = in.get_varint();
      std::uint64_t ordinal = 0;
      std::uint32_t previous = 0;
      for (std::uint64_t i = 0; i < count; ++i) {
        ordinal += in.get_varint();
        const std::uint64_t freq = in.get_varint();
        if (ordinal >= to_global[r].size()) throw Error("corrupt run file while merging");
        const std::uint32_t g = to_global[r][ordinal];
        put_varint(buffer, g - previous);
        put_varint(buffer, freq);
        previous = g;
      }
      docvec_out.write(buffer);
      docvec_offsets.push_back(docvec_out.size());
    }
    std::error_code ec;
    fs::remove(runs[r].docvec_path, ec);
    fs::remove(runs[r].terms_path, ec);
  }
  docvec_out.close();

  // ---- external ids, their byte order and each document's rank in it
  std::string ids;
  {
    index_io::InFile in(temp_path("docids.tmp"));
    ids.resize(doc_id_offsets.back());
    if (!ids.empty() && !in.read(ids.data(), ids.size())) throw Error("cannot read back document ids");
  }
  auto id_of = [&](std::uint32_t d) {
    return std::string_view(ids).substr(doc_id_offsets[d], doc_id_offsets[d + 1] - doc_id_offsets[d]);
  };
  std::vector<std::uint32_t> order(num_docs);
  for (std::uint32_t d = 0; d < num_docs; ++d) order[d] = d;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return id_of(a) < id_of(b); });
  std::vector<std::uint32_t> rank(num_docs);
  for (std::uint32_t i = 0; i < num_docs; ++i) rank[order[i]] = i;
  ids.clear();
  ids.shrink_to_fit();

  std::vector<std::uint8_t> all_norms;
  for (auto& n : norms) all_norms.insert(all_norms.end(), n.begin(), n.end());

  nlohmann::json meta;
  meta["format"] = "rerank.cpp index";
  meta["version"] = kVersion;
  meta["analyzer"] = kEnglishAnalyzerName;
  meta["layout"] = options.layout == FieldLayout::kFlat ? "flat" : "multifield";
  meta["num_docs"] = num_docs;
  meta["num_terms"] = global;
  meta["field_term_begin"] = field_term_begin;
  for (const auto& fs_ : field_stats)
    meta["fields"].push_back(
        {{"name", fs_.name}, {"doc_count", fs_.doc_count}, {"sum_total_term_freq", fs_.sum_total_term_freq}});

  std::vector<PendingSection> sections;
  auto memory_section = [&](std::uint32_t kind, std::string bytes) {
    PendingSection s{kind, "", std::move(bytes)};
    s.length = s.bytes.size();
    s.crc = crc32_update(0, s.bytes.data(), s.bytes.size());
    sections.push_back(std::move(s));
  };
  auto file_section = [&](std::uint32_t kind, const index_io::OutFile& f) {
    sections.push_back({kind, f.path(), "", f.size(), f.crc()});
  };
  memory_section(kMeta, meta.dump());
  memory_section(kDocIdOffsets, as_bytes(doc_id_offsets));
  file_section(kDocIdBytes, *doc_id_bytes);
  memory_section(kDocIdOrder, as_bytes(order));
  memory_section(kDocIdRank, as_bytes(rank));
  memory_section(kNorms, as_bytes(all_norms));
  file_section(kTermEntries, entries_out);
  file_section(kTermBytes, term_bytes_out);
  file_section(kPostings, postings_out);
  memory_section(kDocVecOffsets, as_bytes(docvec_offsets));
  file_section(kDocVec, docvec_out);

  // ---- assemble: header, then the sections 8-byte aligned
  std::uint64_t offset = header_bytes(sections.size());
  std::vector<SectionEntry> table;
  for (const auto& s : sections) {
    offset = (offset + 7) & ~std::uint64_t{7};
    table.push_back({s.kind, s.crc, offset, s.length});
    offset += s.length;
  }
  const std::uint64_t file_size = offset;
  std::string header(kMagic, sizeof(kMagic));
  auto append_raw = [&](const auto& v) { header.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  append_raw(kVersion);
  append_raw(static_cast<std::uint32_t>(sections.size()));
  append_raw(file_size);
  for (const auto& e : table) append_raw(e);
  append_raw(crc32_update(0, header.data(), header.size()));

  const std::string index_path = temp_path(kFileName);
  {
    index_io::OutFile out(index_path);
    out.write(header);
    for (std::size_t i = 0; i < sections.size(); ++i) {
      static const char zeros[8] = {};
      out.write(zeros, table[i].offset - out.size());
      if (sections[i].file.empty())
        out.write(sections[i].bytes);
      else
        index_io::append_file(out, sections[i].file);
      if (!sections[i].file.empty()) {
        std::error_code ec;
        fs::remove(sections[i].file, ec);
      }
    }
    if (out.size() != file_size) throw Error("internal error: index size mismatch");
    out.close(/*sync=*/true);
  }
  stats.index_bytes = file_size;

  // ---- publish: rename the finished temp dir into place
  std::error_code ec;
  std::string old_dir;
  if (fs::exists(final_dir)) {
    if (!options.overwrite) throw Error(final_dir + " already exists");
    old_dir = final_dir + ".old-" + std::to_string(::getpid());
    fs::rename(final_dir, old_dir, ec);
    if (ec) throw Error("cannot move away " + final_dir + ": " + ec.message());
  }
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) throw Error("cannot rename " + tmp_dir + " to " + final_dir + ": " + ec.message());
  if (!old_dir.empty()) fs::remove_all(old_dir, ec);
  if (options.progress) options.progress(num_docs, "done");
  return stats;
}

}  // namespace rerank
