// Indexing: analyze each document, accumulate postings in memory, spill them sorted to disk
// whenever the memory budget is exceeded. index_merge.cpp merges the spills.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "index/format.h"
#include "index/writer_impl.h"
#include "rerank/analyzer.h"
#include "rerank/bm25.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace fs = std::filesystem;
using index_format::put_varint;

namespace {

// Rough per-term overhead of the hash map node, the key and the accumulator, for the budget.
constexpr std::size_t kTermOverheadBytes = 112;
constexpr std::size_t kDocVecEntryBytes = sizeof(void*) + sizeof(std::uint32_t);

}  // namespace

IndexWriter::IndexWriter(const std::string& directory, IndexOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (directory.empty()) throw Error("index directory name is empty");
  s.final_dir = fs::path(directory).lexically_normal().string();
  if (!s.final_dir.empty() && s.final_dir.back() == '/') s.final_dir.pop_back();
  s.options = std::move(options);
  if (fs::exists(s.final_dir) && !s.options.overwrite)
    throw Error(s.final_dir + " already exists (choose another directory or overwrite it)");
  s.tmp_dir = s.final_dir + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(s.tmp_dir, ec);
  if (!fs::create_directories(s.tmp_dir, ec) || ec)
    throw Error("cannot create " + s.tmp_dir + ": " + (ec ? ec.message() : "already exists"));
  s.field_names = s.options.layout == FieldLayout::kFlat ? std::vector<std::string>{"contents"}
                                                         : std::vector<std::string>{"title", "text"};
  s.terms.resize(s.field_names.size());
  s.norms.resize(s.field_names.size());
  for (const auto& name : s.field_names) s.field_stats.push_back({name, 0, 0});
  s.doc_id_bytes = std::make_unique<index_io::OutFile>(s.temp_path("docids.tmp"));
}

IndexWriter::~IndexWriter() {
  if (impl_ && !impl_->finished) {
    impl_->doc_id_bytes.reset();
    std::error_code ec;
    fs::remove_all(impl_->tmp_dir, ec);  // an unfinished build leaves nothing behind
  }
}

void IndexWriter::add(const Document& doc) {
  Impl& s = *impl_;
  if (s.finished) throw Error("IndexWriter::add after finish");
  if (s.num_docs == 0xFFFFFFF0u) throw Error("too many documents for one index");
  const std::uint32_t doc_number = s.num_docs;
  std::vector<std::string_view> field_texts;
  std::string title_and_text;  // flat layout with a title; otherwise the fields are not copied
  if (s.options.layout == FieldLayout::kFlat) {
    if (!doc.title.empty()) title_and_text = doc.title + " " + doc.text;
    field_texts.push_back(doc.title.empty() ? std::string_view(doc.text) : std::string_view(title_and_text));
  } else {
    field_texts.push_back(doc.title);
    field_texts.push_back(doc.text);
  }
  for (std::size_t f = 0; f < field_texts.size(); ++f) {
    std::vector<std::pair<std::string, std::uint32_t>> terms = english_term_counts(field_texts[f]);
    std::size_t length = 0;
    for (const auto& term : terms) length += term.second;
    s.norms[f].push_back(
        bm25::encode_length(static_cast<std::uint32_t>(std::min<std::size_t>(length, 0x7FFFFFFF))));
    if (length == 0) continue;
    s.field_stats[f].doc_count += 1;
    s.field_stats[f].sum_total_term_freq += length;
    auto& map = s.terms[f];
    for (auto& [term, freq] : terms) {
      auto [it, inserted] = map.try_emplace(std::move(term));
      Impl::TermAccumulator& acc = it->second;
      if (inserted) s.memory_used += it->first.size() + kTermOverheadBytes;
      const std::size_t before = acc.postings.capacity();
      put_varint(acc.postings, acc.doc_freq == 0 ? doc_number : doc_number - acc.last_doc);
      put_varint(acc.postings, freq);
      s.memory_used += acc.postings.capacity() - before;
      acc.last_doc = doc_number;
      acc.doc_freq += 1;
      acc.total_term_freq += freq;
      s.docvec_terms.push_back(&acc);
      s.docvec_freqs.push_back(freq);
      s.memory_used += kDocVecEntryBytes;
    }
  }
  s.docvec_doc_end.push_back(s.docvec_terms.size());
  s.doc_id_bytes->write(doc.doc_id);
  s.doc_id_offsets.push_back(s.doc_id_bytes->size());
  s.num_docs += 1;
  if (s.memory_used > s.options.memory_budget_bytes) {
    s.spill();
    if (s.options.progress) s.options.progress(s.num_docs, "memory budget reached, postings spilled to disk");
  }
  if (s.options.progress && s.num_docs % 10000 == 0) s.options.progress(s.num_docs, "indexing");
}

