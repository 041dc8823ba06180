/* Heap tuning (see cygrad/heap.h).
 *
 * A training step allocates and frees the same few large buffers (activations, gradients,
 * log-probabilities) every iteration. glibc serves them from the top of its heap and, once more
 * than twice the current mmap threshold is free there, gives it back to the kernel (trims); the
 * next step grows the heap again and the kernel zeroes every page on first touch. For
 * cross-entropy over 512 x 1000 logits that churn was ~900 page faults per step and two-thirds
 * of the step's time (4.6 ms a step against 1.5 ms with the memory kept, one thread).
 * M_TOP_PAD keeps up to TOP_PAD bytes above the heap's top mapped across trims: resident memory
 * stays up to that much higher after a large free, the price torch pays through its allocators.
 *
 * Setting any of glibc's thresholds also freezes the others (mallopt sets no_dyn_threshold): the
 * mmap threshold would stay at its start value, 128 KiB, instead of rising to the size of the
 * large blocks the program frees. Then, whenever the free space at the heap's top is taken
 * (another library's buffers sit there), every large buffer is a fresh mmap, faulted in page by
 * page and unmapped on free: a 1024 x 1024 gather's forward and backward took ~1,500 page
 * faults and 11 ms a call instead of 0 and 4 ms once torch had run beside it. So the mmap
 * threshold is set to the highest value glibc's own adjustment would reach: blocks below it
 * come from the heap and are reused.
 */
#include "cygrad/heap.h"

#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define TOP_PAD (64 * 1024 * 1024)
/* glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit systems): the ceiling of its dynamic
 * threshold, and the most mallopt accepts. */
#define MMAP_THRESHOLD_MAX ((int)(4 * 1024 * 1024 * sizeof(long)))

/* The user's own malloc settings win: glibc reads these at startup. */
static int user_tuned_malloc(void)
{
    static const char *const variables[] = {"MALLOC_TOP_PAD_", "MALLOC_TRIM_THRESHOLD_",
                                            "MALLOC_MMAP_THRESHOLD_"};
    for (size_t i = 0; i < sizeof variables / sizeof *variables; ++i)
        if (getenv(variables[i]))
            return 1;
    const char *tunables = getenv("GLIBC_TUNABLES");
    return tunables && strstr(tunables, "glibc.malloc.") != NULL;
}

int cg_heap_keep_freed_top(void)
{
#ifdef __GLIBC__
    if (user_tuned_malloc())
        return 0;
    return mallopt(M_TOP_PAD, TOP_PAD) == 1 && mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) == 1;
#else
    return 0;
#endif
}
