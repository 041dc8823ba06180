/* Index kernels: gathers and scatters along the middle axis of (outer, r, inner) views.
 *
 * The iteration space is (o, j, i) in [0, outer) x [0, n) x [0, inner). Every operand is described
 * by element strides along those three axes (0 for a broadcast axis), so strided views need no
 * copy. The indexed operand (the source of a gather, the destination of a scatter) is addressed at
 * (o, k, i) with k = idx[o, j, i]; its middle stride is the step along the indexed axis.
 *   - x[idx], index_select, index_put: one index vector, idx strides {0, 1, 0};
 *   - gather, scatter, scatter_add: one index per element, idx strides of an (outer, n, inner) array.
 * Every k must lie in [0, r): callers check first (cg_index_find_invalid_i64); kernels trust them.
 *
 * Naming: cg_<op>_<f32|f64|i64|i32|b8>; b8 is bool (one byte). Data moves exist for every dtype,
 * accumulation for the numeric ones.
 */
#ifndef CYGRAD_INDEX_H
#define CYGRAD_INDEX_H
#include <stdint.h>

typedef struct cg_index_iter {
    int64_t outer, n, inner;   /* the iteration space (o, j, i) */
    int64_t src[3];            /* element strides of the source along (o, j or k, i) */
    int64_t idx[3];            /* element strides of the index along (o, j, i) */
    int64_t dst[3];            /* element strides of the destination along (o, j or k, i) */
} cg_index_iter;

#define CG_GATHER(name, T) void name(const cg_index_iter *it, T *dst, const T *src, const int64_t *idx)

/* dst[o, j, i] = src[o, idx[o, j, i], i]   (gather, index_select, x[idx]) */
CG_GATHER(cg_gather_f32, float);
CG_GATHER(cg_gather_f64, double);
CG_GATHER(cg_gather_i64, int64_t);
CG_GATHER(cg_gather_i32, int32_t);
CG_GATHER(cg_gather_b8, uint8_t);

/* dst[o, idx[o, j, i], i] = src[o, j, i]   (scatter, index_put; in order, so the last duplicate wins) */
CG_GATHER(cg_scatter_f32, float);
CG_GATHER(cg_scatter_f64, double);
CG_GATHER(cg_scatter_i64, int64_t);
CG_GATHER(cg_scatter_i32, int32_t);
CG_GATHER(cg_scatter_b8, uint8_t);

/* dst[o, idx[o, j, i], i] += src[o, j, i]   (scatter_add, index_put(accumulate=True), the backward of
 * every gather: duplicate indices accumulate) */
CG_GATHER(cg_scatter_add_f32, float);
CG_GATHER(cg_scatter_add_f64, double);
CG_GATHER(cg_scatter_add_i64, int64_t);
CG_GATHER(cg_scatter_add_i32, int32_t);

/* *position = the first p with idx[p] outside [-size, size) (allow_negative) or [0, size), else -1.
 * copy (or NULL): receives idx[0, n) in the same pass when all are valid (partly written otherwise). */
void cg_index_find_invalid_i64(const int64_t *idx, int64_t n, int64_t size, int allow_negative,
                               int64_t *copy, int64_t *position);

/* lin[p] = (accumulate ? lin[p] : 0) + (idx[p] < 0 ? idx[p] + size : idx[p]) * stride
 * (the row-major position over several indexed dims, one dim per call; idx already checked) */
void cg_index_linearize_i64(const int64_t *idx, int64_t n, int64_t size, int64_t stride, int accumulate,
                            int64_t *lin);

#endif
