/* Loss kernels (see cygrad/loss.h). Cross-entropy's forward is nn.c's log-softmax (stable for
 * logits of +-1000, vectorized per SIMD level, split over rows) followed by the per-row loss; its
 * backward is compiled per SIMD level and split over rows too. Formulas are written once for
 * float and double with <tgmath.h>; exp, log and log1p are vecmath.h's (vectorized for float,
 * libm for double). */
#include "cygrad/loss.h"

#include <tgmath.h>

#include "cygrad/nn.h"
#include "cygrad/parallel.h"
#include "simd_variants.h"
#include "vecmath.h"

#define WEIGHT(w, k) ((w) ? (w)[k] : 1)

typedef struct {
    const void *log_probs, *weight, *row_grad;
    const int64_t *target;
    int64_t c, ignore_index;
    double eps, weight_total;
    void *grad_logits;
} cross_entropy_bwd_job;

/* Cross-entropy with probability targets: rows are independent, so each chunk of rows computes
 * its losses (forward) or gradient rows (backward) as one thread would. */
typedef struct {
    const void *log_probs, *target, *weight, *row_grad;
    int64_t c;
    double eps;
    void *out; /* the loss per row (forward) or the gradient (backward) */
} prob_cross_entropy_job;

/* The body (the variadic part) for each row i of [begin, end) of the prob_cross_entropy_job ctx,
 * with weight (NULL: 1), c, keep = 1 - eps and spread = eps / c, and the row's logp and target:
 * the smoothed target of class k is keep * target[k] + spread. As in POINTWISE_LOSS, one loop per
 * presence of the weights, in which a missing one is a NULL constant, so that the body is written
 * once with WEIGHT and each loop vectorizes. */
#define PROB_ROWS(T, ...)                                                                          \
    const prob_cross_entropy_job *job = ctx;                                                       \
    const int64_t c = job->c;                                                                      \
    const double keep = 1 - job->eps, spread = job->eps / c;                                       \
    if (job->weight) {                                                                             \
        const T *const weight = job->weight;                                                       \
        PROB_ROW_LOOP(T, __VA_ARGS__)                                                              \
    } else {                                                                                       \
        const T *const weight = NULL;                                                              \
        PROB_ROW_LOOP(T, __VA_ARGS__)                                                              \
    }
#define PROB_ROW_LOOP(T, ...)                                                                      \
    for (int64_t i = begin; i < end; ++i) {                                                        \
        const T *logp = (const T *)job->log_probs + i * c;                                         \
        const T *target = (const T *)job->target + i * c;                                          \
        __VA_ARGS__                                                                                \
    }

/* The per-element losses and their gradients: element i of the output depends on element i of
 * the inputs only, so [0, n) is split over threads in ranges, and each range is compiled per SIMD
 * level (no FMA is written and -ffp-contract=off: the same bits on every path and thread count). */
typedef struct {
    const void *x, *y, *w, *pos_weight, *g; /* the inputs a loss uses; the others NULL */
    void *out;
    double beta;
} pointwise_loss_job;

/* the body for each i of [begin, end), with w and pos_weight as the enclosing scope has them */
#define POINTWISE_LOOP(...)                                                                        \
    (void)w, (void)pos_weight;                                                                     \
    for (int64_t i = begin; i < end; ++i)                                                          \
        __VA_ARGS__
/* name##_block_##suffix: a cg_parallel_for range function (a pointwise_loss_job as ctx), compiled
 * per SIMD level, that runs the body (the variadic part,
 * a block that may contain commas) for each i of its range, with the job's operands as x, y, w
 * (NULL: weight 1), pos_weight, g, out and beta */
#define POINTWISE_LOSS(name, T, suffix, ...)                                                       \
    CG_SIMD_VARIANTS(static, name##_block_##suffix, (void *ctx, int64_t begin, int64_t end),       \
                     (ctx, begin, end), {                                                          \
        const pointwise_loss_job *job = ctx;                                                       \
        const T *x = job->x, *y = job->y, *g = job->g;                                             \
        T *out = job->out;                                                                         \
        const double beta = job->beta;                                                             \
        (void)g, (void)beta;                                                                       \
        /* one loop per presence of the optional operands, in which a missing one is a NULL       \
         * constant: the body's tests of it fold away and the loop vectorizes */                   \
        if (job->w && job->pos_weight) {                                                           \
            const T *const w = job->w, *const pos_weight = job->pos_weight;                       \
            POINTWISE_LOOP(__VA_ARGS__)                                                            \
        } else if (job->w) {                                                                       \
            const T *const w = job->w, *const pos_weight = NULL;                                   \
            POINTWISE_LOOP(__VA_ARGS__)                                                            \
        } else if (job->pos_weight) {                                                              \
            const T *const w = NULL, *const pos_weight = job->pos_weight;                          \
            POINTWISE_LOOP(__VA_ARGS__)                                                            \
        } else {                                                                                   \
            const T *const w = NULL, *const pos_weight = NULL;                                     \
            POINTWISE_LOOP(__VA_ARGS__)                                                            \
        }                                                                                          \
    })

