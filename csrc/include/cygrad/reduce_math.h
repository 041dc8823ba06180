/* Reductions and scans of the math ops over the middle axis of a contiguous (outer, r, inner)
 * array (the layout of cygrad/reduce.h):
 *   out[o * inner + i] = reduce_k x[(o * r + k) * inner + i]
 * The caller moves the reduced axes into one middle run first (a copy when they are not adjacent).
 * float32 accumulates in double, as cygrad's sum does.
 */
#ifndef CYGRAD_REDUCE_MATH_H
#define CYGRAD_REDUCE_MATH_H
#include <stdint.h>

/* out = prod_k x ; r == 0 gives 1 (integers wrap around on overflow, as torch) */
void cg_prod_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner);
void cg_prod_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner);
void cg_prod_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner);

/* gx[o, k, i] = gy[o, i] * (prod_{j<k} x[o, j, i] * prod_{j>k} x[o, j, i])   (prod's gradient,
 * exact when x holds zeros; gy is (outer, inner), gx has x's layout) */
void cg_prod_bwd_f32(const float *x, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner);
void cg_prod_bwd_f64(const double *x, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner);

/* *count = number of elements of x (n of them) equal to 0 */
void cg_count_zeros_f32(const float *x, int64_t n, int64_t *count);
void cg_count_zeros_f64(const double *x, int64_t n, int64_t *count);

/* out = sum_k (x - mean_k x)^2 / max(r - correction, 0)   (two passes; 0 / 0 = NaN, c / 0 = inf) */
void cg_var_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, double correction);
void cg_var_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, double correction);

/* out = log(sum_k exp(x - m)) + m, m = max_k x (m = 0 where it is +-inf; NaN propagates) */
void cg_logsumexp_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner);
void cg_logsumexp_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner);

/* out = (sum_k |x|^p)^(1/p); p = inf: max |x|, p = -inf: min |x| (NaN propagates), p = 0: the
 * count of nonzero elements */
void cg_norm_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, double p);
void cg_norm_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, double p);

/* out[o, k, i] = sum_{j <= k} x[o, j, i]  (reverse != 0: sum_{j >= k}); out has x's layout */
void cg_cumsum_f32(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, int reverse);
void cg_cumsum_f64(const double *x, double *out, int64_t outer, int64_t r, int64_t inner, int reverse);
void cg_cumsum_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner, int reverse);

#endif
