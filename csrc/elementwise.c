/* Elementwise kernels over a strided, broadcast N-d iteration space (see cygrad/elementwise.h).
 *
 * Every kernel is one formula plugged into a generic loop:
 *   - the outer ndim - 1 dimensions are walked like an odometer, giving one row at a time;
 *   - each row (the innermost dimension) is a tight loop with special cases: all operands
 *     contiguous (vectorized), one input broadcast as a scalar (vectorized), and a strided
 *     fallback for everything else (negative strides, transposed views...).
 * Float kernels are compiled once per SIMD level (simd_variants.h); int64 kernels are not.
 *
 * Formulas are written once for float and double with <tgmath.h>: sqrt(x) is sqrtf for a float x
 * and sqrt for a double x. exp, expm1, log, log1p, tanh, sigmoid and erf are vecmath.h's vm_*
 * instead: vectorized for float, libm for double. Literals in formulas are integers so that nothing
 * is promoted to double.
 * Where torch's result for an edge case (NaN, -0, inf gradient) depends on how the formula is
 * written, the formula follows torch's CPU kernel so results match it bit for bit.
 */
#include "cygrad/elementwise.h"

#include <stdint.h>
#include <tgmath.h>

#include "nd_walk.h"
#include "simd_variants.h"
#include "vecmath.h"

/* ---- loop bodies, by number of inputs. Parameters are named it, out, in1, in2, ...; EXPR reads
 * the current input elements through the names given (X, or A and B, ...). ---- */

/* out = EXPR(X) */
#define UNARY_BODY(T, X, EXPR)                                                                     \
    INNER_DIM(2)                                                                                   \
    FOR_EACH_ROW(2) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1];                                                             \
        if (s[0] == 1 && s[1] == 1) {                                                              \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) { const T X = p1[i]; o[i] = (EXPR); }                  \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) { const T X = p1[i * s[1]]; o[i * s[0]] = (EXPR); }    \
        }                                                                                          \
    }

/* out = EXPR(A, B); a broadcast scalar A or B is read once per row */
#define BINARY_BODY(T, A, B, EXPR)                                                                 \
    INNER_DIM(3)                                                                                   \
    FOR_EACH_ROW(3) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2];                                      \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1) {                                                 \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = p2[i];                                              \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {                                          \
            const T a_scalar = *p1;                                                                \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = a_scalar; const T B = p2[i];                                           \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {                                          \
            const T b_scalar = *p2;                                                                \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = b_scalar;                                           \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]];                                \
                o[i * s[0]] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    }

/* out = EXPR(A, B, C) */
#define TERNARY_BODY(T, A, B, C, EXPR)                                                             \
    INNER_DIM(4)                                                                                   \
    FOR_EACH_ROW(4) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2], *p3 = in3 + offset[3];               \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {                                    \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = p2[i]; const T C = p3[i];                           \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]]; const T C = p3[i * s[3]];      \
                o[i * s[0]] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    }

/* out = EXPR(A, B, C, D) */
#define QUATERNARY_BODY(T, A, B, C, D, EXPR)                                                       \
    INNER_DIM(5)                                                                                   \
    FOR_EACH_ROW(5) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2], *p3 = in3 + offset[3],               \
                *p4 = in4 + offset[4];                                                             \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1 && s[4] == 1) {                       \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = p2[i]; const T C = p3[i]; const T D = p4[i];        \
                o[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]]; const T C = p3[i * s[3]];      \
                const T D = p4[i * s[4]];                                                          \
                o[i * s[0]] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    }

/* ---- kernel definitions: `linkage` is CG_EXPORTED (a header function) or static (a helper);
 * `name` gets the dtype suffix _f32 / _f64. ---- */

#define DEFINE_UNARY(linkage, name, T, X, EXPR)                                                    \
    CG_SIMD_VARIANTS(linkage, name, (const cg_iter *it, T *out, const T *in1), (it, out, in1),     \
                     UNARY_BODY(T, X, EXPR))
