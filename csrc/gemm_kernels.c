/* The GEMM micro-kernels: gemm_microkernel.h and the dot kernels compiled per SIMD level and
 * element type (through gemm_level_kernels.h), and the cache blocking that goes with each (see
 * gemm_internal.h for the contract).
 *
 * Tiles (rows x columns of C held in registers):
 *   AVX-512   12 x 32 f32, 12 x 16 f64: 24 zmm accumulators of 32 registers
 *   AVX2+FMA   6 x 16 f32,  6 x 8  f64: 12 ymm accumulators of 16 (the BLIS Haswell/Zen shape)
 *   baseline   4 x 8  f32,  4 x 4  f64: 8 accumulators in generic 16-byte vectors (SSE2 on
 *              x86-64, whatever the target has elsewhere), no FMA
 * Only the few macros below differ between levels; the kernel body is shared. AVX2 and AVX-512
 * also have an edge kernel of 4 rows for the last rows of a block: 64 rows are 10 x 6 + 4 (or
 * 5 x 12 + 4), and a full tile for those 4 would compute 2 (or 8) rows of padding.
 *
 * Blocking (Zen 3: 32 KiB L1d and 512 KiB L2 per core, 32 MiB L3 shared; Zen 4/5 and Intel
 * cores since Ice Lake: 48 KiB L1d and 1-2 MiB L2; Skylake-X: 32 KiB and 1 MiB):
 *   KC: a packed KC x NR micro-panel of B is reused by every MR-row panel of A, so it should stay
 *       in L1 next to the A panel streaming through: KC * NR * sizeof(T) = 16 KiB, half of a
 *       32 KiB L1 (KC = 256 for AVX2 f32 and f64, 128 for AVX-512), or 32 KiB for AVX-512 where
 *       the L1d has 48 KiB (KC = 256; with the 480 KiB block of A below, on Zen 5, one thread,
 *       2048^3 took 0.86x the time of KC = 128 with 240 KiB, 1024^3 0.95x, 512^3 0.97x; KC = 192
 *       was 2-5% slower than 256, 320 and 384 within +-3%; AVX2 gains nothing from a 32 KiB
 *       micro-panel there: 0.97-1.01x). A deep KC also means C is read and
 *       written only K / KC times. (The driver goes deeper where a micro-panel meets one block
 *       of A only: plan_product in gemm_driver.h.)
 *   MC: the packed MC x KC block of A is reused by every micro-panel of B: it should stay in L2,
 *       with room left for the B panels and C tiles passing through: at most 240 KiB of 512 KiB
 *       (MC = 240 for AVX2 f32, 120 for f64, 480 for AVX-512 f32), 480 KiB of the 1 MiB or more
 *       that accompanies a 48 KiB L1d (MC = 480 for AVX-512 f32 at KC = 256: 2048^3 took 0.98x
 *       the time of 240 KiB, 720 KiB no less). The driver cuts M into blocks of equal height
 *       no taller than MC (256 rows as 2 x 128).
 *   NC: chosen by the driver (gemm.c): the KC x NC panel of B lives in L3.
 */
#include "gemm_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simd_variants.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Bytes of a B micro-panel (KC x NR, in L1) and of A's block (MC x KC, in L2), by the L1d's size */
#define PANEL_BYTES_L1_32K (16 * 1024)
#define A_BLOCK_BYTES_L1_32K (240 * 1024)
#define PANEL_BYTES_L1_48K (32 * 1024)
#define A_BLOCK_BYTES_L1_48K (480 * 1024)
#define KC_FOR(T, NR, PANEL) ((PANEL) / ((NR) * (int64_t)sizeof(T)))
#define MC_FOR(T, MR, NR, PANEL, A_BLOCK)                                                          \
    (((A_BLOCK) / (KC_FOR(T, NR, PANEL) * (int64_t)sizeof(T))) / (MR) * (MR))
