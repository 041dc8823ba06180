/* Reductions over the middle axis of a contiguous (outer, r, inner) array (see cygrad/reduce.h).
 *
 * Two memory layouts matter: inner == 1 reduces contiguous rows (a few accumulators per row),
 * inner > 1 adds whole rows of length inner together (a vector of accumulators, walked in tiles so
 * that they fit in a stack buffer and every access stays contiguous).
 */
#include "cygrad/reduce.h"

#include <math.h>
#include <string.h>

#include "cygrad/parallel.h"
#include "simd_variants.h"

/* Columns handled at once when inner > 1: the accumulators are stack arrays of this length. */
#define TILE 256
/* Rows added into the tile's sums per pass over it: the sums are loaded and stored once per pass
 * instead of once per row (column sums 1.3-2x faster than one row a pass, interleaved A/B). */
#define ROWS_PER_PASS 8
/* Float sums add SUM_BLOCK terms into a block sum, then the block sums into the total: rounding
 * error then grows with about SUM_BLOCK + r / SUM_BLOCK terms instead of r (this matters for
 * float64; float32 terms summed in double are far from that limit anyway). */
#define SUM_BLOCK 1024

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- sum ---- */

/* Partial sums kept by a contiguous row sum: with a single accumulator every add would wait for
 * the previous one (its latency); 16 independent ones fill the vector adders (1.5x in cache). */
#define SUM_LANES 16

/* *result = sum_k row[k] in double (float32 too: its error stays well below one float32 ulp
 * however large r is), blocked as described at SUM_BLOCK. */
#define ROW_SUM_BODY(T)                                                                            \
    double total = 0;                                                                              \
    for (int64_t k0 = 0; k0 < r; k0 += SUM_BLOCK) {                                                \
        const T *block = row + k0;                                                                 \
        const int64_t len = min_i64(SUM_BLOCK, r - k0);                                            \
        double lanes[SUM_LANES] = {0};                                                             \
        int64_t k = 0;                                                                             \
        for (; k + SUM_LANES <= len; k += SUM_LANES) {                                             \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < SUM_LANES; ++j)                                                    \
                lanes[j] += block[k + j];                                                          \
        }                                                                                          \
        double block_sum = 0;                                                                      \
        for (; k < len; ++k)                                                                       \
            block_sum += block[k];                                                                 \
        for (int j = 0; j < SUM_LANES; ++j)                                                        \
            block_sum += lanes[j];                                                                 \
        total += block_sum;                                                                        \
    }                                                                                              \
    *result = total;

CG_SIMD_VARIANTS(static, row_sum_f32, (const float *row, int64_t r, double *result),
                 (row, r, result), ROW_SUM_BODY(float))
CG_SIMD_VARIANTS(static, row_sum_f64, (const double *row, int64_t r, double *result),
                 (row, r, result), ROW_SUM_BODY(double))

/* out[o, i] = sum_k x[o, k, i], accumulated in double and blocked like a row sum. The rows of x
 * and out are `pitch` elements apart (pitch >= inner: a thread sums a band of columns). */
#define SUM_BODY(T, suffix)                                                                        \
    if (inner == 1 && pitch == 1) {                                                                \
        for (int64_t o = 0; o < outer; ++o) {                                                      \
            double total;                                                                          \
            row_sum_##suffix(x + o * r, r, &total);                                                \
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
                /* ROWS_PER_PASS rows a pass, added in order (the same sums, bit for bit) */       \
                int64_t k = k0;                                                                    \
                for (; k + ROWS_PER_PASS <= k0 + len; k += ROWS_PER_PASS) {                       \
                    const T *rows = x + (o * r + k) * pitch + i0;                                  \
                    CG_SIMD_LOOP                                                                   \
                    for (int64_t i = 0; i < width; ++i) {                                          \
                        double sum = block[i];                                                     \
                        CG_PRAGMA(GCC unroll 8)                                                    \
                        for (int q = 0; q < ROWS_PER_PASS; ++q)                                    \
                            sum += rows[q * pitch + i];                                            \
                        block[i] = sum;                                                            \
                    }                                                                              \
                }                                                                                  \
                for (; k < k0 + len; ++k) {                                                        \
                    const T *row = x + (o * r + k) * pitch + i0;                                   \
                    CG_SIMD_LOOP                                                                   \
                    for (int64_t i = 0; i < width; ++i)                                            \
                        block[i] += row[i];                                                        \
                }                                                                                  \
                for (int64_t i = 0; i < width; ++i)                                                \
                    total[i] += block[i];                                                          \
            }                                                                                      \
            for (int64_t i = 0; i < width; ++i)                                                    \
                out[o * pitch + i0 + i] = (T)total[i];                                             \
        }                                                                                          \
    }

