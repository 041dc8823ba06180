/* Internal to csrc/: compile one kernel body once per SIMD level and dispatch at run time.
 *
 * The wheels are built for the x86-64 baseline (SSE2), so wider vectors come from compiling the
 * same C body again under __attribute__((target(...))) and letting gcc auto-vectorize it for that
 * instruction set. The public kernel is a thin switch on cg_simd_get(). Helpers called from the
 * body should be `static inline` without a target attribute: gcc inlines them into each variant.
 *
 * Elementwise results should be bitwise equal at every level. With -std=gnu11 (not -std=c11)
 * gcc may contract a * b + c into one FMA in the AVX builds, which rounds once instead of twice;
 * no formula compiled here has that shape today (objdump finds FMA only in gemm.c, which asks for
 * it with fma()), and -ffp-contract=off in the build flags would make that a guarantee.
 */
#ifndef CYGRAD_SIMD_VARIANTS_H
#define CYGRAD_SIMD_VARIANTS_H

#include "cygrad/simd.h"

/* The `linkage` argument of the macros below for a function declared in a public header. */
#define CG_EXPORTED

#define CG_PRAGMA(text) _Pragma(#text)
/* Before a loop without loop-carried dependences: vectorize it without run-time alias checks.
 * (An output may be the very same buffer as an input, element for element; that is allowed.) */
#define CG_SIMD_LOOP CG_PRAGMA(omp simd)
#define CG_SIMD_SUM(acc) CG_PRAGMA(omp simd reduction(+ : acc))

/* The baseline build needs no attribute. */
#define CG_TARGET_BASELINE

#if defined(__x86_64__) || defined(__i386__)

#define CG_X86_VARIANTS 1 /* the AVX2 and AVX-512 builds exist */
#define CG_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define CG_TARGET_AVX2 __attribute__((target("avx2,fma")))

/* Defines `linkage void name params` that runs `body` (the variadic part, so it may contain
 * commas) compiled for the current SIMD level. `args` are the names in `params`, parenthesized. */
#define CG_SIMD_VARIANTS(linkage, name, params, args, ...)                                         \
    static CG_TARGET_AVX512 void name##_avx512 params { __VA_ARGS__ }                              \
    static CG_TARGET_AVX2 void name##_avx2 params { __VA_ARGS__ }                                  \
    static void name##_baseline params { __VA_ARGS__ }                                             \
    linkage void name params                                                                       \
    {                                                                                              \
        switch (cg_simd_get()) {                                                                   \
        case CG_SIMD_AVX512: name##_avx512 args; return;                                           \
        case CG_SIMD_AVX2: name##_avx2 args; return;                                               \
        default: name##_baseline args; return;                                                     \
        }                                                                                          \
    }

#else /* not x86: one portable build; cg_simd_get() only ever reports CG_SIMD_SCALAR */

#define CG_SIMD_VARIANTS(linkage, name, params, args, ...) linkage void name params { __VA_ARGS__ }

#endif

#endif
