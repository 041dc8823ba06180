/* Fused optimizer updates and the vector norm used by gradient clipping (see cygrad/optim.h).
 *
 * Every step kernel is a single loop over the parameter's elements that reads each buffer once
 * and writes each once. Options that decide whether a state buffer is written (momentum, amsgrad,
 * centered) select one of a few copies of the loop, each compiled with the option as a constant,
 * so every loop is branch-free and vectorizes without masked stores; the other options are
 * loop-invariant selects. Rounding follows torch's single-tensor implementation: each scalar is
 * rounded to the element type T where torch hands it to a tensor op, and each tensor op's result
 * is rounded to T (no FMA contraction: the build uses -ffp-contract=off).
 */
#include "cygrad/optim.h"

#include <math.h>
#include <stddef.h>

#include "cygrad/parallel.h"
#include "simd_variants.h"

/* torch's lerp(start, end, weight): start + weight * (end - start) for |weight| < 0.5, else
 * end - (end - start) * (1 - weight) (exact at weight = 1). `small` and `one_minus_w` are
 * computed once per call by the kernel. */
#define LERP(start, end, w, one_minus_w, small)                                                    \
    ((small) ? (start) + (w) * ((end) - (start)) : (end) - ((end) - (start)) * (one_minus_w))

/* torch.maximum: NaN wins */
#define NAN_MAX(a, b) (((a) >= (b) || (a) != (a)) ? (a) : (b))

/* ---- SGD ---- */

#define SGD_LOOP(T, HAS_MOMENTUM)                                                                  \
    CG_SIMD_LOOP                                                                                   \
    for (int64_t i = 0; i < n; ++i) {                                                              \
        T g = maximize ? -grad[i] : grad[i];                                                       \
        if (weight_decay != 0)                                                                     \
            g = g + wd * param[i];                                                                 \
        if (HAS_MOMENTUM) {                                                                        \
            const T b = first_step ? g : momentum_buf[i] * mom + keep * g;                         \
            momentum_buf[i] = b;                                                                   \
            g = nesterov ? g + mom * b : b;                                                        \
        }                                                                                          \
        param[i] = param[i] + neg_lr * g;                                                          \
    }

#define SGD_BODY(T)                                                                                \
    const T wd = (T)weight_decay, mom = (T)momentum, keep = (T)(1.0 - dampening);                  \
    const T neg_lr = (T)(-lr);                                                                     \
    if (momentum_buf) {                                                                            \
        SGD_LOOP(T, 1)                                                                             \
    } else {                                                                                       \
        SGD_LOOP(T, 0)                                                                             \
    }

CG_SIMD_VARIANTS(static, sgd_step_f32,
                 (float *param, const float *grad, float *momentum_buf, int64_t n, double lr,
                  double momentum, double dampening, double weight_decay, int nesterov,
                  int maximize, int first_step),
                 (param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay, nesterov,
                  maximize, first_step),
                 SGD_BODY(float))
CG_SIMD_VARIANTS(static, sgd_step_f64,
                 (double *param, const double *grad, double *momentum_buf, int64_t n, double lr,
                  double momentum, double dampening, double weight_decay, int nesterov,
                  int maximize, int first_step),
                 (param, grad, momentum_buf, n, lr, momentum, dampening, weight_decay, nesterov,
                  maximize, first_step),
                 SGD_BODY(double))

/* ---- Adam / AdamW ---- */

/* torch: step_size = lr / bias_correction1 and bias_correction2 ** 0.5 are Python floats; the
 * denominator is (sqrt(v) / bias_correction2_sqrt).add_(eps) and the update
 * p.addcdiv_(m, denom, value=-step_size) computes p + (-step_size * m) / denom. */
