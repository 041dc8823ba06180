/* This machine's float32 FMA peak: the ceiling that the GEMM figures in RESULTS.md are read
 * against (a product at 90% of it has ~10% left to gain, whatever the other libraries do).
 *
 * Each thread runs 12 independent chains of 8-wide AVX2 FMAs: enough to keep two FMA units busy
 * through a 4-5 cycle latency (Zen 3, Haswell and later). The result is the multiply-adds' flops
 * (2 a lane) per second, for one thread alone and then for each of `threads` running at once.
 *
 *   gcc -O2 benchmarks/fma_peak.c -lpthread -o /tmp/fma_peak && /tmp/fma_peak [threads]
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERATIONS 300000000L

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define STEP(c) c = _mm256_fmadd_ps(c, scale, shift)

static volatile float sink; /* the chains' sum goes here, so that none of them is dead code */

/* GF/s of one thread, written to *arg; the chains start apart so the compiler cannot merge them */
__attribute__((target("avx2,fma"))) static void *run_chains(void *arg)
{
    const __m256 scale = _mm256_set1_ps(0.999f), shift = _mm256_set1_ps(0.001f);
    __m256 c0 = _mm256_set1_ps(1), c1 = _mm256_set1_ps(2), c2 = _mm256_set1_ps(3);
    __m256 c3 = _mm256_set1_ps(4), c4 = _mm256_set1_ps(5), c5 = _mm256_set1_ps(6);
    __m256 c6 = _mm256_set1_ps(7), c7 = _mm256_set1_ps(8), c8 = _mm256_set1_ps(9);
    __m256 c9 = _mm256_set1_ps(10), c10 = _mm256_set1_ps(11), c11 = _mm256_set1_ps(12);
    const double start = now();
    for (long i = 0; i < ITERATIONS; ++i) {
        STEP(c0), STEP(c1), STEP(c2), STEP(c3), STEP(c4), STEP(c5);
        STEP(c6), STEP(c7), STEP(c8), STEP(c9), STEP(c10), STEP(c11);
    }
    const double seconds = now() - start;
    const __m256 sum = _mm256_add_ps(
        _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                      _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7))),
        _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    sink = lanes[0];
    *(double *)arg = ITERATIONS * 12.0 * 16.0 / seconds / 1e9;
    return NULL;
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
    double alone, each[64], total = 0;
    run_chains(&alone);
    printf("1 thread alone: %.1f GF/s\n", alone);
    pthread_t workers[64];
    for (int t = 0; t < threads; ++t)
        pthread_create(&workers[t], NULL, run_chains, &each[t]);
    for (int t = 0; t < threads; ++t) {
        pthread_join(workers[t], NULL);
        printf("thread %d of %d at once: %.1f GF/s\n", t, threads, each[t]);
        total += each[t];
    }
    printf("%d threads at once: %.1f GF/s in all\n", threads, total);
    return 0;
}
