/* Comparisons, predicates, logic and bitwise kernels, and any/all (see cygrad/compare.h).
 *
 * The elementwise kernels use elementwise.c's scheme (nd_walk.h: rows of the broadcast iteration
 * space, with contiguous, broadcast-scalar and strided inner loops), except that the output type
 * TO may differ from the input type T: a predicate writes uint8_t (bool) from float, double or
 * int64 inputs. Bool operands (uint8_t 0/1) have kernels of their own (_u8), so masks are combined
 * without a round trip through int64. Every kernel is compiled once per SIMD level (simd_variants.h).
 */
#include "cygrad/compare.h"

#include <math.h>
#include <stdint.h>

#include "nd_walk.h"
#include "simd_variants.h"

/* out (of type TO) = EXPR(X) */
#define UNARY_TO_BODY(TO, T, X, EXPR)                                                              \
    INNER_DIM(2)                                                                                   \
    FOR_EACH_ROW(2) {                                                                              \
        TO *o = out + offset[0];                                                                   \
        const T *p1 = in1 + offset[1];                                                             \
        if (s[0] == 1 && s[1] == 1) {                                                              \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) { const T X = p1[i]; o[i] = (TO)(EXPR); }              \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) { const T X = p1[i * s[1]]; o[i * s[0]] = (TO)(EXPR); } \
        }                                                                                          \
    }

/* out (of type TO) = EXPR(A, B); a broadcast scalar A or B is read once per row */
#define BINARY_TO_BODY(TO, T, A, B, EXPR)                                                          \
    INNER_DIM(3)                                                                                   \
    FOR_EACH_ROW(3) {                                                                              \
        TO *o = out + offset[0];                                                                   \
        const T *p1 = in1 + offset[1], *p2 = in2 + offset[2];                                      \
        if (s[0] == 1 && s[1] == 1 && s[2] == 1) {                                                 \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = p2[i];                                              \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {                                          \
            const T a_scalar = *p1;                                                                \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = a_scalar; const T B = p2[i];                                           \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {                                          \
            const T b_scalar = *p2;                                                                \
            CG_SIMD_LOOP                                                                           \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i]; const T B = b_scalar;                                           \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; ++i) {                                                      \
                const T A = p1[i * s[1]]; const T B = p2[i * s[2]];                                \
                o[i * s[0]] = (TO)(EXPR);                                                          \
            }                                                                                      \
        }                                                                                          \
    }

#define DEFINE_UNARY_TO(name, TO, T, X, EXPR)                                                      \
    CG_SIMD_VARIANTS(CG_EXPORTED, name, (const cg_iter *it, TO *out, const T *in1), (it, out, in1), \
                     UNARY_TO_BODY(TO, T, X, EXPR))
#define DEFINE_BINARY_TO(name, TO, T, A, B, EXPR)                                                  \
    CG_SIMD_VARIANTS(CG_EXPORTED, name, (const cg_iter *it, TO *out, const T *in1, const T *in2),  \
                     (it, out, in1, in2), BINARY_TO_BODY(TO, T, A, B, EXPR))

