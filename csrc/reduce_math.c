/* Reductions and scans of the math ops (see cygrad/reduce_math.h): prod and its gradient, var,
 * logsumexp, vector norms, cumsum.
 *
 * Two layouts, as in reduce.c:
 *   - inner == 1 (reducing contiguous rows): each row is folded by a "row fold" with LANES
 *     independent accumulators, so the loop vectorizes and no operation waits on the one before;
 *   - inner > 1: for each outer index and each tile of up to TILE columns, the rows k = 0..r-1 are
 *     read in turn and combined into per-column accumulators (stack arrays: kernels do not
 *     allocate), so every access stays contiguous.
 * Float kernels are compiled per SIMD level (simd_variants.h); float32 accumulates in double, and
 * exp/log are vecmath.h's vm_exp/vm_log (vectorized for float, libm for double), so they run in the
 * element type where torch's do.
 */
#include "cygrad/reduce_math.h"

#include <stdint.h>
#include <tgmath.h>

#include "simd_variants.h"
#include "vecmath.h"

#define TILE 256
#define LANES 16

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The tile loop (inner > 1): in its body, `o` is the outer index, columns i0 .. i0 + width - 1 are
 * the tile, and ROW(base, k) points at element (o, k, i0) of an (outer, r, inner) array `base`. */
#define FOR_EACH_TILE(...) /* the body: variadic, so that it may contain commas */               \
    for (int64_t o = 0; o < outer; ++o)                                                            \
        for (int64_t i0 = 0; i0 < inner; i0 += TILE) {                                             \
            const int64_t width = min_i64(TILE, inner - i0);                                       \
            __VA_ARGS__                                                                            \
        }
#define ROW(base, k) ((base) + (o * r + (k)) * inner + i0)
#define OUT(base) ((base) + o * inner + i0)

/* ---- row folds (inner == 1) ----
 * name(row, r, c) folds TERM (an expression of the element X and the parameter c) into a double
 * accumulator with FOLD(acc, term), starting from INIT; LANES accumulators are combined at the end. */
#define DEFINE_ROW_FOLD(name, T, X, C, INIT, TERM, FOLD)                                           \
    static inline double name(const T *row, int64_t r, double C)                                   \
    {                                                                                              \
        double lanes[LANES];                                                                       \
        for (int j = 0; j < LANES; ++j)                                                            \
            lanes[j] = (INIT);                                                                     \
        int64_t k = 0;                                                                             \
        for (; k + LANES <= r; k += LANES) {                                                       \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < LANES; ++j) {                                                      \
                const T X = row[k + j];                                                            \
                const double term = (TERM);                                                        \
                FOLD(lanes[j], term);                                                              \
            }                                                                                      \
        }                                                                                          \
        double acc = (INIT);                                                                       \
        for (; k < r; ++k) {                                                                       \
            const T X = row[k];                                                                    \
            const double term = (TERM);                                                            \
            FOLD(acc, term);                                                                       \
        }                                                                                          \
        for (int j = 0; j < LANES; ++j)                                                            \
            FOLD(acc, lanes[j]);                                                                   \
        return acc;                                                                                \
    }
#define FOLD_ADD(acc, v) ((acc) += (v))
#define FOLD_MUL(acc, v) ((acc) *= (v))
/* max / min where the first NaN sticks (torch's amax / amin propagate NaN) */
#define FOLD_MAX(acc, v) ((acc) = ((v) > (acc) || (v) != (v)) && (acc) == (acc) ? (v) : (acc))
#define FOLD_MIN(acc, v) ((acc) = ((v) < (acc) || (v) != (v)) && (acc) == (acc) ? (v) : (acc))

