/* Run-time choice of the SIMD variant every dispatched kernel uses.
 * Levels are ordered: a CPU that supports a level supports all lower ones. */
#ifndef CYGRAD_SIMD_H
#define CYGRAD_SIMD_H

enum cg_simd_level { CG_SIMD_SCALAR = 0, CG_SIMD_AVX2 = 1, CG_SIMD_AVX512 = 2 };

/* Highest level this CPU supports (AVX2 means AVX2+FMA; AVX512 means F+BW+DQ+VL). */
int cg_simd_best(void);
/* Level in use now (starts at cg_simd_best()). */
int cg_simd_get(void);
/* Use `level` from now on; returns 0, or -1 (and changes nothing) when the CPU lacks it. */
int cg_simd_set(int level);
/* "scalar", "avx2", "avx512"; NULL for an unknown level. */
const char *cg_simd_name(int level);

#endif