#define DEFINE_LOSSES(T, suffix)                                                                   \
    void cg_cross_entropy_fwd_##suffix(const T *logits, const int64_t *target, const T *weight,     \
                                       int64_t n, int64_t c, int64_t ignore_index, double eps,     \
                                       T *log_probs, T *loss, T *row_weight)                       \
    {                                                                                              \
        cg_log_softmax_fwd_##suffix(logits, log_probs, n, c, 1); /* vectorized, split by rows */   \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const T *logp = log_probs + i * c;                                                     \
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
    /* rows [begin, end) of the gradient; compiled per SIMD level (the exp loop vectorizes) */     \
    CG_SIMD_VARIANTS(static, cross_entropy_bwd_block_##suffix,                                     \
                     (void *ctx, int64_t begin, int64_t end), (ctx, begin, end), {                 \
        const cross_entropy_bwd_job *job = ctx;                                                    \
        const int64_t c = job->c;                                                                  \
        const T *weight = job->weight;                                                             \
        const T weight_total = (T)job->weight_total, smooth_scale = (T)(job->eps / c);             \
        for (int64_t i = begin; i < end; ++i) {                                                    \
            const T *logp = (const T *)job->log_probs + i * c;                                     \
            T *gx = (T *)job->grad_logits + i * c;                                                 \
            const int64_t t = job->target[i];                                                      \
            if (t == job->ignore_index) {                                                          \
                for (int64_t k = 0; k < c; ++k)                                                    \
                    gx[k] = 0;                                                                     \
                continue;                                                                          \
            }                                                                                      \
            const T g = ((const T *)job->row_grad)[i];                                             \
            const T nll_scale = (T)((1 - job->eps) * WEIGHT(weight, t));                           \
            /* every class as if it were not the target (a loop without per-element branches, so \
             * it vectorizes), then the target's entry again with its indicator */                \
            if (weight) {                                                                          \
                CG_SIMD_LOOP                                                                       \
                for (int64_t k = 0; k < c; ++k) {                                                  \
                    const T p = vm_exp(logp[k]);                                                   \
                    gx[k] = g * (nll_scale * p + smooth_scale * (p * weight_total - weight[k]));   \
                }                                                                                  \
            } else {                                                                               \
                CG_SIMD_LOOP                                                                       \
                for (int64_t k = 0; k < c; ++k) {                                                  \
                    const T p = vm_exp(logp[k]);                                                   \
                    gx[k] = g * (nll_scale * p + smooth_scale * (p * weight_total - 1));           \
                }                                                                                  \
            }                                                                                      \
            const T p_target = vm_exp(logp[t]);                                                    \
            gx[t] = g * (nll_scale * (p_target - 1) +                                              \
                         smooth_scale * (p_target * weight_total - WEIGHT(weight, t)));            \
        }                                                                                          \
    })                                                                                             \
                                                                                                   \
    void cg_cross_entropy_bwd_##suffix(const T *log_probs, const int64_t *target, const T *weight,  \
                                       const T *row_grad, int64_t n, int64_t c,                    \
                                       int64_t ignore_index, double eps, T *grad_logits)           \
    {                                                                                              \
        double weight_total = 0;                                                                   \
        for (int64_t k = 0; k < c; ++k)                                                            \
            weight_total += WEIGHT(weight, k);                                                     \
        cross_entropy_bwd_job job = {log_probs, weight, row_grad, target, c, ignore_index, eps,    \
                                     weight_total, grad_logits};                                   \
        cg_parallel_for(n, cg_grain_in_items(CG_GRAIN_TRANSCENDENTAL, c),                          \
                        cross_entropy_bwd_block_##suffix, &job);                                   \
    }                                                                                              \
                                                                                                   \
    /* rows [begin, end) of the loss; compiled per SIMD level, the sums over classes in double */  \
    CG_SIMD_VARIANTS(static, prob_cross_entropy_fwd_block_##suffix,                                \
                     (void *ctx, int64_t begin, int64_t end), (ctx, begin, end), {                 \
        PROB_ROWS(T, {                                                                             \
            double total = 0;                                                                      \
            CG_SIMD_SUM(total)                                                                     \
            for (int64_t k = 0; k < c; ++k)                                                        \
                total -= WEIGHT(weight, k) * (keep * target[k] + spread) * logp[k];                \
            ((T *)job->out)[i] = (T)total;                                                         \
        })                                                                                         \
    })                                                                                             \
                                                                                                   \
    void cg_cross_entropy_prob_fwd_##suffix(const T *logits, const T *target, const T *weight,      \
                                            int64_t n, int64_t c, double eps, T *log_probs,        \
                                            T *loss)                                               \
    {                                                                                              \
        cg_log_softmax_fwd_##suffix(logits, log_probs, n, c, 1);                                   \
        prob_cross_entropy_job job = {log_probs, target, weight, NULL, c, eps, loss};              \
        cg_parallel_for(n, cg_grain_in_items(CG_GRAIN_CHEAP, c),                                   \
                        prob_cross_entropy_fwd_block_##suffix, &job);                              \
    }                                                                                              \
                                                                                                   \
    /* rows [begin, end) of the gradient; compiled per SIMD level (the exp loop vectorizes) */     \
    CG_SIMD_VARIANTS(static, prob_cross_entropy_bwd_block_##suffix,                                \
                     (void *ctx, int64_t begin, int64_t end), (ctx, begin, end), {                 \
        PROB_ROWS(T, {                                                                             \
            T *grad = (T *)job->out + i * c;                                                       \
            const T g = ((const T *)job->row_grad)[i];                                             \
            /* q_k = (1 - eps) t_k + eps / c; grad_k = g (p_k sum(w q) - w_k q_k) */               \
            double mass = 0;                                                                       \
            CG_SIMD_SUM(mass)                                                                      \
            for (int64_t k = 0; k < c; ++k)                                                        \
                mass += WEIGHT(weight, k) * (keep * target[k] + spread);                           \
            const T m = (T)mass;                                                                   \
            CG_SIMD_LOOP                                                                           \
            for (int64_t k = 0; k < c; ++k) {                                                      \
                const T q = (T)(keep * target[k] + spread);                                        \
                grad[k] = g * (vm_exp(logp[k]) * m - WEIGHT(weight, k) * q);                       \
            }                                                                                      \
        })                                                                                         \
    })                                                                                             \
                                                                                                   \
    void cg_cross_entropy_prob_bwd_##suffix(const T *log_probs, const T *target, const T *weight,   \
                                            const T *row_grad, int64_t n, int64_t c, double eps,   \
                                            T *grad_logits)                                        \
    {                                                                                              \
        prob_cross_entropy_job job = {log_probs, target, weight, row_grad, c, eps, grad_logits};   \
        cg_parallel_for(n, cg_grain_in_items(CG_GRAIN_TRANSCENDENTAL, c),                          \
                        prob_cross_entropy_bwd_block_##suffix, &job);                              \
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
    /* ---- per-element losses: BCE, BCE with logits, smooth L1 (see POINTWISE_LOSS) ---- */     \
    /* loss = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)): torch's clamp, which       \
     * keeps a NaN (fmax would turn it into -100) */                                               \
    POINTWISE_LOSS(bce_fwd, T, suffix, {                                                           \
        const T log_x = vm_log(x[i]), log_1mx = vm_log(1 - x[i]);                                  \
        out[i] = -WEIGHT(w, i) * (y[i] * (log_x < -100 ? (T)-100 : log_x) +                        \
                                  (1 - y[i]) * (log_1mx < -100 ? (T)-100 : log_1mx));              \
    })                                                                                             \
    void cg_bce_fwd_##suffix(const T *x, const T *y, const T *w, int64_t n, T *loss)               \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .w = w, .out = loss};                            \
        cg_parallel_for(n, CG_GRAIN_TRANSCENDENTAL, bce_fwd_block_##suffix, &job);                 \
    }                                                                                              \
    /* gx = g w (x - y) / max((1 - x) x, 1e-12) */                                                 \
    POINTWISE_LOSS(bce_bwd, T, suffix, {                                                           \
        const T spread = (1 - x[i]) * x[i];                                                        \
        out[i] = g[i] * WEIGHT(w, i) * (x[i] - y[i]) / (spread < (T)1e-12 ? (T)1e-12 : spread);    \
    })                                                                                             \
    void cg_bce_bwd_##suffix(const T *x, const T *y, const T *w, const T *g, int64_t n, T *gx)     \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .w = w, .g = g, .out = gx};                      \
        cg_parallel_for(n, CG_GRAIN_CHEAP, bce_bwd_block_##suffix, &job);                          \
    }                                                                                              \
    /* with l = (pw - 1) y + 1: loss = w ((1 - y) x + l (log1p(exp(-|x|)) + max(-x, 0))) */         \
    POINTWISE_LOSS(bce_logits_fwd, T, suffix, {                                                    \
        const T log_weight = pos_weight ? (pos_weight[i] - 1) * y[i] + 1 : 1;                      \
        const T softplus_neg_x = vm_log1p(vm_exp(-fabs(x[i]))) + (-x[i] > 0 ? -x[i] : 0);          \
        out[i] = WEIGHT(w, i) * ((1 - y[i]) * x[i] + log_weight * softplus_neg_x);                 \
    })                                                                                             \
    void cg_bce_logits_fwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    int64_t n, T *loss)                                            \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .w = w, .pos_weight = pos_weight, .out = loss};  \
        cg_parallel_for(n, CG_GRAIN_TRANSCENDENTAL, bce_logits_fwd_block_##suffix, &job);          \
    }                                                                                              \
    /* gx = g w ((1 - y) - l sigmoid(-x)) */                                                       \
    POINTWISE_LOSS(bce_logits_bwd, T, suffix, {                                                    \
        const T log_weight = pos_weight ? (pos_weight[i] - 1) * y[i] + 1 : 1;                      \
        const T sigmoid_neg_x = 1 / (1 + vm_exp(x[i]));                                            \
        out[i] = g[i] * WEIGHT(w, i) * ((1 - y[i]) - log_weight * sigmoid_neg_x);                  \
    })                                                                                             \
    void cg_bce_logits_bwd_##suffix(const T *x, const T *y, const T *w, const T *pos_weight,        \
                                    const T *g, int64_t n, T *gx)                                  \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .w = w, .pos_weight = pos_weight, .g = g,        \
                                  .out = gx};                                                      \
        cg_parallel_for(n, CG_GRAIN_TRANSCENDENTAL, bce_logits_bwd_block_##suffix, &job);          \
    }                                                                                              \
    /* d = x - y: loss = |d| < beta ? d^2 / (2 beta) : |d| - beta / 2. Both sides are computed   \
     * and one is selected (in double, as beta is): a branch on random data mispredicted half the  \
     * time, and the select vectorizes. */                                                         \
    POINTWISE_LOSS(smooth_l1_fwd, T, suffix, {                                                     \
        const double d = fabs(x[i] - y[i]);                                                        \
        const double quadratic = 0.5 * d * d / beta, linear = d - 0.5 * beta;                      \
        out[i] = (T)(d < beta ? quadratic : linear);                                               \
    })                                                                                             \
    void cg_smooth_l1_fwd_##suffix(const T *x, const T *y, int64_t n, double beta, T *loss)        \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .beta = beta, .out = loss};                      \
        cg_parallel_for(n, CG_GRAIN_CHEAP, smooth_l1_fwd_block_##suffix, &job);                    \
    }                                                                                              \
    /* gx = g (|d| < beta ? d / beta : sign(d)), both sides computed and one selected */          \
    POINTWISE_LOSS(smooth_l1_bwd, T, suffix, {                                                     \
        const T d = x[i] - y[i];                                                                   \
        const T ratio = (T)(d / beta), sign = (T)((d > 0) - (d < 0));                              \
        out[i] = g[i] * (fabs(d) < beta ? ratio : sign);                                           \
    })                                                                                             \
    void cg_smooth_l1_bwd_##suffix(const T *x, const T *y, const T *g, int64_t n, double beta,      \
                                   T *gx)                                                          \
    {                                                                                              \
        pointwise_loss_job job = {.x = x, .y = y, .g = g, .beta = beta, .out = gx};                \
        cg_parallel_for(n, CG_GRAIN_CHEAP, smooth_l1_bwd_block_##suffix, &job);                    \
    }

DEFINE_LOSSES(float, f32)
DEFINE_LOSSES(double, f64)
