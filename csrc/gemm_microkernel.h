/* One GEMM micro-kernel (see gemm_internal.h for what it computes), written once and compiled
 * for each SIMD level and element type by gemm_kernels.c, which defines before including this:
 *
 *   MK_T, MK_VEC      element and vector types; MK_W lanes per vector
 *   MK_MR, MK_NV      tile: MK_MR rows x MK_NV vectors (MK_NR = MK_NV * MK_W columns)
 *   MK_EDGE_ROWS      optional: this many rows instead of MK_MR (the kernel for a block's
 *                     last rows, where a full MK_MR-row tile would compute mostly padding)
 *   MK_NAME, MK_TARGET  the function's name and target attribute
 *   MK_ZERO(), MK_SET1(x), MK_LOADU(p), MK_STOREU(p, v), MK_ADD(a, b), MK_MUL(a, b)
 *   MK_FMA(a, b, c)   c + a * b (one rounding where the level has FMA)
 *   MK_MAX0(v)        max(0, v) keeping NaN
 *   MK_LOAD_PART(p, n), MK_STORE_PART(p, v, n)   the first n < MK_W lanes only: memory past them
 *                     is neither read nor written (masked loads and stores)
 *   MK_A_PREFETCH     optional: prefetch a panel of A this many k ahead (see gemm_kernels.c)
 *
 * The MR x NV accumulators live in registers for the whole K loop: each k loads NV vectors of B,
 * broadcasts MR values of A and does MR * NV independent FMAs, enough to hide the FMA latency
 * (MR * NV >= 2 ports x 4-5 cycles). The tile is then scaled, combined with C and the epilogue
 * (bias, ReLU) while still in registers, and stored once.
 */
#define MK_NR (MK_NV * MK_W)
#ifdef MK_EDGE_ROWS
#define MK_ROWS MK_EDGE_ROWS
#else
#define MK_ROWS MK_MR
#endif