#define ADAM_LOOP(T, SQRT, AMSGRAD)                                                                \
    CG_SIMD_LOOP                                                                                   \
    for (int64_t i = 0; i < n; ++i) {                                                              \
        T g = maximize ? -grad[i] : grad[i];                                                       \
        T p = param[i];                                                                            \
        if (weight_decay != 0) {                                                                   \
            if (decoupled)                                                                         \
                p = p * decay;                                                                     \
            else                                                                                   \
                g = g + wd * p;                                                                    \
        }                                                                                          \
        const T m = LERP(exp_avg[i], g, w1, one_minus_w1, small);                                  \
        T v = exp_avg_sq[i] * b2 + w2 * g * g;                                                     \
        exp_avg[i] = m;                                                                            \
        exp_avg_sq[i] = v;                                                                         \
        if (AMSGRAD) {                                                                             \
            v = NAN_MAX(max_exp_avg_sq[i], v);                                                     \
            max_exp_avg_sq[i] = v;                                                                 \
        }                                                                                          \
        const T denom = SQRT(v) / bias_correction2_sqrt + eps_t;                                   \
        param[i] = p + neg_step_size * m / denom;                                                  \
    }

#define ADAM_BODY(T, SQRT)                                                                         \
    const T wd = (T)weight_decay, decay = (T)(1.0 - lr * weight_decay);                            \
    const T w1 = (T)(1.0 - beta1), one_minus_w1 = (T)1 - w1;                                       \
    const int small = w1 < (T)0.5 && w1 > (T)-0.5;                                                 \
    const T b2 = (T)beta2, w2 = (T)(1.0 - beta2);                                                  \
    const double bias_correction1 = 1.0 - pow(beta1, step);                                        \
    const double bias_correction2 = 1.0 - pow(beta2, step);                                        \
    const T neg_step_size = (T)(-(lr / bias_correction1));                                         \
    const T bias_correction2_sqrt = (T)pow(bias_correction2, 0.5);                                 \
    const T eps_t = (T)eps;                                                                        \
    if (max_exp_avg_sq) {                                                                          \
        ADAM_LOOP(T, SQRT, 1)                                                                      \
    } else {                                                                                       \
        ADAM_LOOP(T, SQRT, 0)                                                                      \
    }

CG_SIMD_VARIANTS(static, adam_step_f32,
                 (float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                  float *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                  double eps, double weight_decay, double step, int decoupled, int maximize),
                 (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1, beta2, eps,
                  weight_decay, step, decoupled, maximize),
                 ADAM_BODY(float, sqrtf))
CG_SIMD_VARIANTS(static, adam_step_f64,
                 (double *param, const double *grad, double *exp_avg, double *exp_avg_sq,
                  double *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                  double eps, double weight_decay, double step, int decoupled, int maximize),
                 (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, lr, beta1, beta2, eps,
                  weight_decay, step, decoupled, maximize),
                 ADAM_BODY(double, sqrt))

/* ---- RMSprop ---- */

/* torch: square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha); centered:
 * grad_avg.lerp_(g, 1 - alpha), avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_();
 * avg.add_(eps); momentum: buf.mul_(momentum).addcdiv_(g, avg), p.add_(buf, alpha=-lr);
 * else p.addcdiv_(g, avg, value=-lr). */
#define RMSPROP_LOOP(T, SQRT, CENTERED, HAS_MOMENTUM)                                              \
    CG_SIMD_LOOP                                                                                   \
    for (int64_t i = 0; i < n; ++i) {                                                              \
        T g = maximize ? -grad[i] : grad[i];                                                       \
        if (weight_decay != 0)                                                                     \
            g = g + wd * param[i];                                                                 \
        const T s = square_avg[i] * a + w * g * g;                                                 \
        square_avg[i] = s;                                                                         \
        T avg;                                                                                     \
        if (CENTERED) {                                                                            \
            const T ga = LERP(grad_avg[i], g, w, one_minus_w, small);                              \
            grad_avg[i] = ga;                                                                      \
            avg = SQRT(s + (T)-1 * ga * ga);                                                       \
        } else {                                                                                   \
            avg = SQRT(s);                                                                         \
        }                                                                                          \
        avg = avg + eps_t;                                                                         \
        if (HAS_MOMENTUM) {                                                                        \
            const T b = momentum_buf[i] * mom + g / avg;                                           \
            momentum_buf[i] = b;                                                                   \
            param[i] = param[i] + neg_lr * b;                                                      \
        } else {                                                                                   \
            param[i] = param[i] + neg_lr * g / avg;                                                \
        }                                                                                          \
    }

