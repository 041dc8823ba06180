/* Index kernels (see cygrad/index.h): gathers and scatters over strided (outer, n, inner) spaces.
 *
 * These kernels move memory; the arithmetic is in the address computation. Two row shapes matter:
 * one index per row (x[idx], index_select: idx stride 0 along i) copies a whole row from one source
 * row, with a contiguous fast path; one index per element (gather, scatter) looks each one up.
 */
#include "cygrad/index.h"

/* Row (o, j): ip points at its first index, is2 is the index stride along i (0: one index per row). */
#define ROW_SETUP                                                                                  \
    const int64_t *ip = idx + o * it->idx[0] + j * it->idx[1];                                     \
    const int64_t is2 = it->idx[2];

/* dst[o, j, i] = src[o, k, i] */
#define DEFINE_GATHER(name, T)                                                                     \
    CG_GATHER(name, T)                                                                             \
    {                                                                                              \
        const int64_t *ss = it->src, *ds = it->dst;                                                \
        for (int64_t o = 0; o < it->outer; ++o)                                                    \
            for (int64_t j = 0; j < it->n; ++j) {                                                  \
                ROW_SETUP                                                                          \
                const T *s = src + o * ss[0];                                                      \
                T *d = dst + o * ds[0] + j * ds[1];                                                \
                if (is2 == 0) {                                                                    \
                    const T *row = s + ip[0] * ss[1];                                              \
                    if (ss[2] == 1 && ds[2] == 1)                                                  \
                        for (int64_t i = 0; i < it->inner; ++i)                                    \
                            d[i] = row[i];                                                         \
                    else                                                                           \
                        for (int64_t i = 0; i < it->inner; ++i)                                    \
                            d[i * ds[2]] = row[i * ss[2]];                                         \
                } else {                                                                           \
                    for (int64_t i = 0; i < it->inner; ++i)                                        \
                        d[i * ds[2]] = s[ip[i * is2] * ss[1] + i * ss[2]];                         \
                }                                                                                  \
            }                                                                                      \
    }

/* dst[o, k, i] = src[o, j, i] (ASSIGN is = or +=); rows are visited in order of j, so with
 * duplicate indices the last write wins (=) or every write is added (+=) */
#define DEFINE_SCATTER(name, T, ASSIGN)                                                            \
    CG_GATHER(name, T)                                                                             \
    {                                                                                              \
        const int64_t *ss = it->src, *ds = it->dst;                                                \
        for (int64_t o = 0; o < it->outer; ++o)                                                    \
            for (int64_t j = 0; j < it->n; ++j) {                                                  \
                ROW_SETUP                                                                          \
                const T *s = src + o * ss[0] + j * ss[1];                                          \
                T *d = dst + o * ds[0];                                                            \
                if (is2 == 0) {                                                                    \
                    T *row = d + ip[0] * ds[1];                                                    \
                    if (ss[2] == 1 && ds[2] == 1)                                                  \
                        for (int64_t i = 0; i < it->inner; ++i)                                    \
                            row[i] ASSIGN s[i];                                                    \
                    else                                                                           \
                        for (int64_t i = 0; i < it->inner; ++i)                                    \
                            row[i * ds[2]] ASSIGN s[i * ss[2]];                                    \
                } else {                                                                           \
                    for (int64_t i = 0; i < it->inner; ++i)                                        \
                        d[ip[i * is2] * ds[1] + i * ds[2]] ASSIGN s[i * ss[2]];                    \
                }                                                                                  \
            }                                                                                      \
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

/* first p with idx[p] < lo or idx[p] >= size, lo = -size or 0 */
void cg_index_find_invalid_i64(const int64_t *idx, int64_t n, int64_t size, int allow_negative,
                               int64_t *position)
{
    const int64_t lo = allow_negative ? -size : 0;
    *position = -1;
    for (int64_t p = 0; p < n; ++p) {
        if (idx[p] < lo || idx[p] >= size) {
            *position = p;
            return;
        }
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
