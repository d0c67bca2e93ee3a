// Measures this machine's single-precision matrix-multiply rate, as the reference "peak" for the
// neural benchmarks' FLOP-rate fractions: ggml's own CPU matmul (the kernels llama.cpp runs) and,
// when built with it, OpenBLAS's sgemm (usually faster: its AVX-512 kernels); sgemm_peak_gflops is
// the faster of the two (what bench/neural_bench.py compares with). It also times oneDNN's matmul
// (libdnnl, the library rerank.cpp's own encoder runtime runs on) on the same product, weights
// prepacked as that runtime packs them: in F32, and with BF16 inputs and F32 accumulation when the
// CPU computes BF16 natively (oneDNN's ISA at least avx512_core_bf16: AVX512-BF16 or AMX), else 0.
// f32_peak_gflops is the fastest F32 rate of the three (bench/encoder_peers.py's F32 peak).
//
//   bench_sgemm_peak [--threads N] [--size K] [--repeat R]
// Prints one line: "sgemm_peak_gflops=<best of ggml, OpenBLAS> ggml_gflops=<..> openblas_gflops=<.. or 0>
//   threads=N m=.. n=.. k=.. onednn_f32_gflops=<..> onednn_bf16_gflops=<.. or 0> onednn_isa=<..>
//   f32_peak_gflops=<best F32 of all three>"
#include <ggml-cpu.h>
#include <ggml.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#ifdef RERANK_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

struct OneDnnRate {
  double gflops = 0.0;
  float first = 0.0f;  // C[0][0], for the cross-check
};

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    default:
      return "other";
  }
}

// True when oneDNN computes BF16 natively here. The ISA values are bit masks, each a superset of the
// ones below it (avx512_core_amx includes avx512_core_bf16).
bool native_bf16(dnnl::cpu_isa isa) {
  const auto bits = static_cast<unsigned>(isa), bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (bits & bf16) == bf16;
}

// C (n x m) = B (n x k) * A^T with oneDNN's matmul, A (m x k, row-major) the weights, reordered once
// into the layout the primitive prefers (not timed); inputs in `in_type`, F32 output.
OneDnnRate onednn_matmul(const float* a, const float* b, std::int64_t m, std::int64_t n, std::int64_t k,
                         dnnl::memory::data_type in_type, int threads, int repeat) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  omp_set_num_threads(threads);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const dnnl::memory::desc src_md({n, k}, in_type, tag::ab), wei_md({k, m}, in_type, tag::any),
      dst_md({n, m}, dt::f32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), engine);
  // The plain F32 operands, as oneDNN memories over the caller's buffers (A^T is A read as "ba").
  dnnl::memory a_plain({{k, m}, dt::f32, tag::ba}, engine, const_cast<float*>(a));
  dnnl::memory b_plain({{n, k}, dt::f32, tag::ab}, engine, const_cast<float*>(b));
  dnnl::memory weights(pd.weights_desc(), engine), src(pd.src_desc(), engine), dst(pd.dst_desc(), engine);
  dnnl::reorder(a_plain, weights).execute(stream, a_plain, weights);
  dnnl::reorder(b_plain, src).execute(stream, b_plain, src);
  const dnnl::matmul matmul(pd);
  const std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  const double flops = 2.0 * double(m) * double(n) * double(k);
  OneDnnRate rate;
  for (int r = 0; r <= repeat; ++r) {  // the first round warms up
    const auto t0 = std::chrono::steady_clock::now();
    matmul.execute(stream, args);
    stream.wait();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) rate.gflops = std::max(rate.gflops, flops / s / 1e9);
  }
  rate.first = static_cast<const float*>(dst.get_data_handle())[0];
  return rate;
}

}  // namespace

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
  // oneDNN last: its OpenMP threads spin for a while after their last task, which would slow the
  // others' measurements.
  const float* a_data = static_cast<const float*>(a->data);
  const float* b_data = static_cast<const float*>(b->data);
  const float reference = static_cast<const float*>(c->data)[0];
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  const OneDnnRate f32 =
      onednn_matmul(a_data, b_data, m, n, k, dnnl::memory::data_type::f32, threads, repeat);
  if (std::abs(f32.first - reference) > 1e-2f * (1.0f + std::abs(reference))) {
    std::fprintf(stderr, "bench_sgemm_peak: ggml and oneDNN F32 disagree (%g vs %g)\n", reference, f32.first);
    return 1;
  }
  OneDnnRate bf16;
  if (native_bf16(isa)) {
    bf16 = onednn_matmul(a_data, b_data, m, n, k, dnnl::memory::data_type::bf16, threads, repeat);
    // BF16 keeps 8 bits of mantissa: a loose check of a 4096-term dot product.
    if (std::abs(bf16.first - reference) > 0.1f + 2e-2f * std::abs(reference)) {
      std::fprintf(stderr, "bench_sgemm_peak: ggml and oneDNN BF16 disagree (%g vs %g)\n", reference,
                   bf16.first);
      return 1;
    }
  }
  std::printf(
      "sgemm_peak_gflops=%.1f ggml_gflops=%.1f openblas_gflops=%.1f threads=%d m=%lld n=%lld k=%lld "
      "onednn_f32_gflops=%.1f onednn_bf16_gflops=%.1f onednn_isa=%s f32_peak_gflops=%.1f\n",
      std::max(best, openblas), best, openblas, threads, (long long)m, (long long)n, (long long)k, f32.gflops,
      bf16.gflops, isa_name(isa), std::max({best, openblas, f32.gflops}));
  ggml_free(ctx);
  return 0;
}
