/* Sorting along an axis and the ops built on it (see cygrad/sort.h).
 *
 * Each line x[o, :, i] is copied into a contiguous buffer of (value, position) pairs and sorted
 * there by a stable merge sort: insertion sort of short runs, then bottom-up merges that alternate
 * between the two halves of the scratch buffers. Stability comes from the merge taking the left
 * element unless the right one goes strictly before it. When only a few first pairs of a long line
 * are wanted (topk with a small k), a sorted buffer of the best k seen so far replaces the sort
 * (see PARTIAL_MAX). The order is a "goes before" predicate per direction, which places NaN after
 * every number ascending and before every number descending.
 */
#include "cygrad/sort.h"

#include <math.h>
#include <string.h>

/* Lines are first sorted in runs of this many elements by insertion sort. */
#define RUN 16
/* A selection of at most this many elements (topk with a small k) keeps the best k seen so far in
 * a sorted buffer instead of sorting the whole line: one comparison per element for most of them,
 * and at worst (an adversarial order) k moves per element. */
#define PARTIAL_MAX 64

static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

#define FLOAT_IS_NAN(v) isnan(v)
#define INT_IS_NAN(v) 0

/* Whether a goes strictly before b: ascending with NaN last, descending with NaN first. */
#define ASCENDING_BEFORE(a, b, IS_NAN) ((a) < (b) || (!IS_NAN(a) && IS_NAN(b)))
#define DESCENDING_BEFORE(a, b, IS_NAN) ((a) > (b) || (IS_NAN(a) && !IS_NAN(b)))

/* sort_line_<dir>_<suffix>(v, ix, tv, tix, r): sorts the pairs (v[j], ix[j]), j < r, stably;
 * tv and tix are buffers of r elements. Returns 1 when the sorted pairs ended up in (tv, tix),
 * 0 when they are in (v, ix). */
#define DEFINE_SORT_LINE(name, T, BEFORE, IS_NAN)                                                  \
    static int name(T *v, int64_t *ix, T *tv, int64_t *tix, int64_t r)                             \
    {                                                                                              \
        for (int64_t start = 0; start < r; start += RUN) {                                         \
            const int64_t end = min_i64(start + RUN, r);                                           \
            for (int64_t j = start + 1; j < end; ++j) {                                            \
                const T key = v[j];                                                                \
                const int64_t key_ix = ix[j];                                                      \
                int64_t m = j;                                                                     \
                for (; m > start && BEFORE(key, v[m - 1], IS_NAN); --m) {                          \
                    v[m] = v[m - 1];                                                               \
                    ix[m] = ix[m - 1];                                                             \
                }                                                                                  \
                v[m] = key;                                                                        \
                ix[m] = key_ix;                                                                    \
            }                                                                                      \
        }                                                                                          \
        T *src_v = v, *dst_v = tv;                                                                 \
        int64_t *src_i = ix, *dst_i = tix;                                                         \
        int in_buffer = 0;                                                                         \
        for (int64_t width = RUN; width < r; width *= 2) {                                         \
            for (int64_t lo = 0; lo < r; lo += 2 * width) {                                        \
                const int64_t mid = min_i64(lo + width, r), hi = min_i64(lo + 2 * width, r);       \
                int64_t a = lo, b = mid, d = lo;                                                   \
                while (a < mid && b < hi) {                                                        \
                    if (BEFORE(src_v[b], src_v[a], IS_NAN)) {                                      \
                        dst_v[d] = src_v[b];                                                       \
                        dst_i[d++] = src_i[b++];                                                   \
                    } else {                                                                       \
                        dst_v[d] = src_v[a];                                                       \
                        dst_i[d++] = src_i[a++];                                                   \
                    }                                                                              \
                }                                                                                  \
                for (; a < mid; ++a, ++d) {                                                        \
                    dst_v[d] = src_v[a];                                                           \
                    dst_i[d] = src_i[a];                                                           \
                }                                                                                  \
                for (; b < hi; ++b, ++d) {                                                         \
                    dst_v[d] = src_v[b];                                                           \
                    dst_i[d] = src_i[b];                                                           \
                }                                                                                  \
            }                                                                                      \
            T *swap_v = src_v;                                                                     \
            src_v = dst_v;                                                                         \
            dst_v = swap_v;                                                                        \
            int64_t *swap_i = src_i;                                                               \
            src_i = dst_i;                                                                         \
            dst_i = swap_i;                                                                        \
            in_buffer = !in_buffer;                                                                \
        }                                                                                          \
        return in_buffer;                                                                          \
    }

/* select_line_<dir>_<suffix>(line, stride, r, k, v, ix): the first k pairs of the sorted line
 * (line[j * stride], j), j < r, into v and ix, by inserting each element that goes before the
 * current k-th after the elements it does not go before (so ties keep the lower index first). */
#define DEFINE_SELECT_LINE(name, T, BEFORE, IS_NAN)                                                \
    static void name(const T *line, int64_t stride, int64_t r, int64_t k, T *v, int64_t *ix)       \
    {                                                                                              \
        int64_t m = 0; /* pairs held */                                                            \
        for (int64_t j = 0; j < r; ++j) {                                                          \
            const T value = line[j * stride];                                                      \
            if (m == k && !BEFORE(value, v[k - 1], IS_NAN))                                        \
                continue;                                                                          \
            int64_t lo = 0, hi = m; /* the first held pair that value goes before */               \
            while (lo < hi) {                                                                      \
                const int64_t mid = lo + (hi - lo) / 2;                                            \
                if (BEFORE(value, v[mid], IS_NAN))                                                 \
                    hi = mid;                                                                      \
                else                                                                               \
                    lo = mid + 1;                                                                  \
            }                                                                                      \
            const int64_t last = m < k ? m : k - 1; /* a full buffer drops its k-th pair */        \
            for (int64_t p = last; p > lo; --p) {                                                  \
                v[p] = v[p - 1];                                                                   \
                ix[p] = ix[p - 1];                                                                 \
            }                                                                                      \
            v[lo] = value;                                                                         \
            ix[lo] = j;                                                                            \
            if (m < k)                                                                             \
                ++m;                                                                               \
        }                                                                                          \
    }

