/* Internal to gemm.c: the packing moves, which copy blocks of A and B into the order the
 * micro-kernels read them (the driver, gemm_driver.h, decides what to pack and where).
 *
 * dst[p * dst_stride + i] = src[...] for p < runs, i < width.
 * copy_runs: src[p * src_stride + i], runs of `width` contiguous elements (row-major B, column-
 * major A). transpose: src[i * src_stride + p], `width` rows read along p (transposed B, row-major
 * A): 4 x 4 (f32) or 2 x 2 (f64) blocks at a time through SSE2 registers on x86-64, and for f32 on
 * AVX2 CPUs 8 x 8 blocks (and 6 x 8 for AVX2's 6-row panels of A) through AVX registers.
 */
#ifndef CYGRAD_GEMM_PACK_H
#define CYGRAD_GEMM_PACK_H

#include <stdint.h>
#include <string.h>

#include "cygrad/simd.h"
#include "simd_variants.h"

#define COPY_RUNS_OF(width)                                                                        \
    for (int64_t p = 0; p < runs; ++p, src += src_stride, dst += dst_stride)                       \
        memcpy(dst, src, (width) * sizeof *dst);                                                   \
    return;
#define DEFINE_COPY_RUNS(T, suffix)                                                                \
    static void copy_runs_##suffix(int64_t runs, int64_t width, const T *src, int64_t src_stride,  \
                                   T *dst, int64_t dst_stride)                                     \
    {                                                                                              \
        switch (width) { /* the kernels' MR and NR: copies of a constant size, inlined */          \
        case 4: COPY_RUNS_OF(4)                                                                    \
        case 6: COPY_RUNS_OF(6)                                                                    \
        case 8: COPY_RUNS_OF(8)                                                                    \
        case 12: COPY_RUNS_OF(12)                                                                  \
        case 16: COPY_RUNS_OF(16)                                                                  \
        case 32: COPY_RUNS_OF(32)                                                                  \
        default: COPY_RUNS_OF(width)                                                               \
        }                                                                                          \
    }
DEFINE_COPY_RUNS(float, f32)
DEFINE_COPY_RUNS(double, f64)

#if defined(__x86_64__)
#include <emmintrin.h>
#define TRANSPOSE_BLOCK_f32 4
#define TRANSPOSE_BLOCK_f64 2
/* one 4 x 4 block: dst[p * ds + i] = src[i * ss + p] */
static inline void transpose_block_f32(const float *src, int64_t ss, float *dst, int64_t ds)
{
    __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ss);
    __m128 r2 = _mm_loadu_ps(src + 2 * ss), r3 = _mm_loadu_ps(src + 3 * ss);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + ds, r1);
    _mm_storeu_ps(dst + 2 * ds, r2);
    _mm_storeu_ps(dst + 3 * ds, r3);
}
static inline void transpose_block_f64(const double *src, int64_t ss, double *dst, int64_t ds)
{
    const __m128d r0 = _mm_loadu_pd(src), r1 = _mm_loadu_pd(src + ss);
    _mm_storeu_pd(dst, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(dst + ds, _mm_unpackhi_pd(r0, r1));
}
/* 2 rows x 4 (f32): the last two rows of a 6-row panel of A */
#define HAS_TRANSPOSE_2x4_f32 1
static inline void transpose_2x4_f32(const float *src, int64_t ss, float *dst, int64_t ds)
{
    const __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ss);
    const __m128 lo = _mm_unpacklo_ps(r0, r1), hi = _mm_unpackhi_ps(r0, r1);
    _mm_storel_pi((__m64 *)dst, lo);
    _mm_storeh_pi((__m64 *)(dst + ds), lo);
    _mm_storel_pi((__m64 *)(dst + 2 * ds), hi);
    _mm_storeh_pi((__m64 *)(dst + 3 * ds), hi);
}
#else
#define TRANSPOSE_BLOCK_f32 1
#define TRANSPOSE_BLOCK_f64 1
static inline void transpose_block_f32(const float *src, int64_t ss, float *dst, int64_t ds)
{
    (void)ss, (void)ds;
    *dst = *src;
}
static inline void transpose_block_f64(const double *src, int64_t ss, double *dst, int64_t ds)
{
    (void)ss, (void)ds;
    *dst = *src;
}
#endif