void IndexWriter::Impl::spill() {
  if (docvec_doc_end.empty()) return;
  const std::size_t spill_number = spills.size();
  SpillFiles files;
  files.terms_path = temp_path("spill" + std::to_string(spill_number) + ".terms");
  files.docvec_path = temp_path("spill" + std::to_string(spill_number) + ".docvec");
  files.doc_count = static_cast<std::uint32_t>(docvec_doc_end.size());

  // Terms sorted by (field, term); ordinals number them in that order.
  index_io::OutFile out(files.terms_path);
  std::uint32_t ordinal = 0;
  for (std::uint32_t f = 0; f < terms.size(); ++f) {
    std::vector<std::pair<const std::string*, TermAccumulator*>> sorted;
    sorted.reserve(terms[f].size());
    for (auto& [term, acc] : terms[f]) sorted.emplace_back(&term, &acc);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (auto& [term, acc] : sorted) {
      acc->ordinal = ordinal++;
      out.put<std::uint32_t>(f);
      out.put<std::uint32_t>(static_cast<std::uint32_t>(term->size()));
      out.write(*term);
      out.put<std::uint32_t>(acc->doc_freq);
      out.put<std::uint64_t>(acc->total_term_freq);
      out.put<std::uint32_t>(acc->last_doc);
      out.put<std::uint64_t>(acc->postings.size());
      out.write(acc->postings);
    }
  }
  out.close();
  files.term_count = ordinal;

  // Forward vectors with spill-local ordinals; the merge maps them to final term numbers.
  index_io::OutFile dv(files.docvec_path);
  std::string buffer;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> entries;
  std::size_t begin = 0;
  for (const std::size_t end : docvec_doc_end) {
    entries.clear();
    for (std::size_t i = begin; i < end; ++i) entries.emplace_back(docvec_terms[i]->ordinal, docvec_freqs[i]);
    std::sort(entries.begin(), entries.end());
    buffer.clear();
    put_varint(buffer, entries.size());
    std::uint32_t previous = 0;
    for (const auto& [ord, freq] : entries) {
      put_varint(buffer, ord - previous);
      put_varint(buffer, freq);
      previous = ord;
    }
    dv.write(buffer);
    begin = end;
  }
  dv.close();

  spills.push_back(files);
  for (auto& map : terms) std::unordered_map<std::string, TermAccumulator>().swap(map);
  std::vector<TermAccumulator*>().swap(docvec_terms);
  std::vector<std::uint32_t>().swap(docvec_freqs);
  std::vector<std::size_t>().swap(docvec_doc_end);
  memory_used = 0;
}

IndexBuildStats IndexWriter::finish() {
  Impl& s = *impl_;
  if (s.finished) throw Error("IndexWriter::finish called twice");
  s.spill();
  s.doc_id_bytes->close();
  IndexBuildStats stats = s.merge_and_write();
  s.finished = true;
  return stats;
}

IndexBuildStats build_index(const std::string& corpus_path, const std::string& directory,
                            IndexOptions options) {
  CorpusReader reader(corpus_path);
  IndexWriter writer(directory, options);
  Document doc;
  while (reader.next(doc)) writer.add(doc);
  return writer.finish();
}

}  // namespace rerank