#define DEFINE_UNARY_FLOAT(linkage, name, X, EXPR)                                                 \
    DEFINE_UNARY(linkage, name##_f32, float, X, EXPR)                                              \
    DEFINE_UNARY(linkage, name##_f64, double, X, EXPR)

#define DEFINE_BINARY(linkage, name, T, A, B, EXPR)                                                \
    CG_SIMD_VARIANTS(linkage, name, (const cg_iter *it, T *out, const T *in1, const T *in2),       \
                     (it, out, in1, in2), BINARY_BODY(T, A, B, EXPR))
#define DEFINE_BINARY_FLOAT(linkage, name, A, B, EXPR)                                             \
    DEFINE_BINARY(linkage, name##_f32, float, A, B, EXPR)                                          \
    DEFINE_BINARY(linkage, name##_f64, double, A, B, EXPR)

#define DEFINE_TERNARY(linkage, name, T, A, B, C, EXPR)                                            \
    CG_SIMD_VARIANTS(linkage, name,                                                                \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, const T *in3),        \
                     (it, out, in1, in2, in3), TERNARY_BODY(T, A, B, C, EXPR))
#define DEFINE_TERNARY_FLOAT(linkage, name, A, B, C, EXPR)                                         \
    DEFINE_TERNARY(linkage, name##_f32, float, A, B, C, EXPR)                                      \
    DEFINE_TERNARY(linkage, name##_f64, double, A, B, C, EXPR)

#define DEFINE_QUATERNARY(linkage, name, T, A, B, C, D, EXPR)                                      \
    CG_SIMD_VARIANTS(linkage, name,                                                                \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, const T *in3,         \
                      const T *in4),                                                               \
                     (it, out, in1, in2, in3, in4), QUATERNARY_BODY(T, A, B, C, D, EXPR))
#define DEFINE_QUATERNARY_FLOAT(linkage, name, A, B, C, D, EXPR)                                   \
    DEFINE_QUATERNARY(linkage, name##_f32, float, A, B, C, D, EXPR)                                \
    DEFINE_QUATERNARY(linkage, name##_f64, double, A, B, C, D, EXPR)

/* ==== forward, binary ==== */

/* out = a + b */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_add_fwd, a, b, a + b)
/* out = a - b */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_sub_fwd, a, b, a - b)
/* out = a * b */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_mul_fwd, a, b, a * b)
/* out = a / b */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_div_fwd, a, b, a / b)
/* out = a ** b */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_pow_fwd, a, b, pow(a, b))

/* ==== forward, unary ==== */

/* y = -x */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_neg_fwd, x, -x)
/* y = |x| */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_abs_fwd, x, fabs(x))
/* y = exp(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_exp_fwd, x, vm_exp(x))
/* y = log(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_log_fwd, x, vm_log(x))
/* y = sqrt(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sqrt_fwd, x, sqrt(x))
/* y = sin(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sin_fwd, x, sin(x))
/* y = cos(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_cos_fwd, x, cos(x))
/* y = max(x, 0); written `x < 0 ? 0 : x` as torch does, so NaN (NaN < 0 is false) and -0 pass */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_relu_fwd, x, x < 0 ? 0 : x)
/* y = 1 / (1 + exp(-x)); for x < 0 the equal exp(x) / (1 + exp(x)) keeps exp from overflowing */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sigmoid_fwd, x, vm_sigmoid(x))
/* y = tanh(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_tanh_fwd, x, vm_tanh(x))

/* ==== backward ==== */

/* gx = gy * (y > 0), written as torch's select `y <= 0 ? 0 : gy`: so gx = gy where y is NaN,
 * and 0 (not NaN) where y <= 0 and gy is inf */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_relu_bwd, y, gy, y <= 0 ? 0 : gy)
/* gx = gy * y * (1 - y), in torch's order of operations */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_sigmoid_bwd, y, gy, gy * (1 - y) * y)
/* gx = gy * (1 - y * y), evaluated as (1 - y) * (1 + y): as |y| -> 1 the rounding error of y * y
 * would dominate the difference (1e-6 relative in float32), while 1 - y is exact there */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_tanh_bwd, y, gy, gy * ((1 - y) * (1 + y)))
/* gx = gy * sign(x); sign(0) = 0 and, as in torch, sign(NaN) = 0 */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_abs_bwd, x, gy, gy * ((x > 0) - (x < 0)))
/* gx = gy / (2 * y) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_sqrt_bwd, y, gy, gy / (2 * y))
/* gx = gy * cos(x) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_sin_bwd, x, gy, gy * cos(x))
/* gx = -gy * sin(x) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_cos_bwd, x, gy, gy * -sin(x))
/* ga = gy * b * a ** (b - 1), and 0 where b == 0 */
DEFINE_TERNARY_FLOAT(CG_EXPORTED, cg_pow_bwd_base, a, b, gy, b == 0 ? 0 : gy * (b * pow(a, b - 1)))
/* gb = gy * y * log(a), and 0 where a == 0 and b >= 0 (y = a ** b) */
DEFINE_QUATERNARY_FLOAT(CG_EXPORTED, cg_pow_bwd_exp, a, b, y, gy,
                        gy * (a == 0 && b >= 0 ? 0 : y * vm_log(a)))

/* ==== x ** e for a scalar exponent e ====
 *
 * torch evaluates the exponents below with cheaper formulas instead of pow() (and x ** 0 = 1 even
 * for NaN x); pow_special gives exactly those formulas, so results match torch bit for bit. The
 * kernels first pick a vectorized loop for the most common exponents, which compute the same
 * values as pow_special. */
