/* cg_parallel_for on a small pthread pool (see cygrad/parallel.h).
 *
 * Why not OpenMP: GNU OpenMP's pool does not survive fork() (a child that computes in parallel
 * hangs), and its idle threads wake no faster than ours. See docs/architecture.md, "Threads".
 *
 * The pool: num_threads - 1 workers, started on the first parallel call. A call cuts the range
 * into a few chunks per thread and publishes the job; the caller and the workers then claim
 * chunks one at a time until none is left (the caller from the front, workers from the back), and
 * the caller returns when every claimed chunk has finished. Claiming (rather than giving chunk i
 * to thread i) matters on a busy machine: when a worker is not scheduled, the caller does its
 * share instead of waiting for it.
 *
 * Between jobs a worker spins for SPIN_NS (a training loop issues kernels microseconds apart, and
 * waking a sleeping thread on a VM costs tens of microseconds), then sleeps on a condition
 * variable until the next job.
 *
 * One job at a time: a call that finds the pool busy (another Python thread released the GIL and
 * is inside a kernel) or that comes from inside a chunk runs inline.
 *
 * fork(): the child has only the forking thread. pthread_atfork resets the pool there, so the
 * child's first parallel call starts workers of its own instead of waiting for threads that do not
 * exist; the prepare/parent handlers hold the pool lock across fork() so the child never inherits
 * a half-published job.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "cygrad/parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 256 /* times CHUNKS_PER_THREAD: below 2^16, the chunk fields of a claim */
/* Chunks per thread: enough to even out threads that start late, few enough that claiming (one
 * atomic operation each) stays negligible. */
#define CHUNKS_PER_THREAD 4
/* How long an idle worker keeps spinning before it sleeps. */
#define SPIN_NS 200000
/* Pauses between two looks at the clock by a spinning worker. */
#define CLOCK_CHECK_SPINS 64
/* How long the caller spins on chunks still running before it yields its core to them. */
#define WAIT_SPINS 2000

/* The claim word: the job's sequence number (high 32 bits), the next chunk to claim from the
 * front and the end of the chunks not yet claimed from the back (16 bits each) in one atomic. A
 * worker that saw an earlier job can never claim a chunk of a later one (its compare-and-swap
 * expects the old word and fails), and a finished job's word (front == back) has no chunk left
 * to claim whatever the fields of the next job being written meanwhile. */
#define CLAIM(sequence, front, back)                                                               \
    (((uint64_t)(uint32_t)(sequence) << 32) | ((uint64_t)(front) << 16) | (uint64_t)(back))
#define CLAIM_SEQUENCE(claim) ((uint32_t)((claim) >> 32))
#define CLAIM_FRONT(claim) ((int)(((claim) >> 16) & 0xffff))
#define CLAIM_BACK(claim) ((int)((claim) & 0xffff))
#define CLAIM_ONE_FRONT ((uint64_t)1 << 16)