static MK_TARGET void MK_NAME(int64_t kc, const MK_T *restrict a, int64_t ars, int64_t aks,
                              const MK_T *restrict b, int64_t bks, MK_T *restrict c, int64_t rsc,
                              int64_t csc, int m, int n, MK_T alpha, MK_T beta,
                              const MK_T *restrict bias, int relu)
{
    MK_VEC acc[MK_ROWS][MK_NV];
    CG_PRAGMA(GCC unroll 16)
    for (int r = 0; r < MK_ROWS; ++r) {
        CG_PRAGMA(GCC unroll 4)
        for (int v = 0; v < MK_NV; ++v)
            acc[r][v] = MK_ZERO();
    }

    if (beta != 0) /* C is read after the K loop: start bringing its rows in now */
        CG_PRAGMA(GCC unroll 16)
        for (int r = 0; r < MK_ROWS; ++r)
            if (r < m) {
                __builtin_prefetch(c + r * rsc, 0, 3);
                __builtin_prefetch(c + r * rsc + (n - 1) * csc, 0, 3);
            }
    if (ars == 1) { /* a panel: the MR values of one k are contiguous */
        CG_PRAGMA(GCC unroll 4)
        for (int64_t k = 0; k < kc; ++k) {
            MK_VEC bv[MK_NV];
            CG_PRAGMA(GCC unroll 4)
            for (int v = 0; v < MK_NV; ++v)
                bv[v] = MK_LOADU(b + v * MK_W);
#ifdef MK_A_PREFETCH
            __builtin_prefetch(a + MK_A_PREFETCH * aks, 0, 3);
#endif
            CG_PRAGMA(GCC unroll 16)
            for (int r = 0; r < MK_ROWS; ++r) {
                const MK_VEC ar = MK_SET1(a[r]);
                CG_PRAGMA(GCC unroll 4)
                for (int v = 0; v < MK_NV; ++v)
                    acc[r][v] = MK_FMA(ar, bv[v], acc[r][v]);
            }
            a += aks;
            b += bks;
        }
    } else { /* MR rows of a row-major A (aks == 1): one pointer per pair of rows, each moving
              * along k, the second row of a pair at +ars (x86 addressing: base + index), so that
              * even 12 rows fit the 16 general registers */
        const MK_T *pair[MK_ROWS / 2];
        CG_PRAGMA(GCC unroll 8)
        for (int q = 0; q < MK_ROWS / 2; ++q)
            pair[q] = a + 2 * q * ars;
        CG_PRAGMA(GCC unroll 4)
        for (int64_t k = 0; k < kc; ++k) {
            MK_VEC bv[MK_NV];
            CG_PRAGMA(GCC unroll 4)
            for (int v = 0; v < MK_NV; ++v)
                bv[v] = MK_LOADU(b + v * MK_W);
            CG_PRAGMA(GCC unroll 16)
            for (int r = 0; r < MK_ROWS; ++r) {
                const MK_VEC ar = MK_SET1(pair[r / 2][r % 2 * ars]);
                CG_PRAGMA(GCC unroll 4)
                for (int v = 0; v < MK_NV; ++v)
                    acc[r][v] = MK_FMA(ar, bv[v], acc[r][v]);
            }
            CG_PRAGMA(GCC unroll 8)
            for (int q = 0; q < MK_ROWS / 2; ++q)
                ++pair[q];
            b += bks;
        }
    }

    const MK_VEC valpha = MK_SET1(alpha), vbeta = MK_SET1(beta);
    if (csc == 1 && m == MK_ROWS && n == MK_NR && beta == 0 && !bias && !relu) {
        /* the common tile: whole, nothing to combine. Without the general path's tests per
         * vector, a 128x256 product over K = 64 (the MLP's weight gradient) took 15% less time
         * (median of 9 interleaved runs, C harness, one thread). */
        CG_PRAGMA(GCC unroll 16)
        for (int r = 0; r < MK_ROWS; ++r) {
            CG_PRAGMA(GCC unroll 4)
            for (int v = 0; v < MK_NV; ++v)
                MK_STOREU(c + r * rsc + v * MK_W, MK_MUL(acc[r][v], valpha));
        }
        return;
    }
    if (csc == 1) { /* rows of C are contiguous: whole vectors, masked at the right edge */
        CG_PRAGMA(GCC unroll 16)
        for (int r = 0; r < MK_ROWS; ++r) {
            if (r >= m)
                break;
            MK_T *row = c + r * rsc;
            CG_PRAGMA(GCC unroll 4)
            for (int v = 0; v < MK_NV; ++v) {
                const int j = v * MK_W;
                if (j >= n)
                    break;
                MK_VEC x = MK_MUL(acc[r][v], valpha);
                if (n - j >= MK_W) {
                    if (beta != 0)
                        x = MK_FMA(vbeta, MK_LOADU(row + j), x);
                    if (bias)
                        x = MK_ADD(x, MK_LOADU(bias + j));
                    if (relu)
                        x = MK_MAX0(x);
                    MK_STOREU(row + j, x);
                } else {
                    if (beta != 0)
                        x = MK_FMA(vbeta, MK_LOAD_PART(row + j, n - j), x);
                    if (bias)
                        x = MK_ADD(x, MK_LOAD_PART(bias + j, n - j));
                    if (relu)
                        x = MK_MAX0(x);
                    MK_STORE_PART(row + j, x, n - j);
                }
            }
        }
    } else { /* strided rows (a transposed C): through a tile buffer, element by element */
        MK_T tile[MK_ROWS * MK_NR];
        CG_PRAGMA(GCC unroll 16)
        for (int r = 0; r < MK_ROWS; ++r) {
            CG_PRAGMA(GCC unroll 4)
            for (int v = 0; v < MK_NV; ++v)
                MK_STOREU(tile + r * MK_NR + v * MK_W, MK_MUL(acc[r][v], valpha));
        }
        for (int r = 0; r < m; ++r)
            for (int j = 0; j < n; ++j) {
                MK_T x = tile[r * MK_NR + j];
                MK_T *out = c + r * rsc + j * csc;
                if (beta != 0)
                    x += beta * *out;
                if (bias)
                    x += bias[j];
                if (relu && x < 0)
                    x = 0;
                *out = x;
            }
    }
}

#undef MK_NR
#undef MK_ROWS