#define DEFINE_POW_SPECIAL(T, suffix)                                                              \
    static inline T pow_special_##suffix(T x, T e)                                                 \
    {                                                                                              \
        if (e == 0) return 1;                                                                      \
        if (e == 1) return x;                                                                      \
        if (e == 2) return x * x;                                                                  \
        if (e == 3) return x * x * x;                                                              \
        if (e == 0.5) return sqrt(x);                                                              \
        if (e == -0.5) return 1 / sqrt(x);                                                         \
        if (e == -1) return 1 / x;                                                                 \
        if (e == -2) return 1 / (x * x);                                                           \
        return pow(x, e);                                                                          \
    }
DEFINE_POW_SPECIAL(float, f32)
DEFINE_POW_SPECIAL(double, f64)

/* out = value (the input is not read) */
#define DEFINE_FILL(T, suffix)                                                                     \
    static void fill_##suffix(const cg_iter *it, T *out, T value)                                  \
    {                                                                                              \
        const int inner_dim = it->ndim - 1;                                                        \
        const int64_t n = it->shape[inner_dim], s_out = it->strides[0][inner_dim];                 \
        FOR_EACH_ROW(1) {                                                                          \
            T *o = out + offset[0];                                                                \
            for (int64_t i = 0; i < n; ++i)                                                        \
                o[i * s_out] = value;                                                              \
        }                                                                                          \
    }
DEFINE_FILL(float, f32)
DEFINE_FILL(double, f64)

/* y = x * x */
DEFINE_UNARY_FLOAT(static, pow_square, x, x * x)
/* y = x ** e, for the exponents without a vectorized loop of their own */
#define DEFINE_POW_SCALAR_GENERAL(T, suffix)                                                       \
    CG_SIMD_VARIANTS(static, pow_scalar_general_##suffix,                                          \
                     (const cg_iter *it, T *out, const T *in1, T e), (it, out, in1, e),            \
                     UNARY_BODY(T, x, pow_special_##suffix(x, e)))
DEFINE_POW_SCALAR_GENERAL(float, f32)
DEFINE_POW_SCALAR_GENERAL(double, f64)

/* y = x ** e */
#define DEFINE_POW_SCALAR_FWD(T, suffix)                                                           \
    void cg_pow_scalar_fwd_##suffix(const cg_iter *it, T *out, const T *x, double e)               \
    {                                                                                              \
        if (e == 2)                                                                                \
            pow_square_##suffix(it, out, x);                                                       \
        else if (e == 0.5)                                                                         \
            cg_sqrt_fwd_##suffix(it, out, x);                                                      \
        else                                                                                       \
            pow_scalar_general_##suffix(it, out, x, (T)e);                                         \
    }
DEFINE_POW_SCALAR_FWD(float, f32)
DEFINE_POW_SCALAR_FWD(double, f64)

/* gx = gy * (2 * x), the gradient of x ** 2 */
DEFINE_BINARY_FLOAT(static, pow_square_bwd, x, gy, gy * (2 * x))
/* gx = gy * (e * x ** (e - 1)), torch's order; e_minus_1 is e - 1 rounded once, from double */
#define DEFINE_POW_SCALAR_BWD_GENERAL(T, suffix)                                                   \
    CG_SIMD_VARIANTS(static, pow_scalar_bwd_general_##suffix,                                      \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, T e, T e_minus_1),    \
                     (it, out, in1, in2, e, e_minus_1),                                            \
                     BINARY_BODY(T, x, gy, gy * (e * pow_special_##suffix(x, e_minus_1))))
DEFINE_POW_SCALAR_BWD_GENERAL(float, f32)
DEFINE_POW_SCALAR_BWD_GENERAL(double, f64)

/* gx = gy * e * x ** (e - 1), and 0 where e == 0 */
#define DEFINE_POW_SCALAR_BWD(T, suffix)                                                           \
    void cg_pow_scalar_bwd_##suffix(const cg_iter *it, T *gx, const T *x, const T *gy, double e)   \
    {                                                                                              \
        if (e == 0)                                                                                \
            fill_##suffix(it, gx, 0);                                                              \
        else if (e == 2)                                                                           \
            pow_square_bwd_##suffix(it, gx, x, gy);                                                \
        else                                                                                       \
            pow_scalar_bwd_general_##suffix(it, gx, x, gy, (T)e, (T)(e - 1));                      \
    }
DEFINE_POW_SCALAR_BWD(float, f32)
DEFINE_POW_SCALAR_BWD(double, f64)

/* ==== int64 (one build: integer loops vectorize at the baseline level already) ====
 * Overflow wraps around, as in torch; the arithmetic is done in uint64_t because signed overflow
 * is undefined behaviour in C. */

static inline int64_t wrapping_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t wrapping_sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}
static inline int64_t wrapping_mul(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* base ** exponent by repeated squaring; a negative exponent gives 0 unless |base| == 1 */
static inline int64_t integer_pow(int64_t base, int64_t exponent)
{
    if (exponent < 0) {
        if (base == 1)
            return 1;
        if (base == -1)
            return (exponent & 1) ? -1 : 1;
        return 0;
    }
    uint64_t result = 1, square = (uint64_t)base;
    for (; exponent > 0; exponent >>= 1) {
        if (exponent & 1)
            result *= square;
        square *= square;
    }
    return (int64_t)result;
}

/* out = a + b */
void cg_add_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, wrapping_add(a, b))
}
/* out = a - b */
void cg_sub_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, wrapping_sub(a, b))
}
/* out = a * b */
void cg_mul_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, wrapping_mul(a, b))
}
/* out = a ** b */
void cg_pow_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, integer_pow(a, b))
}
/* y = -x */
void cg_neg_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1)
{
    UNARY_BODY(int64_t, x, wrapping_sub(0, x))
}
/* y = |x|  (|INT64_MIN| wraps to INT64_MIN, as in torch) */
void cg_abs_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1)
{
    UNARY_BODY(int64_t, x, x < 0 ? wrapping_sub(0, x) : x)
}
/* y = max(x, 0) */
void cg_relu_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1)
{
    UNARY_BODY(int64_t, x, x < 0 ? 0 : x)
}

