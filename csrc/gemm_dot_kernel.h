/* The dot-product GEMM kernel (see gemm_internal.h for what it computes), for products whose A
 * rows and B columns are both contiguous along K: x W^T, nn.Linear's forward. The micro-kernel
 * (gemm_microkernel.h) wants B's NR values of one k side by side, which for W^T means packing
 * (transposing) all of W on every call; here each C element is a dot product of an A row and a B
 * column read as they are: a strip of C, m rows by up to DOT_NR columns, DOT_MR rows at a time.
 *
 * Compiled by gemm_dot_kernels.h for each tile shape, SIMD level and element type with the same
 * MK_ macros as the micro-kernel, plus MK_DOT_FN (the function's name), MK_DOT_ROWS x MK_DOT_COLS
 * (the tile) and MK_HSUM(v) (the sum of v's lanes).
 *
 * Per W-wide step of k: DOT_NR vectors of B and DOT_MR of A feed DOT_MR * DOT_NR independent
 * FMAs into as many accumulators (4 x 3: 12 accumulators + 3 B vectors + 1 A vector = the 16
 * registers of AVX2; 1 x 8 for a single row of C). Each accumulator's lanes are summed once at the
 * end.
 */
#define DOT_MR MK_DOT_ROWS
#define DOT_NR MK_DOT_COLS

static MK_TARGET void MK_DOT_FN(int64_t k, const MK_T *restrict a, int64_t rsa,
                                const MK_T *restrict b, int64_t csb, MK_T *restrict c, int64_t rsc,
                                int64_t csc, int64_t m, int n, MK_T alpha, MK_T beta,
                                const MK_T *restrict bias, int relu)
{
    /* a ragged tile (fewer than DOT_MR rows or DOT_NR columns left) reads row or column 0 again
     * in place of the missing ones and drops their sums: one code path, no reads past the
     * operands */
    const MK_T *col[DOT_NR];
    CG_PRAGMA(GCC unroll 8)
    for (int j = 0; j < DOT_NR; ++j)
        col[j] = b + (j < n ? j : 0) * csb;

    /* When every row and column starts at the same offset within a vector's worth of bytes (a
     * numpy array's rows are 16-byte aligned, rarely 32), a head of k makes the rest of the loads
     * aligned: a load that straddles two cache lines costs two. */
    const uintptr_t vec_bytes = sizeof(MK_VEC), offset = (uintptr_t)a % vec_bytes;
    const int same_offset = (uintptr_t)b % vec_bytes == offset &&
                            (uintptr_t)(rsa * sizeof(MK_T)) % vec_bytes == 0 &&
                            (uintptr_t)(csb * sizeof(MK_T)) % vec_bytes == 0;
    const int head_wanted = offset ? (int)((vec_bytes - offset) / sizeof(MK_T)) : 0;
    const int head = same_offset && head_wanted < k ? head_wanted : 0;

    for (int64_t i0 = 0; i0 < m; i0 += DOT_MR, a += DOT_MR * rsa, c += DOT_MR * rsc) {
        const int rows = m - i0 < DOT_MR ? (int)(m - i0) : DOT_MR;
        const MK_T *row[DOT_MR];
        CG_PRAGMA(GCC unroll 8)
        for (int r = 0; r < DOT_MR; ++r)
            row[r] = a + (r < rows ? r : 0) * rsa;

        MK_VEC acc[DOT_MR][DOT_NR];
        CG_PRAGMA(GCC unroll 8)
        for (int r = 0; r < DOT_MR; ++r)
            CG_PRAGMA(GCC unroll 8)
            for (int j = 0; j < DOT_NR; ++j)
                acc[r][j] = MK_ZERO();

        int64_t p = 0;
        if (head) { /* the first few k, so that the loads below are aligned */
            MK_VEC bv[DOT_NR];
            CG_PRAGMA(GCC unroll 8)
            for (int j = 0; j < DOT_NR; ++j)
                bv[j] = MK_LOAD_PART(col[j], head);
            CG_PRAGMA(GCC unroll 8)
            for (int r = 0; r < DOT_MR; ++r) {
                const MK_VEC av = MK_LOAD_PART(row[r], head);
                CG_PRAGMA(GCC unroll 8)
                for (int j = 0; j < DOT_NR; ++j)
                    acc[r][j] = MK_FMA(av, bv[j], acc[r][j]);
            }
            p = head;
        }
        for (; p + MK_W <= k; p += MK_W) {
            MK_VEC bv[DOT_NR];
            CG_PRAGMA(GCC unroll 8)
            for (int j = 0; j < DOT_NR; ++j)
                bv[j] = MK_LOADU(col[j] + p);
            CG_PRAGMA(GCC unroll 8)
            for (int r = 0; r < DOT_MR; ++r) {
                const MK_VEC av = MK_LOADU(row[r] + p);
                CG_PRAGMA(GCC unroll 8)
                for (int j = 0; j < DOT_NR; ++j)
                    acc[r][j] = MK_FMA(av, bv[j], acc[r][j]);
            }
        }
        if (p < k) { /* the last k % W: the lanes past k load as zeros */
            const int rest = (int)(k - p);
            MK_VEC bv[DOT_NR];
            CG_PRAGMA(GCC unroll 8)
            for (int j = 0; j < DOT_NR; ++j)
                bv[j] = MK_LOAD_PART(col[j] + p, rest);
            CG_PRAGMA(GCC unroll 8)
            for (int r = 0; r < DOT_MR; ++r) {
                const MK_VEC av = MK_LOAD_PART(row[r] + p, rest);
                CG_PRAGMA(GCC unroll 8)
                for (int j = 0; j < DOT_NR; ++j)
                    acc[r][j] = MK_FMA(av, bv[j], acc[r][j]);
            }
        }

        /* the sums first, at constant indices: an accumulator indexed at run time would have to
         * live in memory through the whole loop */
        MK_T sum[DOT_MR][DOT_NR];
        CG_PRAGMA(GCC unroll 8)
        for (int r = 0; r < DOT_MR; ++r)
            CG_PRAGMA(GCC unroll 8)
            for (int j = 0; j < DOT_NR; ++j)
                sum[r][j] = MK_HSUM(acc[r][j]);
        for (int r = 0; r < rows; ++r)
            for (int j = 0; j < n; ++j) {
                MK_T *out = c + r * rsc + j * csc;
                MK_T x = alpha * sum[r][j];
                if (beta != 0) /* beta == 0: C is not read (it may hold NaN) */
                    x += beta * *out;
                if (bias)
                    x += bias[j];
                if (relu && x < 0) /* NaN stays NaN */
                    x = 0;
                *out = x;
            }
    }
}

#undef DOT_MR
#undef DOT_NR
