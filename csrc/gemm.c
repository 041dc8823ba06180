/* C = epilogue(alpha * A B + beta * C) for arbitrary row and column strides (see cygrad/gemm.h).
 *
 * The BLIS scheme (Goto's algorithm): loops that block the operands for the caches around a
 * register-blocked micro-kernel (gemm_kernels.c, one per SIMD level, chosen by cg_simd_get() on
 * every call). Per product, on one core (gemm_driver.h, gemm_blocked):
 *   for each NC-wide column panel of C, each KC slice of K:       B's KC x NC panel lives in L3
 *       for each MC-row block of A:                                A's MC x KC block lives in L2
 *           for each NR micro-panel of B, each MR micro-panel of A:   B's micro-panel in L1
 *               micro-kernel: an MR x NR tile of C in registers over the KC slice, then
 *               C tile = relu?(alpha * tile + beta * C tile + bias), stored once
 * Packing copies the blocks into the order the micro-kernel reads them, whatever the strides
 * (transposes included) and pads ragged edges with zeros. It costs a pass over A and B, which
 * dominates for small and medium products, so an operand that the kernel can read as it is (B
 * row-major; A row- or column-major: plain products and the backward products dY W and X^T dY)
 * is read in place unless power-of-two strides would make its micro-panels evict each other from
 * the cache; only its ragged last micro-panel is then packed, into a small buffer on the stack.
 * A transposed B (x W^T) read by a single block of A is packed a micro-panel at a time into that
 * same buffer just before the block uses it, with K slices as deep as that block allows (the
 * buffer then moves to the heap). A row-major B read in place whose rows start mid-line gets a
 * narrow first micro-panel, packed the same way, so that the others start on cache lines.
 *
 * Threads: the product is split into one part per thread, in whole micro-tiles, along the side of
 * C whose parts come out the more even (the larger side when alike); each part runs the loops above with its own pack buffers (one heap block for all
 * parts, allocated per call). Batched products are shared out whole when they divide evenly.
 * Below TASK_MIN_WORK multiply-adds per thread a product stays on the calling thread.
 *
 * Matrix-vector products (M == 1 or N == 1) skip all this: padding one column to NR would waste
 * most of the work. With both operands contiguous along K they go to the dot kernels
 * (gemm_dot_kernel.h, gemm_dot_pays), as does x W^T with few rows of x: packing W would cost more
 * than the product.
 */
#include "cygrad/gemm.h"

#include <stdlib.h>

#include "cygrad/parallel.h"
#include "cygrad/simd.h"
#include "gemm_internal.h"
#include "gemm_pack.h"
#include "simd_variants.h"

/* Multiply-adds a thread must get before a product is split (~20-30 us of one core): below it,
 * waking another thread costs more than it saves. */
#define TASK_MIN_WORK (1 << 20)
/* A packed KC x NC panel of B: in L3 (32 MiB shared on Zen 3), a few MiB per thread. A is packed
 * again for every NC columns, so wider panels mean less packing. */
#define B_PANEL_BYTES (2 * 1024 * 1024)
/* Sets of the L1 (32 KiB 8-way on Zen 3, 48 KiB 12-way on Zen 5) and L2 (512 KiB 8-way, 1 MiB
 * 16-way) caches, for the in-place check. */
#define L1_SETS 64
#define L2_SETS 1024
/* x W^T with few rows goes to the dot kernels (gemm_dot_pays): packing W would cost more than
 * the product. Measured on Zen 3 (one thread, N = 256), against packing: 0.33-0.68x the time for
 * M <= 4 at K = 128..4096; break-even at M ~ 11 (K = 128), 17 (256), 32 (512), 40-45 (1024+).
 * So: K >= DOT_K_MIN and M <= 8 + K / 32, at most DOT_M_MAX. Against the matrix-vector loops
 * (gemv, compiled for the baseline ISA): x W^T with one row 0.52x at K = 784, 0.76x at 128, 1.06x
 * at 64; W v 0.31x at 256 x 784, 0.54x at 4096 x 4096 (4 x 3 tiles then; the one-row and
 * one-column kernels of gemm_dot_kernels.h gained more since). A's rows go in blocks of
 * DOT_A_BLOCK_BYTES that stay in L2. */
