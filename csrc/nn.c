/* Softmax family over the middle axis of a contiguous (outer, r, inner) array (see cygrad/nn.h).
 *
 * Each kernel works one line at a time: the r elements x[o, :, i], `inner` apart in memory. The
 * line functions take that stride as a parameter and are force-inlined into two call sites, one
 * with a literal stride of 1 (inner == 1, the common case: the loops are then contiguous and the
 * arithmetic ones vectorize) and one with stride `inner`.
 *
 * Stability: the line's max is subtracted before exp, so no exp overflows, and logits of +-1000
 * give exact results. Sums of exponentials and the backward dot products accumulate in double,
 * for float32 too. Formulas are written once for float and double with <tgmath.h>; exp is
 * vecmath.h's (vectorized for float). The forward kernels and log_softmax's backward are compiled
 * per SIMD level (simd_variants.h); their maxima and sums keep LANES partial results, so the loops
 * vectorize and every level adds in the same order (the same bits).
 */
#include "cygrad/nn.h"

#include <stddef.h>
#include <tgmath.h>

#include "cygrad/parallel.h"
#include "simd_variants.h"
#include "vecmath.h"

#define LANES 16

#define LINE_FUNCTION static inline __attribute__((always_inline))

/* Runs LINE(start, r, stride, arrays...) for every line; the lines of slab o start at element
 * o * r * inner + i, for i < inner. */
#define FOR_EACH_LINE(LINE, ...)                                                                   \
    for (int64_t o = 0; o < outer; ++o)                                                            \
        for (int64_t i = 0; i < inner; ++i) {                                                      \
            const int64_t start = o * r * inner + i;                                               \
            if (inner == 1)                                                                        \
                LINE(start, r, 1, __VA_ARGS__);                                                    \
            else                                                                                   \
                LINE(start, r, inner, __VA_ARGS__);                                                \
        }

