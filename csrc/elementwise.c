/* Elementwise kernels over a strided, broadcast N-d iteration space (see cygrad/elementwise.h).
 *
 * Every kernel is one formula plugged into a generic loop:
 *   - the outer ndim - 1 dimensions are walked like an odometer, giving one row at a time;
 *   - each row (the innermost dimension) is a tight loop with special cases: all operands
 *     contiguous (vectorized), one input broadcast as a scalar (vectorized), and a strided
 *     fallback for everything else (negative strides, transposed views...).
 * Float kernels are compiled once per SIMD level (simd_variants.h); int64 kernels are not.
 *
 * Formulas are written once for float and double with <tgmath.h>: exp(x) is expf for a float x
 * and exp for a double x. Literals in formulas are integers so that nothing is promoted to double.
 * Where torch's result for an edge case (NaN, -0, inf gradient) depends on how the formula is
 * written, the formula follows torch's CPU kernel so results match it bit for bit.
 */
#include "cygrad/elementwise.h"

#include <stdint.h>
#include <tgmath.h>

#include "nd_walk.h"
#include "simd_variants.h"

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
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_exp_fwd, x, exp(x))
/* y = log(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_log_fwd, x, log(x))
/* y = sqrt(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sqrt_fwd, x, sqrt(x))
/* y = sin(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sin_fwd, x, sin(x))
/* y = cos(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_cos_fwd, x, cos(x))
/* y = max(x, 0); written `x < 0 ? 0 : x` as torch does, so NaN (NaN < 0 is false) and -0 pass */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_relu_fwd, x, x < 0 ? 0 : x)
/* y = 1 / (1 + exp(-x)); for x < 0 the equal exp(x) / (1 + exp(x)) keeps exp from overflowing */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_sigmoid_fwd, x,
                   x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)))
/* y = tanh(x) */
DEFINE_UNARY_FLOAT(CG_EXPORTED, cg_tanh_fwd, x, tanh(x))

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
                        gy * (a == 0 && b >= 0 ? 0 : y * log(a)))

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
