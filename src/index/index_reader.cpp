// Opening an index: mmap, then check everything before trusting any offset in it.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "index/format.h"
#include "index/section_file.h"
#include "rerank/analyzer.h"
#include "rerank/error.h"
#include "rerank/index.h"

namespace rerank {

using namespace index_format;

struct Index::Impl {
  std::string directory;
  std::string path;
  std::string analyzer;
  FieldLayout layout = FieldLayout::kFlat;
  std::uint32_t num_docs = 0;
  std::uint64_t num_terms = 0;
  std::vector<FieldStats> fields;
  std::vector<std::uint32_t> field_term_begin;

  const std::uint64_t* doc_id_offsets = nullptr;
  const char* doc_id_bytes = nullptr;
  std::uint64_t doc_id_bytes_length = 0;
  const std::uint32_t* doc_id_order = nullptr;
  const std::uint32_t* doc_id_rank = nullptr;
  const std::uint8_t* norms = nullptr;
  const TermEntry* terms = nullptr;
  const char* term_bytes = nullptr;
  std::uint64_t term_bytes_length = 0;
  const std::uint8_t* postings = nullptr;
  std::uint64_t postings_length = 0;
  const std::uint64_t* docvec_offsets = nullptr;
  const std::uint8_t* docvec = nullptr;
  std::uint64_t docvec_length = 0;

  std::unique_ptr<MappedContainer> file;

  [[noreturn]] void corrupt(const std::string& what) const { file->corrupt(what); }

  std::string_view term(const TermEntry& e) const { return {term_bytes + e.term_offset, e.term_length}; }

  // Checks the whole file, then points the members above into it.
  void load();

 private:
  using Section = MappedContainer::Section;
  void read_meta(const Section& meta);
  void map_sections(const std::vector<Section>& section);
  // Every offset in bounds and monotone, so readers can trust them without checks.
  void check_structure() const;
};

void Index::Impl::read_meta(const Section& section) {
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(section.first), section.second));
    analyzer = meta.at("analyzer").get<std::string>();
    layout = meta.at("layout").get<std::string>() == "flat" ? FieldLayout::kFlat : FieldLayout::kMultifield;
    num_docs = meta.at("num_docs").get<std::uint32_t>();
    num_terms = meta.at("num_terms").get<std::uint64_t>();
    field_term_begin = meta.at("field_term_begin").get<std::vector<std::uint32_t>>();
    for (const auto& f : meta.at("fields"))
      fields.push_back({f.at("name").get<std::string>(), f.at("doc_count").get<std::uint64_t>(),
                        f.at("sum_total_term_freq").get<std::uint64_t>()});
  } catch (const nlohmann::json::exception& e) {
    corrupt(std::string("bad metadata: ") + e.what());
  }
  if (analyzer != kEnglishAnalyzerName)
    throw Error(path + ": index was built with analyzer '" + analyzer + "', this build has '" +
                kEnglishAnalyzerName + "'; rebuild the index");
  if (fields.empty() || field_term_begin.size() != fields.size() + 1 || field_term_begin.back() != num_terms)
    corrupt("bad field table");
}

void Index::Impl::map_sections(const std::vector<Section>& section) {
  const std::uint64_t n = num_docs;
  auto expect = [&](std::uint32_t kind, std::uint64_t bytes, const char* what) {
    if (section[kind].second != bytes) corrupt(std::string(what) + " has the wrong size");
    return section[kind].first;
  };
  doc_id_offsets =
      reinterpret_cast<const std::uint64_t*>(expect(kDocIdOffsets, (n + 1) * 8, "document id offsets"));
  doc_id_bytes = reinterpret_cast<const char*>(section[kDocIdBytes].first);
  doc_id_bytes_length = section[kDocIdBytes].second;
  doc_id_order = reinterpret_cast<const std::uint32_t*>(expect(kDocIdOrder, n * 4, "document id order"));
  doc_id_rank = reinterpret_cast<const std::uint32_t*>(expect(kDocIdRank, n * 4, "document id ranks"));
  norms = expect(kNorms, n * fields.size(), "norms");
  terms =
      reinterpret_cast<const TermEntry*>(expect(kTermEntries, num_terms * sizeof(TermEntry), "term table"));
  term_bytes = reinterpret_cast<const char*>(section[kTermBytes].first);
  term_bytes_length = section[kTermBytes].second;
  postings = section[kPostings].first;
  postings_length = section[kPostings].second;
  docvec_offsets =
      reinterpret_cast<const std::uint64_t*>(expect(kDocVecOffsets, (n + 1) * 8, "vector offsets"));
  docvec = section[kDocVec].first;
  docvec_length = section[kDocVec].second;
}

void Index::Impl::check_structure() const {
  const std::uint64_t n = num_docs;
  if (doc_id_offsets[0] != 0 || doc_id_offsets[n] != doc_id_bytes_length) corrupt("document id offsets");
  if (docvec_offsets[0] != 0 || docvec_offsets[n] != docvec_length) corrupt("vector offsets");
  for (std::uint64_t d = 0; d < n; ++d) {
    if (doc_id_offsets[d] > doc_id_offsets[d + 1] || docvec_offsets[d] > docvec_offsets[d + 1])
      corrupt("offsets not increasing");
    if (doc_id_order[d] >= n || doc_id_rank[doc_id_order[d]] != d) corrupt("document id order");
  }
  for (std::uint64_t t = 0; t < num_terms; ++t) {
    const TermEntry& e = terms[t];
    if (e.term_offset > term_bytes_length || e.term_length > term_bytes_length - e.term_offset ||
        e.postings_offset > postings_length || e.postings_length > postings_length - e.postings_offset ||
        e.field >= fields.size() || t < field_term_begin[e.field] || t >= field_term_begin[e.field + 1])
      corrupt("term table entry " + std::to_string(t));
  }
}

