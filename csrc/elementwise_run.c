/* cg_elementwise_run: see cygrad/elementwise_run.h. */
#include "cygrad/elementwise_run.h"

#include "cygrad/parallel.h"

typedef void (*kernel1)(const cg_iter *, void *, const void *);
typedef void (*kernel2)(const cg_iter *, void *, const void *, const void *);
typedef void (*kernel3)(const cg_iter *, void *, const void *, const void *, const void *);
typedef void (*kernel4)(const cg_iter *, void *, const void *, const void *, const void *,
                        const void *);
typedef void (*kernel1_param)(const cg_iter *, void *, const void *, double);
typedef void (*kernel2_param)(const cg_iter *, void *, const void *, const void *, double);

static void call_kernel(const cg_elementwise_call *call, const cg_iter *it, void *out,
                        const void *const *in)
{
    const void *k = call->kernel;
    if (call->has_param) {
        if (call->arity == 1)
            ((kernel1_param)k)(it, out, in[0], call->param);
        else
            ((kernel2_param)k)(it, out, in[0], in[1], call->param);
        return;
    }
    switch (call->arity) {
    case 1: ((kernel1)k)(it, out, in[0]); return;
    case 2: ((kernel2)k)(it, out, in[0], in[1]); return;
    case 3: ((kernel3)k)(it, out, in[0], in[1], in[2]); return;
    default: ((kernel4)k)(it, out, in[0], in[1], in[2], in[3]); return;
    }
}

typedef struct {
    const cg_elementwise_call *call;
    const cg_iter *it;
} split_job;

/* Runs the block [begin, end) of the outermost dimension: the same iteration with that dimension
 * shortened and every operand's pointer moved to the block's start. */
static void run_block(void *ctx, int64_t begin, int64_t end)
{
    const split_job *job = ctx;
    const cg_elementwise_call *call = job->call;
    cg_iter block = *job->it;
    block.shape[0] = end - begin;
    const void *in[CG_MAX_OPERANDS - 1];
    for (int k = 0; k < call->arity; ++k)
        in[k] = (const char *)call->inputs[k] +
                begin * block.strides[k + 1][0] * call->itemsize[k + 1];
    void *out = (char *)call->out + begin * block.strides[0][0] * call->itemsize[0];
    call_kernel(call, &block, out, in);
}

void cg_elementwise_run(const cg_elementwise_call *call, const cg_iter *it, int64_t grain)
{
    int64_t elements = 1;
    for (int d = 0; d < it->ndim; ++d)
        elements *= it->shape[d];
    if (elements < 2 * grain || cg_get_num_threads() < 2) {
        call_kernel(call, it, call->out, call->inputs);
        return;
    }
    /* blocks of the outermost dimension that hold at least `grain` elements */
    const int64_t per_index = elements / it->shape[0];
    const int64_t grain_indices = cg_grain_in_items(grain, per_index);
    split_job job = {call, it};
    cg_parallel_for(it->shape[0], grain_indices, run_block, &job);
}
