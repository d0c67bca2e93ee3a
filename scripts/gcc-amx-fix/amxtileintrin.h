/* rerank.cpp: replacement for GCC 12's <amxtileintrin.h>, whose inline asm declares that
   ldtilecfg reads only 8 bytes and that tileloadd reads no memory at all, so the optimiser drops
   the stores that build a tile configuration or a tile (the CPU then faults on ldtilecfg).
   Same intrinsics, with the whole 64-byte configuration and "memory" declared. */
#if !defined _IMMINTRIN_H_INCLUDED
#error "Never use <amxtileintrin.h> directly; include <immintrin.h> instead."
#endif
#ifndef _AMXTILEINTRIN_H_INCLUDED
#define _AMXTILEINTRIN_H_INCLUDED
#if defined(__x86_64__)
typedef struct { unsigned char __bytes[64]; } __rerank_tilecfg;
static __inline__ __attribute__((__always_inline__)) void _tile_loadconfig(const void *__config) {
  __asm__ volatile("ldtilecfg\t%0" ::"m"(*(const __rerank_tilecfg *)__config) : "memory");
}
static __inline__ __attribute__((__always_inline__)) void _tile_storeconfig(void *__config) {
  __asm__ volatile("sttilecfg\t%0" : "=m"(*(__rerank_tilecfg *)__config)::"memory");
}
static __inline__ __attribute__((__always_inline__)) void _tile_release(void) {
  __asm__ volatile("tilerelease" ::: "memory");
}
/* Two macro levels so that arguments such as TMM4 expand before they are pasted. */
#define _tile_loadd(dst, base, stride) __rerank_tile_loadd(dst, base, stride)
#define __rerank_tile_loadd(dst, base, stride) \
  __asm__ volatile("tileloadd\t(%0,%1,1), %%tmm" #dst ::"r"((const void *)(base)), "r"((long)(stride)) : "memory")
#define _tile_stream_loadd(dst, base, stride) __rerank_tile_stream_loadd(dst, base, stride)
#define __rerank_tile_stream_loadd(dst, base, stride) \
  __asm__ volatile("tileloaddt1\t(%0,%1,1), %%tmm" #dst ::"r"((const void *)(base)), "r"((long)(stride)) : "memory")
#define _tile_stored(src, base, stride) __rerank_tile_stored(src, base, stride)
#define __rerank_tile_stored(src, base, stride) \
  __asm__ volatile("tilestored\t%%tmm" #src ", (%0,%1,1)" ::"r"((void *)(base)), "r"((long)(stride)) : "memory")
#define _tile_zero(dst) __rerank_tile_zero(dst)
#define __rerank_tile_zero(dst) __asm__ volatile("tilezero\t%%tmm" #dst ::: "memory")
#endif
#endif