/* =================================================================================================
 * Math ops (issue 3): where, maximum/minimum, clamp, sign and rounding, erf and friends, the
 * activations (gelu, silu, softplus, leaky_relu, elu) and the fused backward kernels they need.
 * Formulas follow torch's CPU kernels (ATen/native/cpu) in their order of operations.
 * ================================================================================================= */

/* This section compiles without FP-trap semantics: C says a multiply (or floor) under a condition
 * must not run when the condition is false, in case it raises an FP exception flag, which blocks
 * turning selects such as leaky_relu's into vector blends and vectorizing floor/ceil. cygrad never
 * reads the exception flags, and the computed values are the same. */
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")

/* Formulas with constants are macros of (T, operands...): each constant is converted to T once,
 * so float kernels compute in float as torch's do (a double constant would promote the formula). */
#define DEFINE_UNARY_T(name, X, F)                                                                 \
    DEFINE_UNARY(CG_EXPORTED, name##_f32, float, X, F(float, X))                                   \
    DEFINE_UNARY(CG_EXPORTED, name##_f64, double, X, F(double, X))
#define DEFINE_BINARY_T(name, A, B, F)                                                             \
    DEFINE_BINARY(CG_EXPORTED, name##_f32, float, A, B, F(float, A, B))                            \
    DEFINE_BINARY(CG_EXPORTED, name##_f64, double, A, B, F(double, A, B))

/* Kernels with a scalar parameter: the public function takes it as a double (the runner's calling
 * convention) and the body reads it as P, converted to T once (torch's `scalar.to<scalar_t>()`). */
#define DEFINE_UNARY_PARAM(name, T, X, P, EXPR)                                                    \
    CG_SIMD_VARIANTS(static, name##_body, (const cg_iter *it, T *out, const T *in1, T P),          \
                     (it, out, in1, P), UNARY_BODY(T, X, EXPR))                                     \
    void name(const cg_iter *it, T *out, const T *in1, double param)                               \
    {                                                                                              \
        name##_body(it, out, in1, (T)param);                                                       \
    }
#define DEFINE_UNARY_PARAM_FLOAT(name, X, P, EXPR)                                                 \
    DEFINE_UNARY_PARAM(name##_f32, float, X, P, EXPR)                                              \
    DEFINE_UNARY_PARAM(name##_f64, double, X, P, EXPR)
#define DEFINE_BINARY_PARAM(name, T, A, B, P, EXPR)                                                \
    CG_SIMD_VARIANTS(static, name##_body,                                                          \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, T P),                 \
                     (it, out, in1, in2, P), BINARY_BODY(T, A, B, EXPR))                            \
    void name(const cg_iter *it, T *out, const T *in1, const T *in2, double param)                 \
    {                                                                                              \
        name##_body(it, out, in1, in2, (T)param);                                                  \
    }
#define DEFINE_BINARY_PARAM_FLOAT(name, A, B, P, EXPR)                                             \
    DEFINE_BINARY_PARAM(name##_f32, float, A, B, P, EXPR)                                          \
    DEFINE_BINARY_PARAM(name##_f64, double, A, B, P, EXPR)

/* Ternary and quaternary rows whose inputs are each contiguous or a broadcast scalar (stride 1 or
 * 0: clamp's bounds, where's constant branch, softplus's beta): the scalars are copied into stack
 * rows of BCAST_CHUNK elements, then the row is processed a chunk at a time by one vectorizable loop
 * over contiguous pointers. Any other strides take the strided loop. */
#define BCAST_CHUNK 256
#define UNIT_OR_ZERO(stride) ((stride) == 0 || (stride) == 1)
/* fill##k holds BCAST_CHUNK copies of input k's scalar when its stride is 0 */
#define BCAST_FILL(T, k)                                                                           \
    if (s[k] == 0)                                                                                 \
        for (int64_t i = 0; i < fill_len; ++i)                                                     \
            fill##k[i] = *p##k;
#define BCAST_ROW(k) (s[k] ? p##k + j : fill##k)

#define TERNARY_BCAST_BODY(T, A, B, C, EXPR)                                                       \
    INNER_DIM(4)                                                                                   \
    const int unit = s[0] == 1 && UNIT_OR_ZERO(s[1]) && UNIT_OR_ZERO(s[2]) && UNIT_OR_ZERO(s[3]);  \
    const int64_t fill_len = n < BCAST_CHUNK ? n : BCAST_CHUNK;                                    \
    T fill1[BCAST_CHUNK], fill2[BCAST_CHUNK], fill3[BCAST_CHUNK];                                  \
    FOR_EACH_ROW(4) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2], *p3 = in3 + offset[3];               \
        if (unit) {                                                                                \
            BCAST_FILL(T, 1) BCAST_FILL(T, 2) BCAST_FILL(T, 3)                                     \
            for (int64_t j = 0; j < n; j += BCAST_CHUNK) {                                         \
                const int64_t len = n - j < BCAST_CHUNK ? n - j : BCAST_CHUNK;                     \
                const T *q1 = BCAST_ROW(1), *q2 = BCAST_ROW(2), *q3 = BCAST_ROW(3);                \
                T *oo = o + j;                                                                     \
                CG_SIMD_LOOP                                                                       \
                for (int64_t i = 0; i < len; ++i) {                                                \
                    const T A = q1[i]; const T B = q2[i]; const T C = q3[i];                       \
                    oo[i] = (EXPR);                                                                \
                }                                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]]; const T C = p3[i * s[3]];      \
                o[i * s[0]] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    }

#define QUATERNARY_BCAST_BODY(T, A, B, C, D, EXPR)                                                 \
    INNER_DIM(5)                                                                                   \
    const int unit = s[0] == 1 && UNIT_OR_ZERO(s[1]) && UNIT_OR_ZERO(s[2]) && UNIT_OR_ZERO(s[3]) && \
                     UNIT_OR_ZERO(s[4]);                                                           \
    const int64_t fill_len = n < BCAST_CHUNK ? n : BCAST_CHUNK;                                    \
    T fill1[BCAST_CHUNK], fill2[BCAST_CHUNK], fill3[BCAST_CHUNK], fill4[BCAST_CHUNK];              \
    FOR_EACH_ROW(5) {                                                                              \
        T *o = out + offset[0];                                                                    \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2], *p3 = in3 + offset[3],               \
                *p4 = in4 + offset[4];                                                             \
        if (unit) {                                                                                \
            BCAST_FILL(T, 1) BCAST_FILL(T, 2) BCAST_FILL(T, 3) BCAST_FILL(T, 4)                    \
            for (int64_t j = 0; j < n; j += BCAST_CHUNK) {                                         \
                const int64_t len = n - j < BCAST_CHUNK ? n - j : BCAST_CHUNK;                     \
                const T *q1 = BCAST_ROW(1), *q2 = BCAST_ROW(2), *q3 = BCAST_ROW(3),                \
                        *q4 = BCAST_ROW(4);                                                        \
                T *oo = o + j;                                                                     \
                CG_SIMD_LOOP                                                                       \
                for (int64_t i = 0; i < len; ++i) {                                                \
                    const T A = q1[i]; const T B = q2[i]; const T C = q3[i]; const T D = q4[i];    \
                    oo[i] = (EXPR);                                                                \
                }                                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]]; const T C = p3[i * s[3]];      \
                const T D = p4[i * s[4]];                                                          \
                o[i * s[0]] = (EXPR);                                                              \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_TERNARY_BCAST(linkage, name, T, A, B, C, EXPR)                                      \
    CG_SIMD_VARIANTS(linkage, name,                                                                \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, const T *in3),        \
                     (it, out, in1, in2, in3), TERNARY_BCAST_BODY(T, A, B, C, EXPR))
#define DEFINE_TERNARY_BCAST_FLOAT(name, A, B, C, EXPR)                                            \
    DEFINE_TERNARY_BCAST(CG_EXPORTED, name##_f32, float, A, B, C, EXPR)                            \
    DEFINE_TERNARY_BCAST(CG_EXPORTED, name##_f64, double, A, B, C, EXPR)
#define DEFINE_QUATERNARY_BCAST(linkage, name, T, A, B, C, D, EXPR)                                \
    CG_SIMD_VARIANTS(linkage, name,                                                                \
                     (const cg_iter *it, T *out, const T *in1, const T *in2, const T *in3,         \
                      const T *in4),                                                               \
                     (it, out, in1, in2, in3, in4), QUATERNARY_BCAST_BODY(T, A, B, C, D, EXPR))
#define DEFINE_QUATERNARY_BCAST_FLOAT(name, A, B, C, D, EXPR)                                      \
    DEFINE_QUATERNARY_BCAST(CG_EXPORTED, name##_f32, float, A, B, C, D, EXPR)                      \
    DEFINE_QUATERNARY_BCAST(CG_EXPORTED, name##_f64, double, A, B, C, D, EXPR)

/* std::max / std::min as torch calls them: the first argument wins ties (max(-0, 0) = -0) */
#define STD_MAX(a, b) ((a) < (b) ? (b) : (a))
#define STD_MIN(a, b) ((b) < (a) ? (b) : (a))

/* ==== selection and comparison ==== */

/* out = cond ? a : b   (cond arrives converted to the element type: 0 or 1) */
DEFINE_TERNARY_BCAST_FLOAT(cg_where_fwd, c, a, b, c != 0 ? a : b)
void cg_where_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2,
                      const int64_t *in3)
{
    TERNARY_BCAST_BODY(int64_t, c, a, b, c != 0 ? a : b)
}

/* out = max(a, b); NaN where a or b is NaN (torch's maximum) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_maximum_fwd, a, b, a != a || b != b ? NAN : STD_MAX(a, b))
/* out = min(a, b); NaN where a or b is NaN (torch's minimum) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_minimum_fwd, a, b, a != a || b != b ? NAN : STD_MIN(a, b))
void cg_maximum_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, STD_MAX(a, b))
}
void cg_minimum_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2)
{
    BINARY_BODY(int64_t, a, b, STD_MIN(a, b))
}
/* d maximum(a, b)/da: ga = a == b ? gy / 2 : (a < b ? 0 : gy)   (the tie splits the gradient;
 * a NaN operand passes gy to both, as torch's where/masked_fill formula does). The gradient of b
 * is the same kernel with a and b swapped. gy / 2 is computed unconditionally so that the selects
 * vectorize (a division under a condition could trap where the C code would not). */
#define DEFINE_EXTREMUM_GRADS(T, suffix)                                                           \
    static inline T maximum_grad_##suffix(T a, T b, T gy)                                          \
    {                                                                                              \
        const T half = gy / 2;                                                                     \
        return a == b ? half : (a < b ? 0 : gy);                                                   \
    }                                                                                              \
    static inline T minimum_grad_##suffix(T a, T b, T gy)                                          \
    {                                                                                              \
        const T half = gy / 2;                                                                     \
        return a == b ? half : (a > b ? 0 : gy);                                                   \
    }
DEFINE_EXTREMUM_GRADS(float, f32)
DEFINE_EXTREMUM_GRADS(double, f64)
DEFINE_TERNARY_BCAST(CG_EXPORTED, cg_maximum_bwd_f32, float, a, b, gy, maximum_grad_f32(a, b, gy))
DEFINE_TERNARY_BCAST(CG_EXPORTED, cg_maximum_bwd_f64, double, a, b, gy, maximum_grad_f64(a, b, gy))
/* d minimum(a, b)/da: ga = a == b ? gy / 2 : (a > b ? 0 : gy) */
DEFINE_TERNARY_BCAST(CG_EXPORTED, cg_minimum_bwd_f32, float, a, b, gy, minimum_grad_f32(a, b, gy))
DEFINE_TERNARY_BCAST(CG_EXPORTED, cg_minimum_bwd_f64, double, a, b, gy, minimum_grad_f64(a, b, gy))

/* out = min(max(x, lo), hi); NaN where lo or hi is NaN, and NaN x passes (lo > hi gives hi) */
DEFINE_TERNARY_BCAST_FLOAT(cg_clamp_fwd, x, lo, hi,
                     lo != lo || hi != hi ? NAN : STD_MIN(STD_MAX(x, lo), hi))
void cg_clamp_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1, const int64_t *in2,
                      const int64_t *in3)
{
    TERNARY_BCAST_BODY(int64_t, x, lo, hi, STD_MIN(STD_MAX(x, lo), hi))
}
/* gx = lo <= x <= hi ? gy : 0   (the bounds themselves pass the gradient; NaN x gets 0) */
DEFINE_QUATERNARY_BCAST_FLOAT(cg_clamp_bwd, x, lo, hi, gy, x >= lo && x <= hi ? gy : 0)
/* g_lo = x < lo && lo < hi ? gy : 0   (gradient of a tensor lower bound) */
DEFINE_QUATERNARY_BCAST_FLOAT(cg_clamp_min_bwd, x, lo, hi, gy, x < lo && lo < hi ? gy : 0)
/* g_hi = x > hi || hi < lo ? gy : 0   (gradient of a tensor upper bound; it wins when lo > hi) */
DEFINE_QUATERNARY_BCAST_FLOAT(cg_clamp_max_bwd, x, lo, hi, gy, x > hi || hi < lo ? gy : 0)

/* mask = |x| == norm || isnan(x) ? 1 : 0   (the elements that attain an inf-norm, or NaN) */
DEFINE_BINARY_FLOAT(CG_EXPORTED, cg_norm_inf_mask, x, norm, fabs(x) == norm || x != x ? 1 : 0)

/* ==== sign and rounding (zero gradient) ==== */

/* y = sign(x) = (x > 0) - (x < 0)   (sign(NaN) = 0, as torch) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sign_fwd, x, (x > 0) - (x < 0))
/* y = floor(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_floor_fwd, x, floor(x))
/* y = ceil(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_ceil_fwd, x, ceil(x))
/* y = round(x), halves to even: rint in the default rounding mode, as torch's nearbyint */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_round_fwd, x, rint(x))
void cg_sign_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1)
{
    UNARY_BODY(int64_t, x, (x > 0) - (x < 0))
}
/* y = x: integers are their own floor, ceil and round */
void cg_identity_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *in1)
{
    UNARY_BODY(int64_t, x, x)
}

/* y = round(x * 10^d) / 10^d, or round(x / 10^-d) * 10^-d for d < 0 (torch's round(decimals)) */
DEFINE_UNARY_PARAM(round_scaled_up_f32, float, x, scale, rint(x * scale) / scale)
DEFINE_UNARY_PARAM(round_scaled_up_f64, double, x, scale, rint(x * scale) / scale)
DEFINE_UNARY_PARAM(round_scaled_down_f32, float, x, scale, rint(x / scale) * scale)
DEFINE_UNARY_PARAM(round_scaled_down_f64, double, x, scale, rint(x / scale) * scale)
void cg_round_decimals_fwd_f32(const cg_iter *it, float *out, const float *x, double decimals)
{
    if (decimals >= 0)
        round_scaled_up_f32(it, out, x, pow(10.0, decimals));
    else
        round_scaled_down_f32(it, out, x, pow(10.0, -decimals));
}
void cg_round_decimals_fwd_f64(const cg_iter *it, double *out, const double *x, double decimals)
{
    if (decimals >= 0)
        round_scaled_up_f64(it, out, x, pow(10.0, decimals));
    else
        round_scaled_down_f64(it, out, x, pow(10.0, -decimals));
}

/* ==== erf, log1p, expm1, rsqrt, reciprocal (backward written with ops) ==== */

/* y = erf(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_erf_fwd, x, vm_erf(x))
/* y = log(1 + x), accurate near 0 */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_log1p_fwd, x, vm_log1p(x))
/* y = exp(x) - 1, accurate near 0 */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_expm1_fwd, x, vm_expm1(x))
/* y = 1 / sqrt(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_rsqrt_fwd, x, 1 / sqrt(x))
/* y = 1 / x */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_reciprocal_fwd, x, 1 / x)

/* ==== activations ==== */

/* y = x * (1 + erf(x / sqrt(2))) / 2   (exact gelu) */
#define GELU(T, x) ((x) * (T)0.5 * (1 + vm_erf((x) * (T)M_SQRT1_2)))
DEFINE_UNARY_T(cg_gelu_fwd, x, GELU)
/* y = x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2   (gelu, approximate='tanh') */
#define GELU_TANH(T, x)                                                                            \
    ((T)0.5 * (x) *                                                                                \
     (1 + vm_tanh((T)(M_SQRT2 * M_2_SQRTPI * 0.5) * ((x) + (T)0.044715 * ((x) * (x) * (x))))))
DEFINE_UNARY_T(cg_gelu_tanh_fwd, x, GELU_TANH)
/* y = x * sigmoid(x) = x / (1 + exp(-x)) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_silu_fwd, x, x / (1 + vm_exp(-x)))
/* y = x > 0 ? x : slope * x */
DEFINE_UNARY_PARAM_FLOAT(cg_leaky_relu_fwd, x, slope, x > 0 ? x : x * slope)
/* y = x < 0 ? alpha * (exp(x) - 1) : x */
DEFINE_UNARY_PARAM_FLOAT(cg_elu_fwd, x, alpha, x < 0 ? vm_expm1(x) * alpha : x)
/* y = beta * x > threshold ? x : log(1 + exp(beta * x)) / beta   (beta and threshold come as
 * broadcast scalar operands: the runner passes one parameter only) */
DEFINE_TERNARY_BCAST_FLOAT(cg_softplus_fwd, x, beta, threshold,
                     x * beta > threshold ? x : vm_log1p(vm_exp(x * beta)) / beta)

/* d gelu/dx = Phi(x) + x phi(x): the normal cdf plus x times the normal pdf */
#define GELU_GRAD(T, x)                                                                            \
    ((T)0.5 * (1 + vm_erf((x) * (T)M_SQRT1_2)) +                                                   \
     (x) * ((T)(M_2_SQRTPI * M_SQRT1_2 * 0.5) * vm_exp((x) * (x) * (T)-0.5)))
/* gx = gy * (Phi(x) + x phi(x)) */
#define GELU_BWD(T, x, gy) ((gy) * GELU_GRAD(T, x))
DEFINE_BINARY_T(cg_gelu_bwd, x, gy, GELU_BWD)

/* d gelu_tanh/dx = (1 + t) / 2 + x / 2 * (1 - t^2) * b (1 + 3 k x^2), t = tanh(b (x + k x^3)) */
#define DEFINE_GELU_TANH_GRAD(T, suffix)                                                           \
    static inline T gelu_tanh_grad_##suffix(T x)                                                   \
    {                                                                                              \
        const T beta = (T)(M_SQRT2 * M_2_SQRTPI * 0.5), kappa = (T)0.044715;                       \
        const T x_sq = x * x, x_cube = x_sq * x;                                                   \
        const T tanh_inner = vm_tanh(beta * (x + kappa * x_cube));                                 \
        const T left = (T)0.5 * x, right = 1 + tanh_inner;                                         \
        const T left_derivative = (T)0.5 * right;                                                  \
        const T tanh_derivative = 1 - tanh_inner * tanh_inner;                                     \
        const T inner_derivative = beta * (1 + 3 * kappa * x_sq);                                  \
        return left_derivative + left * tanh_derivative * inner_derivative;                        \
    }
DEFINE_GELU_TANH_GRAD(float, f32)
DEFINE_GELU_TANH_GRAD(double, f64)
/* gx = gy * d gelu_tanh/dx */
DEFINE_BINARY(CG_EXPORTED, cg_gelu_tanh_bwd_f32, float, x, gy, gy * gelu_tanh_grad_f32(x))
DEFINE_BINARY(CG_EXPORTED, cg_gelu_tanh_bwd_f64, double, x, gy, gy * gelu_tanh_grad_f64(x))

/* gx = gy * s * (1 + x * (1 - s)), s = sigmoid(x) */
#define DEFINE_SILU_GRAD(T, suffix)                                                                \
    static inline T silu_bwd_##suffix(T x, T gy)                                                   \
    {                                                                                              \
        const T s = 1 / (1 + vm_exp(-x));                                                          \
        return gy * s * (1 + x * (1 - s));                                                         \
    }
DEFINE_SILU_GRAD(float, f32)
DEFINE_SILU_GRAD(double, f64)
DEFINE_BINARY(CG_EXPORTED, cg_silu_bwd_f32, float, x, gy, silu_bwd_f32(x, gy))
DEFINE_BINARY(CG_EXPORTED, cg_silu_bwd_f64, double, x, gy, silu_bwd_f64(x, gy))

/* gx = x > 0 ? gy : gy * slope */
DEFINE_BINARY_PARAM_FLOAT(cg_leaky_relu_bwd, x, gy, slope, x > 0 ? gy : gy * slope)
/* gx = x > 0 ? gy : gy * alpha * exp(x)   (NaN x gives NaN: torch's vectorized select; its scalar
 * loop, which handles the tail of a row, passes gy there instead) */
DEFINE_BINARY_PARAM_FLOAT(cg_elu_bwd, x, gy, alpha, x > 0 ? gy : gy * alpha * vm_exp(x))

/* gx = beta * x > threshold ? gy : gy * z / (z + 1), z = exp(beta * x) */
#define DEFINE_SOFTPLUS_GRAD(T, suffix)                                                            \
    static inline T softplus_bwd_##suffix(T x, T gy, T beta, T threshold)                          \
    {                                                                                              \
        const T z = vm_exp(x * beta);                                                              \
        return x * beta > threshold ? gy : gy * z / (z + 1);                                       \
    }
DEFINE_SOFTPLUS_GRAD(float, f32)
DEFINE_SOFTPLUS_GRAD(double, f64)
DEFINE_QUATERNARY_BCAST(CG_EXPORTED, cg_softplus_bwd_f32, float, x, gy, beta, threshold,
                        softplus_bwd_f32(x, gy, beta, threshold))
DEFINE_QUATERNARY_BCAST(CG_EXPORTED, cg_softplus_bwd_f64, double, x, gy, beta, threshold,
                        softplus_bwd_f64(x, gy, beta, threshold))

#pragma GCC pop_options