/* values[o, j, i], indices[o, j, i] = the j-th pair of line x[o, :, i] in sorted order, j < k */
#define DEFINE_SORT(suffix, T, IS_NAN)                                                             \
    DEFINE_SORT_LINE(sort_line_ascending_##suffix, T, ASCENDING_BEFORE, IS_NAN)                    \
    DEFINE_SORT_LINE(sort_line_descending_##suffix, T, DESCENDING_BEFORE, IS_NAN)                  \
    DEFINE_SELECT_LINE(select_line_ascending_##suffix, T, ASCENDING_BEFORE, IS_NAN)                \
    DEFINE_SELECT_LINE(select_line_descending_##suffix, T, DESCENDING_BEFORE, IS_NAN)              \
    void cg_sort_##suffix(const T *x, T *values, int64_t *indices, int64_t outer, int64_t r,       \
                          int64_t inner, int64_t k, int descending, T *scratch_values,             \
                          int64_t *scratch_indices)                                                \
    {                                                                                              \
        T *v = scratch_values, *tv = scratch_values + r;                                           \
        int64_t *ix = scratch_indices, *tix = scratch_indices + r;                                 \
        if (k == 0)                                                                                \
            return;                                                                                \
        for (int64_t o = 0; o < outer; ++o)                                                        \
            for (int64_t i = 0; i < inner; ++i) {                                                  \
                const T *line = x + o * r * inner + i;                                             \
                const T *sorted_v = v;                                                             \
                const int64_t *sorted_i = ix;                                                      \
                if (k <= PARTIAL_MAX && k < r) {                                                   \
                    if (descending)                                                                \
                        select_line_descending_##suffix(line, inner, r, k, v, ix);                 \
                    else                                                                           \
                        select_line_ascending_##suffix(line, inner, r, k, v, ix);                  \
                } else {                                                                           \
                    for (int64_t j = 0; j < r; ++j) {                                              \
                        v[j] = line[j * inner];                                                    \
                        ix[j] = j;                                                                 \
                    }                                                                              \
                    if (descending ? sort_line_descending_##suffix(v, ix, tv, tix, r)              \
                                   : sort_line_ascending_##suffix(v, ix, tv, tix, r)) {            \
                        sorted_v = tv;                                                             \
                        sorted_i = tix;                                                            \
                    }                                                                              \
                }                                                                                  \
                for (int64_t j = 0; j < k; ++j) {                                                  \
                    values[(o * k + j) * inner + i] = sorted_v[j];                                 \
                    indices[(o * k + j) * inner + i] = sorted_i[j];                                \
                }                                                                                  \
            }                                                                                      \
    }

DEFINE_SORT(f32, float, FLOAT_IS_NAN)
DEFINE_SORT(f64, double, FLOAT_IS_NAN)
DEFINE_SORT(i64, int64_t, INT_IS_NAN)

/* gx = 0; gx[o, indices[o, j, i], i] += gy[o, j, i] */
#define DEFINE_SELECT_BWD(name, T)                                                                 \
    void name(const T *gy, const int64_t *indices, T *gx, int64_t outer, int64_t k, int64_t r,     \
              int64_t inner)                                                                       \
    {                                                                                              \
        memset(gx, 0, (size_t)(outer * r * inner) * sizeof(T)); /* all-zero bytes are +0.0 */     \
        for (int64_t o = 0; o < outer; ++o)                                                        \
            for (int64_t j = 0; j < k; ++j)                                                        \
                for (int64_t i = 0; i < inner; ++i) {                                              \
                    const int64_t at = (o * k + j) * inner + i;                                    \
                    gx[(o * r + indices[at]) * inner + i] += gy[at];                               \
                }                                                                                  \
    }

DEFINE_SELECT_BWD(cg_select_bwd_f32, float)
DEFINE_SELECT_BWD(cg_select_bwd_f64, double)

/* A new run starts at every element that differs from the one before it (NaN differs from all). */
#define DEFINE_UNIQUE_SORTED(name, T)                                                              \
    void name(const T *sorted, const int64_t *order, int64_t n, T *values, int64_t *inverse,       \
              int64_t *counts, int64_t *n_unique)                                                  \
    {                                                                                              \
        int64_t u = -1;                                                                            \
        for (int64_t j = 0; j < n; ++j) {                                                          \
            if (j == 0 || sorted[j] != sorted[j - 1]) {                                            \
                values[++u] = sorted[j];                                                           \
                if (counts)                                                                        \
                    counts[u] = 0;                                                                 \
            }                                                                                      \
            if (counts)                                                                            \
                counts[u] += 1;                                                                    \
            if (inverse)                                                                           \
                inverse[order[j]] = u;                                                             \
        }                                                                                          \
        *n_unique = u + 1;                                                                         \
    }

DEFINE_UNIQUE_SORTED(cg_unique_sorted_f32, float)
DEFINE_UNIQUE_SORTED(cg_unique_sorted_f64, double)
DEFINE_UNIQUE_SORTED(cg_unique_sorted_i64, int64_t)
