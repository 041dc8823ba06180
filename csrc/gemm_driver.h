/* The GEMM driver for one element type: blocking, packing, edges, threads, batches. gemm.c
 * includes this once per type with GT (the element type) and G(name) (name##_f32 or _f64)
 * defined; the scheme is described at the top of gemm.c. */

typedef struct {
    int64_t M, N, K;
    GT alpha, beta;
    const GT *A;
    int64_t rsa, csa;
    const GT *B;
    int64_t rsb, csb;
    GT *C;
    int64_t rsc, csc;
    const GT *bias; /* bias[j] added to column j, or NULL */
    int relu;
} G(gemm_problem);

/* C = beta * C, then (finish) C = relu?(C + bias); C is read only when beta != 0. The whole
 * product when alpha == 0 or K == 0 (then, as in BLAS, A and B are not read); the matrix-vector
 * paths scale before and finish after their sums. */
static void G(scale_and_finish)(const G(gemm_problem) *p, GT beta, int finish)
{
    const int add_bias = finish && p->bias, relu = finish && p->relu;
    if (beta == 1 && !add_bias && !relu)
        return;
    for (int64_t i = 0; i < p->M; ++i)
        for (int64_t j = 0; j < p->N; ++j) {
            GT *c = p->C + i * p->rsc + j * p->csc;
            GT x = beta == 0 ? 0 : beta * *c;
            if (add_bias)
                x += p->bias[j];
            if (relu && x < 0)
                x = 0;
            *c = x;
        }
}

/* y += alpha * A x, A m x k with element (i, p) at A[i * rs + p * cs] */
static void G(gemv)(int64_t m, int64_t k, GT alpha, const GT *A, int64_t rs, int64_t cs,
                    const GT *x, int64_t incx, GT *y, int64_t incy)
{
    if (cs == 1 && incx == 1) { /* contiguous rows: one dot product each */
        for (int64_t i = 0; i < m; ++i) {
            const GT *row = A + i * rs;
            GT dot = 0;
            CG_SIMD_SUM(dot)
            for (int64_t p = 0; p < k; ++p)
                dot += row[p] * x[p];
            y[i * incy] += alpha * dot;
        }
    } else if (rs == 1) { /* contiguous columns: sum x-scaled columns, a tile of y at once */
        for (int64_t i0 = 0; i0 < m; i0 += GEMV_TILE) {
            const int64_t width = min_i64(GEMV_TILE, m - i0);
            GT acc[GEMV_TILE];
            for (int64_t i = 0; i < width; ++i)
                acc[i] = 0;
            for (int64_t p = 0; p < k; ++p) {
                const GT *column = A + i0 + p * cs;
                const GT xp = x[p * incx];
                CG_SIMD_LOOP
                for (int64_t i = 0; i < width; ++i)
                    acc[i] += column[i] * xp;
            }
            for (int64_t i = 0; i < width; ++i)
                y[(i0 + i) * incy] += alpha * acc[i];
        }
    } else {
        for (int64_t i = 0; i < m; ++i) {
            GT dot = 0;
            for (int64_t p = 0; p < k; ++p)
                dot += A[i * rs + p * cs] * x[p * incx];
            y[i * incy] += alpha * dot;
        }
    }
}

/* dst <- the m x kc block of A as mr-row panels, each k-major ([k][r]); rows past m are zero */
static void G(pack_a)(int64_t m, int64_t kc, int mr, const GT *A, int64_t rsa, int64_t csa,
                      GT *dst)
{
    for (int64_t i0 = 0; i0 < m; i0 += mr, dst += mr * kc) {
        const int64_t rows = min_i64(mr, m - i0);
        const GT *src = A + i0 * rsa;
        if (rsa == 1)
            G(copy_runs)(kc, rows, src, csa, dst, mr);
        else if (csa == 1) /* row-major A */
            G(transpose)(rows, kc, src, rsa, dst, mr);
        else
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t r = 0; r < rows; ++r)
                    dst[p * mr + r] = src[r * rsa + p * csa];
        if (rows < mr)
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t r = rows; r < mr; ++r)
                    dst[p * mr + r] = 0;
    }
}

/* dst <- the kc x n block of B as nr-column panels, each k-major ([k][j]); columns past n are
 * zero */
