/* C = alpha * A B + beta * C for arbitrary row and column strides (see cygrad/gemm.h).
 *
 * The classic cache-blocked scheme (Goto / BLIS), kept simple:
 *   for each NC-wide column panel of B and each KC-deep slice of K:
 *       pack the KC x NC block of B into b_pack (stack, 256 KiB: stays in L2)
 *       for each MC-tall row panel of A:
 *           pack the MC x KC block of A into a_pack (stack, ~64 KiB)
 *           for each MR x NR tile of C: micro-kernel over KC, then C += alpha * tile
 * Packing copies the blocks into the exact order the micro-kernel reads them, whatever A's and
 * B's strides (transposes included), and pads ragged edges with zeros, so the micro-kernel always
 * computes a full MR x NR tile; only the valid part is added to C.
 *
 * The micro-kernel keeps the MR x NR tile of C in vector registers: gcc vectorizes its inner j
 * loop (NR = two vectors) and unrolls the r loop, giving MR * 2 register accumulators, one
 * broadcast of A and two vector loads of B per k. Its tile size depends on the SIMD level (the
 * size of the register file), so the packing loops take mr and nr at run time.
 *
 * Matrix-vector products (M == 1 or N == 1) skip packing: padding one column to NR would waste
 * most of the work. Threads come later; this is one core.
 */
#include "cygrad/gemm.h"

#include <tgmath.h>

#include "simd_variants.h"

/* Depth of a K slice. */
#define KC 256
/* b_pack and a_pack sizes whatever the type (NC and MC in elements follow). Both live on the stack
 * (~321 KiB in all, under the 512 KiB budget for kernels). A is repacked once per NC columns of C,
 * so a wider b_pack means less packing (128 -> 256 KiB: 10-20% faster at n = 1024 on a Xeon). */
#define B_PACK_BYTES (256 * 1024)
#define A_PACK_BYTES (64 * 1024)
/* Rows of y accumulated at once by the column-oriented matrix-vector product. */
#define GEMV_TILE 256

/* Register tile of each micro-kernel, MR rows x NR columns of C: NR is two vectors of the level,
 * and MR * 2 accumulators + 3 working registers fit its register file (16 xmm, 16 ymm, 32 zmm). */
#define MR_BASELINE 4
#define MR_AVX2 6
#define MR_AVX512 8
#define NR_BASELINE_f32 8
#define NR_BASELINE_f64 4
#define NR_AVX2_f32 16
#define NR_AVX2_f64 8
#define NR_AVX512_f32 32
#define NR_AVX512_f64 16
/* Largest MR * NR over the levels: the size of the tile buffer. */
#define TILE_MAX_f32 (MR_AVX512 * NR_AVX512_f32)
#define TILE_MAX_f64 (MR_AVX512 * NR_AVX512_f64)

/* c + a * b; the AVX levels have FMA (one rounding, and twice the throughput of mul + add), the
 * baseline does not (fma() there would be a slow library call). */
#define MULADD_BASELINE(a, b, c) ((c) + (a) * (b))
#define MULADD_AVX2(a, b, c) fma(a, b, c)
#define MULADD_AVX512(a, b, c) fma(a, b, c)

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* tile[r * NR + j] = sum_k a[k * MR + r] * b[k * NR + j]: a is an MR-row panel of a_pack and b an
 * NR-column panel of b_pack, both kc deep. */
