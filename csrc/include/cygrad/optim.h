/* Fused optimizer updates: each kernel is one pass over one parameter's contiguous buffers and
 * does a whole step of its optimizer for that parameter (torch would run 4-10 tensor ops).
 *
 * The arithmetic follows torch's single-tensor (foreach=False) implementation operation by
 * operation, in the same order and with its rounding: hyperparameters arrive as double, are
 * combined in double where torch combines them as Python floats (1 - beta2, lr / bias_correction1),
 * and are rounded to the element type where torch passes them to a tensor op. `g` below is the
 * gradient, negated first when `maximize`; `wd` is weight_decay. A NULL state buffer means the
 * option that needs it is off. Buffers may not overlap, except that nothing is read after it is
 * written, element for element.
 */
#ifndef CYGRAD_OPTIM_H
#define CYGRAD_OPTIM_H
#include <stdint.h>

/* g += wd * p (wd != 0);
 * momentum_buf != NULL: b = first_step ? g : momentum * b + (1 - dampening) * g,
 *                       g = nesterov ? g + momentum * b : b;
 * p -= lr * g */
void cg_sgd_step_f32(float *param, const float *grad, float *momentum_buf, int64_t n, double lr,
                     double momentum, double dampening, double weight_decay, int nesterov,
                     int maximize, int first_step);
void cg_sgd_step_f64(double *param, const double *grad, double *momentum_buf, int64_t n, double lr,
                     double momentum, double dampening, double weight_decay, int nesterov,
                     int maximize, int first_step);

/* step t (already incremented); decoupled: p *= 1 - lr * wd, else g += wd * p;
 * m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;
 * max_exp_avg_sq != NULL (amsgrad): vmax = max(vmax, v), v = vmax;
 * p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps) */
void cg_adam_step_f32(float *param, const float *grad, float *exp_avg, float *exp_avg_sq,
                      float *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                      double eps, double weight_decay, double step, int decoupled, int maximize);
void cg_adam_step_f64(double *param, const double *grad, double *exp_avg, double *exp_avg_sq,
                      double *max_exp_avg_sq, int64_t n, double lr, double beta1, double beta2,
                      double eps, double weight_decay, double step, int decoupled, int maximize);

/* g += wd * p;  s = alpha * s + (1 - alpha) * g * g;
 * grad_avg != NULL (centered): a = lerp(a, g, 1 - alpha), avg = sqrt(s - a * a) + eps,
 * else avg = sqrt(s) + eps;
 * momentum_buf != NULL: b = momentum * b + g / avg, p -= lr * b;  else p -= lr * g / avg */
void cg_rmsprop_step_f32(float *param, const float *grad, float *square_avg, float *grad_avg,
                         float *momentum_buf, int64_t n, double lr, double alpha, double eps,
                         double weight_decay, double momentum, int maximize);
void cg_rmsprop_step_f64(double *param, const double *grad, double *square_avg, double *grad_avg,
                         double *momentum_buf, int64_t n, double lr, double alpha, double eps,
                         double weight_decay, double momentum, int maximize);

/* step t (already incremented); g += wd * p;  s += g * g;
 * p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps) */
void cg_adagrad_step_f32(float *param, const float *grad, float *state_sum, int64_t n, double lr,
                         double lr_decay, double weight_decay, double eps, double step,
                         int maximize);
void cg_adagrad_step_f64(double *param, const double *grad, double *state_sum, int64_t n, double lr,
                         double lr_decay, double weight_decay, double eps, double step,
                         int maximize);

/* *out = (sum |x|^p)^(1/p), accumulated in double; p = 2 is a sum of squares, p = inf the largest
 * |x|, p = -inf the smallest, p = 0 the count of nonzeros. NaN propagates. n == 0 gives 0. */
void cg_vector_norm_f32(const float *x, int64_t n, double p, double *out);
void cg_vector_norm_f64(const double *x, int64_t n, double p, double *out);

#endif