static void G(pack_b)(int64_t kc, int64_t n, int nr, const GT *B, int64_t rsb, int64_t csb,
                      GT *dst)
{
    if (csb == 1 && n >= nr) { /* row-major B: read row by row (sequential for the prefetcher
                                * and the TLB), each row's runs to their panels */
        const int64_t whole = n / nr;
        for (int64_t p = 0; p < kc; ++p)
            G(copy_runs)(whole, nr, B + p * rsb, nr, dst + p * nr, nr * kc);
        if (whole * nr < n)
            G(pack_b)(kc, n - whole * nr, nr, B + whole * nr, rsb, csb, dst + whole * nr * kc);
        return;
    }
    for (int64_t j0 = 0; j0 < n; j0 += nr, dst += nr * kc) {
        const int64_t cols = min_i64(nr, n - j0);
        const GT *src = B + j0 * csb;
        if (csb == 1)
            G(copy_runs)(kc, cols, src, rsb, dst, nr);
        else if (rsb == 1) /* transposed B (x W^T of nn.Linear) */
            G(transpose)(cols, kc, src, csb, dst, nr);
        else
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t j = 0; j < cols; ++j)
                    dst[p * nr + j] = src[p * rsb + j * csb];
        if (cols < nr)
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t j = cols; j < nr; ++j)
                    dst[p * nr + j] = 0;
    }
}

/* The columns of a B read in place from b to the next cache line (or multiple of an NR-wide row,
 * if shorter), when its rows all start at the same offset within a line (a row stride of whole
 * lines) and that is not 0; else 0, and 0 when they would be all of its n columns. Micro-panels
 * that start there rather than at b have each row of NR elements in one line, not across two, and
 * no vector load straddling lines. 64 x 256 x 784 (`dy @ W` of Linear(784, 256)) with B 16 or 48
 * bytes past a line took 1.1x the time of B on a line boundary, 32 bytes past 1.04x (AVX2).
 * Only for K slices deeper than half of KC: a micro-panel across twice the lines then no longer
 * fits L1 beside A's. Shallower, its rows off a line cost little (K = 64: 0-2%, 128: 2-5%) and
 * the narrow micro-panel costs more (64^3: 1.4x the time with it; 64 x 64 x 400 1.05x). */
static int64_t G(head_columns)(const GT *b, int64_t rsb, int64_t n, const G(cg_gemm_kernel) *kern,
                               int64_t kc)
{
    const int nr = kern->nr;
    if (2 * kc <= kern->kc)
        return 0;
    const int64_t line = min_i64(64, nr * (int64_t)sizeof(GT));
    const int64_t offset = (int64_t)((uintptr_t)b % (uintptr_t)line);
    if (offset == 0 || offset % (int64_t)sizeof(GT) != 0 || rsb * (int64_t)sizeof(GT) % line != 0)
        return 0;
    const int64_t head = (line - offset) / (int64_t)sizeof(GT);
    return head < n ? head : 0;
}

/* How one product is computed: which operands are packed and the block sizes. */
typedef struct {
    int pack_a, pack_b;
    /* B packed one micro-panel at a time, just before its use (see plan_product) */
    int pack_b_per_micro_panel;
    int64_t mc, nc, kc; /* rows of A per block, columns of B per panel, depth of the K slices */
    /* Heap buffers of one task, 64-byte multiples: the packed block of A and panel of B, if
     * packed. If not, 0, or, when K slices deeper than kern->kc outgrow the stack buffers, room
     * for the panel of A's ragged last rows and for B's micro-panel packed per use. */
    size_t a_bytes, b_bytes;
} G(gemm_plan);

/* The product of one task, one core: BLIS's loops around the micro-kernel.
 *   for each NC-wide column panel of C, each KC slice of K:
 *       B's KC x NC panel: packed into b_buf, or read in place (row-major B that stays in cache),
 *       or (x W^T with one block of A) packed a micro-panel at a time just before its use
 *       for each MC-row block: A's MC x KC block: packed into a_buf, or read in place
 *           for each NR micro-panel of B (stays in L1), each MR micro-panel of A (from L2):
 *               micro-kernel: C tile = epilogue(alpha * A B + beta * C tile)
 * Ragged right/bottom micro-panels of an operand read in place are packed (zero padded) into
 * small edge buffers, so the micro-kernel always reads full MR x NR operands; it writes only
 * the valid part of C. So is the narrow first micro-panel of a B read in place whose whole
 * micro-panels start after its first head_columns. a_buf and b_buf are the plan's buffers (NULL
 * when it has none); a_edge and b_edge are the edge and per-use buffers, on the stack unless the
 * plan gives them room. beta applies on the first K slice, bias and ReLU on the last. */
