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

/* ==== math ops (issue 3) ==== */
#define CG_TERNARY(name, T) void name(const cg_iter *it, T *out, const T *a, const T *b, const T *c)
#define CG_QUATERNARY(name, T) void name(const cg_iter *it, T *out, const T *a, const T *b, const T *c, const T *d)
#define CG_UNARY_PARAM(name, T) void name(const cg_iter *it, T *out, const T *x, double param)
#define CG_BINARY_PARAM(name, T) void name(const cg_iter *it, T *out, const T *a, const T *b, double param)

/* out = cond ? a : b   (a, b, cond: the condition converted to the element type, 0 or 1) */
CG_TERNARY(cg_where_fwd_f32, float);  CG_TERNARY(cg_where_fwd_f64, double);  CG_TERNARY(cg_where_fwd_i64, int64_t);
/* out = max(a, b) / min(a, b); NaN where either is NaN (torch's maximum / minimum) */
CG_BINARY(cg_maximum_fwd_f32, float); CG_BINARY(cg_maximum_fwd_f64, double); CG_BINARY(cg_maximum_fwd_i64, int64_t);
CG_BINARY(cg_minimum_fwd_f32, float); CG_BINARY(cg_minimum_fwd_f64, double); CG_BINARY(cg_minimum_fwd_i64, int64_t);
/* ga = a == b ? gy / 2 : (a < b ? 0 : gy) for maximum, (a > b ? 0 : gy) for minimum; inputs (a, b, gy),
 * and the gradient of b is the same kernel called with (b, a, gy) */
CG_TERNARY(cg_maximum_bwd_f32, float); CG_TERNARY(cg_maximum_bwd_f64, double);
CG_TERNARY(cg_minimum_bwd_f32, float); CG_TERNARY(cg_minimum_bwd_f64, double);
/* out = min(max(x, lo), hi); NaN where lo or hi is NaN; inputs (x, lo, hi) */
CG_TERNARY(cg_clamp_fwd_f32, float);  CG_TERNARY(cg_clamp_fwd_f64, double);  CG_TERNARY(cg_clamp_fwd_i64, int64_t);
/* inputs (x, lo, hi, gy): gx = lo <= x <= hi ? gy : 0; g_lo = x < lo && lo < hi ? gy : 0;
 * g_hi = x > hi || hi < lo ? gy : 0 */
CG_QUATERNARY(cg_clamp_bwd_f32, float);     CG_QUATERNARY(cg_clamp_bwd_f64, double);
CG_QUATERNARY(cg_clamp_min_bwd_f32, float); CG_QUATERNARY(cg_clamp_min_bwd_f64, double);
CG_QUATERNARY(cg_clamp_max_bwd_f32, float); CG_QUATERNARY(cg_clamp_max_bwd_f64, double);
/* mask = |x| == norm || isnan(x); inputs (x, norm) */
CG_BINARY(cg_norm_inf_mask_f32, float); CG_BINARY(cg_norm_inf_mask_f64, double);

/* y = sign(x) (sign(NaN) = 0), floor, ceil, round (halves to even); integers: sign, identity */
CG_UNARY(cg_sign_fwd_f32, float);    CG_UNARY(cg_sign_fwd_f64, double);    CG_UNARY(cg_sign_fwd_i64, int64_t);
CG_UNARY(cg_floor_fwd_f32, float);   CG_UNARY(cg_floor_fwd_f64, double);
CG_UNARY(cg_ceil_fwd_f32, float);    CG_UNARY(cg_ceil_fwd_f64, double);
CG_UNARY(cg_round_fwd_f32, float);   CG_UNARY(cg_round_fwd_f64, double);
CG_UNARY(cg_identity_fwd_i64, int64_t);
/* y = round(x * 10^d) / 10^d (d = param >= 0), round(x / 10^-d) * 10^-d (d < 0) */
CG_UNARY_PARAM(cg_round_decimals_fwd_f32, float); CG_UNARY_PARAM(cg_round_decimals_fwd_f64, double);

/* y = erf(x), log1p(x), expm1(x), 1 / sqrt(x), 1 / x */
CG_UNARY(cg_erf_fwd_f32, float);        CG_UNARY(cg_erf_fwd_f64, double);
CG_UNARY(cg_log1p_fwd_f32, float);      CG_UNARY(cg_log1p_fwd_f64, double);
CG_UNARY(cg_expm1_fwd_f32, float);      CG_UNARY(cg_expm1_fwd_f64, double);
CG_UNARY(cg_rsqrt_fwd_f32, float);      CG_UNARY(cg_rsqrt_fwd_f64, double);
CG_UNARY(cg_reciprocal_fwd_f32, float); CG_UNARY(cg_reciprocal_fwd_f64, double);

/* activations: gelu (exact, tanh), silu, leaky_relu (param: slope), elu (param: alpha),
 * softplus (inputs x, beta, threshold) */
CG_UNARY(cg_gelu_fwd_f32, float);       CG_UNARY(cg_gelu_fwd_f64, double);
CG_UNARY(cg_gelu_tanh_fwd_f32, float);  CG_UNARY(cg_gelu_tanh_fwd_f64, double);
CG_UNARY(cg_silu_fwd_f32, float);       CG_UNARY(cg_silu_fwd_f64, double);
CG_UNARY_PARAM(cg_leaky_relu_fwd_f32, float); CG_UNARY_PARAM(cg_leaky_relu_fwd_f64, double);
CG_UNARY_PARAM(cg_elu_fwd_f32, float);  CG_UNARY_PARAM(cg_elu_fwd_f64, double);
CG_TERNARY(cg_softplus_fwd_f32, float); CG_TERNARY(cg_softplus_fwd_f64, double);
/* their backward: inputs (x, gy), then the same parameter or scalar operands as the forward */
CG_BINARY(cg_gelu_bwd_f32, float);      CG_BINARY(cg_gelu_bwd_f64, double);
CG_BINARY(cg_gelu_tanh_bwd_f32, float); CG_BINARY(cg_gelu_tanh_bwd_f64, double);
CG_BINARY(cg_silu_bwd_f32, float);      CG_BINARY(cg_silu_bwd_f64, double);
CG_BINARY_PARAM(cg_leaky_relu_bwd_f32, float); CG_BINARY_PARAM(cg_leaky_relu_bwd_f64, double);
CG_BINARY_PARAM(cg_elu_bwd_f32, float); CG_BINARY_PARAM(cg_elu_bwd_f64, double);
CG_QUATERNARY(cg_softplus_bwd_f32, float); CG_QUATERNARY(cg_softplus_bwd_f64, double);

#undef CG_TERNARY
#undef CG_QUATERNARY
#undef CG_UNARY_PARAM
#undef CG_BINARY_PARAM

#undef CG_UNARY
#undef CG_BINARY
#endif
