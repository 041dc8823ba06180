/* Run-time SIMD level: detected once, overridable (tests force each level on one machine). */
#include "cygrad/simd.h"

#include <stddef.h>

/* -1 until first use. Kernels read the level on every call from any thread, so the two ints are
 * accessed with relaxed atomics; two threads racing through detection store the same value. */
static int best_level = -1;
static int current_level = -1;

static int detect_best_level(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return CG_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CG_SIMD_AVX2;
#endif
    return CG_SIMD_SCALAR;
}

int cg_simd_best(void)
{
    int level = __atomic_load_n(&best_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detect_best_level();
        __atomic_store_n(&best_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

int cg_simd_get(void)
{
    int level = __atomic_load_n(&current_level, __ATOMIC_RELAXED);
    if (level < 0) {
        /* Only replace the "unset" marker, so a cg_simd_set racing with this first call wins. */
        int unset = -1;
        level = cg_simd_best();
        if (!__atomic_compare_exchange_n(&current_level, &unset, level, 0, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED))
            level = unset; /* the value the other thread stored */
    }
    return level;
}

int cg_simd_set(int level)
{
    if (level < CG_SIMD_SCALAR || level > cg_simd_best())
        return -1;
    __atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
    return 0;
}

const char *cg_simd_name(int level)
{
    switch (level) {
    case CG_SIMD_SCALAR: return "scalar";
    case CG_SIMD_AVX2: return "avx2";
    case CG_SIMD_AVX512: return "avx512";
    default: return NULL;
    }
}