static void G(gemm_blocked)(const G(gemm_problem) *p, const G(cg_gemm_kernel) *kern,
                            const G(gemm_plan) *plan, GT *a_buf, GT *b_buf)
{
    const int mr = kern->mr, nr = kern->nr;
    const int pack_a = plan->pack_a, pack_b = plan->pack_b;
    const int b_per_micro_panel = plan->pack_b_per_micro_panel;
    const int64_t mc = plan->mc, nc = plan->nc;
    _Alignas(64) GT a_stack[CG_GEMM_PANEL_BYTES / sizeof(GT)];
    _Alignas(64) GT b_stack[CG_GEMM_PANEL_BYTES / sizeof(GT)];
    GT *a_edge = !pack_a && a_buf ? a_buf : a_stack;
    GT *b_edge = b_per_micro_panel && b_buf ? b_buf : b_stack;
    if (pack_a && !a_buf) /* no memory for panels (mc == mr, nc == nr): pack into the edges */
        a_buf = a_edge;
    if (pack_b && !b_buf)
        b_buf = b_edge;
    for (int64_t jc = 0; jc < p->N; jc += nc) {
        const int64_t n_block = min_i64(nc, p->N - jc);
        /* B read in place: micro-panels [n_head, n_whole) in place; the narrow first one (if any)
         * and the ragged last one are packed into b_edge just before their use */
        const int64_t n_head =
            pack_b ? 0 : G(head_columns)(p->B + jc * p->csb, p->rsb, n_block, kern, plan->kc);
        const int64_t n_whole = pack_b ? n_block : n_head + (n_block - n_head) / nr * nr;
        for (int64_t pc = 0; pc < p->K; pc += plan->kc) {
            const int64_t kc = min_i64(plan->kc, p->K - pc);
            const GT beta = pc == 0 ? p->beta : 1;
            const int last = pc + kc == p->K;
            const GT *bias = last && p->bias ? p->bias + jc : NULL;
            const int relu = last && p->relu;
            const GT *B = p->B + pc * p->rsb + jc * p->csb;
            int64_t b_column_step, bks; /* B + jr * b_column_step: micro-panel jr, bks apart */
            if (b_per_micro_panel) { /* into b_edge, in the loop over micro-panels below */
                b_column_step = 0;
                bks = nr;
            } else if (pack_b) {
                G(pack_b)(kc, n_block, nr, B, p->rsb, p->csb, b_buf);
                B = b_buf;
                b_column_step = kc;
                bks = nr;
            } else {
                b_column_step = 1;
                bks = p->rsb;
            }
            for (int64_t ic = 0; ic < p->M; ic += mc) {
                const int64_t m_block = min_i64(mc, p->M - ic);
                const int64_t m_whole = pack_a ? m_block : m_block / mr * mr;
                const GT *A = p->A + ic * p->rsa + pc * p->csa;
                int64_t a_panel_step, ars = 1, aks;
                if (pack_a) {
                    G(pack_a)(m_block, kc, mr, A, p->rsa, p->csa, a_buf);
                    A = a_buf;
                    a_panel_step = mr * kc;
                    aks = mr;
                } else if (p->rsa == 1) { /* column-major A: panels in place */
                    if (m_whole < m_block)
                        G(pack_a)(m_block - m_whole, kc, mr, A + m_whole, 1, p->csa, a_edge);
                    a_panel_step = mr;
                    ars = 1;
                    aks = p->csa;
                } else { /* row-major A: rows in place */
                    if (m_whole < m_block)
                        G(pack_a)(m_block - m_whole, kc, mr, A + m_whole * p->rsa, p->rsa, 1,
                                  a_edge);
                    a_panel_step = mr * p->rsa;
                    ars = p->rsa;
                    aks = 1;
                }
                for (int64_t jr = 0, width; jr < n_block; jr += width) {
                    width = jr < n_head ? n_head : min_i64(nr, n_block - jr);
                    const int cols = (int)width;
                    const int b_in_edge = b_per_micro_panel || jr < n_head || jr >= n_whole;
                    if (b_in_edge)
                        G(pack_b)(kc, cols, nr, B + jr * p->csb, p->rsb, p->csb, b_edge);
                    const GT *b = b_in_edge ? b_edge : B + jr * b_column_step;
                    const int64_t b_step = b_in_edge ? nr : bks;
                    GT *c_col = p->C + ic * p->rsc + (jc + jr) * p->csc;
                    for (int64_t ir = 0; ir < m_block; ir += mr) {
                        const int rows = (int)min_i64(mr, m_block - ir);
                        const int a_in_edge = ir >= m_whole;
                        const GT *a = a_in_edge ? a_edge : A + ir / mr * a_panel_step;
                        const int64_t a_rs = a_in_edge ? 1 : ars, a_ks = a_in_edge ? mr : aks;
                        GT *c_tile = c_col + ir * p->rsc;
                        const int edge = kern->edge_mr;
                        if ((rows + edge - 1) / edge * edge < mr) {
                            /* the last rows: edge-row tiles compute less padding (64 rows are
                             * 10 x 6 + 4 for AVX2, 5 x 12 + 4 for AVX-512) */
                            for (int r0 = 0; r0 < rows; r0 += edge)
                                kern->edge_tile(kc, a + r0 * a_rs, a_rs, a_ks, b, b_step,
                                                c_tile + r0 * p->rsc, p->rsc, p->csc,
                                                rows - r0 < edge ? rows - r0 : edge, cols,
                                                p->alpha, beta, bias ? bias + jr : NULL, relu);
                            continue;
                        }
                        kern->tile(kc, a, a_rs, a_ks, b, b_step, c_tile, p->rsc, p->csc, rows,
                                   cols, p->alpha, beta, bias ? bias + jr : NULL, relu);
                    }
                }
            }
        }
    }
}

