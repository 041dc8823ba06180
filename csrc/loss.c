/* Loss kernels (see cygrad/loss.h). Cross-entropy is log-softmax and NLL fused: one pass finds
 * the row max, one sums exp(x - max) in double, one writes log-probabilities and the loss, so
 * logits of +-1000 are exact. Formulas are written once for float and double with <tgmath.h>;
 * exp, log and log1p are vecmath.h's (vectorized for float, libm for double). */
#include "cygrad/loss.h"

#include <tgmath.h>

#include "simd_variants.h"
#include "vecmath.h"

/* partial sums of a row's exponentials: the loop over them vectorizes */
#define LANES 16

#define WEIGHT(w, k) ((w) ? (w)[k] : 1)

#define DEFINE_LOSSES(T, suffix)                                                                   \
    /* logp[k] = x[k] - max - log(sum exp(x - max)) for one row of c */                             \
    static void log_softmax_row_##suffix(const T *x, int64_t c, T *logp)                           \
    {                                                                                              \
        T max = x[0];                                                                              \
        for (int64_t k = 1; k < c; ++k)                                                            \
            max = x[k] > max ? x[k] : max;                                                         \
        double lanes[LANES] = {0};                                                                 \
        int64_t k = 0;                                                                             \
        for (; k + LANES <= c; k += LANES) {                                                       \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < LANES; ++j)                                                        \
                lanes[j] += vm_exp(x[k + j] - max);                                                \
        }                                                                                          \
        double sum = 0;                                                                            \
        for (; k < c; ++k)                                                                         \
            sum += vm_exp(x[k] - max);                                                             \
        for (int j = 0; j < LANES; ++j)                                                            \
            sum += lanes[j];                                                                       \
        const T shift = max + (T)log(sum);                                                         \
        for (int64_t k = 0; k < c; ++k)                                                            \
            logp[k] = x[k] - shift;                                                                \
    }                                                                                              \
                                                                                                   \
    void cg_cross_entropy_fwd_##suffix(const T *logits, const int64_t *target, const T *weight,     \
                                       int64_t n, int64_t c, int64_t ignore_index, double eps,     \
                                       T *log_probs, T *loss, T *row_weight)                       \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            T *logp = log_probs + i * c;                                                           \
            log_softmax_row_##suffix(logits + i * c, c, logp);                                     \
            const int64_t t = target[i];                                                           \
            if (t == ignore_index) {                                                               \
                loss[i] = 0, row_weight[i] = 0;                                                    \
                continue;                                                                          \
            }                                                                                      \
            double smooth = 0;                                                                     \
            if (eps != 0)                                                                          \
                for (int64_t k = 0; k < c; ++k)                                                    \
                    smooth -= (double)WEIGHT(weight, k) * logp[k];                                 \
            row_weight[i] = WEIGHT(weight, t);                                                     \
            loss[i] = (T)((1 - eps) * -(double)(row_weight[i] * logp[t]) + eps / c * smooth);      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_cross_entropy_bwd_##suffix(const T *log_probs, const int64_t *target, const T *weight,  \
                                       const T *row_grad, int64_t n, int64_t c,                    \
                                       int64_t ignore_index, double eps, T *grad_logits)           \
    {                                                                                              \
        double weight_total = 0;                                                                   \
        for (int64_t k = 0; k < c; ++k)                                                            \
            weight_total += WEIGHT(weight, k);                                                     \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T *logp = log_probs + i * c;                                                     \
            T *gx = grad_logits + i * c;                                                           \
            const int64_t t = target[i];                                                           \
            if (t == ignore_index) {                                                               \
                for (int64_t k = 0; k < c; ++k)                                                    \
                    gx[k] = 0;                                                                     \
                continue;                                                                          \
            }                                                                                      \
            const T g = row_grad[i];                                                               \
            const T nll_scale = (T)((1 - eps) * WEIGHT(weight, t));                                \
            const T smooth_scale = (T)(eps / c);                                                   \
            /* every class as if it were not the target (a loop without per-element branches, so \
             * it vectorizes), then the target's entry again with its indicator */                \
            if (weight) {                                                                          \
                CG_SIMD_LOOP                                                                       \
                for (int64_t k = 0; k < c; ++k) {                                                  \
                    const T p = vm_exp(logp[k]);                                                   \
                    gx[k] = g * (nll_scale * p + smooth_scale * (p * (T)weight_total - weight[k]));\
                }                                                                                  \
            } else {                                                                               \
                CG_SIMD_LOOP                                                                       \
                for (int64_t k = 0; k < c; ++k) {                                                  \
                    const T p = vm_exp(logp[k]);                                                   \
                    gx[k] = g * (nll_scale * p + smooth_scale * (p * (T)weight_total - 1));        \
                }                                                                                  \
            }                                                                                      \
            const T p_target = vm_exp(logp[t]);                                                    \
            gx[t] = g * (nll_scale * (p_target - 1) +                                              \
                         smooth_scale * (p_target * (T)weight_total - WEIGHT(weight, t)));         \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_cross_entropy_prob_fwd_##suffix(const T *logits, const T *target, const T *weight,      \
                                            int64_t n, int64_t c, double eps, T *log_probs,        \
                                            T *loss)                                               \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            T *logp = log_probs + i * c;                                                           \
            log_softmax_row_##suffix(logits + i * c, c, logp);                                     \
            double total = 0;                                                                      \
            for (int64_t k = 0; k < c; ++k) {                                                      \
                const double q = (1 - eps) * target[i * c + k] + eps / c;                          \
                total -= WEIGHT(weight, k) * q * logp[k];                                          \
            }                                                                                      \
            loss[i] = (T)total;                                                                    \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_cross_entropy_prob_bwd_##suffix(const T *log_probs, const T *target, const T *weight,   \
                                            const T *row_grad, int64_t n, int64_t c, double eps,   \
                                            T *grad_logits)                                        \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T *logp = log_probs + i * c;                                                     \
            double mass = 0;                                                                       \
            for (int64_t k = 0; k < c; ++k)                                                        \
                mass += WEIGHT(weight, k) * ((1 - eps) * target[i * c + k] + eps / c);             \
            for (int64_t k = 0; k < c; ++k) {                                                      \
                const T q = (T)((1 - eps) * target[i * c + k] + eps / c);                          \
                grad_logits[i * c + k] =                                                           \
                    row_grad[i] * (vm_exp(logp[k]) * (T)mass - WEIGHT(weight, k) * q);             \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_nll_fwd_##suffix(const T *x, const int64_t *target, const T *weight, int64_t n,         \
                             int64_t c, int64_t ignore_index, T *loss, T *row_weight)              \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const int64_t t = target[i];                                                           \
            row_weight[i] = t == ignore_index ? 0 : WEIGHT(weight, t);                             \
            loss[i] = t == ignore_index ? 0 : -row_weight[i] * x[i * c + t];                       \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_nll_bwd_##suffix(const int64_t *target, const T *weight, const T *row_grad, int64_t n,  \
                             int64_t c, int64_t ignore_index, T *grad_x)                           \
    {                                                                                              \
        for (int64_t i = 0; i < n * c; ++i)                                                        \
            grad_x[i] = 0;                                                                         \
        for (int64_t i = 0; i < n; ++i)                                                            \
            if (target[i] != ignore_index)                                                         \
                grad_x[i * c + target[i]] = -WEIGHT(weight, target[i]) * row_grad[i];              \
    }                                                                                              \
                                                                                                   \
    void cg_bce_fwd_##suffix(const T *x, const T *y, const T *w, int64_t n, T *loss)               \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T log_x = fmax(vm_log(x[i]), (T)-100);                                           \
            const T log_1mx = fmax(vm_log(1 - x[i]), (T)-100);                                     \
            loss[i] = -WEIGHT(w, i) * (y[i] * log_x + (1 - y[i]) * log_1mx);                       \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_bce_bwd_##suffix(const T *x, const T *y, const T *w, const T *g, int64_t n, T *gx)     \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i)                                                            \
            gx[i] = g[i] * WEIGHT(w, i) * (x[i] - y[i]) / fmax((1 - x[i]) * x[i], (T)1e-12);       \
    }                                                                                              \
                                                                                                   \
    void cg_bce_logits_fwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    int64_t n, T *loss)                                            \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T log_weight = pos_weight ? (pos_weight[i] - 1) * y[i] + 1 : 1;                  \
            const T softplus_neg_x = vm_log1p(vm_exp(-fabs(x[i]))) + fmax(-x[i], (T)0);            \
            loss[i] = WEIGHT(w, i) * ((1 - y[i]) * x[i] + log_weight * softplus_neg_x);            \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_bce_logits_bwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    const T *g, int64_t n, T *gx)                                  \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T log_weight = pos_weight ? (pos_weight[i] - 1) * y[i] + 1 : 1;                  \
            const T sigmoid_neg_x = 1 / (1 + vm_exp(x[i]));                                        \
            gx[i] = g[i] * WEIGHT(w, i) * ((1 - y[i]) - log_weight * sigmoid_neg_x);               \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_smooth_l1_fwd_##suffix(const T *x, const T *y, int64_t n, double beta, T *loss)        \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T d = fabs(x[i] - y[i]);                                                         \
            loss[i] = d < beta ? (T)(0.5 * d * d / beta) : (T)(d - 0.5 * beta);                    \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    void cg_smooth_l1_bwd_##suffix(const T *x, const T *y, const T *g, int64_t n, double beta,      \
                                   T *gx)                                                          \
    {                                                                                              \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T d = x[i] - y[i];                                                               \
            gx[i] = g[i] * (fabs(d) < beta ? (T)(d / beta) : (T)((d > 0) - (d < 0)));              \
        }                                                                                          \
    }

DEFINE_LOSSES(float, f32)
DEFINE_LOSSES(double, f64)
