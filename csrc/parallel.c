/* cg_parallel_for: serial placeholder until the thread pool lands (see cygrad/parallel.h). */
#include "cygrad/parallel.h"

static int num_threads = 1;

void cg_parallel_for(int64_t n, int64_t grain, cg_range_fn fn, void *ctx)
{
    (void)grain;
    if (n > 0)
        fn(ctx, 0, n);
}

int cg_get_num_threads(void) { return num_threads; }

void cg_set_num_threads(int n) { num_threads = n; }
