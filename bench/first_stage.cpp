// bench_first_stage: indexes SciFact and NPL with rerank.cpp and with Xapian in one run, then runs
// every query for the top 1000 with one thread and with all threads, printing docs/s, queries/s
// and the rerank/Xapian ratios. Usage: bench_first_stage [DATASETS_DIR] [SECONDS_PER_MEASUREMENT]
//
// Xapian gets BM25Weight(k1=0.9, k2=0, k3=1, b=0.4, min_normlen=0) and its own English analysis
// (TermGenerator, Porter2 stemmer, Lucene's stop words); its top 1000 is the MSet without fetching
// documents, while rerank.cpp's includes the external ids, so the comparison favours Xapian.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rerank/analyzer.h"
#include "rerank/index.h"
#include "rerank/io.h"
#include "rerank/search.h"

#ifdef RERANK_HAVE_XAPIAN
#include <xapian.h>
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Collection {
  std::string name, corpus, queries;
};

struct Figures {
  double index_docs_per_s = 0, qps_1 = 0, qps_all = 0;
};

// Runs `run_all_queries(threads)` repeatedly for at least `min_seconds`; returns queries/s.
template <typename F>
double measure_qps(std::size_t queries, double min_seconds, unsigned threads, F run_all_queries) {
  std::size_t done = 0;
  const auto start = Clock::now();
  do {
    run_all_queries(threads);
    done += queries;
  } while (seconds_since(start) < min_seconds);
  return static_cast<double>(done) / seconds_since(start);
}

