/* Sorting along the middle axis of a contiguous (outer, r, inner) array, and the ops built on it
 * (sort, argsort, topk, unique, and the gradient of a selection along an axis).
 *
 * Order: ascending or descending; stable (equal elements keep their input order); NaN is greater
 * than every number (last in ascending order, first in descending order), as in torch. -0.0 and
 * 0.0 are equal.
 */
#ifndef CYGRAD_SORT_H
#define CYGRAD_SORT_H
#include <stdint.h>

/* values[o, j, i] and indices[o, j, i] for j < k (k <= r): the first k elements of x[o, :, i] in
 * sorted order and their positions along the axis. scratch_values and scratch_indices hold 2 * r
 * elements each (the merge sort's two buffers); r >= 1. */
void cg_sort_f32(const float *x, float *values, int64_t *indices, int64_t outer, int64_t r,
                 int64_t inner, int64_t k, int descending, float *scratch_values,
                 int64_t *scratch_indices);
void cg_sort_f64(const double *x, double *values, int64_t *indices, int64_t outer, int64_t r,
                 int64_t inner, int64_t k, int descending, double *scratch_values,
                 int64_t *scratch_indices);
void cg_sort_i64(const int64_t *x, int64_t *values, int64_t *indices, int64_t outer, int64_t r,
                 int64_t inner, int64_t k, int descending, int64_t *scratch_values,
                 int64_t *scratch_indices);

/* gx = 0, then gx[o, indices[o, j, i], i] += gy[o, j, i] for j < k: the gradient of the k elements
 * a sort or topk selected along the axis (gx has r elements along it) */
void cg_select_bwd_f32(const float *gy, const int64_t *indices, float *gx, int64_t outer, int64_t k,
                       int64_t r, int64_t inner);
void cg_select_bwd_f64(const double *gy, const int64_t *indices, double *gx, int64_t outer,
                       int64_t k, int64_t r, int64_t inner);

/* The runs of equal elements of an ascending array `sorted` of n elements, whose element j came
 * from position order[j] of the input: values[u] is the u-th distinct value and counts[u] its
 * number of elements, inverse[order[j]] = the run of element j, *n_unique = the number of runs.
 * NaN != NaN, so every NaN is a run of its own, as in torch. inverse and counts may be NULL. */
void cg_unique_sorted_f32(const float *sorted, const int64_t *order, int64_t n, float *values,
                          int64_t *inverse, int64_t *counts, int64_t *n_unique);
void cg_unique_sorted_f64(const double *sorted, const int64_t *order, int64_t n, double *values,
                          int64_t *inverse, int64_t *counts, int64_t *n_unique);
void cg_unique_sorted_i64(const int64_t *sorted, const int64_t *order, int64_t n, int64_t *values,
                          int64_t *inverse, int64_t *counts, int64_t *n_unique);

#endif
