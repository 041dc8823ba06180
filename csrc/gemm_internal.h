/* Internal to csrc/: the GEMM micro-kernels (gemm_kernels.c) as the driver (gemm.c) sees them.
 *
 * A micro-kernel computes one MR x NR tile of C over a K slice and writes it back in one go:
 *
 *   C[r, j] = relu?(alpha * sum_k a[r * ars + k * aks] * b[j + k * bks] + beta * C[r, j] + bias[j])
 *
 * for r < m, j < n (m <= MR, n <= NR: the edges of C), C[r, j] at c[r * rsc + j * csc]. beta == 0
 * does not read C; bias may be NULL. A is either a panel, ars == 1 (a packed panel, or a column-
 * major A read in place), or rows, aks == 1 (a row-major A read in place). The NR values of B for
 * one k are contiguous (a packed panel, or a row-major B read in place), bks apart. The kernel
 * always reads full MR x NR operands; the driver pads ragged panels with zeros.
 *
 * A dot kernel (gemm_dot_kernel.h) computes the same for a strip of C, any m rows by n <= its
 * tile's columns, over all of K, with A's rows (a[r * rsa + k]) and B's columns (b[j * csb + k])
 * contiguous along k, read in place: x W^T without packing W.
 */
#ifndef CYGRAD_GEMM_INTERNAL_H
#define CYGRAD_GEMM_INTERNAL_H

#include <stdint.h>

/* Every kernel's KC * NR (one packed B micro-panel, and the largest MR * KC too) fits in this
 * many bytes: the driver's edge buffers on the stack have this size. */
#define CG_GEMM_PANEL_BYTES (32 * 1024)

/* The dot kernels' tiles: DOT_MR rows of A meet DOT_NR columns of B; a single row of C goes
 * DOT_ROW_NR columns at a time, a single column DOT_COL_MR rows at a time. */
#define CG_GEMM_DOT_MR 4
#define CG_GEMM_DOT_NR 3
#define CG_GEMM_DOT_ROW_NR 8
#define CG_GEMM_DOT_COL_MR 8

#define CG_DECLARE_GEMM_KERNEL(T, suffix)                                                          \
    typedef void (*cg_gemm_tile_fn_##suffix)(int64_t kc, const T *a, int64_t ars, int64_t aks,     \
                                             const T *b, int64_t bks, T *c, int64_t rsc,           \
                                             int64_t csc, int m, int n, T alpha, T beta,           \
                                             const T *bias, int relu);                             \
    typedef void (*cg_gemm_dot_fn_##suffix)(int64_t k, const T *a, int64_t rsa, const T *b,        \
                                            int64_t csb, T *c, int64_t rsc, int64_t csc,           \
                                            int64_t m, int n, T alpha, T beta, const T *bias,      \
                                            int relu);                                             \
    typedef struct {                                                                               \
        int mr, nr;      /* register tile */                                                       \
        int64_t kc, mc;  /* cache blocking: K slice depth, rows of A per packed block */           \
        cg_gemm_tile_fn_##suffix tile;                                                             \
        /* the same kernel with fewer rows, for the last rows of a block */                        \
        int edge_mr;                                                                               \
        cg_gemm_tile_fn_##suffix edge_tile;                                                        \
        cg_gemm_dot_fn_##suffix dot, dot_row, dot_col; /* 4 x 3 tiles; one row; one column */    \
    } cg_gemm_kernel_##suffix;                                                                     \
    /* The kernel of a SIMD level (cg_simd_level); the baseline for levels this build lacks. */    \
    const cg_gemm_kernel_##suffix *cg_gemm_kernel_for_##suffix(int level);

CG_DECLARE_GEMM_KERNEL(float, f32)
CG_DECLARE_GEMM_KERNEL(double, f64)

#endif