/* A predicate for each input type: name_f32, name_f64, name_i64, name_u8 (bool) */
#define DEFINE_PREDICATE1(name, X, EXPR)                                                           \
    DEFINE_UNARY_TO(name##_f32, uint8_t, float, X, EXPR)                                           \
    DEFINE_UNARY_TO(name##_f64, uint8_t, double, X, EXPR)                                          \
    DEFINE_UNARY_TO(name##_i64, uint8_t, int64_t, X, EXPR)                                         \
    DEFINE_UNARY_TO(name##_u8, uint8_t, uint8_t, X, EXPR)
#define DEFINE_PREDICATE1_FLOAT(name, X, EXPR)                                                     \
    DEFINE_UNARY_TO(name##_f32, uint8_t, float, X, EXPR)                                           \
    DEFINE_UNARY_TO(name##_f64, uint8_t, double, X, EXPR)
#define DEFINE_PREDICATE2(name, A, B, EXPR)                                                        \
    DEFINE_BINARY_TO(name##_f32, uint8_t, float, A, B, EXPR)                                       \
    DEFINE_BINARY_TO(name##_f64, uint8_t, double, A, B, EXPR)                                      \
    DEFINE_BINARY_TO(name##_i64, uint8_t, int64_t, A, B, EXPR)                                     \
    DEFINE_BINARY_TO(name##_u8, uint8_t, uint8_t, A, B, EXPR)

/* ==== comparisons ==== */

/* out = a == b */
DEFINE_PREDICATE2(cg_eq_fwd, a, b, a == b)
/* out = a != b */
DEFINE_PREDICATE2(cg_ne_fwd, a, b, a != b)
/* out = a < b */
DEFINE_PREDICATE2(cg_lt_fwd, a, b, a < b)
/* out = a <= b */
DEFINE_PREDICATE2(cg_le_fwd, a, b, a <= b)
/* out = a > b */
DEFINE_PREDICATE2(cg_gt_fwd, a, b, a > b)
/* out = a >= b */
DEFINE_PREDICATE2(cg_ge_fwd, a, b, a >= b)

/* ==== logic ==== */

/* out = (a != 0) && (b != 0)   (written without && so that the loop has no branch) */
DEFINE_PREDICATE2(cg_logical_and_fwd, a, b, (a != 0) & (b != 0))
/* out = (a != 0) || (b != 0) */
DEFINE_PREDICATE2(cg_logical_or_fwd, a, b, (a != 0) | (b != 0))
/* out = (a != 0) != (b != 0) */
DEFINE_PREDICATE2(cg_logical_xor_fwd, a, b, (a != 0) ^ (b != 0))
/* out = x == 0 */
DEFINE_PREDICATE1(cg_logical_not_fwd, x, x == 0)

/* ==== floating-point classes ==== */

/* out = isnan(x) */
DEFINE_PREDICATE1_FLOAT(cg_isnan_fwd, x, isnan(x))
/* out = isinf(x) */
DEFINE_PREDICATE1_FLOAT(cg_isinf_fwd, x, isinf(x))
/* out = isfinite(x) */
DEFINE_PREDICATE1_FLOAT(cg_isfinite_fwd, x, isfinite(x))

/* ==== bitwise on int64 and bool ==== */

/* out = a & b */
DEFINE_BINARY_TO(cg_bitwise_and_fwd_i64, int64_t, int64_t, a, b, a & b)
DEFINE_BINARY_TO(cg_bitwise_and_fwd_u8, uint8_t, uint8_t, a, b, a & b)
/* out = a | b */
DEFINE_BINARY_TO(cg_bitwise_or_fwd_i64, int64_t, int64_t, a, b, a | b)
DEFINE_BINARY_TO(cg_bitwise_or_fwd_u8, uint8_t, uint8_t, a, b, a | b)
/* out = a ^ b */
DEFINE_BINARY_TO(cg_bitwise_xor_fwd_i64, int64_t, int64_t, a, b, a ^ b)
DEFINE_BINARY_TO(cg_bitwise_xor_fwd_u8, uint8_t, uint8_t, a, b, a ^ b)
/* out = ~x */
DEFINE_UNARY_TO(cg_bitwise_not_fwd_i64, int64_t, int64_t, x, ~x)

/* ==== any / all ==== */

/* out[o, i] = OP over k of (x[o, k, i] != 0), starting from IDENTITY. A contiguous row (inner == 1)
 * stops at the first element that decides the result (STOP: a true for any, a false for all). */
#define DEFINE_BOOL_REDUCE(name, IDENTITY, OP, STOP)                                               \
    void name(const uint8_t *x, uint8_t *out, int64_t outer, int64_t r, int64_t inner)             \
    {                                                                                              \
        for (int64_t o = 0; o < outer; ++o) {                                                      \
            const uint8_t *slab = x + o * r * inner;                                               \
            uint8_t *acc = out + o * inner;                                                        \
            if (inner == 1) {                                                                      \
                uint8_t result = IDENTITY;                                                         \
                for (int64_t k = 0; k < r; ++k)                                                    \
                    if ((slab[k] != 0) == STOP) {                                                  \
                        result = STOP;                                                             \
                        break;                                                                     \
                    }                                                                              \
                *acc = result;                                                                     \
                continue;                                                                          \
            }                                                                                      \
            for (int64_t i = 0; i < inner; ++i)                                                    \
                acc[i] = IDENTITY;                                                                 \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const uint8_t *row = slab + k * inner;                                             \
                for (int64_t i = 0; i < inner; ++i)                                                \
                    acc[i] = acc[i] OP (row[i] != 0);                                              \
            }                                                                                      \
        }                                                                                          \
    }

/* out = any_k x   (false when r == 0) */
DEFINE_BOOL_REDUCE(cg_any_u8, 0, |, 1)
/* out = all_k x   (true when r == 0) */
DEFINE_BOOL_REDUCE(cg_all_u8, 1, &, 0)
