/* Softmax family over the middle axis of a contiguous (outer, r, inner) array (the softmax dim
 * is r; inner is the product of the dims after it). Numerically stable: the max along r is
 * subtracted first, so logits of +-1000 give exact results. r >= 1. */
#ifndef CYGRAD_NN_H
#define CYGRAD_NN_H
#include <stdint.h>

/* y = exp(x - max) / sum(exp(x - max)) */
void cg_softmax_fwd_f32(const float *x, float *y, int64_t outer, int64_t r, int64_t inner);
void cg_softmax_fwd_f64(const double *x, double *y, int64_t outer, int64_t r, int64_t inner);
/* gx = y * (gy - sum_k(gy * y)) */
void cg_softmax_bwd_f32(const float *y, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner);
void cg_softmax_bwd_f64(const double *y, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner);
/* y = x - max - log(sum(exp(x - max))) */
void cg_log_softmax_fwd_f32(const float *x, float *y, int64_t outer, int64_t r, int64_t inner);
void cg_log_softmax_fwd_f64(const double *x, double *y, int64_t outer, int64_t r, int64_t inner);
/* gx = gy - exp(y) * sum_k(gy) */
void cg_log_softmax_bwd_f32(const float *y, const float *gy, float *gx, int64_t outer, int64_t r, int64_t inner);
void cg_log_softmax_bwd_f64(const double *y, const double *gy, double *gx, int64_t outer, int64_t r, int64_t inner);

#endif
