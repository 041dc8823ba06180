/* Reductions and scans of the math ops (see cygrad/reduce_math.h): prod and its gradient, var,
 * logsumexp, vector norms, cumsum.
 *
 * Every kernel walks the (outer, r, inner) array the same way: for each outer index and each tile
 * of up to TILE columns of the inner dimension, the rows k = 0..r-1 are read in turn and combined
 * into per-column accumulators (stack arrays: kernels do not allocate). With inner == 1 a tile is
 * one column and the rows are consecutive elements, so every access stays sequential either way.
 */
#include "cygrad/reduce_math.h"

#include <math.h>
#include <stdint.h>

#define TILE 256

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The tile loop: in its body, `o` is the outer index, columns i0 .. i0 + width - 1 are the tile, and
 * ROW(base, k) points at element (o, k, i0) of an (outer, r, inner) array `base`. */
#define FOR_EACH_TILE(...) /* the body: variadic, so that it may contain commas */               \
    for (int64_t o = 0; o < outer; ++o)                                                            \
        for (int64_t i0 = 0; i0 < inner; i0 += TILE) {                                             \
            const int64_t width = min_i64(TILE, inner - i0);                                       \
            __VA_ARGS__                                                                            \
        }
#define ROW(base, k) ((base) + (o * r + (k)) * inner + i0)
#define OUT(base) ((base) + o * inner + i0)

/* ---- prod ---- */

/* out = prod_k x, accumulated in ACC (double for floats) */
#define DEFINE_PROD(name, T, ACC)                                                                  \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner)                         \
    {                                                                                              \
        FOR_EACH_TILE({                                                                            \
            ACC acc[TILE];                                                                         \
            for (int64_t i = 0; i < width; ++i)                                                    \
                acc[i] = 1;                                                                        \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i)                                                \
                    acc[i] *= (ACC)row[i];                                                         \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = (T)acc[i];                                                           \
        })                                                                                         \
    }
DEFINE_PROD(cg_prod_f32, float, double)
DEFINE_PROD(cg_prod_f64, double, double)
DEFINE_PROD(cg_prod_i64, int64_t, uint64_t) /* unsigned: wraps around, where signed overflow is UB */

/* gx = gy * (prefix * suffix), the exclusive products on each side of k, as torch's
 * prod_safe_zeros_backward: prefixes and suffixes are running products in double (torch's
 * cumprod accumulates in double too), rounded to T before they are multiplied. The prefixes are
 * stored in gx first, then the backward walk multiplies in the suffixes. */
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
 * unlike sum(x^2) - n mean^2). */
#define DEFINE_VAR(name, T)                                                                        \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner, double correction)      \
    {                                                                                              \
        const double dof = (double)r - correction;                                                 \
        const double divisor = dof > 0 ? dof : 0;                                                  \
        FOR_EACH_TILE({                                                                            \
            double mean[TILE], squares[TILE];                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                mean[i] = squares[i] = 0;                                                          \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i)                                                \
                    mean[i] += row[i];                                                             \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                mean[i] /= (double)r;                                                              \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i) {                                              \
                    const double d = row[i] - mean[i];                                             \
                    squares[i] += d * d;                                                           \
                }                                                                                  \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = (T)(squares[i] / divisor);                                           \
        })                                                                                         \
    }
DEFINE_VAR(cg_var_f32, float)
DEFINE_VAR(cg_var_f64, double)

/* ---- logsumexp ---- */

/* torch's logsumexp: shift by the max (0 where the max is +-inf, so all -inf gives -inf and a
 * +inf gives +inf instead of NaN), exp in T, sum in double, then log and the shift added back in T */
#define DEFINE_LOGSUMEXP(name, T)                                                                  \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner)                         \
    {                                                                                              \
        FOR_EACH_TILE({                                                                            \
            T shift[TILE];                                                                         \
            double total[TILE];                                                                    \
            for (int64_t i = 0; i < width; ++i) {                                                  \
                shift[i] = -INFINITY;                                                              \
                total[i] = 0;                                                                      \
            }                                                                                      \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i)                                                \
                    if (row[i] > shift[i] || row[i] != row[i]) /* the first NaN sticks */         \
                        shift[i] = row[i];                                                         \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                if (isinf(shift[i]))                                                               \
                    shift[i] = 0;                                                                  \
            for (int64_t k = 0; k < r; ++k) {                                                      \
                const T *row = ROW(x, k);                                                          \
                for (int64_t i = 0; i < width; ++i)                                                \
                    total[i] += (T)exp(row[i] - shift[i]);                                         \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                OUT(out)[i] = (T)log((T)total[i]) + shift[i];                                      \
        })                                                                                         \
    }
DEFINE_LOGSUMEXP(cg_logsumexp_f32, float)
DEFINE_LOGSUMEXP(cg_logsumexp_f64, double)

/* ---- vector norms ---- */

/* acc starts at INIT; each element v = |x| is folded in by STEP; out = FINISH(acc) */
#define NORM_LOOP(T, INIT, STEP, FINISH)                                                           \
    FOR_EACH_TILE({                                                                                \
        double acc[TILE];                                                                          \
        for (int64_t i = 0; i < width; ++i)                                                        \
            acc[i] = (INIT);                                                                       \
        for (int64_t k = 0; k < r; ++k) {                                                          \
            const T *row = ROW(x, k);                                                              \
            for (int64_t i = 0; i < width; ++i) {                                                  \
                const double v = fabs((double)row[i]);                                             \
                STEP;                                                                              \
            }                                                                                      \
        }                                                                                          \
        for (int64_t i = 0; i < width; ++i)                                                        \
            OUT(out)[i] = (T)(FINISH);                                                             \
    })

#define DEFINE_NORM(name, T)                                                                       \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner, double p)               \
    {                                                                                              \
        if (p == 2) {                                                                              \
            NORM_LOOP(T, 0, acc[i] += v * v, sqrt(acc[i]))                                         \
        } else if (p == 1) {                                                                       \
            NORM_LOOP(T, 0, acc[i] += v, acc[i])                                                   \
        } else if (p == INFINITY) { /* the first NaN sticks, as torch's amax */                    \
            NORM_LOOP(T, 0, if (v > acc[i] || v != v) acc[i] = v, acc[i])                          \
        } else if (p == -INFINITY) {                                                               \
            NORM_LOOP(T, INFINITY, if (v < acc[i] || v != v) acc[i] = v, acc[i])                   \
        } else if (p == 0) {                                                                       \
            NORM_LOOP(T, 0, acc[i] += v != 0, acc[i])                                              \
        } else {                                                                                   \
            NORM_LOOP(T, 0, acc[i] += pow(v, p), pow(acc[i], 1 / p))                               \
        }                                                                                          \
    }
DEFINE_NORM(cg_norm_f32, float)
DEFINE_NORM(cg_norm_f64, double)

/* ---- cumsum ---- */

/* running sums in ACC (double for floats, as torch's cumsum), each stored rounded to T */
#define DEFINE_CUMSUM(name, T, ACC)                                                                \
    void name(const T *x, T *out, int64_t outer, int64_t r, int64_t inner, int reverse)            \
    {                                                                                              \
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
