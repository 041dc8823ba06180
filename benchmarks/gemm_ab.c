/* An A/B comparison of two builds of cygrad's GEMM (csrc/), for kernel changes worth a few percent.
 *
 * On a shared machine a product's time moves by 2x between separate runs, so both builds are loaded
 * into one process (dlopen, each with its own symbols) and timed in alternation, 31 rounds; the
 * answer is the median of the per-round ratios B/A (< 1: B is faster), with its quartiles. One
 * thread by default: two builds are two thread pools; with more, each batch first waits 2 ms, until
 * the other build's workers have stopped spinning (parallel.c's SPIN_NS).
 *
 *   build=(gcc -O3 -std=gnu11 -fopenmp-simd -fno-math-errno -fno-trapping-math -ffp-contract=off
 *          -fPIC -shared -Icsrc/include csrc/gemm.c csrc/gemm_kernels.c csrc/parallel.c csrc/simd.c
 *          -lm -lpthread)
 *   git worktree add /tmp/old HEAD~1 && (cd /tmp/old && "${build[@]}" -o /tmp/libA.so)
 *   "${build[@]}" -o /tmp/libB.so
 *   gcc -O2 benchmarks/gemm_ab.c -ldl -o /tmp/gemm_ab
 *   /tmp/gemm_ab /tmp/libA.so /tmp/libB.so M K N [a_transposed b_transposed [f64 [threads
 *                [b_offset]]]]
 *
 * e.g. `64 784 256 0 1` is nn.Linear(784, 256)'s forward on a batch of 64 (x W^T). Operands come
 * from malloc, so their rows are 16-byte aligned, as numpy's are; b_offset (0-63 bytes) places B
 * that far past a 64-byte boundary instead, e.g. `64 256 784 0 0 0 1 16` for dy W with W 16 bytes
 * past a cache line.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 31

typedef void (*gemm_f32_fn)(int64_t, int64_t, int64_t, float, const float *, int64_t, int64_t,
                            const float *, int64_t, int64_t, float, float *, int64_t, int64_t);
typedef void (*gemm_f64_fn)(int64_t, int64_t, int64_t, double, const double *, int64_t, int64_t,
                            const double *, int64_t, int64_t, double, double *, int64_t, int64_t);
typedef void (*set_threads_fn)(int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s libA.so libB.so M K N [a_t b_t [f64 [threads [b_offset]]]]\n",
                argv[0]);
        return 2;
    }
    const int64_t m = atoll(argv[3]), k = atoll(argv[4]), n = atoll(argv[5]);
    const int a_t = argc > 6 && atoi(argv[6]), b_t = argc > 7 && atoi(argv[7]);
    const int f64 = argc > 8 && atoi(argv[8]), threads = argc > 9 ? atoi(argv[9]) : 1;
    const int b_offset = argc > 10 ? atoi(argv[10]) : -1;
    void *gemm[2];
    for (int v = 0; v < 2; ++v) {
        void *lib = dlopen(argv[1 + v], RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        gemm[v] = dlsym(lib, f64 ? "cg_gemm_f64" : "cg_gemm_f32");
        ((set_threads_fn)dlsym(lib, "cg_set_num_threads"))(threads);
    }
    const size_t size = f64 ? sizeof(double) : sizeof(float);
    char *a = malloc(size * m * k), *c = malloc(size * m * n);
    char *b_store = b_offset < 0 ? malloc(size * k * n)
                                 : aligned_alloc(64, (size * k * n + 64 + 63) / 64 * 64);
    char *b = b_offset < 0 ? b_store : b_store + b_offset;
    for (int64_t i = 0; i < m * k; ++i)
        f64 ? (((double *)a)[i] = i % 7 - 3) : (((float *)a)[i] = i % 7 - 3);
    for (int64_t i = 0; i < k * n; ++i)
        f64 ? (((double *)b)[i] = i % 5 - 2) : (((float *)b)[i] = i % 5 - 2);
    const int64_t rsa = a_t ? 1 : k, csa = a_t ? m : 1, rsb = b_t ? 1 : n, csb = b_t ? k : 1;
    /* ~30M multiply-adds a batch, 10x that on threads (the workers' wake-up after the pause
     * varies, and a call it misses runs on one thread) */
    const int calls = (int)((threads > 1 ? 3e8 : 3e7) / ((double)m * n * k)) + 1;

    double us[2][ROUNDS], ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; ++r)
        for (int v = 0; v < 2; ++v) {
            if (threads > 1) /* the other build's workers spin 0.2 ms after a call: let them sleep */
                nanosleep(&(struct timespec){0, 2000000}, NULL);
            double start = 0;
            for (int i = -1; i < calls; ++i) { /* call -1 untimed: it wakes the workers */
                if (i == 0)
                    start = now();
                if (f64)
                    ((gemm_f64_fn)gemm[v])(m, n, k, 1, (double *)a, rsa, csa, (double *)b, rsb,
                                           csb, 0, (double *)c, n, 1);
                else
                    ((gemm_f32_fn)gemm[v])(m, n, k, 1, (float *)a, rsa, csa, (float *)b, rsb, csb,
                                           0, (float *)c, n, 1);
            }
            us[v][r] = (now() - start) / calls * 1e6;
        }
    for (int r = 0; r < ROUNDS; ++r)
        ratio[r] = us[1][r] / us[0][r];
    qsort(us[0], ROUNDS, sizeof(double), by_value);
    qsort(us[1], ROUNDS, sizeof(double), by_value);
    qsort(ratio, ROUNDS, sizeof(double), by_value);
    printf("A %.1f us (min %.1f)  B %.1f us (min %.1f)  B/A median %.3f [quartiles %.3f %.3f]\n",
           us[0][ROUNDS / 2], us[0][0], us[1][ROUNDS / 2], us[1][0], ratio[ROUNDS / 2],
           ratio[ROUNDS / 4], ratio[3 * ROUNDS / 4]);
    free(a);
    free(b_store);
    free(c);
    return 0;
}