#define DEFINE_MICRO_KERNEL(T, suffix, LEVEL, MR, NR)                                              \
    static CG_TARGET_##LEVEL void micro_kernel_##suffix##_##LEVEL(                                 \
        int64_t kc, const T *restrict a, const T *restrict b, T *restrict tile)                    \
    {                                                                                              \
        T acc[MR][NR] = {{0}};                                                                     \
        for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {                                       \
            CG_PRAGMA(GCC unroll MR)                                                               \
            for (int r = 0; r < MR; ++r) {                                                         \
                CG_SIMD_LOOP                                                                       \
                for (int j = 0; j < NR; ++j)                                                       \
                    acc[r][j] = MULADD_##LEVEL(a[r], b[j], acc[r][j]);                             \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < MR; ++r)                                                               \
            for (int j = 0; j < NR; ++j)                                                           \
                tile[r * NR + j] = acc[r][j];                                                      \
    }

/* Everything for one element type: micro-kernels, packing, matrix-vector product, cg_gemm_<T>. */
#define DEFINE_GEMM(T, suffix)                                                                     \
                                                                                                   \
    DEFINE_MICRO_KERNEL(T, suffix, BASELINE, MR_BASELINE, NR_BASELINE_##suffix)                    \
    DEFINE_MICRO_KERNELS_X86(T, suffix)                                                            \
                                                                                                   \
    typedef struct {                                                                               \
        int mr, nr;                                                                                \
        void (*run)(int64_t kc, const T *restrict a, const T *restrict b, T *restrict tile);       \
    } micro_kernel_##suffix;                                                                       \
                                                                                                   \
    static micro_kernel_##suffix pick_micro_kernel_##suffix(void)                                  \
    {                                                                                              \
        switch (cg_simd_get()) {                                                                   \
            PICK_MICRO_KERNEL_X86(suffix)                                                          \
        default:                                                                                   \
            return (micro_kernel_##suffix){MR_BASELINE, NR_BASELINE_##suffix,                      \
                                           micro_kernel_##suffix##_BASELINE};                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* C = beta * C, writing zeros without reading C when beta == 0 */                             \
    static void scale_##suffix(int64_t M, int64_t N, T beta, T *C, int64_t rsc, int64_t csc)       \
    {                                                                                              \
        if (beta == 1)                                                                             \
            return;                                                                                \
        for (int64_t i = 0; i < M; ++i)                                                            \
            for (int64_t j = 0; j < N; ++j)                                                        \
                C[i * rsc + j * csc] = beta == 0 ? 0 : beta * C[i * rsc + j * csc];                \
    }                                                                                              \
                                                                                                   \
    /* y += alpha * A x, A m x k with element (i, p) at A[i * rs + p * cs] */                      \
    static void gemv_##suffix(int64_t m, int64_t k, T alpha, const T *A, int64_t rs, int64_t cs,   \
                              const T *x, int64_t incx, T *y, int64_t incy)                        \
    {                                                                                              \
        if (cs == 1 && incx == 1) { /* contiguous rows: one dot product each */                    \
            for (int64_t i = 0; i < m; ++i) {                                                      \
                const T *row = A + i * rs;                                                         \
                T dot = 0;                                                                         \
                CG_SIMD_SUM(dot)                                                                   \
                for (int64_t p = 0; p < k; ++p)                                                    \
                    dot += row[p] * x[p];                                                          \
                y[i * incy] += alpha * dot;                                                        \
            }                                                                                      \
        } else if (rs == 1) { /* contiguous columns: sum x-scaled columns, a tile of y at once */ \
            for (int64_t i0 = 0; i0 < m; i0 += GEMV_TILE) {                                        \
                const int64_t width = min_i64(GEMV_TILE, m - i0);                                  \
                T acc[GEMV_TILE];                                                                  \
                for (int64_t i = 0; i < width; ++i)                                                \
                    acc[i] = 0;                                                                    \
                for (int64_t p = 0; p < k; ++p) {                                                  \
                    const T *column = A + i0 + p * cs;                                             \
                    const T xp = x[p * incx];                                                      \
                    CG_SIMD_LOOP                                                                   \
                    for (int64_t i = 0; i < width; ++i)                                            \
                        acc[i] += column[i] * xp;                                                  \
                }                                                                                  \
                for (int64_t i = 0; i < width; ++i)                                                \
                    y[(i0 + i) * incy] += alpha * acc[i];                                          \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < m; ++i) {                                                      \
                T dot = 0;                                                                         \
                for (int64_t p = 0; p < k; ++p)                                                    \
                    dot += A[i * rs + p * cs] * x[p * incx];                                       \
                y[i * incy] += alpha * dot;                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* a_pack <- the m x kc block of A, as mr-row panels, each stored k-major ([k][r]); rows past  \
     * m are zero */                                                                               \
    static void pack_a_##suffix(int64_t m, int64_t kc, int mr, const T *A, int64_t rsa,            \
                                int64_t csa, T *a_pack)                                            \
    {                                                                                              \
        for (int64_t i0 = 0; i0 < m; i0 += mr, a_pack += mr * kc) {                                \
            const int64_t rows = min_i64(mr, m - i0);                                              \
            for (int64_t p = 0; p < kc; ++p) {                                                     \
                for (int64_t r = 0; r < rows; ++r)                                                 \
                    a_pack[p * mr + r] = A[(i0 + r) * rsa + p * csa];                              \
                for (int64_t r = rows; r < mr; ++r)                                                \
                    a_pack[p * mr + r] = 0;                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* b_pack <- the kc x n block of B, as nr-column panels, each stored k-major ([k][j]);         \
     * columns past n are zero */                                                                  \
    static void pack_b_##suffix(int64_t kc, int64_t n, int nr, const T *B, int64_t rsb,            \
                                int64_t csb, T *b_pack)                                            \
    {                                                                                              \
        for (int64_t j0 = 0; j0 < n; j0 += nr, b_pack += nr * kc) {                                \
            const int64_t cols = min_i64(nr, n - j0);                                              \
            for (int64_t p = 0; p < kc; ++p) {                                                     \
                for (int64_t j = 0; j < cols; ++j)                                                 \
                    b_pack[p * nr + j] = B[p * rsb + (j0 + j) * csb];                              \
                for (int64_t j = cols; j < nr; ++j)                                                \
                    b_pack[p * nr + j] = 0;                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* C = alpha * A B + beta * C */                                                               \
    void cg_gemm_##suffix(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t rsa,       \
                          int64_t csa, const T *B, int64_t rsb, int64_t csb, T beta, T *C,         \
                          int64_t rsc, int64_t csc)                                                \
    {                                                                                              \
        if (M <= 0 || N <= 0)                                                                      \
            return;                                                                                \
        scale_##suffix(M, N, beta, C, rsc, csc);                                                   \
        if (K <= 0 || alpha == 0) /* as in BLAS, A and B are then not read */                      \
            return;                                                                                \
        if (N == 1) {                                                                              \
            gemv_##suffix(M, K, alpha, A, rsa, csa, B, rsb, C, rsc);                               \
            return;                                                                                \
        }                                                                                          \
        if (M == 1) { /* C^T = B^T A^T */                                                          \
            gemv_##suffix(N, K, alpha, B, csb, rsb, A, csa, C, csc);                               \
            return;                                                                                \
        }                                                                                          \
        const micro_kernel_##suffix kernel = pick_micro_kernel_##suffix();                         \
        const int mr = kernel.mr, nr = kernel.nr;                                                  \
        enum { NC = B_PACK_BYTES / (KC * sizeof(T)) };                                             \
        enum { A_PACK_ROWS = A_PACK_BYTES / (KC * sizeof(T)) };                                    \
        const int64_t mc = mr * (A_PACK_ROWS / mr); /* whole panels */                             \
        _Alignas(64) T b_pack[KC * NC];                                                            \
        _Alignas(64) T a_pack[A_PACK_ROWS * KC];                                                   \
        _Alignas(64) T tile[TILE_MAX_##suffix];                                                    \
        for (int64_t jc = 0; jc < N; jc += NC) {                                                   \
            const int64_t nc = min_i64(NC, N - jc);                                                \
            for (int64_t pc = 0; pc < K; pc += KC) {                                               \
                const int64_t kc = min_i64(KC, K - pc);                                            \
                pack_b_##suffix(kc, nc, nr, B + pc * rsb + jc * csb, rsb, csb, b_pack);            \
                for (int64_t ic = 0; ic < M; ic += mc) {                                           \
                    const int64_t m_block = min_i64(mc, M - ic);                                   \
                    pack_a_##suffix(m_block, kc, mr, A + ic * rsa + pc * csa, rsa, csa, a_pack);   \
                    for (int64_t jr = 0; jr < nc; jr += nr) {                                      \
                        const int64_t cols = min_i64(nr, nc - jr);                                 \
                        for (int64_t ir = 0; ir < m_block; ir += mr) {                             \
                            const int64_t rows = min_i64(mr, m_block - ir);                        \
                            kernel.run(kc, a_pack + ir * kc, b_pack + jr * kc, tile);              \
                            T *c = C + (ic + ir) * rsc + (jc + jr) * csc;                          \
                            for (int64_t r = 0; r < rows; ++r)                                     \
                                for (int64_t j = 0; j < cols; ++j)                                 \
                                    c[r * rsc + j * csc] += alpha * tile[r * nr + j];              \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

#ifdef CG_X86_VARIANTS
#define DEFINE_MICRO_KERNELS_X86(T, suffix)                                                        \
    DEFINE_MICRO_KERNEL(T, suffix, AVX2, MR_AVX2, NR_AVX2_##suffix)                                \
    DEFINE_MICRO_KERNEL(T, suffix, AVX512, MR_AVX512, NR_AVX512_##suffix)
#define PICK_MICRO_KERNEL_X86(suffix)                                                              \
    case CG_SIMD_AVX512:                                                                           \
        return (micro_kernel_##suffix){MR_AVX512, NR_AVX512_##suffix,                              \
                                       micro_kernel_##suffix##_AVX512};                            \
    case CG_SIMD_AVX2:                                                                             \
        return (micro_kernel_##suffix){MR_AVX2, NR_AVX2_##suffix, micro_kernel_##suffix##_AVX2};
#else
#define DEFINE_MICRO_KERNELS_X86(T, suffix)
#define PICK_MICRO_KERNEL_X86(suffix)
#endif

DEFINE_GEMM(float, f32)
DEFINE_GEMM(double, f64)

/* C = A B for int64 (torch multiplies integer matrices too). Exact, wrapping on overflow like the
 * other int64 kernels; integer products are rare in training, so this is a plain i-k-j loop. */
void cg_gemm_i64(int64_t M, int64_t N, int64_t K,
                 const int64_t *A, int64_t rsa, int64_t csa,
                 const int64_t *B, int64_t rsb, int64_t csb,
                 int64_t *C, int64_t rsc, int64_t csc)
{
    for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j)
            C[i * rsc + j * csc] = 0;
        for (int64_t k = 0; k < K; ++k) {
            const uint64_t a = (uint64_t)A[i * rsa + k * csa];
            for (int64_t j = 0; j < N; ++j)
                C[i * rsc + j * csc] = (int64_t)((uint64_t)C[i * rsc + j * csc] + a * (uint64_t)B[k * rsb + j * csb]);
        }
    }
}
