/* How the C heap treats the large buffers that tensors allocate and free on every step. */
#ifndef CYGRAD_HEAP_H
#define CYGRAD_HEAP_H

/* Keeps freed memory at the top of the glibc heap mapped (M_TOP_PAD) instead of returning it to
 * the kernel on every free, unless the user tuned glibc's malloc through the environment. Returns
 * 1 when it changed the setting, 0 otherwise (not glibc, or the user's setting kept). */
int cg_heap_keep_freed_top(void);

#endif
