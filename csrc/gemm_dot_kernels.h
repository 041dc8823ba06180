/* The two dot kernels of one SIMD level and element type (gemm_dot_kernel.h), named from
 * MK_DOT_NAME: MK_DOT_NAME itself with 4 x 3 tiles, and MK_DOT_NAME_row for a single row of C,
 * DOT_ROW_NR of its columns at a time. On one row a 4 x 3 tile would compute 12 dot products for
 * 3: x W^T for one sample of 784 features through Linear(784, 256) took 0.47-0.61x the time with
 * 1 x 8 tiles (one thread); 1 x 10 and 1 x 12 ran out of registers and took 1.2-1.4x. */
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

#undef DOT_CAT
#undef DOT_CAT_