/* f32 widths of 4k + 2 (6-row panels of A): the last two rows in pairs too */
#ifdef HAS_TRANSPOSE_2x4_f32
#define TRANSPOSE_PAIR_f32                                                                         \
    if (width - i >= 2) {                                                                          \
        for (int64_t p = 0; p < runs_blocks; p += 4)                                               \
            transpose_2x4_f32(src + i * src_stride + p, src_stride, dst + p * dst_stride + i,      \
                              dst_stride);                                                         \
        for (int64_t p = runs_blocks; p < runs; ++p) {                                             \
            dst[p * dst_stride + i] = src[i * src_stride + p];                                     \
            dst[p * dst_stride + i + 1] = src[(i + 1) * src_stride + p];                           \
        }                                                                                          \
        i += 2;                                                                                    \
    }
#else
#define TRANSPOSE_PAIR_f32
#endif
#define TRANSPOSE_PAIR_f64

#define DEFINE_TRANSPOSE(T, suffix)                                                                \
    static void transpose_sse_##suffix(int64_t width, int64_t runs, const T *src,                  \
                                       int64_t src_stride, T *dst, int64_t dst_stride)             \
    {                                                                                              \
        enum { BLOCK = TRANSPOSE_BLOCK_##suffix };                                                 \
        const int64_t width_blocks = width / BLOCK * BLOCK, runs_blocks = runs / BLOCK * BLOCK;   \
        for (int64_t i = 0; i < width_blocks; i += BLOCK) {                                        \
            for (int64_t p = 0; p < runs_blocks; p += BLOCK)                                       \
                transpose_block_##suffix(src + i * src_stride + p, src_stride,                     \
                                         dst + p * dst_stride + i, dst_stride);                    \
            for (int64_t p = runs_blocks; p < runs; ++p)                                           \
                for (int64_t r = i; r < i + BLOCK; ++r)                                            \
                    dst[p * dst_stride + r] = src[r * src_stride + p];                             \
        }                                                                                          \
        int64_t i = width_blocks;                                                                  \
        TRANSPOSE_PAIR_##suffix                                                                    \
        for (; i < width; ++i)                                                                     \
            for (int64_t p = 0; p < runs; ++p)                                                     \
                dst[p * dst_stride + i] = src[i * src_stride + p];                                 \
    }
DEFINE_TRANSPOSE(float, f32)
DEFINE_TRANSPOSE(double, f64)