#define RMSPROP_BODY(T, SQRT)                                                                      \
    const T wd = (T)weight_decay, a = (T)alpha, w = (T)(1.0 - alpha), one_minus_w = (T)1 - w;      \
    const int small = w < (T)0.5 && w > (T)-0.5;                                                   \
    const T eps_t = (T)eps, mom = (T)momentum, neg_lr = (T)(-lr);                                  \
    if (grad_avg && momentum_buf) {                                                                \
        RMSPROP_LOOP(T, SQRT, 1, 1)                                                                \
    } else if (grad_avg) {                                                                         \
        RMSPROP_LOOP(T, SQRT, 1, 0)                                                                \
    } else if (momentum_buf) {                                                                     \
        RMSPROP_LOOP(T, SQRT, 0, 1)                                                                \
    } else {                                                                                       \
        RMSPROP_LOOP(T, SQRT, 0, 0)                                                                \
    }

CG_SIMD_VARIANTS(static, rmsprop_step_f32,
                 (float *param, const float *grad, float *square_avg, float *grad_avg,
                  float *momentum_buf, int64_t n, double lr, double alpha, double eps,
                  double weight_decay, double momentum, int maximize),
                 (param, grad, square_avg, grad_avg, momentum_buf, n, lr, alpha, eps,
                  weight_decay, momentum, maximize),
                 RMSPROP_BODY(float, sqrtf))
CG_SIMD_VARIANTS(static, rmsprop_step_f64,
                 (double *param, const double *grad, double *square_avg, double *grad_avg,
                  double *momentum_buf, int64_t n, double lr, double alpha, double eps,
                  double weight_decay, double momentum, int maximize),
                 (param, grad, square_avg, grad_avg, momentum_buf, n, lr, alpha, eps,
                  weight_decay, momentum, maximize),
                 RMSPROP_BODY(double, sqrt))

/* ---- Adagrad ---- */

/* torch: clr = lr / (1 + (step - 1) * lr_decay) as a Python float; state_sum.addcmul_(g, g);
 * std = state_sum.sqrt().add_(eps); p.addcdiv_(g, std, value=-clr). */
#define ADAGRAD_BODY(T, SQRT)                                                                      \
    const T wd = (T)weight_decay, eps_t = (T)eps;                                                  \
    const T neg_clr = (T)(-(lr / (1 + (step - 1) * lr_decay)));                                    \
    CG_SIMD_LOOP                                                                                   \
    for (int64_t i = 0; i < n; ++i) {                                                              \
        T g = maximize ? -grad[i] : grad[i];                                                       \
        if (weight_decay != 0)                                                                     \
            g = g + wd * param[i];                                                                 \
        const T s = state_sum[i] + g * g;                                                          \
        state_sum[i] = s;                                                                          \
        param[i] = param[i] + neg_clr * g / (SQRT(s) + eps_t);                                     \
    }

CG_SIMD_VARIANTS(static, adagrad_step_f32,
                 (float *param, const float *grad, float *state_sum, int64_t n, double lr,
                  double lr_decay, double weight_decay, double eps, double step, int maximize),
                 (param, grad, state_sum, n, lr, lr_decay, weight_decay, eps, step, maximize),
                 ADAGRAD_BODY(float, sqrtf))
CG_SIMD_VARIANTS(static, adagrad_step_f64,
                 (double *param, const double *grad, double *state_sum, int64_t n, double lr,
                  double lr_decay, double weight_decay, double eps, double step, int maximize),
                 (param, grad, state_sum, n, lr, lr_decay, weight_decay, eps, step, maximize),
                 ADAGRAD_BODY(double, sqrt))

/* ---- across threads ----
 * A step is elementwise over the parameter, so a block [begin, end) of it is the same kernel on
 * every buffer moved by `begin` and n = end - begin; blocks give the same bits as one pass. The
 * exported functions pack their arguments into a step_job and split it with cg_parallel_for. */

