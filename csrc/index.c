/* Index kernels (see cygrad/index.h): gathers and scatters over strided (outer, n, inner) spaces.
 *
 * These kernels move memory; the arithmetic is in the address computation. Two row shapes matter:
 * one index per row (x[idx], index_select: idx stride 0 along i) copies a whole row from one source
 * row, with a contiguous fast path; one index per element (gather, scatter) looks each one up.
 */
#include "cygrad/index.h"

#include "cygrad/parallel.h"

/* Columns of one scatter task (see DEFINE_SCATTER). Narrow bands lose more than the second thread
 * gains when the target rows are random: both threads miss on the same rows, each on its own
 * lines, and neither gets the adjacent-line prefetch. Splitting the 64-wide rows of an embedding's
 * backward (the index-rows bench case) into 4 bands took it from 0.51x to ~0.6x torch's time. */
#define SCATTER_BAND 256

/* One call's operands, shared by the chunks it is split into. */
typedef struct {
    const cg_index_iter *it;
    void *dst;
    const void *src;
    const int64_t *idx;
} index_job;

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

/* dst[o, j, i] = src[o, k, i]. A gather writes each destination element once, so it splits over
 * the rows (o, j) in any way: chunk rows [begin, end) of the outer * n, in runs of one o. */
#define DEFINE_GATHER(name, T)                                                                     \
    static void name##_rows(void *ctx, int64_t begin, int64_t end)                                 \
    {                                                                                              \
        const index_job *job = ctx;                                                                \
        const cg_index_iter *it = job->it;                                                         \
        const int64_t *ss = it->src, *ds = it->dst, *is = it->idx;                                 \
        for (int64_t r = begin; r < end;) {                                                        \
            const int64_t o = r / it->n, j0 = r % it->n, j1 = min_i64(it->n, j0 + end - r);        \
            const T *s = (const T *)job->src + o * ss[0];                                          \
            T *d = (T *)job->dst + o * ds[0];                                                      \
            const int64_t *ip = job->idx + o * is[0];                                              \
            if (it->inner == 1) /* one element a row (gather along the last dim): a tight loop */  \
                for (int64_t j = j0; j < j1; ++j)                                                  \
                    d[j * ds[1]] = s[ip[j * is[1]] * ss[1]];                                       \
            else                                                                                   \
                for (int64_t j = j0; j < j1; ++j) {                                                \
                    const int64_t *ipj = ip + j * is[1];                                           \
                    T *dj = d + j * ds[1];                                                         \
                    if (is[2] == 0) { /* one index a row: copy the whole row */                    \
                        const T *row = s + ipj[0] * ss[1];                                         \
                        if (ss[2] == 1 && ds[2] == 1)                                              \
                            for (int64_t i = 0; i < it->inner; ++i)                                \
                                dj[i] = row[i];                                                    \
                        else                                                                       \
                            for (int64_t i = 0; i < it->inner; ++i)                                \
                                dj[i * ds[2]] = row[i * ss[2]];                                    \
                    } else {                                                                       \
                        for (int64_t i = 0; i < it->inner; ++i)                                    \
                            dj[i * ds[2]] = s[ipj[i * is[2]] * ss[1] + i * ss[2]];                 \
                    }                                                                              \
                }                                                                                  \
            r += j1 - j0;                                                                          \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    CG_GATHER(name, T)                                                                             \
    {                                                                                              \
        index_job job = {it, dst, src, idx};                                                       \
        cg_parallel_for(it->outer * it->n, cg_grain_in_items(CG_GRAIN_CHEAP, it->inner),           \
                        name##_rows, &job);                                                        \
    }

/* dst[o, k, i] = src[o, j, i] (ASSIGN is = or +=). Two rows j may name the same k, so a scatter
 * never splits over j: a task is one o and a band of SCATTER_BAND columns i, and visits every j
 * in order. With duplicate indices the last write wins (=) or the writes are added in order of j
 * (+=), whatever the thread count. */
#define DEFINE_SCATTER(name, T, ASSIGN)                                                            \
    static void name##_bands(void *ctx, int64_t begin, int64_t end)                                \
    {                                                                                              \
        const index_job *job = ctx;                                                                \
        const cg_index_iter *it = job->it;                                                         \
        const int64_t *ss = it->src, *ds = it->dst, *is = it->idx;                                 \
        const int64_t bands = (it->inner + SCATTER_BAND - 1) / SCATTER_BAND;                       \
        for (int64_t task = begin; task < end; ++task) {                                           \
            const int64_t o = task / bands, i0 = task % bands * SCATTER_BAND;                      \
            const int64_t i1 = min_i64(it->inner, i0 + SCATTER_BAND);                              \
            T *d = (T *)job->dst + o * ds[0];                                                      \
            if (it->inner == 1) { /* one element a row (scatter along the last dim) */             \
                const int64_t *ip = job->idx + o * is[0];                                          \
                const T *s = (const T *)job->src + o * ss[0];                                      \
                for (int64_t j = 0; j < it->n; ++j)                                                \
                    d[ip[j * is[1]] * ds[1]] ASSIGN s[j * ss[1]];                                  \
                continue;                                                                          \
            }                                                                                      \
            for (int64_t j = 0; j < it->n; ++j) {                                                  \
                const int64_t *ipj = job->idx + o * is[0] + j * is[1];                             \
                const T *s = (const T *)job->src + o * ss[0] + j * ss[1];                          \
                if (is[2] == 0) { /* one index a row */                                            \
                    T *row = d + ipj[0] * ds[1];                                                   \
                    if (ss[2] == 1 && ds[2] == 1)                                                  \
                        for (int64_t i = i0; i < i1; ++i)                                          \
                            row[i] ASSIGN s[i];                                                    \
                    else                                                                           \
                        for (int64_t i = i0; i < i1; ++i)                                          \
                            row[i * ds[2]] ASSIGN s[i * ss[2]];                                    \
                } else {                                                                           \
                    for (int64_t i = i0; i < i1; ++i)                                              \
                        d[ipj[i * is[2]] * ds[1] + i * ds[2]] ASSIGN s[i * ss[2]];                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    CG_GATHER(name, T)                                                                             \
    {                                                                                              \
        index_job job = {it, dst, (const void *)src, idx};                                         \
        const int64_t bands = (it->inner + SCATTER_BAND - 1) / SCATTER_BAND;                       \
        const int64_t per_task = it->n * min_i64(it->inner, SCATTER_BAND);                         \
        cg_parallel_for(it->outer * bands, cg_grain_in_items(CG_GRAIN_CHEAP, per_task),            \
                        name##_bands, &job);                                                       \
    }

DEFINE_GATHER(cg_gather_f32, float)
DEFINE_GATHER(cg_gather_f64, double)
DEFINE_GATHER(cg_gather_i64, int64_t)
DEFINE_GATHER(cg_gather_i32, int32_t)
DEFINE_GATHER(cg_gather_b8, uint8_t)

DEFINE_SCATTER(cg_scatter_f32, float, =)
DEFINE_SCATTER(cg_scatter_f64, double, =)
DEFINE_SCATTER(cg_scatter_i64, int64_t, =)
DEFINE_SCATTER(cg_scatter_i32, int32_t, =)
DEFINE_SCATTER(cg_scatter_b8, uint8_t, =)

DEFINE_SCATTER(cg_scatter_add_f32, float, +=)
DEFINE_SCATTER(cg_scatter_add_f64, double, +=)
DEFINE_SCATTER(cg_scatter_add_i64, int64_t, +=)
DEFINE_SCATTER(cg_scatter_add_i32, int32_t, +=)

/* ---- index checks and linearization ---- */

/* A long index is checked in this many pieces, each on its own up to its first invalid entry;
 * the first piece that has one gives the answer, so it is the first invalid index whatever the
 * thread count. */
#define CHECK_PIECES 16
/* Entries looked at before the one branch on "any invalid?": the loop in between has none, so
 * it runs at the speed of memory (a branch per entry took ~3 cycles each). */
#define CHECK_BLOCK 256

typedef struct {
    const int64_t *idx;
    int64_t *copy; /* or NULL */
    int64_t n;
    uint64_t lo, range; /* valid: (uint64_t)(idx - lo) < range, i.e. lo <= idx < lo + range */
    int64_t first_invalid[CHECK_PIECES]; /* per piece: its first invalid position, or -1 */
} index_check_job;

/* Whether any of idx[first, last) is invalid, copying them to copy[first, last) on the way. */
static int block_has_invalid(const index_check_job *job, int64_t first, int64_t last)
{
    const int64_t *idx = job->idx;
    uint64_t invalid = 0;
    if (job->copy)
        for (int64_t p = first; p < last; ++p) {
            job->copy[p] = idx[p];
            invalid |= (uint64_t)idx[p] - job->lo >= job->range;
        }
    else
        for (int64_t p = first; p < last; ++p)
            invalid |= (uint64_t)idx[p] - job->lo >= job->range;
    return invalid != 0;
}

static void check_pieces(void *ctx, int64_t begin, int64_t end)
{
    index_check_job *job = ctx;
    for (int64_t piece = begin; piece < end; ++piece) {
        const int64_t first = job->n * piece / CHECK_PIECES;
        const int64_t last = job->n * (piece + 1) / CHECK_PIECES;
        job->first_invalid[piece] = -1;
        for (int64_t b = first; b < last; b += CHECK_BLOCK) {
            const int64_t block_end = b + CHECK_BLOCK < last ? b + CHECK_BLOCK : last;
            if (!block_has_invalid(job, b, block_end))
                continue;
            for (int64_t p = b; job->first_invalid[piece] < 0; ++p)
                if ((uint64_t)job->idx[p] - job->lo >= job->range)
                    job->first_invalid[piece] = p;
            break; /* the rest of the piece is not copied: the caller drops the copy */
        }
    }
}

/* first p with idx[p] < lo or idx[p] >= size, lo = -size or 0; copy[0, n) = idx[0, n) when valid */
void cg_index_find_invalid_i64(const int64_t *idx, int64_t n, int64_t size, int allow_negative,
                               int64_t *copy, int64_t *position)
{
    const int64_t lo = allow_negative ? -size : 0;
    index_check_job job = {idx, copy, n, (uint64_t)lo, (uint64_t)(size - lo), {0}};
    cg_parallel_for(CHECK_PIECES, n >= 2 * CG_GRAIN_CHEAP ? 1 : CHECK_PIECES, check_pieces, &job);
    *position = -1;
    for (int piece = 0; piece < CHECK_PIECES; ++piece)
        if (job.first_invalid[piece] >= 0) {
            *position = job.first_invalid[piece];
            return;
        }
}

/* lin = (accumulate ? lin : 0) + wrap(idx) * stride */
void cg_index_linearize_i64(const int64_t *idx, int64_t n, int64_t size, int64_t stride, int accumulate,
                            int64_t *lin)
{
    for (int64_t p = 0; p < n; ++p) {
        const int64_t k = idx[p] < 0 ? idx[p] + size : idx[p];
        lin[p] = (accumulate ? lin[p] : 0) + k * stride;
    }
}