#define DEFINE_SOFTMAX_FAMILY(T, suffix)                                                           \
                                                                                                   \
    /* the largest element of the line; a NaN need not win, it reaches every output through exp */ \
    LINE_FUNCTION T line_max_##suffix(const T *x, int64_t r, int64_t stride)                       \
    {                                                                                              \
        T max = x[0];                                                                              \
        int64_t k = 1;                                                                             \
        if (r >= 2 * LANES) {                                                                      \
            T lanes[LANES];                                                                        \
            for (int j = 0; j < LANES; ++j)                                                        \
                lanes[j] = x[j * stride];                                                          \
            for (k = LANES; k + LANES <= r; k += LANES) {                                          \
                CG_SIMD_LOOP                                                                       \
                for (int j = 0; j < LANES; ++j) {                                                  \
                    const T v = x[(k + j) * stride];                                               \
                    lanes[j] = v > lanes[j] ? v : lanes[j];                                        \
                }                                                                                  \
            }                                                                                      \
            max = lanes[0];                                                                        \
            for (int j = 1; j < LANES; ++j)                                                        \
                max = lanes[j] > max ? lanes[j] : max;                                             \
        }                                                                                          \
        for (; k < r; ++k)                                                                         \
            max = x[k * stride] > max ? x[k * stride] : max;                                       \
        return max;                                                                                \
    }                                                                                              \
                                                                                                   \
    /* sum_k exp(x[k] - shift) in double (exp itself in T, as torch computes it) */                \
    LINE_FUNCTION double line_exp_sum_##suffix(const T *x, int64_t r, int64_t stride, T shift)     \
    {                                                                                              \
        double lanes[LANES] = {0};                                                                 \
        int64_t k = 0;                                                                             \
        for (; k + LANES <= r; k += LANES) {                                                       \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < LANES; ++j)                                                        \
                lanes[j] += vm_exp(x[(k + j) * stride] - shift);                                   \
        }                                                                                          \
        double sum = 0;                                                                            \
        for (; k < r; ++k)                                                                         \
            sum += vm_exp(x[k * stride] - shift);                                                  \
        for (int j = 0; j < LANES; ++j)                                                            \
            sum += lanes[j];                                                                       \
        return sum;                                                                                \
    }                                                                                              \
                                                                                                   \
    /* sum_k v[k] in double */                                                                     \
    LINE_FUNCTION double line_sum_##suffix(const T *v, int64_t r, int64_t stride)                  \
    {                                                                                              \
        double lanes[LANES] = {0};                                                                 \
        int64_t k = 0;                                                                             \
        for (; k + LANES <= r; k += LANES) {                                                       \
            CG_SIMD_LOOP                                                                           \
            for (int j = 0; j < LANES; ++j)                                                        \
                lanes[j] += v[(k + j) * stride];                                                   \
        }                                                                                          \
        double sum = 0;                                                                            \
        for (; k < r; ++k)                                                                         \
            sum += v[k * stride];                                                                  \
        for (int j = 0; j < LANES; ++j)                                                            \
            sum += lanes[j];                                                                       \
        return sum;                                                                                \
    }                                                                                              \
                                                                                                   \
    /* y = exp(x - max) / sum(exp(x - max)) */                                                     \
    LINE_FUNCTION void softmax_line_##suffix(int64_t start, int64_t r, int64_t stride,             \
                                             const T *x, T *y)                                     \
    {                                                                                              \
        x += start, y += start;                                                                    \
        const T max = line_max_##suffix(x, r, stride);                                             \
        for (int64_t k = 0; k < r; ++k)                                                            \
            y[k * stride] = vm_exp(x[k * stride] - max);                                           \
        const double sum = line_sum_##suffix(y, r, stride);                                        \
        for (int64_t k = 0; k < r; ++k)                                                            \
            y[k * stride] = (T)(y[k * stride] / sum);                                              \
    }                                                                                              \
    CG_SIMD_VARIANTS(static, softmax_fwd_##suffix,                                                     \
                     (const T *x, T *y, int64_t outer, int64_t r, int64_t inner),                  \
                     (x, y, outer, r, inner), FOR_EACH_LINE(softmax_line_##suffix, x, y))          \
                                                                                                   \
    /* gx = y * (gy - sum_k(gy * y)) */                                                            \
    LINE_FUNCTION void softmax_bwd_line_##suffix(int64_t start, int64_t r, int64_t stride,         \
                                                 const T *y, const T *gy, T *gx)                   \
    {                                                                                              \
        y += start, gy += start, gx += start;                                                      \
        double dot = 0;                                                                            \
        for (int64_t k = 0; k < r; ++k)                                                            \
            dot += (double)gy[k * stride] * y[k * stride];                                         \
        const T dot_t = (T)dot;                                                                    \
        for (int64_t k = 0; k < r; ++k)                                                            \
            gx[k * stride] = y[k * stride] * (gy[k * stride] - dot_t);                             \
    }                                                                                              \
    static void softmax_bwd_##suffix(const T *y, const T *gy, T *gx, int64_t outer, int64_t r,     \
                                     int64_t inner)                                                \
    {                                                                                              \
        FOR_EACH_LINE(softmax_bwd_line_##suffix, y, gy, gx)                                        \
    }                                                                                              \
                                                                                                   \
    /* y = x - max - log(sum(exp(x - max))) */                                                     \
    LINE_FUNCTION void log_softmax_line_##suffix(int64_t start, int64_t r, int64_t stride,         \
                                                 const T *x, T *y)                                 \
    {                                                                                              \
        x += start, y += start;                                                                    \
        const T max = line_max_##suffix(x, r, stride);                                             \
        const T log_sum = (T)log(line_exp_sum_##suffix(x, r, stride, max));                       \
        for (int64_t k = 0; k < r; ++k)                                                            \
            y[k * stride] = x[k * stride] - max - log_sum;                                         \
    }                                                                                              \
    CG_SIMD_VARIANTS(static, log_softmax_fwd_##suffix,                                                 \
                     (const T *x, T *y, int64_t outer, int64_t r, int64_t inner),                  \
                     (x, y, outer, r, inner), FOR_EACH_LINE(log_softmax_line_##suffix, x, y))      \
                                                                                                   \
    /* gx = gy - exp(y) * sum_k(gy) */                                                             \
    LINE_FUNCTION void log_softmax_bwd_line_##suffix(int64_t start, int64_t r, int64_t stride,     \
                                                     const T *y, const T *gy, T *gx)               \
    {                                                                                              \
        y += start, gy += start, gx += start;                                                      \
        const T sum_t = (T)line_sum_##suffix(gy, r, stride);                                       \
        for (int64_t k = 0; k < r; ++k)                                                            \
            gx[k * stride] = gy[k * stride] - vm_exp(y[k * stride]) * sum_t;                       \
    }                                                                                              \
    CG_SIMD_VARIANTS(static, log_softmax_bwd_##suffix,                                                 \
                     (const T *y, const T *gy, T *gx, int64_t outer, int64_t r, int64_t inner),    \
                     (y, gy, gx, outer, r, inner),                                                 \
                     FOR_EACH_LINE(log_softmax_bwd_line_##suffix, y, gy, gx))

DEFINE_SOFTMAX_FAMILY(float, f32)
DEFINE_SOFTMAX_FAMILY(double, f64)

/* ---- across threads ----
 * Lines are independent, so the exported kernels split `outer` into blocks of slabs, each run by
 * the kernel above on pointers moved to the block (the same bits as one pass). A single slab
 * (softmax over the first dim) stays on one thread. */

typedef struct {
    const void *in1, *in2; /* x, or (y, gy) */
    void *out;
    int64_t r, inner;
} slabs_job;

/* cg_<name>_<suffix>(in, out, outer, r, inner) split over outer */
#define DEFINE_SPLIT_FWD(name, T, suffix)                                                          \
    static void name##_block_##suffix(void *ctx, int64_t begin, int64_t end)                       \
    {                                                                                              \
        const slabs_job *j = ctx;                                                                  \
        const int64_t at = begin * j->r * j->inner;                                                \
        name##_##suffix((const T *)j->in1 + at, (T *)j->out + at, end - begin, j->r, j->inner);    \
    }                                                                                              \
    void cg_##name##_##suffix(const T *x, T *y, int64_t outer, int64_t r, int64_t inner)           \
    {                                                                                              \
        slabs_job job = {x, NULL, y, r, inner};                                                    \
        cg_parallel_for(outer, cg_grain_in_items(CG_GRAIN_TRANSCENDENTAL, r * inner),              \
                        name##_block_##suffix, &job);                                              \
    }

/* cg_<name>_<suffix>(y, gy, gx, outer, r, inner) split over outer */
#define DEFINE_SPLIT_BWD(name, T, suffix)                                                          \
    static void name##_block_##suffix(void *ctx, int64_t begin, int64_t end)                       \
    {                                                                                              \
        const slabs_job *j = ctx;                                                                  \
        const int64_t at = begin * j->r * j->inner;                                                \
        name##_##suffix((const T *)j->in1 + at, (const T *)j->in2 + at, (T *)j->out + at,          \
                        end - begin, j->r, j->inner);                                              \
    }                                                                                              \
    void cg_##name##_##suffix(const T *y, const T *gy, T *gx, int64_t outer, int64_t r,            \
                              int64_t inner)                                                       \
    {                                                                                              \
        slabs_job job = {y, gy, gx, r, inner};                                                     \
        cg_parallel_for(outer, cg_grain_in_items(CG_GRAIN_TRANSCENDENTAL, r * inner),              \
                        name##_block_##suffix, &job);                                              \
    }

DEFINE_SPLIT_FWD(softmax_fwd, float, f32)
DEFINE_SPLIT_FWD(softmax_fwd, double, f64)
DEFINE_SPLIT_FWD(log_softmax_fwd, float, f32)
DEFINE_SPLIT_FWD(log_softmax_fwd, double, f64)
DEFINE_SPLIT_BWD(softmax_bwd, float, f32)
DEFINE_SPLIT_BWD(softmax_bwd, double, f64)
DEFINE_SPLIT_BWD(log_softmax_bwd, float, f32)
DEFINE_SPLIT_BWD(log_softmax_bwd, double, f64)