#define DEFINE_ROW_FOLDS(T, suffix)                                                                \
    DEFINE_ROW_FOLD(row_prod_##suffix, T, x, c, 1, x, FOLD_MUL)                                    \
    DEFINE_ROW_FOLD(row_sum_##suffix, T, x, c, 0, x, FOLD_ADD)                                     \
    DEFINE_ROW_FOLD(row_squared_deviations_##suffix, T, x, mean, 0, (x - mean) * (x - mean),       \
                    FOLD_ADD)                                                                      \
    DEFINE_ROW_FOLD(row_max_##suffix, T, x, c, -INFINITY, x, FOLD_MAX)                             \
    DEFINE_ROW_FOLD(row_exp_sum_##suffix, T, x, shift, 0, vm_exp(x - (T)shift), FOLD_ADD)         \
    DEFINE_ROW_FOLD(row_squares_##suffix, T, x, c, 0, (double)x * x, FOLD_ADD)                     \
    DEFINE_ROW_FOLD(row_abs_sum_##suffix, T, x, c, 0, fabs((double)x), FOLD_ADD)                   \
    DEFINE_ROW_FOLD(row_abs_max_##suffix, T, x, c, 0, fabs((double)x), FOLD_MAX)                   \
    DEFINE_ROW_FOLD(row_abs_min_##suffix, T, x, c, INFINITY, fabs((double)x), FOLD_MIN)            \
    DEFINE_ROW_FOLD(row_nonzeros_##suffix, T, x, c, 0, x != 0, FOLD_ADD)                           \
    DEFINE_ROW_FOLD(row_abs_pow_sum_##suffix, T, x, p, 0, pow(fabs((double)x), p), FOLD_ADD)
DEFINE_ROW_FOLDS(float, f32)
DEFINE_ROW_FOLDS(double, f64)

/* ---- prod ---- */

/* out = prod_k x, in double for floats */
#define DEFINE_PROD(T, suffix)                                                                     \
    CG_SIMD_VARIANTS(CG_EXPORTED, cg_prod_##suffix,                                                \
                     (const T *x, T *out, int64_t outer, int64_t r, int64_t inner),                \
                     (x, out, outer, r, inner),                                                    \
        if (inner == 1) {                                                                          \
            for (int64_t o = 0; o < outer; ++o)                                                    \
                out[o] = (T)row_prod_##suffix(x + o * r, r, 0);                                    \
            return;                                                                                \
        }                                                                                          \
        FOR_EACH_TILE({                                                                            \
            double acc[TILE];                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                acc[i] = 1;                                                                        \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                CG_SIMD_LOOP                                                                       \
                for (int64_t i = 0; i < width; ++i)                                                \
                    acc[i] *= row[i];                                                              \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = (T)acc[i];                                                           \
        }))
DEFINE_PROD(float, f32)
DEFINE_PROD(double, f64)

/* out = prod_k x, wrapping around on overflow (in uint64_t: signed overflow is UB) */
void cg_prod_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner)
{
    FOR_EACH_TILE({
        uint64_t acc[TILE];
        for (int64_t i = 0; i < width; ++i)
            acc[i] = 1;
        for (int64_t k = 0; k < r; ++k) {
            const int64_t *row = ROW(x, k);
            for (int64_t i = 0; i < width; ++i)
                acc[i] *= (uint64_t)row[i];
        }
        for (int64_t i = 0; i < width; ++i)
            OUT(out)[i] = (int64_t)acc[i];
    })
}

/* gx = gy * (prefix * suffix), the exclusive products on each side of k, as torch's
 * prod_safe_zeros_backward: prefixes and suffixes are running products in double (torch's cumprod
 * accumulates in double too), rounded to T before they are multiplied. The prefixes are stored in
 * gx first; the backward walk then multiplies in the suffixes. */
#define DEFINE_PROD_BWD(name, T)                                                                   \
    void name(const T *x, const T *gy, T *gx, int64_t outer, int64_t r, int64_t inner)             \
    {                                                                                              \
        FOR_EACH_TILE({                                                                            \
            double run[TILE];                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                run[i] = 1;                                                                        \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                T *grow = ROW(gx, k);                                                              \
                for (int64_t i = 0; i < width; ++i) {                                              \
                    grow[i] = (T)run[i];                                                           \
                    run[i] *= row[i];                                                              \
                }                                                                                  \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                run[i] = 1;                                                                        \
            const T *g = OUT(gy);                                                                  \
            for (int64_t k = r - 1; k >= 0; --k) {                                                 \
                const T *row = ROW(x, k);                                                          \
                T *grow = ROW(gx, k);                                                              \
                for (int64_t i = 0; i < width; ++i) {                                              \
                    grow[i] = g[i] * (grow[i] * (T)run[i]);                                        \
                    run[i] *= row[i];                                                              \
                }                                                                                  \
            }                                                                                      \
        })                                                                                         \
    }
DEFINE_PROD_BWD(cg_prod_bwd_f32, float)
DEFINE_PROD_BWD(cg_prod_bwd_f64, double)

#define DEFINE_COUNT_ZEROS(name, T)                                                                \
    void name(const T *x, int64_t n, int64_t *count)                                               \
    {                                                                                              \
        int64_t zeros = 0;                                                                         \
        for (int64_t i = 0; i < n; ++i)                                                            \
            zeros += x[i] == 0;                                                                    \
        *count = zeros;                                                                            \
    }
DEFINE_COUNT_ZEROS(cg_count_zeros_f32, float)
DEFINE_COUNT_ZEROS(cg_count_zeros_f64, double)

/* ---- var ---- */

/* Two passes in double: the mean, then the sum of squared deviations from it (no cancellation,
 * unlike sum(x^2) - n mean^2). The divisor max(r - correction, 0) makes 0 / 0 NaN and c / 0 inf. */
#define DEFINE_VAR(T, suffix)                                                                      \
    CG_SIMD_VARIANTS(CG_EXPORTED, cg_var_##suffix,                                                 \
                     (const T *x, T *out, int64_t outer, int64_t r, int64_t inner, double correction), \
                     (x, out, outer, r, inner, correction),                                        \
        const double dof = (double)r - correction;                                                 \
        const double divisor = dof > 0 ? dof : 0;                                                  \
        if (inner == 1) {                                                                          \
            for (int64_t o = 0; o < outer; ++o) {                                                  \
                const T *row = x + o * r;                                                          \
                const double mean = row_sum_##suffix(row, r, 0) / (double)r;                       \
                out[o] = (T)(row_squared_deviations_##suffix(row, r, mean) / divisor);             \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        FOR_EACH_TILE({                                                                            \
            double mean[TILE], squares[TILE];                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                mean[i] = squares[i] = 0;                                                          \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                CG_SIMD_LOOP                                                                       \
                for (int64_t i = 0; i < width; ++i)                                                \
                    mean[i] += row[i];                                                             \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                mean[i] /= (double)r;                                                              \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                CG_SIMD_LOOP                                                                       \
                for (int64_t i = 0; i < width; ++i)                                                \
                    squares[i] += (row[i] - mean[i]) * (row[i] - mean[i]);                         \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = (T)(squares[i] / divisor);                                           \
        }))
DEFINE_VAR(float, f32)
DEFINE_VAR(double, f64)

/* ---- logsumexp ---- */

/* torch's logsumexp: shift by the max (0 where the max is +-inf, so all -inf gives -inf and a +inf
 * gives +inf instead of NaN; a NaN max stays and makes the result NaN), exp in T, sum in double,
 * then log and the shift added back in T */
#define LSE_SHIFT(T, m) ((T)(isinf(m) ? 0 : (m)))
#define DEFINE_LOGSUMEXP(T, suffix)                                                                \
    CG_SIMD_VARIANTS(CG_EXPORTED, cg_logsumexp_##suffix,                                           \
                     (const T *x, T *out, int64_t outer, int64_t r, int64_t inner),                \
                     (x, out, outer, r, inner),                                                    \
        if (inner == 1) {                                                                          \
            for (int64_t o = 0; o < outer; ++o) {                                                  \
                const T *row = x + o * r;                                                          \
                const T shift = LSE_SHIFT(T, row_max_##suffix(row, r, 0));                         \
                out[o] = vm_log((T)row_exp_sum_##suffix(row, r, shift)) + shift;                   \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        FOR_EACH_TILE({                                                                            \
            double m[TILE], total[TILE];                                                           \
            for (int64_t i = 0; i < width; ++i) {                                                  \
                m[i] = -INFINITY;                                                                  \
                total[i] = 0;                                                                      \
            }                                                                                      \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i) {                                              \
                    const double v = row[i];                                                       \
                    FOLD_MAX(m[i], v);                                                             \
                }                                                                                  \
            }                                                                                      \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i)                                                \
                    total[i] += vm_exp(row[i] - LSE_SHIFT(T, m[i]));                               \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = vm_log((T)total[i]) + LSE_SHIFT(T, m[i]);                            \
        }))
DEFINE_LOGSUMEXP(float, f32)
DEFINE_LOGSUMEXP(double, f64)

/* ---- vector norms ---- */

/* the tile loop of a norm: acc starts at INIT, each v = |x| is folded in by FOLD, out = FINISH */
#define NORM_TILES(T, INIT, TERM, FOLD, FINISH)                                                    \
    FOR_EACH_TILE({                                                                                \
        double acc[TILE];                                                                          \
        for (int64_t i = 0; i < width; ++i)                                                        \
            acc[i] = (INIT);                                                                       \
        for (int64_t k = 0; k < r; ++k) {                                                          \
            const T *row = ROW(x, k);                                                              \
            for (int64_t i = 0; i < width; ++i) {                                                  \
                const double v = fabs((double)row[i]);                                             \
                FOLD(acc[i], (TERM));                                                              \
            }                                                                                      \
        }                                                                                          \
        for (int64_t i = 0; i < width; ++i) {                                                      \
            const double a = acc[i];                                                               \
            OUT(out)[i] = (T)(FINISH);                                                             \
        }                                                                                          \
    })
/* the norm of each row (inner == 1) from a row fold, out = FINISH of its result a */
#define NORM_ROWS(T, FOLD_FN, FINISH)                                                              \
    for (int64_t o = 0; o < outer; ++o) {                                                          \
        const double a = FOLD_FN(x + o * r, r, p);                                                 \
        out[o] = (T)(FINISH);                                                                      \
    }

#define DEFINE_NORM(T, suffix)                                                                     \
    CG_SIMD_VARIANTS(CG_EXPORTED, cg_norm_##suffix,                                                \
                     (const T *x, T *out, int64_t outer, int64_t r, int64_t inner, double p),      \
                     (x, out, outer, r, inner, p),                                                 \
        if (inner == 1) {                                                                          \
            if (p == 2) {                                                                          \
                NORM_ROWS(T, row_squares_##suffix, sqrt(a))                                        \
            } else if (p == 1) {                                                                   \
                NORM_ROWS(T, row_abs_sum_##suffix, a)                                              \
            } else if (p == INFINITY) {                                                            \
                NORM_ROWS(T, row_abs_max_##suffix, a)                                              \
            } else if (p == -INFINITY) {                                                           \
                NORM_ROWS(T, row_abs_min_##suffix, a)                                              \
            } else if (p == 0) {                                                                   \
                NORM_ROWS(T, row_nonzeros_##suffix, a)                                             \
            } else {                                                                               \
                NORM_ROWS(T, row_abs_pow_sum_##suffix, pow(a, 1 / p))                              \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        if (p == 2) {                                                                              \
            NORM_TILES(T, 0, v * v, FOLD_ADD, sqrt(a))                                             \
        } else if (p == 1) {                                                                       \
            NORM_TILES(T, 0, v, FOLD_ADD, a)                                                       \
        } else if (p == INFINITY) {                                                                \
            NORM_TILES(T, 0, v, FOLD_MAX, a)                                                       \
        } else if (p == -INFINITY) {                                                               \
            NORM_TILES(T, INFINITY, v, FOLD_MIN, a)                                                \
        } else if (p == 0) {                                                                       \
            NORM_TILES(T, 0, v != 0, FOLD_ADD, a)                                                  \
        } else {                                                                                   \
            NORM_TILES(T, 0, pow(v, p), FOLD_ADD, pow(a, 1 / p))                                   \
        })
DEFINE_NORM(float, f32)
DEFINE_NORM(double, f64)

/* ---- cumsum ---- */

/* running sums in ACC (double for floats, as torch's cumsum), each stored rounded to T */
#define DEFINE_CUMSUM(name, T, ACC)                                                                \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner, int reverse)            \
    {                                                                                              \
        if (inner == 1) {                                                                          \
            for (int64_t o = 0; o < outer; ++o) {                                                  \
                const T *row = x + o * r;                                                          \
                T *orow = out + o * r;                                                             \
                ACC acc = 0;                                                                       \
                if (reverse)                                                                       \
                    for (int64_t k = r - 1; k >= 0; --k)                                           \
                        orow[k] = (T)(acc += (ACC)row[k]);                                         \
                else                                                                               \
                    for (int64_t k = 0; k < r; ++k)                                                \
                        orow[k] = (T)(acc += (ACC)row[k]);                                         \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        FOR_EACH_TILE({                                                                            \
            ACC acc[TILE];                                                                         \
            for (int64_t i = 0; i < width; ++i)                                                    \
                acc[i] = 0;                                                                        \
            for (int64_t step = 0; step < r; ++step) {                                             \
                const int64_t k = reverse ? r - 1 - step : step;                                   \
                const T *row = ROW(x, k);                                                          \
                T *orow = ROW(out, k);                                                             \
                for (int64_t i = 0; i < width; ++i) {                                              \
                    acc[i] += (ACC)row[i];                                                         \
                    orow[i] = (T)acc[i];                                                           \
                }                                                                                  \
            }                                                                                      \
        })                                                                                         \
    }
DEFINE_CUMSUM(cg_cumsum_f32, float, double)
DEFINE_CUMSUM(cg_cumsum_f64, double, double)
DEFINE_CUMSUM(cg_cumsum_i64, int64_t, uint64_t) /* wraps around on overflow */