/* The dot-kernel path (gemm_dot_kernel.h): C = epilogue(alpha * A B + beta * C) with A's rows and
 * B's columns contiguous along K, read in place. A's rows go in blocks that stay in L2; within a
 * block, each DOT_NR columns of B are read from memory once and meet all of the block's rows. */
static void G(gemm_dot)(const G(gemm_problem) *p, const G(cg_gemm_kernel) *kern)
{
    G(cg_gemm_dot_fn) dot = kern->dot;
    int64_t nr = CG_GEMM_DOT_NR;
    const int64_t rows_in_l2 =
        DOT_A_BLOCK_BYTES / (p->K * (int64_t)sizeof(GT)) / CG_GEMM_DOT_MR * CG_GEMM_DOT_MR;
    int64_t mb = rows_in_l2 > CG_GEMM_DOT_MR ? rows_in_l2 : CG_GEMM_DOT_MR;
    if (p->M == 1) { /* one row of C: strips of DOT_ROW_NR columns */
        dot = kern->dot_row;
        nr = CG_GEMM_DOT_ROW_NR;
    } else if (p->N == 1) { /* one column of C: each row of A is read once, no blocks needed */
        dot = kern->dot_col;
        mb = p->M;
    }
    for (int64_t i0 = 0; i0 < p->M; i0 += mb) {
        const int64_t i_end = min_i64(p->M, i0 + mb);
        for (int64_t j = 0; j < p->N; j += nr)
            dot(p->K, p->A + i0 * p->rsa, p->rsa, p->B + j * p->csb, p->csb,
                p->C + i0 * p->rsc + j * p->csc, p->rsc, p->csc, i_end - i0,
                (int)min_i64(nr, p->N - j), p->alpha, p->beta, p->bias ? p->bias + j : NULL,
                p->relu);
    }
}

/* Whether the dot kernels beat packing, or the matrix-vector loops (see DOT_K_MIN in gemm.c):
 * A's rows and B's columns contiguous along K (x W^T, W v), K deep enough that summing each tile's
 * lanes at the end costs little, and few rows of A or one column of B. Not a single dot product:
 * a 4 x 3 tile would compute 12 (1.1-1.4x the matrix-vector loop's time). */
static int G(dot_pays)(const G(gemm_problem) *p)
{
    if (p->csa != 1 || p->rsb != 1 || p->K < DOT_K_MIN || (p->M == 1 && p->N == 1))
        return 0;
    return (p->M <= DOT_M_MAX && 32 * (p->M - 8) <= p->K) || p->N == 1;
}

