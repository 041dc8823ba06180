/* Reductions over the middle axis of a contiguous (outer, r, inner) array:
 *   out[o * inner + i] = reduce_k x[(o * r + k) * inner + i]
 * Reducing several axes is done by the caller one run of adjacent axes at a time.
 * float32 sums accumulate in double (or pairwise), so error does not grow with r. */
#ifndef CYGRAD_REDUCE_H
#define CYGRAD_REDUCE_H
#include <stdint.h>

/* out = sum_k x ; r == 0 gives 0 */
void cg_sum_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner);
void cg_sum_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner);
void cg_sum_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner);

/* values and (first) index of the max / min along k; NaN wins (first NaN) as in torch; r >= 1 */
void cg_max_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);
void cg_max_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);
void cg_max_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);
void cg_min_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);
void cg_min_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);
void cg_min_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner);

/* gx (outer, r, inner) = 0 except gx[o, indices[o, i], i] = gy[o, i]   (max/min along a dim) */
void cg_index_bwd_f32(const float *gy, const int64_t *indices, float *gx, int64_t outer, int64_t r, int64_t inner);
void cg_index_bwd_f64(const double *gy, const int64_t *indices, double *gx, int64_t outer, int64_t r, int64_t inner);

/* whole-tensor max/min backward: gx = (x == value) * gy / count(x == value)  (ties share, as torch) */
void cg_extreme_bwd_f32(const float *x, float value, float gy, float *gx, int64_t n);
void cg_extreme_bwd_f64(const double *x, double value, double gy, double *gx, int64_t n);

#endif