#define KERNEL_ENTRY(T, MR, NR, fn, edge_mr, edge_fn, dot, L1)                                    \
    {MR, NR, KC_FOR(T, NR, PANEL_BYTES_##L1), MC_FOR(T, MR, NR, PANEL_BYTES_##L1,               \
     A_BLOCK_BYTES_##L1), fn, edge_mr, edge_fn, dot, dot##_row, dot##_col}
_Static_assert(PANEL_BYTES_L1_32K <= CG_GEMM_PANEL_BYTES &&
                   PANEL_BYTES_L1_48K <= CG_GEMM_PANEL_BYTES,
               "the driver's stack buffers hold one micro-panel");
/* The edge kernels' rows: 4 rows x 2 vectors is 8 accumulators, still enough independent FMAs to
 * hide the latency (2 ports x 4 cycles). */
#define EDGE_ROWS 4
/* A level's two kernel entries, from its tile_, edge_ and dot_ functions for f32 and f64, blocked
 * for an L1d of L1 (L1_32K or L1_48K); the entries are named kernel_f32_<name>, kernel_f64_<name> */
#define LEVEL_KERNELS(name, level, MR, NR_F32, NR_F64, L1)                                         \
    static const cg_gemm_kernel_f32 kernel_f32_##name = KERNEL_ENTRY(                              \
        float, MR, NR_F32, tile_f32_##level, EDGE_ROWS, edge_f32_##level, dot_f32_##level, L1);    \
    static const cg_gemm_kernel_f64 kernel_f64_##name = KERNEL_ENTRY(                              \
        double, MR, NR_F64, tile_f64_##level, EDGE_ROWS, edge_f64_##level, dot_f64_##level, L1);

/* ---- baseline: generic 16-byte vectors (GCC vector extensions), multiply then add ---- */
typedef float v4f32 __attribute__((vector_size(16)));
typedef double v2f64 __attribute__((vector_size(16)));

#define MK_TARGET CG_TARGET_BASELINE
#define MK_MR 4
#define MK_NV 2
#define MK_ZERO() ((MK_VEC){0})
#define MK_SET1(x) ((MK_VEC){0} + (MK_T)(x))
#define MK_LOADU(p) ({ MK_VEC v_; memcpy(&v_, (p), sizeof v_); v_; })
#define MK_STOREU(p, v) ({ MK_VEC v_ = (v); memcpy((p), &v_, sizeof v_); })
#define MK_ADD(a, b) ((a) + (b))
#define MK_MUL(a, b) ((a) * (b))
#define MK_FMA(a, b, c) ((c) + (a) * (b))
/* v < 0 is all-ones in the lanes to clear; NaN compares false and is kept */
#define MK_MAX0(v) ({ MK_VEC v_ = (v); (MK_VEC)((MK_IVEC)v_ & ~(MK_IVEC)(v_ < (MK_VEC){0})); })
#define MK_LOAD_PART(p, n) ({ MK_VEC v_ = {0}; memcpy(&v_, (p), (size_t)(n) * sizeof(MK_T)); v_; })
#define MK_STORE_PART(p, v, n) ({ MK_VEC v_ = (v); memcpy((p), &v_, (size_t)(n) * sizeof(MK_T)); })
#define MK_HSUM(v)                                                                                 \
    ({ MK_VEC v_ = (v); MK_T s_ = 0; for (int i_ = 0; i_ < MK_W; ++i_) s_ += v_[i_]; s_; })

#define MK_T float
#define MK_VEC v4f32
#define MK_IVEC __attribute__((vector_size(16))) int32_t
#define MK_W 4
#define MK_SUFFIX f32_baseline
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_IVEC
#undef MK_W
#undef MK_SUFFIX

#define MK_T double
#define MK_VEC v2f64
#define MK_IVEC __attribute__((vector_size(16))) int64_t
#define MK_W 2
#define MK_SUFFIX f64_baseline
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_IVEC
#undef MK_W
#undef MK_SUFFIX

/* 4 rows already: the main kernel serves the edges too */
static const cg_gemm_kernel_f32 kernel_f32_baseline = KERNEL_ENTRY(
    float, 4, 8, tile_f32_baseline, 4, tile_f32_baseline, dot_f32_baseline, L1_32K);
static const cg_gemm_kernel_f64 kernel_f64_baseline = KERNEL_ENTRY(
    double, 4, 4, tile_f64_baseline, 4, tile_f64_baseline, dot_f64_baseline, L1_32K);

#undef MK_TARGET
#undef MK_MR
#undef MK_NV
#undef MK_ZERO
#undef MK_SET1
#undef MK_LOADU
#undef MK_STOREU
#undef MK_ADD
#undef MK_MUL
#undef MK_FMA
#undef MK_MAX0
#undef MK_LOAD_PART
#undef MK_STORE_PART
#undef MK_HSUM

#ifdef CG_X86_VARIANTS

/* ---- AVX2 + FMA: 256-bit vectors; masked loads and stores for the right edge ---- */
#define MK_TARGET CG_TARGET_AVX2
#define LEVEL_EDGE_ROWS EDGE_ROWS
#define MK_MR 6
#define MK_NV 2
#define AVX2_MASK32(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define AVX2_MASK64(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))

#define MK_T float
#define MK_VEC __m256
#define MK_W 8
#define MK_SUFFIX f32_avx2
#define MK_ZERO() _mm256_setzero_ps()
#define MK_SET1(x) _mm256_set1_ps(x)
#define MK_LOADU(p) _mm256_loadu_ps(p)
#define MK_STOREU(p, v) _mm256_storeu_ps(p, v)
#define MK_ADD(a, b) _mm256_add_ps(a, b)
#define MK_MUL(a, b) _mm256_mul_ps(a, b)
#define MK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define MK_MAX0(v) _mm256_max_ps(_mm256_setzero_ps(), v) /* NaN in either: the second operand */
#define MK_LOAD_PART(p, n) _mm256_maskload_ps(p, AVX2_MASK32(n))
#define MK_STORE_PART(p, v, n) _mm256_maskstore_ps(p, AVX2_MASK32(n), v)
#define MK_HSUM(v) /* halves, then pairs, then the last two */                                   \
    ({ const __m256 v_ = (v);                                                                      \
       __m128 s_ = _mm_add_ps(_mm256_castps256_ps128(v_), _mm256_extractf128_ps(v_, 1));           \
       s_ = _mm_add_ps(s_, _mm_movehl_ps(s_, s_));                                                 \
       _mm_cvtss_f32(_mm_add_ss(s_, _mm_movehdup_ps(s_))); })
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_W
#undef MK_SUFFIX
#undef MK_ZERO
#undef MK_SET1
#undef MK_LOADU
#undef MK_STOREU
#undef MK_ADD
#undef MK_MUL
#undef MK_FMA
#undef MK_MAX0
#undef MK_LOAD_PART
#undef MK_STORE_PART
#undef MK_HSUM

#define MK_T double
#define MK_VEC __m256d
#define MK_W 4
#define MK_SUFFIX f64_avx2
#define MK_ZERO() _mm256_setzero_pd()
#define MK_SET1(x) _mm256_set1_pd(x)
#define MK_LOADU(p) _mm256_loadu_pd(p)
#define MK_STOREU(p, v) _mm256_storeu_pd(p, v)
#define MK_ADD(a, b) _mm256_add_pd(a, b)
#define MK_MUL(a, b) _mm256_mul_pd(a, b)
#define MK_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define MK_MAX0(v) _mm256_max_pd(_mm256_setzero_pd(), v)
#define MK_LOAD_PART(p, n) _mm256_maskload_pd(p, AVX2_MASK64(n))
#define MK_STORE_PART(p, v, n) _mm256_maskstore_pd(p, AVX2_MASK64(n), v)
#define MK_HSUM(v)                                                                                 \
    ({ const __m256d v_ = (v);                                                                     \
       const __m128d s_ = _mm_add_pd(_mm256_castpd256_pd128(v_), _mm256_extractf128_pd(v_, 1));    \
       _mm_cvtsd_f64(_mm_add_sd(s_, _mm_unpackhi_pd(s_, s_))); })
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_W
#undef MK_SUFFIX
#undef MK_ZERO
#undef MK_SET1
#undef MK_LOADU
#undef MK_STOREU
#undef MK_ADD
#undef MK_MUL
#undef MK_FMA
#undef MK_MAX0
#undef MK_LOAD_PART
#undef MK_STORE_PART
#undef MK_HSUM

LEVEL_KERNELS(avx2, avx2, 6, 16, 8, L1_32K)

#undef MK_TARGET
#undef LEVEL_EDGE_ROWS
#undef MK_MR
#undef MK_NV

/* ---- AVX-512: 512-bit vectors, mask registers for the right edge ---- */
#define MK_TARGET CG_TARGET_AVX512
#define LEVEL_EDGE_ROWS EDGE_ROWS
#define MK_MR 12
#define MK_NV 2
/* The hardware prefetchers leave a packed panel of A (12 KiB per tile, from L2) late: prefetching
 * it 16 k ahead (768 bytes in f32) took 0.92x the time at 2048^3 and 0.94x at 1024^3 on Zen 5
 * (one thread; 8 k the same, 32 k 3% slower; no change at 256^3 or the MLP shapes). The same
 * for AVX2 there changed nothing (1.00x), so only this level has it. */
#define MK_A_PREFETCH 16

#define MK_T float
#define MK_VEC __m512
#define MK_W 16
#define MK_SUFFIX f32_avx512
#define MK_ZERO() _mm512_setzero_ps()
#define MK_SET1(x) _mm512_set1_ps(x)
#define MK_LOADU(p) _mm512_loadu_ps(p)
#define MK_STOREU(p, v) _mm512_storeu_ps(p, v)
#define MK_ADD(a, b) _mm512_add_ps(a, b)
#define MK_MUL(a, b) _mm512_mul_ps(a, b)
#define MK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define MK_MAX0(v) _mm512_max_ps(_mm512_setzero_ps(), v)
#define MK_LOAD_PART(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), p)
#define MK_STORE_PART(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1), v)
#define MK_HSUM(v) _mm512_reduce_add_ps(v)
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_W
#undef MK_SUFFIX
#undef MK_ZERO
#undef MK_SET1
#undef MK_LOADU
#undef MK_STOREU
#undef MK_ADD
#undef MK_MUL
#undef MK_FMA
#undef MK_MAX0
#undef MK_LOAD_PART
#undef MK_STORE_PART
#undef MK_HSUM

#define MK_T double
#define MK_VEC __m512d
#define MK_W 8
#define MK_SUFFIX f64_avx512
#define MK_ZERO() _mm512_setzero_pd()
#define MK_SET1(x) _mm512_set1_pd(x)
#define MK_LOADU(p) _mm512_loadu_pd(p)
#define MK_STOREU(p, v) _mm512_storeu_pd(p, v)
#define MK_ADD(a, b) _mm512_add_pd(a, b)
#define MK_MUL(a, b) _mm512_mul_pd(a, b)
#define MK_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define MK_MAX0(v) _mm512_max_pd(_mm512_setzero_pd(), v)
#define MK_LOAD_PART(p, n) _mm512_maskz_loadu_pd((__mmask8)((1u << (n)) - 1), p)
#define MK_STORE_PART(p, v, n) _mm512_mask_storeu_pd(p, (__mmask8)((1u << (n)) - 1), v)
#define MK_HSUM(v) _mm512_reduce_add_pd(v)
#include "gemm_level_kernels.h"
#undef MK_T
#undef MK_VEC
#undef MK_W
#undef MK_SUFFIX
#undef MK_ZERO
#undef MK_SET1
#undef MK_LOADU
#undef MK_STOREU
#undef MK_ADD
#undef MK_MUL
#undef MK_FMA
#undef MK_MAX0
#undef MK_LOAD_PART
#undef MK_STORE_PART
#undef MK_HSUM

LEVEL_KERNELS(avx512, avx512, 12, 32, 16, L1_32K)
LEVEL_KERNELS(avx512_l1_48k, avx512, 12, 32, 16, L1_48K)

#undef MK_TARGET
#undef LEVEL_EDGE_ROWS
#undef MK_MR
#undef MK_NV
#undef MK_A_PREFETCH

#endif /* CG_X86_VARIANTS */

#ifdef CG_X86_VARIANTS
/* The L1d's bytes: CYGRAD_L1D_BYTES where set (tests block for the other size; a VM may report
 * its host's caches wrongly), else sysconf, which reads CPUID in glibc (0 where unknown). */
static long l1d_bytes(void)
{
    const char *forced = getenv("CYGRAD_L1D_BYTES");
    if (forced && *forced)
        return strtol(forced, NULL, 10);
#ifdef _SC_LEVEL1_DCACHE_SIZE
    return sysconf(_SC_LEVEL1_DCACHE_SIZE);
#else
    return 0;
#endif
}

/* Whether the L1d has 48 KiB or more. Read once: products look their kernel up on every call.
 * Two threads racing here store the same. */
static int l1d_has_48k(void)
{
    static int answer = -1;
    int has = __atomic_load_n(&answer, __ATOMIC_RELAXED);
    if (has < 0) {
        has = l1d_bytes() >= 48 * 1024;
        __atomic_store_n(&answer, has, __ATOMIC_RELAXED);
    }
    return has;
}
#endif

const cg_gemm_kernel_f32 *cg_gemm_kernel_for_f32(int level)
{
    switch (level) {
#ifdef CG_X86_VARIANTS
    case CG_SIMD_AVX512: return l1d_has_48k() ? &kernel_f32_avx512_l1_48k : &kernel_f32_avx512;
    case CG_SIMD_AVX2: return &kernel_f32_avx2;
#endif
    default: return &kernel_f32_baseline;
    }
}

const cg_gemm_kernel_f64 *cg_gemm_kernel_for_f64(int level)
{
    switch (level) {
#ifdef CG_X86_VARIANTS
    case CG_SIMD_AVX512: return l1d_has_48k() ? &kernel_f64_avx512_l1_48k : &kernel_f64_avx512;
    case CG_SIMD_AVX2: return &kernel_f64_avx2;
#endif
    default: return &kernel_f64_baseline;
    }
}