/* B can be read in place when row-major (csb == 1), A when column-major (rsa == 1, as panels) or
 * row-major (csa == 1, as rows), unless power-of-two strides would make their micro-panels (in L1)
 * or A's block (in L2) evict each other; then they are packed. */
static G(gemm_plan) G(plan_product)(const G(gemm_problem) *p, const G(cg_gemm_kernel) *kern,
                                    int64_t m, int64_t n)
{
    G(gemm_plan) plan;
    const int64_t panel_bytes = kern->kc * kern->nr * (int64_t)sizeof(GT);
    const int64_t a_block_bytes = kern->mc * kern->kc * (int64_t)sizeof(GT);
    plan.pack_b = !(p->csb == 1 && panel_fits_cache(p->rsb * (int64_t)sizeof(GT),
                                                    min_i64(kern->kc, p->K),
                                                    kern->nr * (int64_t)sizeof(GT), L1_SETS,
                                                    panel_bytes));
    /* blocks of equal height: 256 rows as 2 x 128, not 240 + 16 (a thin last block reuses each
     * B micro-panel it loads from L2 only a few times) */
    const int64_t blocks = (m + kern->mc - 1) / kern->mc;
    plan.mc = round_up((m + blocks - 1) / blocks, kern->mr);
    /* x W^T (B transposed) with one block of A: each B micro-panel meets that block only, so it is
     * transposed just before its use into a small buffer, rather than the whole KC x NC panel
     * being written to L2 and read back (64 x 784 x 256, slices of kern->kc: 0.93x the time on
     * one thread, 0.92x on two). Not for a row-major B, whose micro-panels would be read 64
     * bytes a row (5% slower). */
    plan.pack_b_per_micro_panel = plan.pack_b && p->rsb == 1 && blocks == 1;
    /* K slices, of equal depth: kern->kc keeps a B micro-panel in L1 while every block of A uses
     * it. A micro-panel packed per use meets one block only, so its slices go as deep as that
     * block and the micro-panel fit the cache room of kern->mc x kern->kc plus kern->kc x NR
     * (the micro-panel then streams from L2, as A's block does): fewer passes over C and longer
     * runs of W to transpose. 64 x 784 x 256 in one slice instead of 256 + 256 + 256 + 16:
     * 0.95x the time on one thread, 0.97x on two; 128 x 784 x 256 (2 x 392) 0.97x. */
    int64_t kc_max = kern->kc;
    if (plan.pack_b_per_micro_panel)
        kc_max = max_i64(kern->kc, kern->kc * (kern->mc + kern->nr) / (plan.mc + kern->nr));
    const int64_t slices = (p->K + kc_max - 1) / kc_max;
    plan.kc = p->K <= kern->kc ? p->K : (p->K + slices - 1) / slices;
    const int64_t kc = plan.kc, mc = min_i64(kern->mc, m);
    plan.pack_a = !(p->rsa == 1 &&
                    panel_fits_cache(p->csa * (int64_t)sizeof(GT), kc,
                                     kern->mr * (int64_t)sizeof(GT), L1_SETS, panel_bytes) &&
                    panel_fits_cache(p->csa * (int64_t)sizeof(GT), kc,
                                     mc * (int64_t)sizeof(GT), L2_SETS, a_block_bytes)) &&
                  !(p->csa == 1 && panel_fits_cache(p->rsa * (int64_t)sizeof(GT), mc,
                                                    kc * (int64_t)sizeof(GT), L2_SETS,
                                                    a_block_bytes));
    plan.nc = min_i64(B_PANEL_BYTES / (kern->kc * (int64_t)sizeof(GT)) / kern->nr * kern->nr,
                      round_up(n, kern->nr));
    const size_t a_panel = kern->mr * kc * sizeof(GT), b_panel = kern->nr * kc * sizeof(GT);
    if (plan.pack_a)
        plan.a_bytes = round_up(plan.mc * kc * sizeof(GT), 64);
    else
        plan.a_bytes = a_panel > CG_GEMM_PANEL_BYTES ? round_up(a_panel, 64) : 0;
    if (plan.pack_b_per_micro_panel)
        plan.b_bytes = b_panel > CG_GEMM_PANEL_BYTES ? round_up(b_panel, 64) : 0;
    else
        plan.b_bytes = plan.pack_b ? round_up(plan.nc * kc * sizeof(GT), 64) : 0;
    return plan;
}