CG_SIMD_VARIANTS(static, sum_f32,
                 (const float *x, float *out, int64_t outer, int64_t r, int64_t inner,
                  int64_t pitch),
                 (x, out, outer, r, inner, pitch), SUM_BODY(float, f32))
CG_SIMD_VARIANTS(static, sum_f64,
                 (const double *x, double *out, int64_t outer, int64_t r, int64_t inner,
                  int64_t pitch),
                 (x, out, outer, r, inner, pitch), SUM_BODY(double, f64))

/* ---- sum across threads ----
 * Large sums are split three ways, by shape: over `outer` when there are several (independent
 * results), else over bands of columns when inner > 1, else (one long row) into PIECES pieces of
 * the row whose sums are added in order. The pieces do not depend on the thread count, so a full
 * sum gives the same bits with 1 or 2 threads. */
#define PIECES 16

typedef struct {
    const void *x;
    void *out;
    int64_t outer, r, inner;
    double piece_sums[PIECES];
} sum_job;

#define DEFINE_PARALLEL_SUM(T, suffix)                                                             \
    static void sum_outer_range_##suffix(void *ctx, int64_t begin, int64_t end)                    \
    {                                                                                              \
        const sum_job *job = ctx;                                                                  \
        const T *x = job->x;                                                                       \
        sum_##suffix(x + begin * job->r * job->inner, (T *)job->out + begin * job->inner,          \
                     end - begin, job->r, job->inner, job->inner);                                 \
    }                                                                                              \
    static void sum_column_band_##suffix(void *ctx, int64_t begin, int64_t end)                    \
    {                                                                                              \
        const sum_job *job = ctx;                                                                  \
        const T *x = job->x;                                                                       \
        sum_##suffix(x + begin, (T *)job->out + begin, 1, job->r, end - begin, job->inner);        \
    }                                                                                              \
    static void sum_pieces_##suffix(void *ctx, int64_t begin, int64_t end)                         \
    {                                                                                              \
        sum_job *job = ctx;                                                                        \
        const T *x = job->x;                                                                       \
        for (int64_t p = begin; p < end; ++p) {                                                    \
            const int64_t first = job->r * p / PIECES, last = job->r * (p + 1) / PIECES;           \
            row_sum_##suffix(x + first, last - first, &job->piece_sums[p]);                        \
        }                                                                                          \
    }                                                                                              \
    void cg_sum_##suffix(const T *x, T *out, int64_t outer, int64_t r, int64_t inner)              \
    {                                                                                              \
        sum_job job = {x, out, outer, r, inner, {0}};                                              \
        const int64_t per_outer = r * inner;                                                       \
        if (outer * per_outer < 2 * CG_GRAIN_CHEAP) {                                              \
            sum_##suffix(x, out, outer, r, inner, inner);                                          \
        } else if (outer >= 2) {                                                                   \
            cg_parallel_for(outer, cg_grain_in_items(CG_GRAIN_CHEAP, per_outer),                   \
                            sum_outer_range_##suffix, &job);                                       \
        } else if (inner >= 2) {                                                                   \
            cg_parallel_for(inner, cg_grain_in_items(CG_GRAIN_CHEAP, r),                           \
                            sum_column_band_##suffix, &job);                                       \
        } else {                                                                                   \
            cg_parallel_for(PIECES, 1, sum_pieces_##suffix, &job);                                 \
            double total = 0;                                                                      \
            for (int p = 0; p < PIECES; ++p)                                                       \
                total += job.piece_sums[p];                                                        \
            *out = (T)total;                                                                       \
        }                                                                                          \
    }

DEFINE_PARALLEL_SUM(float, f32)
DEFINE_PARALLEL_SUM(double, f64)

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
/* The same without NaN, and the NaN test (never true for integers): a long float line is searched
 * in two passes, the extreme value first, then its first index (see DEFINE_EXTREME). */
#define MAX_BETTER(v, best) ((v) > (best))
#define MIN_BETTER(v, best) ((v) < (best))
#define FLOAT_IS_NAN(v) ((v) != (v))
#define INT_IS_NAN(v) 0
/* the second pass's test when there is no NaN (`best`: the extreme found by the first) */
#define EQUALS_BEST(v) ((v) == best)

/* Running extremes kept apart by a line search's first pass (enough for gcc to vectorize it), and
 * the block of elements its second pass tests at once before looking inside. */
#define EXTREME_LANES 16
#define FIND_BLOCK 64

/* k <- the first index from k on whose element satisfies MATCH (one is known to exist) */
#define FIND_FIRST(line, r, k, MATCH)                                                              \
    for (; k + FIND_BLOCK <= r; k += FIND_BLOCK) {                                                 \
        int hit = 0;                                                                               \
        CG_PRAGMA(omp simd reduction(| : hit))                                                     \
        for (int j = 0; j < FIND_BLOCK; ++j)                                                       \
            hit |= MATCH((line)[k + j]);                                                           \
        if (hit)                                                                                   \
            break;                                                                                 \
    }                                                                                              \
    while (!MATCH((line)[k]))                                                                      \
        ++k;

/* values[o, i] and indices[o, i]: the extreme of x[o, :, i] and its index, found by comparing each
 * element in order of k with the running extreme through WINS. Any split of the work gives the
 * same answer (the extreme and its first index are unique), so large inputs are split like sums:
 * over `outer`, else over bands of columns, else (one long line) into PIECES pieces whose extremes
 * are then compared in order of k. */
#define DEFINE_EXTREME(name, T, WINS, BETTER, IS_NAN, VECTOR_SEARCH)                               \
    /* the extreme of line[0 .. r) and its index: first the extreme value (or whether there is a   \
     * NaN), in vectorizable lanes, then the first element equal to it (or the first NaN) */      \
    static void name##_line(const T *line, int64_t r, T *value, int64_t *index)                    \
    {                                                                                              \
        /* one plain pass for short lines (class scores), where two cost more, and for int64,      \
         * which has no vector compare in SSE2, the level this file is compiled for */            \
        if (!VECTOR_SEARCH || r < FIND_BLOCK) {                                                    \
            T best = line[0];                                                                      \
            int64_t best_k = 0;                                                                    \
            for (int64_t k = 1; k < r; ++k)                                                        \
                if (WINS(line[k], best)) {                                                         \
                    best = line[k];                                                                \
                    best_k = k;                                                                    \
                }                                                                                  \
            *value = best;                                                                         \
            *index = best_k;                                                                       \
            return;                                                                                \
        }                                                                                          \
        T lanes[EXTREME_LANES], nan_lanes[EXTREME_LANES]; /* a NaN of the lane, else 0 */          \
        for (int j = 0; j < EXTREME_LANES; ++j) {                                                  \
            lanes[j] = line[0];                                                                    \
            nan_lanes[j] = 0;                                                                      \
        }                                                                                          \
        int64_t k = 0;                                                                             \
        for (; k + EXTREME_LANES <= r; k += EXTREME_LANES) {                                       \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < EXTREME_LANES; ++j) {                                              \
                const T v = line[k + j];                                                           \
                nan_lanes[j] = IS_NAN(v) ? v : nan_lanes[j];                                       \
                lanes[j] = BETTER(v, lanes[j]) ? v : lanes[j];                                     \
            }                                                                                      \
        }                                                                                          \
        T best = lanes[0];                                                                         \
        int has_nan = IS_NAN(line[0]);                                                             \
        for (int j = 0; j < EXTREME_LANES; ++j) {                                                  \
            has_nan |= IS_NAN(nan_lanes[j]);                                                       \
            best = BETTER(lanes[j], best) ? lanes[j] : best;                                       \
        }                                                                                          \
        for (; k < r; ++k) {                                                                       \
            has_nan |= IS_NAN(line[k]);                                                            \
            best = BETTER(line[k], best) ? line[k] : best;                                         \
        }                                                                                          \
        int64_t found = 0;                                                                         \
        if (has_nan) {                                                                             \
            FIND_FIRST(line, r, found, IS_NAN)                                                     \
        } else {                                                                                   \
            FIND_FIRST(line, r, found, EQUALS_BEST)                                                \
        }                                                                                          \
        *value = line[found];                                                                      \
        *index = found;                                                                            \
    }                                                                                              \
    /* columns [0, width) of x[o, :, i], rows of x and of the outputs `pitch` elements apart */    \
    static void name##_block(const T *x, T *values, int64_t *indices, int64_t outer, int64_t r,    \
                             int64_t width, int64_t pitch)                                         \
    {                                                                                              \
        for (int64_t o = 0; o < outer; ++o) {                                                      \
            const T *slab = x + o * r * pitch;                                                     \
            T *value = values + o * pitch;                                                         \
            int64_t *index = indices + o * pitch;                                                  \
            if (pitch == 1) {                                                                      \
                name##_line(slab, r, value, index);                                                \
                continue;                                                                          \
            }                                                                                      \
            /* the output rows are the running extremes; row k is compared to them in turn */      \
            for (int64_t i = 0; i < width; ++i) {                                                  \
                value[i] = slab[i];                                                                \
                index[i] = 0;                                                                      \
            }                                                                                      \
            for (int64_t k = 1; k < r; ++k) {                                                      \
                const T *row = slab + k * pitch;                                                   \
                for (int64_t i = 0; i < width; ++i)                                                \
                    if (WINS(row[i], value[i])) {                                                  \
                        value[i] = row[i];                                                         \
                        index[i] = k;                                                              \
                    }                                                                              \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    typedef struct {                                                                               \
        const T *x;                                                                                \
        T *values;                                                                                 \
        int64_t *indices;                                                                          \
        int64_t r, inner;                                                                          \
        T piece_values[PIECES];                                                                    \
        int64_t piece_indices[PIECES];                                                             \
    } name##_job;                                                                                  \
    static void name##_outer_range(void *ctx, int64_t begin, int64_t end)                          \
    {                                                                                              \
        const name##_job *job = ctx;                                                               \
        name##_block(job->x + begin * job->r * job->inner, job->values + begin * job->inner,       \
                     job->indices + begin * job->inner, end - begin, job->r, job->inner,           \
                     job->inner);                                                                  \
    }                                                                                              \
    static void name##_column_band(void *ctx, int64_t begin, int64_t end)                          \
    {                                                                                              \
        const name##_job *job = ctx;                                                               \
        name##_block(job->x + begin, job->values + begin, job->indices + begin, 1, job->r,         \
                     end - begin, job->inner);                                                     \
    }                                                                                              \
    static void name##_pieces(void *ctx, int64_t begin, int64_t end)                              \
    {                                                                                              \
        name##_job *job = ctx;                                                                     \
        for (int64_t p = begin; p < end; ++p) {                                                    \
            const int64_t first = job->r * p / PIECES, last = job->r * (p + 1) / PIECES;           \
            name##_line(job->x + first, last - first, &job->piece_values[p],                       \
                        &job->piece_indices[p]);                                                   \
            job->piece_indices[p] += first;                                                        \
        }                                                                                          \
    }                                                                                              \
    void name(const T *x, T *values, int64_t *indices, int64_t outer, int64_t r, int64_t inner)    \
    {                                                                                              \
        name##_job job = {.x = x, .values = values, .indices = indices, .r = r, .inner = inner};   \
        const int64_t per_outer = r * inner;                                                       \
        if (outer * per_outer < 2 * CG_GRAIN_CHEAP) {                                              \
            name##_block(x, values, indices, outer, r, inner, inner);                              \
        } else if (outer >= 2) {                                                                   \
            cg_parallel_for(outer, cg_grain_in_items(CG_GRAIN_CHEAP, per_outer),                   \
                            name##_outer_range, &job);                                             \
        } else if (inner >= 2) {                                                                   \
            cg_parallel_for(inner, cg_grain_in_items(CG_GRAIN_CHEAP, r), name##_column_band,       \
                            &job);                                                                 \
        } else { /* one long line (r >= 2 * grain, so every piece is non-empty) */                 \
            cg_parallel_for(PIECES, 1, name##_pieces, &job);                                       \
            T best = job.piece_values[0];                                                          \
            int64_t best_k = job.piece_indices[0];                                                 \
            for (int p = 1; p < PIECES; ++p)                                                       \
                if (WINS(job.piece_values[p], best)) {                                             \
                    best = job.piece_values[p];                                                    \
                    best_k = job.piece_indices[p];                                                 \
                }                                                                                  \
            *values = best;                                                                        \
            *indices = best_k;                                                                     \
        }                                                                                          \
    }

DEFINE_EXTREME(cg_max_f32, float, FLOAT_MAX_WINS, MAX_BETTER, FLOAT_IS_NAN, 1)
DEFINE_EXTREME(cg_max_f64, double, FLOAT_MAX_WINS, MAX_BETTER, FLOAT_IS_NAN, 1)
DEFINE_EXTREME(cg_max_i64, int64_t, INT_MAX_WINS, MAX_BETTER, INT_IS_NAN, 0)
DEFINE_EXTREME(cg_min_f32, float, FLOAT_MIN_WINS, MIN_BETTER, FLOAT_IS_NAN, 1)
DEFINE_EXTREME(cg_min_f64, double, FLOAT_MIN_WINS, MIN_BETTER, FLOAT_IS_NAN, 1)
DEFINE_EXTREME(cg_min_i64, int64_t, INT_MIN_WINS, MIN_BETTER, INT_IS_NAN, 0)

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
