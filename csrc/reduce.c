/* Reductions over the middle axis of a contiguous (outer, r, inner) array (see cygrad/reduce.h).
 *
 * Two memory layouts matter: inner == 1 reduces contiguous rows (a few accumulators per row),
 * inner > 1 adds whole rows of length inner together (a vector of accumulators, walked in tiles so
 * that they fit in a stack buffer and every access stays contiguous).
 */
#include "cygrad/reduce.h"

#include <math.h>
#include <string.h>

#include "simd_variants.h"

/* Columns handled at once when inner > 1: the accumulators are stack arrays of this length. */
#define TILE 256
/* Float sums add SUM_BLOCK terms into a block sum, then the block sums into the total: rounding
 * error then grows with about SUM_BLOCK + r / SUM_BLOCK terms instead of r (this matters for
 * float64; float32 terms summed in double are far from that limit anyway). */
#define SUM_BLOCK 1024

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- sum ---- */

/* Partial sums kept by a contiguous row sum: with a single accumulator every add would wait for
 * the previous one (its latency); 16 independent ones fill the vector adders (1.5x in cache). */
#define SUM_LANES 16

/* out[o, i] = sum_k x[o, k, i], accumulated in double (float32 too: its error stays well below
 * one float32 ulp however large r is) and blocked as described at SUM_BLOCK. */
