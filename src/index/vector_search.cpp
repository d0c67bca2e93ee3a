// Exact top-k by inner product: the collection is cut into fixed blocks of rows; each block is read
// as F32 (decoded from F16 or INT8 when stored so), multiplied with a group of queries by one
// single-threaded sgemm (oneDNN), and every query keeps its best rows. Blocks and query groups do
// not depend on the thread count, so neither do the scores.
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <vector>

#include "rerank/error.h"
#include "rerank/parallel.h"
#include "rerank/vectors.h"

namespace rerank {

namespace {

constexpr std::size_t kBlockRows = 2048;
// 1,024 queries per product: at 256, sgemm ran at ~42 GFLOP/s on one Zen 3 core against ~56 for
// FAISS's OpenBLAS calls of 1,000 x 1,024 (bench/dense_peers.sh).
constexpr std::size_t kQueryGroup = 1024;

struct Candidate {
  float score;
  std::uint32_t rank;  // the document id's rank: ties go to the smaller id
  std::uint64_t row;
};

bool better(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.rank != b.rank) return a.rank < b.rank;
  return a.row < b.row;
}

// The best `keep` candidates offered, under better(): a buffer trimmed to `keep` whenever it holds
// twice that, with the score of the worst kept one as the bar for new ones.
class TopRows {
 public:
  explicit TopRows(std::size_t keep) : keep_(keep) {}
  float bar() const { return bar_; }
  void offer(const Candidate& c) {
    if (c.score < bar_) return;
    buffer_.push_back(c);
    if (buffer_.size() >= 2 * keep_) trim();
  }
  void merge(const TopRows& other) {
    for (const auto& c : other.buffer_) offer(c);
  }
  std::vector<Candidate> sorted() {
    trim();
    std::sort(buffer_.begin(), buffer_.end(), better);
    return std::move(buffer_);
  }

 private:
  void trim() {
    if (buffer_.size() <= keep_) return;
    std::nth_element(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(keep_ - 1), buffer_.end(),
                     better);
    buffer_.resize(keep_);
    bar_ = buffer_[keep_ - 1].score;
    for (const auto& c : buffer_) bar_ = std::min(bar_, c.score);
  }
  std::size_t keep_;
  float bar_ = -std::numeric_limits<float>::infinity();
  std::vector<Candidate> buffer_;
};

// sgemm on the calling thread only: the blocks are the parallelism.
void scores(const float* queries, std::size_t nq, const float* rows, std::size_t n, std::size_t dims,
            float* out) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto d = static_cast<dnnl_dim_t>(dims);
  const dnnl_status_t status =
      dnnl_sgemm('N', 'T', static_cast<dnnl_dim_t>(nq), static_cast<dnnl_dim_t>(n), d, 1.0f, queries, d, rows,
                 d, 0.0f, out, static_cast<dnnl_dim_t>(n));
  omp_set_num_threads(saved);
  if (status != dnnl_success) throw Error("oneDNN sgemm failed (status " + std::to_string(status) + ")");
}

// The best documents from each query's best rows: a document counts once, with its best row.
std::vector<VectorHit> best_documents(const VectorSet& vectors, std::vector<Candidate> rows, std::size_t k) {
  std::vector<VectorHit> hits;
  std::vector<std::uint32_t> taken;
  for (const auto& c : rows) {
    const std::uint32_t doc = vectors.row_doc(c.row);
    if (vectors.max_rows_per_doc() > 1) {
      if (std::find(taken.begin(), taken.end(), doc) != taken.end()) continue;
      taken.push_back(doc);
    }
    hits.push_back({doc, c.score});
    if (hits.size() == k) break;
  }
  return hits;
}

}  // namespace

std::vector<std::vector<VectorHit>> search_exact(const VectorSet& vectors, const float* queries,
                                                 std::size_t nq, std::size_t k, unsigned threads) {
  const std::size_t dims = vectors.dims();
  const std::uint64_t total = vectors.num_rows();
  std::vector<std::vector<VectorHit>> out(nq);
  if (nq == 0 || k == 0 || total == 0) return out;
  // Enough rows that the best k documents keep all their rows' competitors (a document has at
  // most max_rows_per_doc rows).
  const std::size_t keep =
      static_cast<std::size_t>(std::min<std::uint64_t>(total, std::uint64_t{k} * vectors.max_rows_per_doc()));
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t blocks = (total + kBlockRows - 1) / kBlockRows;
  const std::size_t workers = std::min<std::size_t>(threads, blocks);
  std::vector<std::vector<TopRows>> best(workers, std::vector<TopRows>(nq, TopRows(keep)));
  struct Scratch {
    std::vector<float> rows, scores;
  };
  std::vector<Scratch> scratch(workers);
  const bool decoded = vectors.precision() != VectorPrecision::kF32;
  detail::parallel_for(blocks, workers, [&](std::size_t w, std::size_t b) {
    const std::uint64_t first = b * kBlockRows;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlockRows, total - first));
    Scratch& s = scratch[w];
    const float* rows = reinterpret_cast<const float*>(vectors.row(first));
    if (decoded) {
      s.rows.resize(n * dims);
      decode_vector_rows(vectors.precision(), vectors.row(first), n, dims, s.rows.data());
      rows = s.rows.data();
    }
    s.scores.resize(std::min(nq, kQueryGroup) * n);
    for (std::size_t q0 = 0; q0 < nq; q0 += kQueryGroup) {
      const std::size_t m = std::min(kQueryGroup, nq - q0);
      scores(queries + q0 * dims, m, rows, n, dims, s.scores.data());
      for (std::size_t q = 0; q < m; ++q) {
        TopRows& top = best[w][q0 + q];
        const float* row_scores = s.scores.data() + q * n;
        for (std::size_t i = 0; i < n; ++i) {
          if (row_scores[i] < top.bar()) continue;
          const std::uint64_t row = first + i;
          top.offer({row_scores[i], vectors.doc_id_rank(vectors.row_doc(row)), row});
        }
      }
    }
  });
  for (std::size_t q = 0; q < nq; ++q) {
    for (std::size_t w = 1; w < workers; ++w) best[0][q].merge(best[w][q]);
    out[q] = best_documents(vectors, best[0][q].sorted(), k);
  }
  return out;
}

}  // namespace rerank