#if defined(__x86_64__)
#include <immintrin.h>
/* The transpose of 8 rows of 8: out[p] = (r[0][p], ..., r[7][p]) */
static CG_TARGET_AVX2 inline void transpose_8x8_avx2(const __m256 r[8], __m256 out[8])
{
    __m256 pairs[8], quads[8];
    for (int k = 0; k < 8; k += 2) { /* rows k and k + 1 interleaved by element */
        pairs[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        pairs[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) { /* then by pairs: columns of 4 rows in each 128-bit lane */
        quads[k] = _mm256_shuffle_ps(pairs[k], pairs[k + 2], 0x44);
        quads[k + 1] = _mm256_shuffle_ps(pairs[k], pairs[k + 2], 0xee);
        quads[k + 2] = _mm256_shuffle_ps(pairs[k + 1], pairs[k + 3], 0x44);
        quads[k + 3] = _mm256_shuffle_ps(pairs[k + 1], pairs[k + 3], 0xee);
    }
    for (int k = 0; k < 4; ++k) { /* rows 0-3 and 4-7 joined across the lanes */
        out[k] = _mm256_permute2f128_ps(quads[k], quads[k + 4], 0x20);
        out[k + 4] = _mm256_permute2f128_ps(quads[k], quads[k + 4], 0x31);
    }
}

/* Rows [0, width / 8 * 8) of a f32 transpose, 8 x 8 blocks at a time through AVX registers (half
 * the loads, stores and shuffles of 4 x 4 SSE blocks: transposing W for x W^T was ~11% of an
 * nn.Linear forward product). Returns the rows done. */
static CG_TARGET_AVX2 int64_t transpose_by_8_f32_avx2(int64_t width, int64_t runs, const float *src,
                                                     int64_t ss, float *dst, int64_t ds)
{
    const int64_t width_blocks = width / 8 * 8, runs_blocks = runs / 8 * 8;
    for (int64_t i = 0; i < width_blocks; i += 8) {
        const float *rows = src + i * ss;
        for (int64_t p = 0; p < runs_blocks; p += 8) {
            __m256 r[8], columns[8];
            for (int k = 0; k < 8; ++k)
                r[k] = _mm256_loadu_ps(rows + k * ss + p);
            transpose_8x8_avx2(r, columns);
            for (int k = 0; k < 8; ++k)
                _mm256_storeu_ps(dst + (p + k) * ds + i, columns[k]);
        }
        for (int64_t p = runs_blocks; p < runs; ++p)
            for (int64_t k = 0; k < 8; ++k)
                dst[p * ds + i + k] = rows[k * ss + p];
    }
    return width_blocks;
}

/* A 6-row panel of A (AVX2's MR) from a row-major A: dst[p * 6 + r] = src[r * ss + p], the
 * panel contiguous. 8 values of p at a time: the 6 rows padded to an 8 x 8 transpose, whose
 * columns are stored 6 apart (each store's last two lanes are overwritten by the next one).
 * Returns the values of p done. */
static CG_TARGET_AVX2 int64_t transpose_6_rows_f32_avx2(int64_t runs, const float *src, int64_t ss,
                                                       float *dst)
{
    const int64_t runs_blocks = runs / 8 * 8;
    for (int64_t p = 0; p < runs_blocks; p += 8) {
        __m256 r[8], columns[8];
        for (int k = 0; k < 6; ++k)
            r[k] = _mm256_loadu_ps(src + k * ss + p);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose_8x8_avx2(r, columns);
        float *out = dst + p * 6;
        for (int k = 0; k < 7; ++k)
            _mm256_storeu_ps(out + k * 6, columns[k]);
        /* the last column without its two padding lanes: they would fall past this block */
        _mm_storeu_ps(out + 42, _mm256_castps256_ps128(columns[7]));
        _mm_storel_pi((__m64 *)(out + 46), _mm256_extractf128_ps(columns[7], 1));
    }
    return runs_blocks;
}
#endif

static void transpose_f32(int64_t width, int64_t runs, const float *src, int64_t src_stride,
                          float *dst, int64_t dst_stride)
{
#if defined(__x86_64__)
    if (runs >= 8 && cg_simd_get() >= CG_SIMD_AVX2) {
        if (width == 6 && dst_stride == 6) {
            const int64_t done = transpose_6_rows_f32_avx2(runs, src, src_stride, dst);
            transpose_sse_f32(width, runs - done, src + done, src_stride, dst + done * 6, 6);
            return;
        }
        const int64_t done = transpose_by_8_f32_avx2(width, runs, src, src_stride, dst, dst_stride);
        src += done * src_stride;
        dst += done;
        width -= done;
    }
#endif
    transpose_sse_f32(width, runs, src, src_stride, dst, dst_stride);
}

static void transpose_f64(int64_t width, int64_t runs, const double *src, int64_t src_stride,
                          double *dst, int64_t dst_stride)
{
    transpose_sse_f64(width, runs, src, src_stride, dst, dst_stride);
}

#endif
