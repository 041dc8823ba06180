/* One entry point for every elementwise kernel: calls it with the arguments of its arity, and
 * splits large iterations across cg_parallel_for's threads.
 *
 * The kernels of elementwise.h and compare.h share one calling convention,
 * kernel(it, out, in1, ..., in_arity[, param]); here they are passed as an untyped pointer with
 * their arity, so that the caller (the Cython runner) needs no per-arity code.
 */
#ifndef CYGRAD_ELEMENTWISE_RUN_H
#define CYGRAD_ELEMENTWISE_RUN_H
#include <stdint.h>

#include "cygrad/elementwise.h"

typedef struct cg_elementwise_call {
    const void *kernel;  /* a cg_<op>_<fwd|bwd>_<dtype> function */
    int arity;           /* 1..4 inputs */
    int has_param;       /* the kernel takes a trailing double (arity 1 or 2 only) */
    double param;
    void *out;
    const void *inputs[CG_MAX_OPERANDS - 1]; /* a broadcast scalar has stride 0 everywhere */
    int itemsize[CG_MAX_OPERANDS];           /* bytes per element: [0] out, then the inputs */
} cg_elementwise_call;

/* Runs call->kernel over it (ndim >= 1, coalesced). Iterations of at least 2 * grain elements are
 * split along their outermost dimension into contiguous blocks, one per thread; `grain` is
 * CG_GRAIN_CHEAP or CG_GRAIN_TRANSCENDENTAL (parallel.h) by the kernel's cost per element. */
void cg_elementwise_run(const cg_elementwise_call *call, const cg_iter *it, int64_t grain);

#endif