template <typename PerThread>
void parallel(unsigned threads, std::size_t n, PerThread make_worker) {
  std::atomic<std::size_t> next{0};
  auto body = [&] {
    auto worker = make_worker();
    for (std::size_t i = next++; i < n; i = next++) worker(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(body);
  body();
  for (auto& t : pool) t.join();
}

Figures bench_rerank(const std::vector<rerank::Document>& docs, const std::vector<rerank::Query>& queries,
                     const std::string& dir, double min_seconds, unsigned all_threads) {
  Figures f;
  fs::remove_all(dir);
  const auto start = Clock::now();
  rerank::IndexOptions options;
  options.layout = rerank::FieldLayout::kFlat;
  rerank::IndexWriter writer(dir, options);
  for (const auto& d : docs) writer.add(d);
  writer.finish();
  f.index_docs_per_s = static_cast<double>(docs.size()) / seconds_since(start);
  const auto index = rerank::Index::open(dir);
  auto run = [&](unsigned threads) {
    parallel(threads, queries.size(), [&] {
      auto retriever = std::make_shared<rerank::Bm25Retriever>(index, rerank::SearchOptions{});
      return [retriever, &queries](std::size_t i) { retriever->retrieve(queries[i], 1000); };
    });
  };
  f.qps_1 = measure_qps(queries.size(), min_seconds, 1, run);
  f.qps_all = measure_qps(queries.size(), min_seconds, all_threads, run);
  return f;
}

#ifdef RERANK_HAVE_XAPIAN
Figures bench_xapian(const std::vector<rerank::Document>& docs, const std::vector<rerank::Query>& queries,
                     const std::string& dir, double min_seconds, unsigned all_threads) {
  Figures f;
  fs::remove_all(dir);
  Xapian::SimpleStopper stopper;
  for (const auto& w : rerank::english_stop_words()) stopper.add(w);
  const Xapian::Stem stemmer("english");
  const auto start = Clock::now();
  {
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator generator;
    generator.set_stemmer(stemmer);
    generator.set_stopper(&stopper);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
    for (const auto& d : docs) {
      Xapian::Document doc;
      generator.set_document(doc);
      generator.index_text(d.title.empty() ? d.text : d.title + " " + d.text);
      doc.set_data(d.doc_id);
      db.add_document(doc);
    }
    db.commit();
  }
  f.index_docs_per_s = static_cast<double>(docs.size()) / seconds_since(start);
  auto run = [&](unsigned threads) {
    parallel(threads, queries.size(), [&] {
      // Xapian::Stem and the stopper are not safe to share between threads: one of each per worker.
      struct Worker {
        Xapian::Database db;
        Xapian::Enquire enquire;
        Xapian::QueryParser parser;
        Xapian::SimpleStopper stopper;
        explicit Worker(const std::string& path) : db(path), enquire(db) {
          enquire.set_weighting_scheme(Xapian::BM25Weight(0.9, 0, 1, 0.4, 0));
          for (const auto& word : rerank::english_stop_words()) stopper.add(word);
          parser.set_database(db);
          parser.set_default_op(Xapian::Query::OP_OR);
          parser.set_stemmer(Xapian::Stem("english"));
          parser.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
          parser.set_stopper(&stopper);
        }
      };
      auto w = std::make_shared<Worker>(dir);
      return [w, &queries](std::size_t i) {
        w->enquire.set_query(w->parser.parse_query(queries[i].text, 0));
        const Xapian::MSet mset = w->enquire.get_mset(0, 1000);
        (void)mset.size();
      };
    });
  };
  f.qps_1 = measure_qps(queries.size(), min_seconds, 1, run);
  f.qps_all = measure_qps(queries.size(), min_seconds, all_threads, run);
  return f;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string datasets = argc > 1 ? argv[1] : RERANK_SHARED_DATASETS;
  const double min_seconds = argc > 2 ? std::stod(argv[2]) : 2.0;
  const unsigned all_threads = std::max(1u, std::thread::hardware_concurrency());
  const std::vector<Collection> collections = {
      {"scifact", datasets + "/scifact/corpus.jsonl", datasets + "/scifact/queries.jsonl"},
      {"npl", datasets + "/npl/docs.trec", datasets + "/npl/topics.trec"},
  };
  const fs::path scratch = fs::temp_directory_path() / ("bench_first_stage_" + std::to_string(::getpid()));
  std::printf("%-8s %-8s %7s %7s %12s %12s %14s\n", "corpus", "engine", "docs", "queries", "index docs/s",
              "q/s 1 thread", "q/s all threads");
  std::printf("(all threads = %u)\n", all_threads);
  for (const auto& c : collections) {
    if (!fs::exists(c.corpus)) {
      std::printf("%-8s skipped: %s not found\n", c.name.c_str(), c.corpus.c_str());
      continue;
    }
    std::vector<rerank::Document> docs;
    rerank::CorpusReader reader(c.corpus);
    for (rerank::Document d; reader.next(d);) docs.push_back(d);
    const auto queries = rerank::read_queries(c.queries);
    const Figures ours =
        bench_rerank(docs, queries, (scratch / (c.name + "_rerank")).string(), min_seconds, all_threads);
    std::printf("%-8s %-8s %7zu %7zu %12.0f %12.0f %14.0f\n", c.name.c_str(), "rerank", docs.size(),
                queries.size(), ours.index_docs_per_s, ours.qps_1, ours.qps_all);
#ifdef RERANK_HAVE_XAPIAN
    const Figures xap =
        bench_xapian(docs, queries, (scratch / (c.name + "_xapian")).string(), min_seconds, all_threads);
    std::printf("%-8s %-8s %7zu %7zu %12.0f %12.0f %14.0f\n", c.name.c_str(), "xapian", docs.size(),
                queries.size(), xap.index_docs_per_s, xap.qps_1, xap.qps_all);
    std::printf("%-8s %-8s %7s %7s %11.2fx %11.2fx %13.2fx\n", c.name.c_str(), "ratio", "", "",
                ours.index_docs_per_s / xap.index_docs_per_s, ours.qps_1 / xap.qps_1,
                ours.qps_all / xap.qps_all);
#else
    std::printf("%-8s xapian: not built (libxapian-dev missing)\n", c.name.c_str());
#endif
  }
  fs::remove_all(scratch);
  return 0;
}