void Index::Impl::load() {
  const std::vector<Section>& section = file->sections();
  read_meta(section[kMeta]);
  map_sections(section);
  check_structure();
}

std::shared_ptr<const Index> Index::open(const std::string& directory) {
  auto impl = std::make_unique<Impl>();
  impl->directory = directory;
  impl->path = directory + "/" + kFileName;
  impl->file = std::make_unique<MappedContainer>(
      impl->path, kIndexContainer, directory + ": not an index directory (no " + kFileName + ")");
  impl->load();
  return std::shared_ptr<const Index>(new Index(std::move(impl)));
}

Index::Index(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Index::~Index() = default;

const std::string& Index::directory() const { return impl_->directory; }
std::string Index::analyzer() const { return impl_->analyzer; }
FieldLayout Index::layout() const { return impl_->layout; }
std::uint32_t Index::num_docs() const { return impl_->num_docs; }
std::uint64_t Index::num_terms() const { return impl_->num_terms; }
const std::vector<FieldStats>& Index::fields() const { return impl_->fields; }

int Index::field_index(std::string_view name) const {
  for (std::size_t i = 0; i < impl_->fields.size(); ++i)
    if (impl_->fields[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string_view Index::doc_id(std::uint32_t doc) const {
  const auto* off = impl_->doc_id_offsets;
  return {impl_->doc_id_bytes + off[doc], static_cast<std::size_t>(off[doc + 1] - off[doc])};
}

std::uint32_t Index::doc_id_rank(std::uint32_t doc) const { return impl_->doc_id_rank[doc]; }

std::int64_t Index::find_doc(std::string_view id) const {
  const std::uint32_t* begin = impl_->doc_id_order;
  const std::uint32_t* end = begin + impl_->num_docs;
  const auto* it =
      std::lower_bound(begin, end, id, [&](std::uint32_t d, std::string_view v) { return doc_id(d) < v; });
  return it != end && doc_id(*it) == id ? static_cast<std::int64_t>(*it) : -1;
}

std::uint8_t Index::norm(std::uint32_t field, std::uint32_t doc) const {
  return impl_->norms[static_cast<std::size_t>(field) * impl_->num_docs + doc];
}

const std::uint8_t* Index::norms(std::uint32_t field) const {
  return impl_->norms + static_cast<std::size_t>(field) * impl_->num_docs;
}

PostingList Index::postings(std::uint32_t field, std::string_view term) const {
  const Impl& s = *impl_;
  if (field >= s.fields.size()) return {};
  const TermEntry* begin = s.terms + s.field_term_begin[field];
  const TermEntry* end = s.terms + s.field_term_begin[field + 1];
  const TermEntry* it = std::lower_bound(
      begin, end, term, [&](const TermEntry& e, std::string_view t) { return s.term(e) < t; });
  if (it == end || s.term(*it) != term) return {};
  return {s.postings + it->postings_offset, s.postings + it->postings_offset + it->postings_length,
          it->doc_freq, it->total_term_freq};
}

std::vector<DocTerm> Index::doc_vector(std::uint32_t doc) const {
  const Impl& s = *impl_;
  std::vector<DocTerm> out;
  if (doc >= s.num_docs) return out;
  const std::uint8_t* p = s.docvec + s.docvec_offsets[doc];
  const std::uint8_t* end = s.docvec + s.docvec_offsets[doc + 1];
  std::uint64_t entry = 0;
  bool first = true;
  while (p < end) {
    std::uint64_t gap = 0, freq = 0;
    p = get_varint(p, end, gap);
    if (p) p = get_varint(p, end, freq);
    if (!p) s.corrupt("document vector of document " + std::to_string(doc));
    entry = first ? gap : entry + gap;
    first = false;
    if (entry >= s.num_terms) s.corrupt("document vector of document " + std::to_string(doc));
    const TermEntry& e = s.terms[entry];
    out.push_back({e.field, s.term(e), static_cast<std::uint32_t>(freq), e.doc_freq});
  }
  return out;
}

bool PostingCursor::next(std::uint32_t& doc, std::uint32_t& freq) {
  if (p_ >= end_) return false;
  std::uint64_t gap = 0, f = 0;
  p_ = index_format::get_varint(p_, end_, gap);
  if (p_) p_ = index_format::get_varint(p_, end_, f);
  if (!p_) throw Error("corrupt index: truncated posting");
  const std::uint64_t d = first_ ? gap : static_cast<std::uint64_t>(doc_) + gap;
  first_ = false;
  if (d >= num_docs_ || f == 0 || f > 0xFFFFFFFFu) throw Error("corrupt index: posting out of range");
  doc_ = static_cast<std::uint32_t>(d);
  doc = doc_;
  freq = static_cast<std::uint32_t>(f);
  return true;
}

}  // namespace rerank