/* Work shared by the tasks of one call: batches of products, or parts of one product. */
typedef struct {
    const G(gemm_problem) *p;
    const G(cg_gemm_kernel) *kern;
    G(gemm_plan) plan;
    char *scratch;         /* plan.a_bytes + plan.b_bytes per task */
    int64_t tasks;
    /* batches: task t computes products [t * batch / tasks, (t + 1) * batch / tasks) */
    int64_t batch, bsa, bsb, bsc;
    /* parts of one product (batch == 1): rows (split_m) or columns in whole micro-tiles, the
     * parts after the first from split_origin on (B's head_columns: their micro-panels start on
     * cache lines, and only the first part has a narrow one) */
    int split_m;
    int64_t split_origin;
    int dot; /* the dot kernels (gemm_dot) instead of the blocked loops and the plan */
} G(gemm_job);

static void G(run_task)(const G(gemm_job) *job, int64_t t, const G(gemm_problem) *p)
{
    if (job->dot) {
        G(gemm_dot)(p, job->kern);
        return;
    }
    GT *a_buf = NULL, *b_buf = NULL;
    if (job->scratch) {
        char *scratch = job->scratch + t * (job->plan.a_bytes + job->plan.b_bytes);
        if (job->plan.a_bytes)
            a_buf = (GT *)scratch;
        if (job->plan.b_bytes)
            b_buf = (GT *)(scratch + job->plan.a_bytes);
    }
    G(gemm_blocked)(p, job->kern, &job->plan, a_buf, b_buf);
}

/* The parts of a product split along M (split_m) or N are whole tiles of the kernel that computes
 * them. */
static int64_t G(split_unit)(const G(gemm_job) *job, int split_m)
{
    if (!job->dot)
        return split_m ? job->kern->mr : job->kern->nr;
    if (job->p->M == 1) /* split along N, in gemm_dot's strips */
        return CG_GEMM_DOT_ROW_NR;
    if (job->p->N == 1) /* along M */
        return CG_GEMM_DOT_COL_MR;
    return split_m ? CG_GEMM_DOT_MR : CG_GEMM_DOT_NR;
}

static void G(gemm_tasks)(void *ctx, int64_t begin, int64_t end)
{
    const G(gemm_job) *job = ctx;
    for (int64_t t = begin; t < end; ++t) {
        G(gemm_problem) part = *job->p;
        if (job->batch > 1) {
            for (int64_t i = t * job->batch / job->tasks; i < (t + 1) * job->batch / job->tasks;
                 ++i) {
                part.A = job->p->A + i * job->bsa;
                part.B = job->p->B + i * job->bsb;
                part.C = job->p->C + i * job->bsc;
                G(run_task)(job, t, &part);
            }
            continue;
        }
        const int64_t unit = G(split_unit)(job, job->split_m);
        const int64_t extent = job->split_m ? job->p->M : job->p->N;
        const int64_t origin = job->split_origin;
        const int64_t units = (extent - origin + unit - 1) / unit;
        const int64_t first = t == 0 ? 0 : origin + t * units / job->tasks * unit;
        const int64_t count =
            min_i64(origin + (t + 1) * units / job->tasks * unit, extent) - first;
        if (count <= 0)
            continue;
        if (job->split_m) {
            part.M = count;
            part.A += first * part.rsa;
            part.C += first * part.rsc;
        } else {
            part.N = count;
            part.B += first * part.csb;
            part.C += first * part.csc;
            if (part.bias)
                part.bias += first;
        }
        G(run_task)(job, t, &part);
    }
}