#define DOT_K_MIN 128
#define DOT_M_MAX 32
#define DOT_A_BLOCK_BYTES (256 * 1024)
/* Rows of y accumulated at once by the column-oriented matrix-vector product. */
#define GEMV_TILE 256

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* The largest of `tasks` parts of `extent` cut in whole `unit`s, over an even share: 1 when the
 * units share evenly; 784 columns in units of 32 over 2 tasks: 416 / 392 = 1.06. */
static double split_excess(int64_t extent, int64_t unit, int64_t tasks)
{
    const int64_t units = (extent + unit - 1) / unit;
    return (double)((units + tasks - 1) / tasks * unit) * tasks / extent;
}

static int64_t gcd_i64(int64_t a, int64_t b)
{
    while (b) {
        const int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Whether `rows` runs of `bytes` bytes, `stride` bytes apart, stay in the part of a cache of `sets`
 * sets of 64-byte lines that the blocking gave them, `budget` bytes: at most budget / (64 * sets)
 * lines in any set (half the ways of Zen 3's 8-way caches for its 16 KiB micro-panels and 240 KiB
 * blocks of A; the other operand and C need the rest). Runs at a stride of whole lines that all
 * start off a line touch one line more each, which the other ways absorb (B's head_columns aligns
 * them); runs at any other stride start at every offset in a line and are counted a line more.
 * The runs start in only 64 * sets / gcd(stride, 64 * sets) different places of the cache's
 * address cycle: strides that are multiples of a large power of two pile every run into the same
 * few sets. */
static int panel_fits_cache(int64_t stride, int64_t rows, int64_t bytes, int64_t sets,
                            int64_t budget)
{
    const int64_t cycle = 64 * sets;
    const int64_t starts = cycle / gcd_i64(stride < 0 ? -stride : stride, cycle);
    const int64_t lines_per_run = (bytes + 63) / 64 + (stride % 64 != 0);
    const int64_t sets_used = min_i64(sets, min_i64(starts, sets) * lines_per_run);
    const int64_t lines_per_set = (budget + 64 * sets - 1) / (64 * sets);
    return rows * lines_per_run <= lines_per_set * sets_used;
}

#define GT float
#define G(name) name##_f32
#include "gemm_driver.h"
#undef GT
#undef G

#define GT double
#define G(name) name##_f64
#include "gemm_driver.h"
#undef GT
#undef G

#define DEFINE_GEMM_API(T, suffix)                                                                 \
    void cg_gemm_##suffix(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t rsa,       \
                          int64_t csa, const T *B, int64_t rsb, int64_t csb, T beta, T *C,         \
                          int64_t rsc, int64_t csc)                                                \
    {                                                                                              \
        const gemm_problem_##suffix p = {M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb,           \
                                         C, rsc, csc, NULL, 0};                                    \
        gemm_run_##suffix(&p, 1, 0, 0, 0);                                                         \
    }                                                                                              \
                                                                                                   \
    void cg_gemm_bias_##suffix(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t rsa,  \
                               int64_t csa, const T *B, int64_t rsb, int64_t csb, T beta, T *C,    \
                               int64_t rsc, int64_t csc, const T *bias, int relu)                  \
    {                                                                                              \
        const gemm_problem_##suffix p = {M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb,           \
                                         C, rsc, csc, bias, relu};                                 \
        gemm_run_##suffix(&p, 1, 0, 0, 0);                                                         \
    }                                                                                              \
                                                                                                   \
    void cg_gemm_batched_##suffix(int64_t batch, int64_t M, int64_t N, int64_t K, T alpha,         \
                                  const T *A, int64_t bsa, int64_t rsa, int64_t csa, const T *B,   \
                                  int64_t bsb, int64_t rsb, int64_t csb, T beta, T *C,             \
                                  int64_t bsc, int64_t rsc, int64_t csc)                           \
    {                                                                                              \
        const gemm_problem_##suffix p = {M, N, K, alpha, beta, A, rsa, csa, B, rsb, csb,           \
                                         C, rsc, csc, NULL, 0};                                    \
        gemm_run_##suffix(&p, batch, bsa, bsb, bsc);                                               \
    }

DEFINE_GEMM_API(float, f32)
DEFINE_GEMM_API(double, f64)

int64_t cg_gemm_kc_f32(void) { return cg_gemm_kernel_for_f32(cg_simd_get())->kc; }

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
