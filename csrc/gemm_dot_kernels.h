/* The three dot kernels of one SIMD level and element type (gemm_dot_kernel.h), named from
 * MK_DOT_NAME: MK_DOT_NAME itself with 4 x 3 tiles, MK_DOT_NAME_row for a single row of C
 * (DOT_ROW_NR of its columns at a time) and MK_DOT_NAME_col for a single column (DOT_COL_MR rows
 * at a time). On one row or column a 4 x 3 tile computes 12 dot products for 3 or 4. One thread:
 * x W^T for one sample through Linear(784, 256) took 0.47-0.61x the time with 1 x 8 tiles (1 x 10
 * and 1 x 12 ran out of registers and took 1.2-1.4x); W v 0.59-0.84x with 8 x 1 (256 x 784 to
 * 4096 x 4096; 4 x 1 was within 7% of it either way). */
#define DOT_CAT_(a, b) a##b
#define DOT_CAT(a, b) DOT_CAT_(a, b)

#define MK_DOT_FN MK_DOT_NAME
#define MK_DOT_ROWS CG_GEMM_DOT_MR
#define MK_DOT_COLS CG_GEMM_DOT_NR
#include "gemm_dot_kernel.h"
#undef MK_DOT_FN
#undef MK_DOT_ROWS
#undef MK_DOT_COLS

#define MK_DOT_FN DOT_CAT(MK_DOT_NAME, _row)
#define MK_DOT_ROWS 1
#define MK_DOT_COLS CG_GEMM_DOT_ROW_NR
#include "gemm_dot_kernel.h"
#undef MK_DOT_FN
#undef MK_DOT_ROWS
#undef MK_DOT_COLS

#define MK_DOT_FN DOT_CAT(MK_DOT_NAME, _col)
#define MK_DOT_ROWS CG_GEMM_DOT_COL_MR
#define MK_DOT_COLS 1
#include "gemm_dot_kernel.h"
#undef MK_DOT_FN
#undef MK_DOT_ROWS
#undef MK_DOT_COLS

#undef DOT_CAT
#undef DOT_CAT_
