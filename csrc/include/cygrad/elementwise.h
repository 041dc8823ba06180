/* Elementwise kernels: out[i] = f(a[i], b[i], ...) over a broadcast iteration space.
 *
 * The caller (the Cython backend) computes the broadcast shape, gives every operand its element
 * strides over that shape (0 along broadcast dimensions; negative strides allowed), and coalesces
 * dimensions. Operand 0 is always the output; it may be strided too (in-place ops write through
 * views). The output never partially overlaps an input; it may be the very same buffer with the
 * same strides (x += y).
 *
 * Naming: cg_<op>_<fwd|bwd>_<f32|f64|i64>(const cg_iter *it, out, inputs...).
 */
#ifndef CYGRAD_ELEMENTWISE_H
#define CYGRAD_ELEMENTWISE_H
#include <stdint.h>

#define CG_MAX_DIMS 16
#define CG_MAX_OPERANDS 5  /* out + up to 4 inputs */

typedef struct cg_iter {
    int ndim;                                    /* >= 1; a 0-d operation is ndim 1, shape {1} */
    int64_t shape[CG_MAX_DIMS];
    int64_t strides[CG_MAX_OPERANDS][CG_MAX_DIMS]; /* [0] = out, [1] = first input, ... */
} cg_iter;

#define CG_UNARY(name, T) void name(const cg_iter *it, T *out, const T *x)
#define CG_BINARY(name, T) void name(const cg_iter *it, T *out, const T *a, const T *b)

/* ---- forward, binary ---- */
CG_BINARY(cg_add_fwd_f32, float);   CG_BINARY(cg_add_fwd_f64, double);   CG_BINARY(cg_add_fwd_i64, int64_t);
CG_BINARY(cg_sub_fwd_f32, float);   CG_BINARY(cg_sub_fwd_f64, double);   CG_BINARY(cg_sub_fwd_i64, int64_t);
CG_BINARY(cg_mul_fwd_f32, float);   CG_BINARY(cg_mul_fwd_f64, double);   CG_BINARY(cg_mul_fwd_i64, int64_t);
CG_BINARY(cg_div_fwd_f32, float);   CG_BINARY(cg_div_fwd_f64, double);
/* out = a ** b (C pow semantics: pow(x, 0) = 1 even for NaN x) */
CG_BINARY(cg_pow_fwd_f32, float);   CG_BINARY(cg_pow_fwd_f64, double);
/* integer power as torch: exact repeated squaring; negative exponents give 0 except for bases 1 and -1 */
CG_BINARY(cg_pow_fwd_i64, int64_t);

/* ---- forward, unary ---- */
CG_UNARY(cg_neg_fwd_f32, float);     CG_UNARY(cg_neg_fwd_f64, double);     CG_UNARY(cg_neg_fwd_i64, int64_t);
CG_UNARY(cg_abs_fwd_f32, float);     CG_UNARY(cg_abs_fwd_f64, double);     CG_UNARY(cg_abs_fwd_i64, int64_t);
CG_UNARY(cg_exp_fwd_f32, float);     CG_UNARY(cg_exp_fwd_f64, double);
CG_UNARY(cg_log_fwd_f32, float);     CG_UNARY(cg_log_fwd_f64, double);
CG_UNARY(cg_sqrt_fwd_f32, float);    CG_UNARY(cg_sqrt_fwd_f64, double);
CG_UNARY(cg_sin_fwd_f32, float);     CG_UNARY(cg_sin_fwd_f64, double);
CG_UNARY(cg_cos_fwd_f32, float);     CG_UNARY(cg_cos_fwd_f64, double);
/* relu(NaN) = NaN, as torch */
CG_UNARY(cg_relu_fwd_f32, float);    CG_UNARY(cg_relu_fwd_f64, double);    CG_UNARY(cg_relu_fwd_i64, int64_t);
/* sigmoid without overflow for large |x| */
CG_UNARY(cg_sigmoid_fwd_f32, float); CG_UNARY(cg_sigmoid_fwd_f64, double);
CG_UNARY(cg_tanh_fwd_f32, float);    CG_UNARY(cg_tanh_fwd_f64, double);

/* ---- forward with a scalar parameter ---- */
/* out = x ** e with torch's special cases (e = 0, 1, 2, 3, +-0.5, -1, -2) so results match it bit for bit */
void cg_pow_scalar_fwd_f32(const cg_iter *it, float *out, const float *x, double e);
void cg_pow_scalar_fwd_f64(const cg_iter *it, double *out, const double *x, double e);

/* ---- backward: out = gx; inputs as named ---- */
/* gx = y <= 0 ? 0 : gy   (torch's threshold_backward: gy passes where y is NaN) */
void cg_relu_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy);
void cg_relu_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy);
/* gx = gy * y * (1 - y) */
void cg_sigmoid_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy);
void cg_sigmoid_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy);
/* gx = gy * (1 - y) * (1 + y)   (accurate near |y| = 1) */
void cg_tanh_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy);
void cg_tanh_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy);
/* gx = gy * sign(x)   (sign(0) = 0 and, as torch, sign(NaN) = 0) */
void cg_abs_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy);
void cg_abs_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy);
/* gx = gy / (2 * y) */
void cg_sqrt_bwd_f32(const cg_iter *it, float *gx, const float *y, const float *gy);
void cg_sqrt_bwd_f64(const cg_iter *it, double *gx, const double *y, const double *gy);
/* gx = gy * cos(x) */
void cg_sin_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy);
void cg_sin_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy);
/* gx = -gy * sin(x) */
void cg_cos_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy);
void cg_cos_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy);
/* gx = gy * e * x ** (e - 1); gx = 0 where e == 0 (torch's rule) */
void cg_pow_scalar_bwd_f32(const cg_iter *it, float *gx, const float *x, const float *gy, double e);
void cg_pow_scalar_bwd_f64(const cg_iter *it, double *gx, const double *x, const double *gy, double e);
/* d(a ** b)/da: ga = gy * b * a ** (b - 1), and 0 where b == 0 */
void cg_pow_bwd_base_f32(const cg_iter *it, float *ga, const float *a, const float *b, const float *gy);
void cg_pow_bwd_base_f64(const cg_iter *it, double *ga, const double *a, const double *b, const double *gy);
/* d(a ** b)/db: gb = gy * y * log(a), and 0 where a == 0 and b >= 0 (torch's rule); y = a ** b */
void cg_pow_bwd_exp_f32(const cg_iter *it, float *gb, const float *a, const float *b, const float *y, const float *gy);
void cg_pow_bwd_exp_f64(const cg_iter *it, double *gb, const double *a, const double *b, const double *y, const double *gy);

#undef CG_UNARY
#undef CG_BINARY
#endif
