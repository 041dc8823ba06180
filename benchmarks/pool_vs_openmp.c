/* Why cygrad's kernels use their own thread pool (csrc/parallel.c) rather than OpenMP.
 *
 * Times one parallel loop over 64K floats (y = x * 2 + 1: a cheap, memory-bound op of the size
 * where a second thread starts to pay), run back to back and after an idle gap (the pool's
 * workers have gone to sleep), through cg_parallel_for and through `#pragma omp parallel for`,
 * interleaved, reporting medians. Then checks that a forked child can still compute in parallel.
 *
 *   gcc -O2 -fopenmp -Icsrc/include benchmarks/pool_vs_openmp.c csrc/parallel.c -o /tmp/pool_vs_omp
 *   /tmp/pool_vs_omp
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cygrad/parallel.h"

#define N 65536
#define REPS 301

float x[N], y[N]; /* not static: the stores must happen */

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void scale_range(void *ctx, int64_t begin, int64_t end)
{
    (void)ctx;
    for (int64_t i = begin; i < end; ++i)
        y[i] = x[i] * 2 + 1;
}

static void with_pool(void) { cg_parallel_for(N, 16384, scale_range, NULL); }

static void with_openmp(void)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; ++i)
        y[i] = x[i] * 2 + 1;
}

static int by_value(const void *a, const void *b)
{
    double d = *(const double *)a - *(const double *)b;
    return (d > 0) - (d < 0);
}

/* Median time of one call, each call preceded by `gap_us` of sleep. */
static void compare(const char *label, int gap_us)
{
    static double pool_t[REPS], omp_t[REPS];
    for (int r = 0; r < REPS; ++r) {
        if (gap_us)
            usleep(gap_us);
        double t0 = now_us();
        with_pool();
        pool_t[r] = now_us() - t0;
        if (gap_us)
            usleep(gap_us);
        t0 = now_us();
        with_openmp();
        omp_t[r] = now_us() - t0;
    }
    qsort(pool_t, REPS, sizeof(double), by_value);
    qsort(omp_t, REPS, sizeof(double), by_value);
    printf("%-28s pool %7.1f us   openmp %7.1f us\n", label, pool_t[REPS / 2], omp_t[REPS / 2]);
}

/* 0 when a forked child finishes a parallel loop within 10 s. */
static int child_finishes(void (*loop)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10); /* a hung child dies of SIGALRM */
        loop();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
    cg_set_num_threads(2);
    omp_set_num_threads(2);
    for (int i = 0; i < N; ++i)
        x[i] = (float)i;
    printf("64K-float loop on 2 threads, median of %d (1 thread, no pool: ", REPS);
    double t0 = now_us();
    for (int r = 0; r < 100; ++r)
        scale_range(NULL, 0, N);
    printf("%.1f us)\n", (now_us() - t0) / 100);
    compare("back to back", 0);
    compare("after a 50 us idle gap", 50);
    compare("after a 1 ms idle gap", 1000);
    compare("after a 20 ms idle gap", 20000);
    printf("checksum %g\n", (double)y[N - 1]);
    printf("forked child computes: pool %s, openmp %s\n",
           child_finishes(with_pool) ? "yes" : "NO (hung)",
           child_finishes(with_openmp) ? "yes" : "NO (hung)");
    return 0;
}