/* batch products C_i = epilogue(alpha * A_i B_i + beta * C_i), X_i = X + i * bsx */
static void G(gemm_run)(const G(gemm_problem) *p, int64_t batch, int64_t bsa, int64_t bsb,
                        int64_t bsc)
{
    if (p->M <= 0 || p->N <= 0 || batch <= 0)
        return;
    const int dot = G(dot_pays)(p);
    if (p->K <= 0 || p->alpha == 0 || ((p->M == 1 || p->N == 1) && !dot)) {
        for (int64_t i = 0; i < batch; ++i) {
            G(gemm_problem) q = *p;
            q.A += i * bsa;
            q.B += i * bsb;
            q.C += i * bsc;
            if (q.K <= 0 || q.alpha == 0) {
                G(scale_and_finish)(&q, q.beta, 1);
                continue;
            }
            G(scale_and_finish)(&q, q.beta, 0);
            /* matrix-vector products: padding one row or column to a micro-tile would waste
             * most of the work. C^T = B^T A^T turns a row of C into a column. */
            if (q.N == 1)
                G(gemv)(q.M, q.K, q.alpha, q.A, q.rsa, q.csa, q.B, q.rsb, q.C, q.rsc);
            else
                G(gemv)(q.N, q.K, q.alpha, q.B, q.csb, q.rsb, q.A, q.csa, q.C, q.csc);
            G(scale_and_finish)(&q, 1, 1);
        }
        return;
    }
    G(gemm_job) job = {.p = p, .kern = G(cg_gemm_kernel_for)(cg_simd_get()), .batch = batch,
                       .bsa = bsa, .bsb = bsb, .bsc = bsc};
    job.dot = dot;
    /* multiply-adds of one product, or their equivalent in time for the dot kernels: with few rows
     * they are bound by streaming B from memory (4 x 784 x 256 took as long as 12 x 784 x 256 at
     * the packed kernels' rate, 8 rows as 16; Zen 3, one thread) */
    const int64_t rows = job.dot ? max_i64(p->M, CG_GEMM_DOT_MR) + 2 * CG_GEMM_DOT_MR : p->M;
    const int64_t work = rows * p->N * p->K;
    const int64_t threads = cg_get_num_threads();
    int64_t tasks = min_i64(threads, batch * work / TASK_MIN_WORK);
    if (batch > 1 && tasks > 1 && batch % tasks != 0 && batch < 4 * tasks &&
        work / TASK_MIN_WORK >= tasks) {
        /* too few products to share evenly, each worth splitting: split each one instead */
        for (int64_t i = 0; i < batch; ++i) {
            G(gemm_problem) q = *p;
            q.A += i * bsa;
            q.B += i * bsb;
            q.C += i * bsc;
            G(gemm_run)(&q, 1, 0, 0, 0);
        }
        return;
    }
    int64_t m = p->M, n = p->N;
    if (batch == 1 && tasks > 1) {
        /* split the side of C whose parts, in whole micro-tiles, come out the more even; the
         * larger side when they come out alike */
        const double m_excess = split_excess(m, G(split_unit)(&job, 1), tasks);
        const double n_excess = split_excess(n, G(split_unit)(&job, 0), tasks);
        job.split_m = m_excess == n_excess ? p->M > p->N : m_excess < n_excess;
        const int64_t unit = G(split_unit)(&job, job.split_m);
        tasks = min_i64(tasks, ((job.split_m ? m : n) + unit - 1) / unit);
        if (job.split_m)
            m = (m + tasks - 1) / tasks + unit;
        else
            n = (n + tasks - 1) / tasks + unit;
    }
    tasks = tasks < 1 ? 1 : tasks;
    job.tasks = tasks;
    if (!job.dot)
        job.plan = G(plan_product)(p, job.kern, m, n);
    if (batch == 1 && job.tasks > 1 && !job.dot && !job.split_m && !job.plan.pack_b)
        job.split_origin = G(head_columns)(p->B, p->rsb, p->N, job.kern, job.plan.kc);
    const size_t bytes = (size_t)tasks * (job.plan.a_bytes + job.plan.b_bytes);
    if (bytes) {
        job.scratch = aligned_alloc(64, bytes);
        if (!job.scratch) { /* no memory for the panels: one task, packing into the edge buffers */
            job.tasks = 1;
            job.plan.pack_a = job.plan.pack_b = 1;
            job.plan.pack_b_per_micro_panel = 0;
            job.plan.mc = job.kern->mr;
            job.plan.nc = job.kern->nr;
            job.plan.kc = job.kern->kc;
            job.plan.a_bytes = job.plan.b_bytes = 0;
        }
    }
    if (job.tasks > 1)
        cg_parallel_for(job.tasks, 1, G(gemm_tasks), &job);
    else
        G(gemm_tasks)(&job, 0, 1);
    free(job.scratch);
}
