// Measures this machine's single-precision matrix-multiply rate, as the reference "peak" for the
// neural benchmarks' FLOP-rate fractions: ggml's own CPU matmul (the kernels llama.cpp runs) and,
// when built with it, OpenBLAS's sgemm (usually faster: its AVX-512 kernels); the peak is the faster.
//
//   bench_sgemm_peak [--threads N] [--size K] [--repeat R]
// Prints one line: "sgemm_peak_gflops=<best> ggml_gflops=<..> openblas_gflops=<.. or 0> threads=N .."
#include <ggml-cpu.h>
#include <ggml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifdef RERANK_HAVE_OPENBLAS
#include <cblas.h>
#endif

int main(int argc, char** argv) {
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  std::int64_t k = 4096, m = 4096, n = 1024;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--size")
      k = m = std::atoll(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: bench_sgemm_peak [--threads N] [--size K] [--repeat R]\n");
      return 2;
    }
  }
  if (threads < 1 || k < 64 || repeat < 1) {
    std::fprintf(stderr, "bench_sgemm_peak: bad arguments\n");
    return 2;
  }
  const std::size_t bytes = std::size_t(k * m + k * n + m * n) * sizeof(float) + 16 * ggml_tensor_overhead() +
                            ggml_graph_overhead() + (1 << 20);
  ggml_init_params params{bytes, nullptr, false};
  ggml_context* ctx = ggml_init(params);
  if (!ctx) {
    std::fprintf(stderr, "bench_sgemm_peak: out of memory\n");
    return 1;
  }
  ggml_tensor* a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, m);  // weights: m rows of length k
  ggml_tensor* b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n);  // activations: n columns
  // Fill with small deterministic values (denormal-free) so the timing is representative.
  for (std::int64_t i = 0; i < k * m; ++i)
    static_cast<float*>(a->data)[i] = float((i * 7919) % 1000) * 1e-3f - 0.5f;
  for (std::int64_t i = 0; i < k * n; ++i)
    static_cast<float*>(b->data)[i] = float((i * 104729) % 1000) * 1e-3f - 0.5f;
  ggml_tensor* c = ggml_mul_mat(ctx, a, b);
  ggml_cgraph* graph = ggml_new_graph(ctx);
  ggml_build_forward_expand(graph, c);

  const double flops = 2.0 * double(m) * double(n) * double(k);
  double best = 0.0;
  ggml_graph_compute_with_ctx(ctx, graph, threads);  // warm-up
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    ggml_graph_compute_with_ctx(ctx, graph, threads);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops / s / 1e9);
  }
  double openblas = 0.0;
#ifdef RERANK_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
  std::vector<float> out(static_cast<std::size_t>(m * n));
  for (int r = 0; r <= repeat; ++r) {  // the first round warms up
    const auto t0 = std::chrono::steady_clock::now();
    // C (n x m) = B (n x k) * A^T: the same product as ggml_mul_mat(a, b).
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(m), int(k), 1.0f,
                static_cast<const float*>(b->data), int(k), static_cast<const float*>(a->data), int(k), 0.0f,
                out.data(), int(m));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) openblas = std::max(openblas, flops / s / 1e9);
  }
  // Same numbers as ggml's (a loose check that both computed the product).
  const float* ggml_out = static_cast<const float*>(c->data);
  if (std::abs(ggml_out[0] - out[0]) > 1e-2f * (1.0f + std::abs(out[0]))) {
    std::fprintf(stderr, "bench_sgemm_peak: ggml and OpenBLAS disagree (%g vs %g)\n", ggml_out[0], out[0]);
    return 1;
  }
#endif
  std::printf(
      "sgemm_peak_gflops=%.1f ggml_gflops=%.1f openblas_gflops=%.1f threads=%d m=%lld n=%lld k=%lld\n",
      std::max(best, openblas), best, openblas, threads, (long long)m, (long long)n, (long long)k);
  ggml_free(ctx);
  return 0;
}