static struct {
    pthread_mutex_t lock; /* held by the caller for the whole job: one job at a time */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    pthread_t threads[MAX_THREADS];
    int started;        /* threads running, the caller included (0: none yet) */
    int wanted;         /* threads in all, the caller included */
    /* the job; written only while no chunk of it can be claimed */
    cg_range_fn fn;
    void *ctx;
    int64_t n;          /* chunk c covers [n * c / chunks, n * (c + 1) / chunks) */
    int chunks;
    uint64_t sequence;  /* jobs published so far (atomic: workers watch it) */
    uint64_t claim;     /* see CLAIM (atomic) */
    int finished;       /* chunks of the current job done (atomic) */
    int stopping;       /* workers exit (atomic) */
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

/* Set while this thread runs a chunk: nested calls run inline. */
static __thread int inside_chunk;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Claims and runs chunks of job `sequence` until none is left (or a later job replaced it): the
 * caller from the front, workers from the back. So with two threads each call gives the caller
 * the first part of the range and the worker the last, unless one of them is held up: an
 * operation's output lands in the cache of the core that reads it in the next operation. */
static void run_chunks(uint64_t sequence, int from_back)
{
    uint64_t claim = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if (CLAIM_SEQUENCE(claim) != (uint32_t)sequence || CLAIM_FRONT(claim) >= CLAIM_BACK(claim))
            return;
        const uint64_t taken = from_back ? claim - 1 : claim + CLAIM_ONE_FRONT;
        if (!__atomic_compare_exchange_n(&pool.claim, &claim, taken, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue; /* claim now holds the current word: look again */
        /* The chunk is ours; the caller cannot return (nor publish another job) before it is
         * counted as finished, so the job's fields are stable while we read them. */
        const int c = from_back ? CLAIM_BACK(claim) - 1 : CLAIM_FRONT(claim);
        const int64_t begin = pool.n * c / pool.chunks, end = pool.n * (c + 1) / pool.chunks;
        inside_chunk = 1;
        if (begin < end)
            pool.fn(pool.ctx, begin, end);
        inside_chunk = 0;
        __atomic_add_fetch(&pool.finished, 1, __ATOMIC_RELEASE);
        claim = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE);
    }
}

static int no_job_after(uint64_t seen)
{
    return __atomic_load_n(&pool.sequence, __ATOMIC_ACQUIRE) == seen &&
           !__atomic_load_n(&pool.stopping, __ATOMIC_ACQUIRE);
}

/* Waits until a job later than `seen` is published (or the pool stops); returns its sequence. */
static uint64_t wait_for_job(uint64_t seen)
{
    const int64_t spin_until = now_ns() + SPIN_NS;
    /* The job word is looked at after every pause (~30 ns on Zen 3), the clock only every
     * CLOCK_CHECK_SPINS of them: looking at the job only every 64 pauses made the worker start
     * its chunk 1.4-2 us after the job was published (timed inside a 256^3 product). */
    for (unsigned spins = 1; no_job_after(seen); ++spins) {
        if (spins % CLOCK_CHECK_SPINS != 0 || now_ns() < spin_until) {
            CPU_RELAX();
            continue;
        }
        pthread_mutex_lock(&pool.sleep_lock);
        while (no_job_after(seen))
            pthread_cond_wait(&pool.wake, &pool.sleep_lock);
        pthread_mutex_unlock(&pool.sleep_lock);
    }
    return __atomic_load_n(&pool.sequence, __ATOMIC_ACQUIRE);
}

static void *worker_main(void *start_sequence)
{
    uint64_t seen = (uint64_t)(uintptr_t)start_sequence;
    for (;;) {
        seen = wait_for_job(seen);
        if (__atomic_load_n(&pool.stopping, __ATOMIC_ACQUIRE))
            return NULL;
        run_chunks(seen, 1);
    }
}

static void stop_workers(void)
{
    pthread_mutex_lock(&pool.sleep_lock);
    __atomic_store_n(&pool.stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);
    for (int i = 1; i < pool.started; ++i)
        pthread_join(pool.threads[i], NULL);
    pool.started = 0;
    __atomic_store_n(&pool.stopping, 0, __ATOMIC_RELEASE);
}

/* Starts workers 1 .. wanted - 1 (on failure, keeps those that started). Each waits for a job
 * after the current one: it is told the current sequence rather than reading it when it first
 * runs, by which time the next job may already be out. */
static void start_workers(void)
{
    pool.started = 1;
    for (int i = 1; i < pool.wanted; ++i) {
        if (pthread_create(&pool.threads[i], NULL, worker_main,
                           (void *)(uintptr_t)pool.sequence) != 0)
            break;
        pool.started = i + 1;
    }
}

/* The CPUs this process may run on (a container or taskset may allow fewer than the machine has). */
static int available_cpus(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = CPU_COUNT(&set);
#endif
    return cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
}

static void lock_for_fork(void) { pthread_mutex_lock(&pool.lock); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&pool.lock); }

/* In the child: the workers are gone; forget them (their stacks leak, once per fork). */
static void reset_in_child(void)
{
    pool.started = 0;
    __atomic_store_n(&pool.stopping, 0, __ATOMIC_RELAXED);
    pthread_mutex_init(&pool.sleep_lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_mutex_unlock(&pool.lock);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_pool(void)
{
    pool.wanted = available_cpus();
    pthread_atfork(lock_for_fork, unlock_after_fork, reset_in_child);
}

void cg_parallel_for(int64_t n, int64_t grain, cg_range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    pthread_once(&init_once, init_pool);
    const int64_t most = grain > 0 ? n / grain : n; /* chunks of at least `grain` */
    if (most < 2 || pool.wanted < 2 || inside_chunk || pthread_mutex_trylock(&pool.lock) != 0) {
        fn(ctx, 0, n);
        return;
    }
    if (pool.started != pool.wanted) {
        if (pool.started)
            stop_workers();
        start_workers();
    }
    int64_t chunks = (int64_t)pool.started * CHUNKS_PER_THREAD;
    if (chunks > most)
        chunks = most;
    if (pool.started < 2) { /* no worker could be started */
        pthread_mutex_unlock(&pool.lock);
        fn(ctx, 0, n);
        return;
    }
    /* publish: the fields first, then the claim word, then the sequence workers watch */
    const uint64_t sequence = pool.sequence + 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n = n;
    pool.chunks = (int)chunks;
    __atomic_store_n(&pool.finished, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.claim, CLAIM(sequence, 0, chunks), __ATOMIC_RELEASE);
    pthread_mutex_lock(&pool.sleep_lock); /* a worker going to sleep cannot miss the job */
    __atomic_store_n(&pool.sequence, sequence, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);

    run_chunks(sequence, 0);
    for (int spins = 0; __atomic_load_n(&pool.finished, __ATOMIC_ACQUIRE) < chunks; ++spins) {
        if (spins < WAIT_SPINS)
            CPU_RELAX();
        else
            sched_yield(); /* a worker holding a chunk may need this core to finish it */
    }
    pthread_mutex_unlock(&pool.lock);
}

int cg_get_num_threads(void)
{
    pthread_once(&init_once, init_pool);
    return pool.wanted;
}

void cg_set_num_threads(int n)
{
    pthread_once(&init_once, init_pool);
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    pthread_mutex_lock(&pool.lock);
    pool.wanted = n; /* workers are restarted at the next parallel call */
    pthread_mutex_unlock(&pool.lock);
}
