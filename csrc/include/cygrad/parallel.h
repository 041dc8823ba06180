/* Intra-op parallelism: one parallel loop for every kernel family.
 *
 * A kernel that can split its work calls cg_parallel_for with a function that processes a
 * sub-range [begin, end) of [0, n). The range is cut into contiguous chunks, one per thread, each
 * at least `grain` long: below 2 * grain everything runs inline on the calling thread, so small
 * tensors pay nothing. The calling thread runs a chunk itself and returns when all are done.
 */
#ifndef CYGRAD_PARALLEL_H
#define CYGRAD_PARALLEL_H
#include <stdint.h>

/* Grains, in elements: memory-bound ops (add, relu, copies) gain from a second thread only past
 * ~32K elements; transcendental ones (exp, tanh, ...) do ~10x more work per element. */
#define CG_GRAIN_CHEAP 32768
#define CG_GRAIN_TRANSCENDENTAL 4096

/* The grain for a range whose items hold `per_item` elements each: enough items to make `elements`
 * elements (rounded up, at least 1). */
static inline int64_t cg_grain_in_items(int64_t elements, int64_t per_item)
{
    return per_item < 1 ? elements : (elements + per_item - 1) / per_item;
}

/* Processes [begin, end) of the range; ctx is the caller's data, shared by all chunks. */
typedef void (*cg_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) on up to cg_get_num_threads() threads. A call made from inside a chunk
 * runs inline (no nested parallelism). */
void cg_parallel_for(int64_t n, int64_t grain, cg_range_fn fn, void *ctx);

/* Threads used by cg_parallel_for (the caller included); starts at the number of CPUs this process
 * may run on. */
int cg_get_num_threads(void);
/* Sets it (n >= 1; the caller checks). */
void cg_set_num_threads(int n);

#endif
