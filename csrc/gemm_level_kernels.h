/* The GEMM kernels of one SIMD level and element type, included by gemm_kernels.c with the MK_
 * macros of gemm_microkernel.h defined and MK_SUFFIX naming the pair (f32_avx2, ...). Compiles
 *   tile_<suffix>   the MK_MR-row micro-kernel (gemm_microkernel.h)
 *   dot_<suffix>, dot_<suffix>_row, dot_<suffix>_col   the dot kernels (gemm_dot_kernels.h)
 *   edge_<suffix>   when LEVEL_EDGE_ROWS is defined: the micro-kernel with that many rows, for
 *                   the last rows of a block
 */
#define LEVEL_CAT_(a, b) a##b
#define LEVEL_CAT(a, b) LEVEL_CAT_(a, b)

#define MK_NAME LEVEL_CAT(tile_, MK_SUFFIX)
#define MK_DOT_NAME LEVEL_CAT(dot_, MK_SUFFIX)
#include "gemm_microkernel.h"
#include "gemm_dot_kernels.h"
#undef MK_DOT_NAME
#undef MK_NAME

#ifdef LEVEL_EDGE_ROWS
#define MK_NAME LEVEL_CAT(edge_, MK_SUFFIX)
#define MK_EDGE_ROWS LEVEL_EDGE_ROWS
#include "gemm_microkernel.h"
#undef MK_EDGE_ROWS
#undef MK_NAME
#endif

#undef LEVEL_CAT
#undef LEVEL_CAT_
