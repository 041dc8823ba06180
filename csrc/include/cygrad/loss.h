/* Loss kernels: per-row or per-element losses and their gradients, over contiguous buffers.
 * Rows are the n samples of c class scores (the caller moves the class dim last). A NULL weight
 * means every class weighs 1. Reductions (mean, sum) are done by the caller from the per-row
 * losses and, for class targets, the per-row weights (torch's weighted mean divides by them). */
#ifndef CYGRAD_LOSS_H
#define CYGRAD_LOSS_H
#include <stdint.h>

#define CG_LOSS_DECLARE(T, suffix)                                                                 \
    /* logp = log_softmax(x) per row (kept for backward); loss[i] = (1 - eps) w[t] (-logp[t])      \
     * + eps / c sum_k w[k] (-logp[k]); row_weight[i] = w[t]; both 0 where t == ignore_index */    \
    void cg_cross_entropy_fwd_##suffix(const T *logits, const int64_t *target, const T *weight,     \
                                       int64_t n, int64_t c, int64_t ignore_index, double eps,     \
                                       T *log_probs, T *loss, T *row_weight);                      \
    /* gx[i,k] = g[i] ((1 - eps) w[t] (p[k] - [k == t]) + eps / c (p[k] sum_j w[j] - w[k])),      \
     * p = exp(logp); 0 where t == ignore_index */                                                  \
    void cg_cross_entropy_bwd_##suffix(const T *log_probs, const int64_t *target, const T *weight,  \
                                       const T *row_grad, int64_t n, int64_t c,                    \
                                       int64_t ignore_index, double eps, T *grad_logits);          \
    /* probability targets q = (1 - eps) target + eps / c: loss[i] = -sum_k w[k] q[k] logp[k] */    \
    void cg_cross_entropy_prob_fwd_##suffix(const T *logits, const T *target, const T *weight,      \
                                            int64_t n, int64_t c, double eps, T *log_probs,        \
                                            T *loss);                                              \
    /* gx[i,k] = g[i] (p[k] sum_j w[j] q[j] - w[k] q[k]) */                                        \
    void cg_cross_entropy_prob_bwd_##suffix(const T *log_probs, const T *target, const T *weight,   \
                                            const T *row_grad, int64_t n, int64_t c, double eps,   \
                                            T *grad_logits);                                       \
    /* on log-probabilities x: loss[i] = -w[t] x[i,t], row_weight[i] = w[t]; 0 when ignored */      \
    void cg_nll_fwd_##suffix(const T *x, const int64_t *target, const T *weight, int64_t n,         \
                             int64_t c, int64_t ignore_index, T *loss, T *row_weight);             \
    /* gx = 0 except gx[i,t] = -w[t] g[i] */                                                        \
    void cg_nll_bwd_##suffix(const int64_t *target, const T *weight, const T *row_grad, int64_t n,  \
                             int64_t c, int64_t ignore_index, T *grad_x);                          \
    /* loss = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100))   (torch's clamp) */          \
    void cg_bce_fwd_##suffix(const T *x, const T *y, const T *w, int64_t n, T *loss);              \
    /* gx = g w (x - y) / max((1 - x) x, 1e-12) */                                                  \
    void cg_bce_bwd_##suffix(const T *x, const T *y, const T *w, const T *g, int64_t n, T *gx);    \
    /* with l = (pw - 1) y + 1: loss = w ((1 - y) x + l (log1p(exp(-|x|)) + max(-x, 0))) */         \
    void cg_bce_logits_fwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    int64_t n, T *loss);                                           \
    /* gx = g w ((1 - y) - l sigmoid(-x)) */                                                       \
    void cg_bce_logits_bwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    const T *g, int64_t n, T *gx);                                 \
    /* d = x - y: loss = |d| < beta ? d^2 / (2 beta) : |d| - beta / 2 */                            \
    void cg_smooth_l1_fwd_##suffix(const T *x, const T *y, int64_t n, double beta, T *loss);        \
    /* gx = g (|d| < beta ? d / beta : sign(d)) */                                                  \
    void cg_smooth_l1_bwd_##suffix(const T *x, const T *y, const T *g, int64_t n, double beta,      \
                                   T *gx);

CG_LOSS_DECLARE(float, f32)
CG_LOSS_DECLARE(double, f64)
#undef CG_LOSS_DECLARE

#endif
