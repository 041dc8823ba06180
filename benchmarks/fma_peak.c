/* This machine's float32 FMA peak: the ceiling that the GEMM figures in RESULTS.md are read
 * against (a product at 90% of it has ~10% left to gain, whatever the other libraries do).
 *
 * Each thread runs 12 independent chains of FMAs: enough to keep two FMA units busy through a
 * 4-5 cycle latency (Zen 3 and later, Haswell and later). The result is the multiply-adds' flops
 * (2 a lane) per second, for one thread alone and then for each of `threads` running at once:
 * with 8-wide AVX2 FMAs, then, where the CPU has AVX-512, with 16-wide ones.
 *
 *   gcc -O2 benchmarks/fma_peak.c -lpthread -o /tmp/fma_peak && /tmp/fma_peak [threads]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERATIONS 300000000L
#define CHAIN_COUNT 12

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile float sink; /* the chains' sum goes here, so that none of them is dead code */

/* One thread's GF/s at one vector width, written to *arg. VEC is the vector type, P its
 * intrinsics' prefix, LANES its float32 lanes; the chains start apart so that the compiler
 * cannot merge them. */
#define CHAINS(NAME, TARGET, VEC, P, LANES)                                                        \
    __attribute__((target(TARGET))) static void *NAME(void *arg)                                  \
    {                                                                                              \
        const VEC scale = P##_set1_ps(0.999f), shift = P##_set1_ps(0.001f);                        \
        VEC chain[CHAIN_COUNT];                                                                    \
        for (int c = 0; c < CHAIN_COUNT; ++c)                                                      \
            chain[c] = P##_set1_ps((float)(c + 1));                                                \
        const double start = now();                                                                \
        for (long i = 0; i < ITERATIONS; ++i)                                                      \
            _Pragma("GCC unroll 12") /* each chain in a register of its own */                     \
            for (int c = 0; c < CHAIN_COUNT; ++c)                                                  \
                chain[c] = P##_fmadd_ps(chain[c], scale, shift);                                   \
        const double seconds = now() - start;                                                      \
        VEC sum = chain[0];                                                                        \
        for (int c = 1; c < CHAIN_COUNT; ++c)                                                      \
            sum = P##_add_ps(sum, chain[c]);                                                       \
        float lanes[LANES];                                                                        \
        P##_storeu_ps(lanes, sum);                                                                 \
        sink = lanes[0];                                                                           \
        *(double *)arg = ITERATIONS * CHAIN_COUNT * 2.0 * LANES / seconds / 1e9;                   \
        return NULL;                                                                               \
    }

CHAINS(run_avx2_chains, "avx2,fma", __m256, _mm256, 8)
CHAINS(run_avx512_chains, "avx512f", __m512, _mm512, 16)

/* The ceiling at one width: one thread alone, then `threads` at once */
static void measure(const char *width, void *(*run_chains)(void *), int threads)
{
    double alone, each[64], total = 0;
    run_chains(&alone);
    printf("%s, 1 thread alone: %.1f GF/s\n", width, alone);
    pthread_t workers[64];
    for (int t = 0; t < threads; ++t)
        pthread_create(&workers[t], NULL, run_chains, &each[t]);
    for (int t = 0; t < threads; ++t) {
        pthread_join(workers[t], NULL);
        printf("%s, thread %d of %d at once: %.1f GF/s\n", width, t, threads, each[t]);
        total += each[t];
    }
    printf("%s, %d threads at once: %.1f GF/s in all\n", width, threads, total);
}

int main(int argc, char **argv)
{
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "this CPU has no AVX2 and FMA\n");
        return 1;
    }
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "usage: %s [threads, 1..64]\n", argv[0]);
        return 2;
    }
    measure("AVX2", run_avx2_chains, threads);
    if (__builtin_cpu_supports("avx512f"))
        measure("AVX-512", run_avx512_chains, threads);
    return 0;
}
