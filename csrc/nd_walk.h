/* Internal to csrc/: the N-d walk shared by the kernels over a cg_iter (elementwise.c, compare.c).
 *
 * A kernel walks the outer ndim - 1 dimensions of its iteration space row by row (FOR_EACH_ROW)
 * and runs a tight loop over the innermost dimension (INNER_DIM gives its length and strides).
 */
#ifndef CYGRAD_ND_WALK_H
#define CYGRAD_ND_WALK_H

#include <stdint.h>

#include "cygrad/elementwise.h"

/* Rows in the iteration space: the product of the outer dims, or 0 for an empty space. */
static inline int64_t row_count(const cg_iter *it)
{
    if (it->shape[it->ndim - 1] == 0)
        return 0;
    int64_t rows = 1;
    for (int d = 0; d < it->ndim - 1; ++d)
        rows *= it->shape[d];
    return rows;
}

/* Moves each operand's offset to the next row. The outer dims count like an odometer: the last
 * one ticks fastest; when a dim wraps around it goes back to 0 and carries into the one before.
 * Kept out of line (it runs once per row): inlined, it crowded the registers of the row loops and
 * gcc reloaded a pointer from the stack inside the vector loop, ~15% slower. */
static __attribute__((noinline)) void next_row(const cg_iter *it, int n_operands, int64_t index[],
                                               int64_t offset[])
{
    for (int d = it->ndim - 2; d >= 0; --d) {
        for (int k = 0; k < n_operands; ++k)
            offset[k] += it->strides[k][d];
        if (++index[d] < it->shape[d])
            return;
        for (int k = 0; k < n_operands; ++k)
            offset[k] -= it->strides[k][d] * it->shape[d];
        index[d] = 0;
    }
}

/* A for-loop header over the rows; in its body offset[k] is operand k's offset (in elements) to the
 * start of the current row. */
#define FOR_EACH_ROW(n_operands)                                                                   \
    int64_t index[CG_MAX_DIMS] = {0}, offset[CG_MAX_OPERANDS] = {0};                               \
    for (int64_t row = 0, rows = row_count(it); row < rows;                                        \
         ++row, next_row(it, n_operands, index, offset))

/* Length and per-operand strides of the innermost dimension. */
#define INNER_DIM(n_operands)                                                                      \
    const int inner_dim = it->ndim - 1;                                                            \
    const int64_t n = it->shape[inner_dim];                                                        \
    int64_t s[CG_MAX_OPERANDS];                                                                    \
    for (int k = 0; k < (n_operands); ++k)                                                         \
        s[k] = it->strides[k][inner_dim];

#endif
