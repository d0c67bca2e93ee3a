// Index structure, spill-and-merge, and robustness against truncated or corrupt files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "index_test_util.h"
#include "rerank/error.h"
#include "rerank/search.h"

namespace rerank {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string open_error(const std::string& dir) {
  try {
    Index::open(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(opened)";
}

std::vector<Document> numbered_corpus(int n) {
  std::vector<Document> docs;
  for (int i = 0; i < n; ++i) {
    std::string text = "common word" + std::to_string(i % 7) + " shared" + std::to_string(i % 13);
    for (int r = 0; r < i % 5; ++r) text += " repeated";
    docs.push_back({"doc" + std::to_string(i), i % 3 ? "Title " + std::to_string(i % 4) : "", text});
  }
  return docs;
}

TEST(Index, PostingsStatisticsAndDocumentVectors) {
  const auto index = Index::open(test::build(test::fruit_corpus(), "index_basic", FieldLayout::kFlat));
  EXPECT_EQ(index->num_docs(), 3u);
  EXPECT_EQ(index->layout(), FieldLayout::kFlat);
  ASSERT_EQ(index->fields().size(), 1u);
  EXPECT_EQ(index->fields()[0].name, "contents");
  EXPECT_EQ(index->fields()[0].doc_count, 3u);
  EXPECT_EQ(index->fields()[0].sum_total_term_freq, 8u);
  EXPECT_EQ(index->norm(0, 0), 4);
  EXPECT_EQ(index->doc_id(2), "d3");
  EXPECT_EQ(index->find_doc("d2"), 1);
  EXPECT_EQ(index->find_doc("nope"), -1);

  const PostingList apple = index->postings(0, "appl");
  EXPECT_EQ(apple.doc_freq, 2u);
  EXPECT_EQ(apple.total_term_freq, 3u);
  PostingCursor cursor(apple, index->num_docs());
  std::uint32_t doc = 0, freq = 0;
  ASSERT_TRUE(cursor.next(doc, freq));
  EXPECT_EQ(doc, 0u);
  EXPECT_EQ(freq, 2u);
  ASSERT_TRUE(cursor.next(doc, freq));
  EXPECT_EQ(doc, 2u);
  EXPECT_EQ(freq, 1u);
  EXPECT_FALSE(cursor.next(doc, freq));
  EXPECT_EQ(index->postings(0, "missing").doc_freq, 0u);

  const auto vec = index->doc_vector(0);
  ASSERT_EQ(vec.size(), 3u);
  EXPECT_EQ(vec[0].term, "alpha");
  EXPECT_EQ(vec[1].term, "appl");
  EXPECT_EQ(vec[1].freq, 2u);
  EXPECT_EQ(vec[1].doc_freq, 2u);
  EXPECT_EQ(vec[2].term, "banana");
}

TEST(Index, TinyMemoryBudgetSpillsAndGivesTheSameIndex) {
  const auto docs = numbered_corpus(300);
  IndexBuildStats in_memory, spilled;
  const std::string a =
      test::build(docs, "spill_none", FieldLayout::kMultifield, std::size_t{64} << 20, &in_memory);
  const std::string b = test::build(docs, "spill_many", FieldLayout::kMultifield, 2000, &spilled);
  EXPECT_EQ(in_memory.spills, 1u);
  EXPECT_GT(spilled.spills, 10u);
  EXPECT_EQ(in_memory.terms, spilled.terms);
  // Byte-identical output: merging runs loses and reorders nothing.
  EXPECT_EQ(read_file(a + "/index.rrx"), read_file(b + "/index.rrx"));
  Bm25Engine spilled_engine(Index::open(b)), memory_engine(Index::open(a));
  const auto query = bag_of_words("repeated word3 title");
  const auto from_spilled = spilled_engine.search(query, spilled_engine.default_fields(), 20);
  const auto from_memory = memory_engine.search(query, memory_engine.default_fields(), 20);
  ASSERT_EQ(from_spilled.size(), 20u);
  for (std::size_t i = 0; i < from_spilled.size(); ++i) {
    EXPECT_EQ(from_spilled[i].doc, from_memory[i].doc);
    EXPECT_EQ(from_spilled[i].score, from_memory[i].score);
  }
  // Documents from the first and the last run are both found.
  const auto vec_first = spilled_engine.index().doc_vector(0);
  const auto vec_last = spilled_engine.index().doc_vector(299);
  ASSERT_FALSE(vec_first.empty());
  ASSERT_FALSE(vec_last.empty());
  EXPECT_EQ(vec_last.back().term, "word5");  // 299 % 7 == 5, the last text term in term order
}

TEST(Index, RefusesToOverwriteUnlessAsked) {
  const std::string dir = test::build(test::fruit_corpus(), "index_exists", FieldLayout::kFlat);
  IndexOptions options;
  EXPECT_THROW(IndexWriter(dir, options), Error);
  options.overwrite = true;
  options.layout = FieldLayout::kMultifield;
  IndexWriter writer(dir, options);
  writer.add({"only", "t", "x"});
  writer.finish();
  EXPECT_EQ(Index::open(dir)->num_docs(), 1u);
}

TEST(Index, AbandonedBuildLeavesNothing) {
  const std::string dir = test::scratch_dir("index_abandoned");
  {
    IndexWriter writer(dir, {});
    writer.add({"a", "", "text"});
  }  // destroyed without finish(), as when indexing throws
  EXPECT_FALSE(fs::exists(dir));
  for (const auto& entry : fs::directory_iterator(fs::path(dir).parent_path()))
    EXPECT_THAT(entry.path().string(), testing::Not(testing::HasSubstr("index_abandoned")));
}

TEST(Index, MissingIndexIsAClearError) {
  EXPECT_THAT(open_error(test::scratch_dir("index_missing")), testing::HasSubstr("not an index directory"));
}

TEST(Index, TruncatedFileIsDetected) {
  const std::string dir = test::build(test::fruit_corpus(), "index_truncated", FieldLayout::kFlat);
  const std::string path = dir + "/index.rrx";
  const std::string bytes = read_file(path);
  for (std::size_t keep :
       {std::size_t{0}, std::size_t{10}, std::size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    write_file(path, bytes.substr(0, keep));
    const std::string error = open_error(dir);
    EXPECT_THAT(error, testing::HasSubstr("index.rrx")) << keep;
    EXPECT_THAT(error,
                testing::AnyOf(testing::HasSubstr("truncated"), testing::HasSubstr("not a rerank.cpp index")))
        << keep << ": " << error;
  }
}

// Mappings of `path` in this process (/proc/self/maps names the file of each).
std::size_t mappings_of(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  const std::string name = fs::canonical(path).string();
  std::size_t count = 0;
  for (std::string line; std::getline(maps, line);)
    if (line.size() >= name.size() && line.compare(line.size() - name.size(), name.size(), name) == 0)
      ++count;
  return count;
}

// Found by fuzz_index: a file refused after it was mapped (a bad checksum, a bad header) kept its
// mapping, so a process that retried a damaged index leaked one mapping per attempt.
TEST(Index, RefusedFileIsUnmapped) {
  const std::string dir = test::build(test::fruit_corpus(), "index_refused", FieldLayout::kFlat);
  const std::string path = dir + "/index.rrx";
  std::string bytes = read_file(path);
  bytes[bytes.size() - 1] ^= 0x5a;  // the last section's checksum no longer matches
  write_file(path, bytes);
  for (int attempt = 0; attempt < 20; ++attempt) EXPECT_THAT(open_error(dir), testing::HasSubstr("checksum"));
  EXPECT_EQ(mappings_of(path), 0u);
}

TEST(Index, FlippedByteAnywhereIsDetected) {
  const std::string dir = test::build(test::fruit_corpus(), "index_corrupt", FieldLayout::kFlat);
  const std::string path = dir + "/index.rrx";
  const std::string bytes = read_file(path);
  // Every byte position: header, section table, padding excepted (padding is not covered).
  int detected = 0, opened = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    write_file(path, bad);
    const std::string error = open_error(dir);
    if (error == "(opened)")
      ++opened;
    else
      ++detected;
  }
  EXPECT_GT(detected, static_cast<int>(bytes.size() / 7) - 10);  // only alignment padding may go unnoticed
  write_file(path, bytes);
  EXPECT_EQ(Index::open(dir)->num_docs(), 3u);
  (void)opened;
}

TEST(Index, CorruptSectionNamesTheProblem) {
  const std::string dir = test::build(test::fruit_corpus(), "index_badsection", FieldLayout::kFlat);
  const std::string path = dir + "/index.rrx";
  std::string bytes = read_file(path);
  bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 1);
  write_file(path, bytes);
  EXPECT_THAT(open_error(dir), testing::HasSubstr("corrupt index (checksum mismatch in section"));
  bytes = read_file(path);
  bytes[0] = 'X';
  write_file(path, bytes);
  EXPECT_THAT(open_error(dir), testing::HasSubstr("not a rerank.cpp index"));
}

TEST(Index, UnsupportedVersionIsReported) {
  const std::string dir = test::build(test::fruit_corpus(), "index_version", FieldLayout::kFlat);
  const std::string path = dir + "/index.rrx";
  std::string bytes = read_file(path);
  bytes[8] = 99;
  write_file(path, bytes);
  EXPECT_THAT(open_error(dir), testing::HasSubstr("format version 99 is not supported"));
}

}  // namespace
}  // namespace rerank