#define SUM_BODY(T)                                                                                \
    if (inner == 1) {                                                                              \
        for (int64_t o = 0; o < outer; ++o) {                                                      \
            const T *row = x + o * r;                                                              \
            double total = 0;                                                                      \
            for (int64_t k0 = 0; k0 < r; k0 += SUM_BLOCK) {                                        \
                const T *block = row + k0;                                                         \
                const int64_t len = min_i64(SUM_BLOCK, r - k0);                                    \
                double lanes[SUM_LANES] = {0};                                                     \
                int64_t k = 0;                                                                     \
                for (; k + SUM_LANES <= len; k += SUM_LANES) {                                     \
                    CG_SIMD_LOOP                                                                   \
                    for (int j = 0; j < SUM_LANES; ++j)                                            \
                        lanes[j] += block[k + j];                                                  \
                }                                                                                  \
                double block_sum = 0;                                                              \
                for (; k < len; ++k)                                                               \
                    block_sum += block[k];                                                         \
                for (int j = 0; j < SUM_LANES; ++j)                                                \
                    block_sum += lanes[j];                                                         \
                total += block_sum;                                                                \
            }                                                                                      \
            out[o] = (T)total;                                                                     \
        }                                                                                          \
        return;                                                                                    \
    }                                                                                              \
    for (int64_t o = 0; o < outer; ++o) {                                                          \
        for (int64_t i0 = 0; i0 < inner; i0 += TILE) {                                             \
            const int64_t width = min_i64(TILE, inner - i0);                                       \
            double total[TILE], block[TILE];                                                       \
            for (int64_t i = 0; i < width; ++i)                                                    \
                total[i] = 0;                                                                      \
            for (int64_t k0 = 0; k0 < r; k0 += SUM_BLOCK) {                                        \
                const int64_t len = min_i64(SUM_BLOCK, r - k0);                                    \
                for (int64_t i = 0; i < width; ++i)                                                \
                    block[i] = 0;                                                                  \
                for (int64_t k = k0; k < k0 + len; ++k) {                                          \
                    const T *row = x + (o * r + k) * inner + i0;                                   \
                    CG_SIMD_LOOP                                                                   \
                    for (int64_t i = 0; i < width; ++i)                                            \
                        block[i] += row[i];                                                        \
                }                                                                                  \
                for (int64_t i = 0; i < width; ++i)                                                \
                    total[i] += block[i];                                                          \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                out[o * inner + i0 + i] = (T)total[i];                                             \
        }                                                                                          \
    }

CG_SIMD_VARIANTS(CG_EXPORTED, cg_sum_f32,
                 (const float *x, float *out, int64_t outer, int64_t r, int64_t inner),
                 (x, out, outer, r, inner), SUM_BODY(float))
CG_SIMD_VARIANTS(CG_EXPORTED, cg_sum_f64,
                 (const double *x, double *out, int64_t outer, int64_t r, int64_t inner),
                 (x, out, outer, r, inner), SUM_BODY(double))

/* out = sum_k x, wrapping around on overflow like torch (in uint64_t: signed overflow is UB) */
void cg_sum_i64(const int64_t *x, int64_t *out, int64_t outer, int64_t r, int64_t inner)
{
    for (int64_t o = 0; o < outer; ++o) {
        uint64_t *total = (uint64_t *)(out + o * inner);
        for (int64_t i = 0; i < inner; ++i)
            total[i] = 0;
        for (int64_t k = 0; k < r; ++k) {
            const int64_t *row = x + (o * r + k) * inner;
            for (int64_t i = 0; i < inner; ++i)
                total[i] += (uint64_t)row[i];
        }
    }
}

/* ---- max / min with their index ---- */

/* Whether element v displaces the running extreme `best` seen so far. Ties keep the earlier index.
 * For floats the first NaN wins and is never displaced (torch: any NaN makes the result NaN). */
#define FLOAT_MAX_WINS(v, best) (!isnan(best) && ((v) > (best) || isnan(v)))
#define FLOAT_MIN_WINS(v, best) (!isnan(best) && ((v) < (best) || isnan(v)))
#define INT_MAX_WINS(v, best) ((v) > (best))
#define INT_MIN_WINS(v, best) ((v) < (best))

/* values[o, i] and indices[o, i]: the extreme of x[o, :, i] and its index, found by comparing each
 * element in order of k with the running extreme through WINS */
#define DEFINE_EXTREME(name, T, WINS)                                                              \
    void name(const T *x, T *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)    \
    {                                                                                              \
        for (int64_t o = 0; o < outer; ++o) {                                                      \
            const T *slab = x + o * r * inner;                                                     \
            T *value = values + o * inner;                                                         \
            int64_t *index = indices + o * inner;                                                  \
            if (inner == 1) {                                                                      \
                T best = slab[0];                                                                  \
                int64_t best_k = 0;                                                                \
                for (int64_t k = 1; k < r; ++k)                                                    \
                    if (WINS(slab[k], best)) {                                                     \
                        best = slab[k];                                                            \
                        best_k = k;                                                                \
                    }                                                                              \
                *value = best;                                                                     \
                *index = best_k;                                                                   \
                continue;                                                                          \
            }                                                                                      \
            /* the output rows are the running extremes; row k is compared to them in turn */      \
            for (int64_t i = 0; i < inner; ++i) {                                                  \
                value[i] = slab[i];                                                                \
                index[i] = 0;                                                                      \
            }                                                                                      \
            for (int64_t k = 1; k < r; ++k) {                                                      \
                const T *row = slab + k * inner;                                                   \
                for (int64_t i = 0; i < inner; ++i)                                                \
                    if (WINS(row[i], value[i])) {                                                  \
                        value[i] = row[i];                                                         \
                        index[i] = k;                                                              \
                    }                                                                              \
            }                                                                                      \
        }                                                                                          \
    }

DEFINE_EXTREME(cg_max_f32, float, FLOAT_MAX_WINS)
DEFINE_EXTREME(cg_max_f64, double, FLOAT_MAX_WINS)
DEFINE_EXTREME(cg_max_i64, int64_t, INT_MAX_WINS)
DEFINE_EXTREME(cg_min_f32, float, FLOAT_MIN_WINS)
DEFINE_EXTREME(cg_min_f64, double, FLOAT_MIN_WINS)
DEFINE_EXTREME(cg_min_i64, int64_t, INT_MIN_WINS)

/* ---- backward ---- */

/* gx = 0 except gx[o, indices[o, i], i] = gy[o, i] */
#define DEFINE_INDEX_BWD(name, T)                                                                  \
    void name(const T *gy, const int64_t *indices, T *gx, int64_t outer, int64_t r, int64_t inner) \
    {                                                                                              \
        memset(gx, 0, (size_t)(outer * r * inner) * sizeof(T)); /* all-zero bytes are +0.0 */     \
        for (int64_t o = 0; o < outer; ++o)                                                        \
            for (int64_t i = 0; i < inner; ++i)                                                    \
                gx[(o * r + indices[o * inner + i]) * inner + i] = gy[o * inner + i];              \
    }

DEFINE_INDEX_BWD(cg_index_bwd_f32, float)
DEFINE_INDEX_BWD(cg_index_bwd_f64, double)

/* gx = (x == value) * gy / count(x == value); a NaN value matches the NaNs of x, as in torch.
 * The first pass marks matches in gx with 1 and counts them; the second gives each its share. */
#define DEFINE_EXTREME_BWD(name, T)                                                                \
    void name(const T *x, T value, T gy, T *gx, int64_t n)                                         \
    {                                                                                              \
        const int value_is_nan = isnan(value) != 0;                                                \
        int64_t count = 0;                                                                         \
        for (int64_t i = 0; i < n; ++i) {                                                          \
            const int match = value_is_nan ? isnan(x[i]) != 0 : x[i] == value;                     \
            gx[i] = (T)match;                                                                      \
            count += match;                                                                        \
        }                                                                                          \
        const T share = gy / (T)count;                                                             \
        for (int64_t i = 0; i < n; ++i)                                                            \
            gx[i] = gx[i] != 0 ? share : 0;                                                        \
    }

DEFINE_EXTREME_BWD(cg_extreme_bwd_f32, float)
DEFINE_EXTREME_BWD(cg_extreme_bwd_f64, double)