typedef struct {
    void *param, *grad, *state[3]; /* state buffers in the kernel's order; NULL: option off */
    double scalars[6];
    int flags[3];
    void (*run_block)(const void *job, int64_t begin, int64_t end);
} step_job;

#define AT(job, buffer, T, begin) ((job)->buffer ? (T *)(job)->buffer + (begin) : NULL)

static void run_step_block(void *job, int64_t begin, int64_t end)
{
    ((step_job *)job)->run_block(job, begin, end);
}

static void split_step(step_job *job, int64_t n)
{
    cg_parallel_for(n, CG_GRAIN_CHEAP, run_step_block, job);
}

#define DEFINE_PARALLEL_STEPS(T, suffix)                                                           \
    static void sgd_block_##suffix(const void *ctx, int64_t b, int64_t e)                          \
    {                                                                                              \
        const step_job *j = ctx;                                                                   \
        sgd_step_##suffix(AT(j, param, T, b), AT(j, grad, T, b), AT(j, state[0], T, b), e - b,     \
                          j->scalars[0], j->scalars[1], j->scalars[2], j->scalars[3],              \
                          j->flags[0], j->flags[1], j->flags[2]);                                  \
    }                                                                                              \
    void cg_sgd_step_##suffix(T *param, const T *grad, T *momentum_buf, int64_t n, double lr,      \
                              double momentum, double dampening, double weight_decay,              \
                              int nesterov, int maximize, int first_step)                          \
    {                                                                                              \
        step_job job = {param, (void *)grad, {momentum_buf},                                       \
                        {lr, momentum, dampening, weight_decay}, {nesterov, maximize, first_step}, \
                        sgd_block_##suffix};                                                       \
        split_step(&job, n);                                                                       \
    }                                                                                              \
    static void adam_block_##suffix(const void *ctx, int64_t b, int64_t e)                         \
    {                                                                                              \
        const step_job *j = ctx;                                                                   \
        adam_step_##suffix(AT(j, param, T, b), AT(j, grad, T, b), AT(j, state[0], T, b),           \
                           AT(j, state[1], T, b), AT(j, state[2], T, b), e - b, j->scalars[0],     \
                           j->scalars[1], j->scalars[2], j->scalars[3], j->scalars[4],             \
                           j->scalars[5], j->flags[0], j->flags[1]);                               \
    }                                                                                              \
    void cg_adam_step_##suffix(T *param, const T *grad, T *exp_avg, T *exp_avg_sq,                 \
                               T *max_exp_avg_sq, int64_t n, double lr, double beta1,              \
                               double beta2, double eps, double weight_decay, double step,         \
                               int decoupled, int maximize)                                        \
    {                                                                                              \
        step_job job = {param, (void *)grad, {exp_avg, exp_avg_sq, max_exp_avg_sq},                \
                        {lr, beta1, beta2, eps, weight_decay, step}, {decoupled, maximize},        \
                        adam_block_##suffix};                                                      \
        split_step(&job, n);                                                                       \
    }                                                                                              \
    static void rmsprop_block_##suffix(const void *ctx, int64_t b, int64_t e)                      \
    {                                                                                              \
        const step_job *j = ctx;                                                                   \
        rmsprop_step_##suffix(AT(j, param, T, b), AT(j, grad, T, b), AT(j, state[0], T, b),        \
                              AT(j, state[1], T, b), AT(j, state[2], T, b), e - b, j->scalars[0],  \
                              j->scalars[1], j->scalars[2], j->scalars[3], j->scalars[4],          \
                              j->flags[0]);                                                        \
    }                                                                                              \
    void cg_rmsprop_step_##suffix(T *param, const T *grad, T *square_avg, T *grad_avg,             \
                                  T *momentum_buf, int64_t n, double lr, double alpha, double eps, \
                                  double weight_decay, double momentum, int maximize)              \
    {                                                                                              \
        step_job job = {param, (void *)grad, {square_avg, grad_avg, momentum_buf},                 \
                        {lr, alpha, eps, weight_decay, momentum}, {maximize},                      \
                        rmsprop_block_##suffix};                                                   \
        split_step(&job, n);                                                                       \
    }                                                                                              \
    static void adagrad_block_##suffix(const void *ctx, int64_t b, int64_t e)                      \
    {                                                                                              \
        const step_job *j = ctx;                                                                   \
        adagrad_step_##suffix(AT(j, param, T, b), AT(j, grad, T, b), AT(j, state[0], T, b), e - b, \
                              j->scalars[0], j->scalars[1], j->scalars[2], j->scalars[3],          \
                              j->scalars[4], j->flags[0]);                                         \
    }                                                                                              \
    void cg_adagrad_step_##suffix(T *param, const T *grad, T *state_sum, int64_t n, double lr,     \
                                  double lr_decay, double weight_decay, double eps, double step,   \
                                  int maximize)                                                    \
    {                                                                                              \
        step_job job = {param, (void *)grad, {state_sum},                                          \
                        {lr, lr_decay, weight_decay, eps, step}, {maximize},                       \
                        adagrad_block_##suffix};                                                   \
        split_step(&job, n);                                                                       \
    }

DEFINE_PARALLEL_STEPS(float, f32)
DEFINE_PARALLEL_STEPS(double, f64)

/* ---- vector norm ---- */

/* Independent partial sums of the sum of squares: a fixed count (not the vector width), so every
 * SIMD level adds in the same order and gives the same bits. */
#define NORM_LANES 16

/* *out = ||x||_p in double (see optim.h) */
#define NORM_BODY(T)                                                                               \
    if (n == 0) {                                                                                  \
        *out = 0;                                                                                  \
        return;                                                                                    \
    }                                                                                              \
    if (isinf(p)) {                                                                                \
        double best = fabs((double)x[0]);                                                          \
        if (p > 0) {                                                                               \
            for (int64_t i = 1; i < n; ++i) {                                                      \
                const double a = fabs((double)x[i]);                                               \
                best = (best != best || best >= a) ? best : a;                                     \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 1; i < n; ++i) {                                                      \
                const double a = fabs((double)x[i]);                                               \
                best = (best != best || best <= a) ? best : a;                                     \
            }                                                                                      \
        }                                                                                          \
        *out = best;                                                                               \
        return;                                                                                    \
    }                                                                                              \
    if (p == 0) {                                                                                  \
        int64_t count = 0;                                                                         \
        for (int64_t i = 0; i < n; ++i)                                                            \
            count += x[i] != 0;                                                                    \
        *out = (double)count;                                                                      \
        return;                                                                                    \
    }                                                                                              \
    if (p == 2) {                                                                                  \
        double lanes[NORM_LANES] = {0};                                                            \
        int64_t i = 0;                                                                             \
        for (; i + NORM_LANES <= n; i += NORM_LANES) {                                             \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < NORM_LANES; ++j) {                                                 \
                const double v = x[i + j];                                                         \
                lanes[j] += v * v;                                                                 \
            }                                                                                      \
        }                                                                                          \
        double total = 0;                                                                          \
        for (; i < n; ++i) {                                                                       \
            const double v = x[i];                                                                 \
            total += v * v;                                                                        \
        }                                                                                          \
        for (int j = 0; j < NORM_LANES; ++j)                                                       \
            total += lanes[j];                                                                     \
        *out = sqrt(total);                                                                        \
        return;                                                                                    \
    }                                                                                              \
    double total = 0;                                                                              \
    if (p == 1) {                                                                                  \
        for (int64_t i = 0; i < n; ++i)                                                            \
            total += fabs((double)x[i]);                                                           \
        *out = total;                                                                              \
        return;                                                                                    \
    }                                                                                              \
    for (int64_t i = 0; i < n; ++i)                                                                \
        total += pow(fabs((double)x[i]), p);                                                       \
    *out = pow(total, 1.0 / p);

CG_SIMD_VARIANTS(CG_EXPORTED, cg_vector_norm_f32, (const float *x, int64_t n, double p, double *out),
                 (x, n, p, out), NORM_BODY(float))
CG_SIMD_VARIANTS(CG_EXPORTED, cg_vector_norm_f64, (const double *x, int64_t n, double p, double *out),
                 (x, n, p, out), NORM_BODY(double))
