/* Comparisons, predicates and logic over the elementwise iteration space (cg_iter, see
 * cygrad/elementwise.h), and the any/all reductions.
 *
 * Predicates compute in the inputs' type T and write bool: uint8_t 0 or 1, numpy's bool layout.
 * Truth of a number is "nonzero" (NaN is true), as in torch's logical ops. The _u8 kernels take
 * bool operands (uint8_t 0/1).
 *
 * Naming: cg_<op>_fwd_<f32|f64|i64>(const cg_iter *it, out, inputs...).
 */
#ifndef CYGRAD_COMPARE_H
#define CYGRAD_COMPARE_H
#include <stdint.h>

#include "cygrad/elementwise.h"

#define CG_PREDICATE1(name, T) void name(const cg_iter *it, uint8_t *out, const T *x)
#define CG_PREDICATE2(name, T) void name(const cg_iter *it, uint8_t *out, const T *a, const T *b)
#define CG_PREDICATE2_ALL(name)                                                                    \
    CG_PREDICATE2(name##_f32, float); CG_PREDICATE2(name##_f64, double);                           \
    CG_PREDICATE2(name##_i64, int64_t); CG_PREDICATE2(name##_u8, uint8_t)

/* ---- comparisons (IEEE: every comparison with NaN is false, except != which is true) ---- */
/* out = a == b */
CG_PREDICATE2_ALL(cg_eq_fwd);
/* out = a != b */
CG_PREDICATE2_ALL(cg_ne_fwd);
/* out = a < b */
CG_PREDICATE2_ALL(cg_lt_fwd);
/* out = a <= b */
CG_PREDICATE2_ALL(cg_le_fwd);
/* out = a > b */
CG_PREDICATE2_ALL(cg_gt_fwd);
/* out = a >= b */
CG_PREDICATE2_ALL(cg_ge_fwd);

/* ---- logic on truth values ---- */
/* out = (a != 0) && (b != 0) */
CG_PREDICATE2_ALL(cg_logical_and_fwd);
/* out = (a != 0) || (b != 0) */
CG_PREDICATE2_ALL(cg_logical_or_fwd);
/* out = (a != 0) != (b != 0) */
CG_PREDICATE2_ALL(cg_logical_xor_fwd);
/* out = x == 0 */
CG_PREDICATE1(cg_logical_not_fwd_f32, float); CG_PREDICATE1(cg_logical_not_fwd_f64, double);
CG_PREDICATE1(cg_logical_not_fwd_i64, int64_t); CG_PREDICATE1(cg_logical_not_fwd_u8, uint8_t);

/* ---- floating-point classes (integers are never NaN or infinite: the caller needs no kernel) ---- */
/* out = isnan(x) */
CG_PREDICATE1(cg_isnan_fwd_f32, float);    CG_PREDICATE1(cg_isnan_fwd_f64, double);
/* out = isinf(x) */
CG_PREDICATE1(cg_isinf_fwd_f32, float);    CG_PREDICATE1(cg_isinf_fwd_f64, double);
/* out = isfinite(x) */
CG_PREDICATE1(cg_isfinite_fwd_f32, float); CG_PREDICATE1(cg_isfinite_fwd_f64, double);

/* ---- bitwise, on integers and bools: out has the inputs' type ---- */
/* out = a & b */
void cg_bitwise_and_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b);
void cg_bitwise_and_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b);
/* out = a | b */
void cg_bitwise_or_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b);
void cg_bitwise_or_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b);
/* out = a ^ b */
void cg_bitwise_xor_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *a, const int64_t *b);
void cg_bitwise_xor_fwd_u8(const cg_iter *it, uint8_t *out, const uint8_t *a, const uint8_t *b);
/* out = ~x   (on integers only: ~ of a bool is logical_not) */
void cg_bitwise_not_fwd_i64(const cg_iter *it, int64_t *out, const int64_t *x);

/* ---- any / all over the middle axis of a contiguous (outer, r, inner) bool array ----
 * out[o * inner + i] = OR (resp. AND) over k of x[(o * r + k) * inner + i]; r == 0 gives
 * false (resp. true). */
void cg_any_u8(const uint8_t *x, uint8_t *out, int64_t outer, int64_t r, int64_t inner);
void cg_all_u8(const uint8_t *x, uint8_t *out, int64_t outer, int64_t r, int64_t inner);

#undef CG_PREDICATE1
#undef CG_PREDICATE2
#undef CG_PREDICATE2_ALL
#endif
