/* How the C heap treats the large buffers that tensors allocate and free on every step. */
#ifndef CYGRAD_HEAP_H
#define CYGRAD_HEAP_H

/* Keeps freed memory at the top of the glibc heap mapped (M_TOP_PAD) instead of returning it to
 * the kernel on every free, and serves blocks up to 32 MiB from the heap rather than from fresh
 * mmaps (M_MMAP_THRESHOLD), unless the user tuned glibc's malloc through the environment. Returns
 * 1 when it changed the settings, 0 otherwise (not glibc, or the user's settings kept). */
int cg_heap_keep_freed_top(void);

#endif
