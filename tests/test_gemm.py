"""The GEMM kernel (csrc/gemm*.c) against a float64 numpy reference.

Straight through the kernel with `_core._gemm(alpha, a, b, beta, c, bias, relu)`, which writes c in
place through every operand's strides: randomized shapes with edge-heavy sizes, the four transpose
combinations, alpha != 1, beta in {0, 0.5, 1}, leading dimensions with padding (c is a window of a
larger sentinel-filled array, and the sentinel must survive), a transposed c, float32 and float64,
every SIMD path the CPU has, 1 and 2 threads; the batched entry and the bias/ReLU epilogue too.
Then the ops built on it (matmul's batch merging, bmm, F.linear) on a few shapes.

Tolerance: a computed dot product of length K differs from the exact one by at most
gamma_K * sum_k |a_k b_k| (gamma_K ~ K * eps / 2, Higham 3.1); scaling by alpha, adding beta * c
and the bias add three more roundings. The bound below uses K + 3 roundings of eps each (twice
the unit roundoff), so it holds for any summation order and with or without FMA.
"""
import numpy as np
import pytest

import cygrad
from cygrad import _core

PATHS = ["scalar", "avx2", "avx512"]
SENTINEL = -12345.0

# Sizes around every register-tile and cache-block boundary (MR = 4, 6, 12; NR = 4..32; KC = 128,
# 256, 512), plus a few past 1000.
EDGE_SIZES = [1, 2, 5, 7, 17, 31, 33, 63, 65, 127, 129, 255, 257, 511, 513]
LARGE_SIZES = [1031, 2049]


@pytest.fixture(autouse=True, scope="module")
def single_threaded_numpy():
    """the reference products run on one thread: numpy's pool and ours would fight over 2 cores"""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield



@pytest.fixture(params=[1, 2])
def threads(request):
    original = cygrad.get_num_threads()
    cygrad.set_num_threads(request.param)
    yield request.param
    cygrad.set_num_threads(original)


def sample_shapes(rng, count):
    """count (M, N, K) triples: mostly edge sizes, one large dim now and then (never two: time)"""
    shapes = []
    for i in range(count):
        m, n, k = (int(rng.choice(EDGE_SIZES)) for _ in range(3))
        if i % 8 == 7:
            big = int(rng.choice(LARGE_SIZES))
            m, n, k = [(big, n, min(k, 65)), (m if m < 100 else 33, big, k), (min(m, 65), n if n < 100 else 31, big)][i // 8 % 3]
        shapes.append((m, n, k))
    return shapes


def operand(rng, rows, cols, dtype, transposed, pad):
    """a rows x cols matrix (random normal) stored transposed or not, inside a larger array whose
    leading dimension is padded by `pad` elements"""
    shape = (cols, rows) if transposed else (rows, cols)
    base = np.full((shape[0] + pad, shape[1] + pad), SENTINEL, dtype)
    view = base[pad:, pad:][: shape[0], : shape[1]]
    view[...] = rng.standard_normal(shape)
    return view.T if transposed else view


def output(rng, m, n, dtype, transposed, pad, beta):
    """c inside a sentinel-filled array (to check nothing outside c is written), holding NaN
    when beta == 0 (it must not be read then), else random values; returns (c, base, mask of c)"""
    shape = (n, m) if transposed else (m, n)
    base = np.full((shape[0] + 2 * pad, shape[1] + 2 * pad), SENTINEL, dtype)
    inside = np.zeros(base.shape, bool)
    inside[pad : pad + shape[0], pad : pad + shape[1]] = True
    view = base[pad : pad + shape[0], pad : pad + shape[1]]
    view[...] = np.nan if beta == 0 else rng.standard_normal(shape)
    return (view.T if transposed else view), base, inside


def reference(alpha, a, b, beta, c0, bias=None, relu=False):
    """(value, error bound) in float64"""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    value = alpha * (a64 @ b64)
    scale = abs(alpha) * (np.abs(a64) @ np.abs(b64))
    if beta != 0:
        value += beta * c0.astype(np.float64)
        scale += abs(beta) * np.abs(c0.astype(np.float64))
    if bias is not None:
        value += bias.astype(np.float64)
        scale += np.abs(bias.astype(np.float64))
    if relu:
        value = np.maximum(value, 0)
    k = a.shape[-1]
    return value, (k + 3) * np.finfo(c0.dtype).eps * scale + np.finfo(c0.dtype).tiny


def check(case, got, want, bound, base, inside):
    err = np.abs(got.astype(np.float64) - want)
    assert not np.isnan(got).any(), f"{case}: NaN in the result (c read with beta == 0?)"
    assert (err <= bound).all(), f"{case}: max error / bound = {np.max(err / bound):.3g}"
    assert (base[~inside] == SENTINEL).all(), f"{case}: wrote outside c"


def run_case(rng, m, n, k, dtype, ta, tb, tc, alpha, beta, bias=False, relu=False):
    pad = int(rng.integers(0, 3))
    a = operand(rng, m, k, dtype, ta, pad)
    b = operand(rng, k, n, dtype, tb, pad)
    c, base, inside = output(rng, m, n, dtype, tc, pad, beta)
    c0 = c.copy()
    vec = rng.standard_normal(n).astype(dtype) if bias else None
    want, bound = reference(alpha, a, b, beta, c0, vec, relu)
    _core._gemm(alpha, a, b, beta, c, vec, relu)
    case = f"{m}x{k} @ {k}x{n} {np.dtype(dtype).name} ta={ta} tb={tb} tc={tc} alpha={alpha} beta={beta} bias={bias} relu={relu}"
    check(case, c, want, bound, base, inside)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_against_float64_reference(simd_path, threads, dtype):
    rng = np.random.default_rng([PATHS.index(simd_path), threads, np.dtype(dtype).itemsize])
    for i, (m, n, k) in enumerate(sample_shapes(rng, 24)):
        for ta in (False, True):
            for tb in (False, True):
                alpha = (1.0, -0.75)[(i + tb) % 2]
                beta = (0.0, 1.0, 0.5)[(i + ta + 2 * tb) % 3]
                run_case(rng, m, n, k, dtype, ta, tb, bool((i + ta) % 4 == 3), alpha, beta)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_mlp_shapes(simd_path, threads, dtype):
    """the shapes of a small MLP's forward (x W^T) and backward (dy W, dy^T x) products"""
    rng = np.random.default_rng(5)
    for m, n, k, ta, tb in [(64, 256, 784, False, True), (64, 784, 256, False, False),
                            (256, 784, 64, True, False), (64, 128, 256, False, True),
                            (128, 256, 64, True, False), (256, 256, 256, False, False)]:
        run_case(rng, m, n, k, dtype, ta, tb, False, 1.0, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_packs_power_of_two_strides(simd_path, threads, dtype):
    """operands whose rows (or columns) lie a power of two apart are packed rather than read in
    place (they would evict each other from the cache): the transposing packers, full 8 x 8 blocks
    and ragged remainders, row-major A into MR-row panels and transposed B into NR-column ones"""
    rng = np.random.default_rng(13)
    for m, n, k in [(70, 40, 77), (13, 24, 8), (200, 9, 300)]:
        for ta, tb in [(False, False), (False, True), (True, True)]:
            a_store = rng.standard_normal((k, 1024) if ta else (m, 1024)).astype(dtype)
            b_store = rng.standard_normal((n, 2048) if tb else (k, 2048)).astype(dtype)
            a = a_store[:k, :m].T if ta else a_store[:m, :k]
            b = b_store[:n, :k].T if tb else b_store[:k, :n]
            c = np.full((m, n), np.nan, dtype)
            want, bound = reference(1.0, a, b, 0.0, c)
            _core._gemm(1.0, a, b, 0.0, c)
            assert (np.abs(c - want) <= bound).all(), f"{m}x{k} @ {k}x{n} ta={ta} tb={tb}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_bias_relu_epilogue(simd_path, threads, dtype):
    rng = np.random.default_rng(11)
    for m, n, k in [(1, 7, 5), (5, 1, 3), (7, 33, 17), (65, 31, 129), (129, 257, 63)]:
        for relu in (False, True):
            run_case(rng, m, n, k, dtype, False, True, False, 1.0, 0.0, bias=True, relu=relu)
            run_case(rng, m, n, k, dtype, True, False, True, -0.5, 0.5, bias=True, relu=relu)


def aligned_rows(rng, rows, cols, dtype, offset):
    """a rows x cols random matrix whose rows start `offset` elements past a 64-byte boundary, all
    of them (the row stride is a multiple of 64 bytes)"""
    itemsize = np.dtype(dtype).itemsize
    stride = -(-(cols + offset) * itemsize // 64) * 64 // itemsize
    store = np.empty(rows * stride + 64 // itemsize, dtype)
    start = (-store.ctypes.data % 64) // itemsize
    matrix = store[start : start + rows * stride].reshape(rows, stride)[:, offset : offset + cols]
    matrix[...] = rng.standard_normal((rows, cols))
    return matrix


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_dot_path_few_rows(simd_path, threads, dtype):
    """x W^T with few rows of x (a small batch through nn.Linear), or W v, skips packing W: dot
    kernels read the rows of x and of W as they are, 4 x 3 dot products at a time. Rows and columns
    past whole tiles, K past whole vectors, rows that start mid-vector (all at one offset: the
    kernel first steps to an aligned k; at different offsets: it cannot), alpha, beta, bias, ReLU,
    a transposed C."""
    rng = np.random.default_rng(17)
    # one row (x W^T) or one column (W v) too, instead of the matrix-vector loops; (8, 300, 784)
    # and (2000, 1, 1024) are worth two threads: split into strips of whole tiles
    shapes = [(2, 3, 128), (3, 64, 131), (4, 7, 200), (5, 2, 784), (8, 300, 784), (13, 10, 128),
              (32, 33, 200), (1, 200, 300), (2000, 1, 1024), (70, 1, 129)]
    for i, (m, n, k) in enumerate(shapes):
        for offset_x, offset_w in [(0, 0), (1, 1), (3, 3), (3, 1)]:
            x = aligned_rows(rng, m, k, dtype, offset_x)
            w = aligned_rows(rng, n, k, dtype, offset_w)
            alpha, beta = [(1.0, 0.0), (-0.75, 0.5), (2.0, 1.0)][(i + offset_w) % 3]
            c, base, inside = output(rng, m, n, dtype, offset_x == 3, 1, beta)
            c0 = c.copy()
            bias = rng.standard_normal(n).astype(dtype) if offset_x else None
            relu = offset_w == 1
            want, bound = reference(alpha, x, w.T, beta, c0, bias, relu)
            _core._gemm(alpha, x, w.T, beta, c, bias, relu)
            check(f"{m}x{k} @ ({n}x{k})^T offsets {offset_x}/{offset_w}", c, want, bound, base, inside)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_in_place_b_rows_off_a_line(simd_path, threads, dtype):
    """A row-major B read in place whose rows all start at one offset within a cache line: its
    micro-panels start at the next line, after a narrow first one, and on two threads the second
    part starts on a line too (for K slices deeper than half of KC: K >= 150 here, 600 for the
    scalar path). Every offset, N short of and past whole tiles, alpha, beta, bias, ReLU."""
    rng = np.random.default_rng(23)
    per_line = 64 // np.dtype(dtype).itemsize
    # the last three are worth two threads, split along N
    for i, (m, n, k) in enumerate([(7, 5, 3), (13, 50, 40), (33, 200, 160), (200, 131, 257),
                                   (64, 784, 150), (50, 1000, 200), (40, 300, 600)]):
        for offset in range(per_line):
            a = operand(rng, m, k, dtype, False, 0)
            b = aligned_rows(rng, k, n, dtype, offset)
            alpha, beta = [(1.0, 0.0), (-0.75, 0.5), (2.0, 1.0)][(i + offset) % 3]
            c, base, inside = output(rng, m, n, dtype, False, 1, beta)
            c0 = c.copy()
            bias = rng.standard_normal(n).astype(dtype) if offset % 2 else None
            relu = offset % 3 == 1
            want, bound = reference(alpha, a, b, beta, c0, bias, relu)
            _core._gemm(alpha, a, b, beta, c, bias, relu)
            check(f"{m}x{k} @ {k}x{n} B offset {offset}", c, want, bound, base, inside)


def test_gemm_relu_keeps_nan(simd_path):
    """ReLU on NaN gives NaN (a max(x, 0) that drops NaN is a classic bug), in full tiles and edges"""
    for m, n in [(6, 16), (13, 37)]:
        a = np.ones((m, 3), np.float32)
        a[m - 1, 0] = np.nan
        b = np.ones((3, n), np.float32)
        c = np.zeros((m, n), np.float32)
        _core._gemm(1.0, a, b, 0.0, c, np.full(n, -10, np.float32), True)
        assert np.isnan(c[m - 1]).all()
        assert (c[: m - 1] == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_batched(simd_path, threads, dtype):
    rng = np.random.default_rng(3)
    for batch, m, n, k in [(1, 7, 9, 5), (3, 33, 17, 65), (4, 64, 64, 64), (5, 129, 31, 7), (2, 255, 257, 33),
                           (3, 8, 20, 200)]:
        for a_batch, b_batch in [(batch, batch), (1, batch), (batch, 1)]:
            for ta, tb in [(False, False), (True, True), (False, True)]:
                a = rng.standard_normal((a_batch, k, m) if ta else (a_batch, m, k)).astype(dtype)
                b = rng.standard_normal((b_batch, n, k) if tb else (b_batch, k, n)).astype(dtype)
                a = a.transpose(0, 2, 1) if ta else a
                b = b.transpose(0, 2, 1) if tb else b
                base = np.full((batch, m + 1, n + 2), SENTINEL, dtype)
                c = base[:, :m, 1 : n + 1]
                c[...] = np.nan
                inside = np.zeros(base.shape, bool)
                inside[:, :m, 1 : n + 1] = True
                want, bound = reference(0.5, a, b, 0.0, c)
                _core._gemm(0.5, a, b, 0.0, c)
                check(f"batch {a_batch}/{b_batch} x {m}x{k}x{n} ta={ta} tb={tb}", c, want, bound, base, inside)


def test_gemm_k_zero_and_alpha_zero(simd_path):
    """K == 0 or alpha == 0: c = beta * c (+ bias), and A and B are not read (NaN in them is ignored)"""
    rng = np.random.default_rng(2)
    for m, n, k, alpha in [(5, 7, 0, 1.0), (33, 17, 9, 0.0), (1, 9, 4, 0.0)]:
        a = np.full((m, k), np.nan)
        b = np.full((k, n), np.nan)
        c = rng.standard_normal((m, n))
        bias = rng.standard_normal(n)
        want = np.maximum(0.5 * c + bias, 0)
        _core._gemm(alpha, a, b, 0.5, c, bias, True)
        np.testing.assert_allclose(c, want, rtol=1e-15, atol=0)
        c[...] = np.nan
        _core._gemm(alpha, a, b, 0.0, c)
        assert (c == 0).all()


def test_gemm_negative_strides(simd_path):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((40, 30))[::-1, ::-2]
    b = rng.standard_normal((15, 21))[::-1]
    c = np.full((40, 21), np.nan)
    want, bound = reference(1.0, a, b, 0.0, c)
    _core._gemm(1.0, a, b, 0.0, c)
    assert (np.abs(c - want) <= bound).all()


def test_gemm_env_forces_path():
    """CYGRAD_SIMD=scalar at import makes the GEMM run its portable kernel (same results)"""
    import subprocess
    import sys

    code = ("import numpy as np, cygrad; from cygrad import _core; "
            "a = np.arange(12.).reshape(3, 4); b = np.arange(20.).reshape(4, 5); c = np.empty((3, 5)); "
            "_core._gemm(1.0, a, b, 0.0, c); assert (c == a @ b).all(); print(_core.simd_path())")
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ, "CYGRAD_SIMD": "scalar"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "scalar"


def test_gemm_avx512_blocking_follows_the_l1d():
    """AVX-512 blocks for its L1d: a 16 KiB B micro-panel (KC = 128 in float32) where it has 32 KiB
    (Skylake-X), 32 KiB (KC = 256) where it has 48 (Zen 4/5, Intel since Ice Lake). CYGRAD_L1D_BYTES
    overrides the size read from the CPU, so this test also runs this file's products under the
    blocking this machine would not choose itself (both are then covered on every AVX-512 CPU)."""
    import os
    import subprocess
    import sys

    if _core.best_simd_path() != "avx512":
        pytest.skip("this CPU has no AVX-512")
    probe = "from cygrad import _core; print(_core._gemm_kc_f32())"
    env = {**os.environ, "CYGRAD_SIMD": "avx512"}
    kc = {}
    for l1d in ("32768", "49152", ""):
        out = subprocess.run([sys.executable, "-c", probe], env={**env, "CYGRAD_L1D_BYTES": l1d},
                             capture_output=True, text=True, check=True)
        kc[l1d] = int(out.stdout)
    assert kc["32768"] == 128 and kc["49152"] == 256
    other = "32768" if kc[""] == 256 else "49152"
    tests = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-x", "-p", "no:cacheprovider",
                            "-k", "avx512 and not follows_the_l1d"],
                           env={**env, "CYGRAD_L1D_BYTES": other}, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout


# ---- the ops on top: matmul's batch merging, bmm, F.linear ----


def cy(a):
    return cygrad.tensor(a)


@pytest.mark.parametrize("shapes", [
    ((2, 3, 5, 4), (4, 6)),           # b broadcast along every batch dim: one batched call
    ((2, 1, 5, 4), (1, 3, 4, 6)),     # a and b broadcast along different dims: a loop of calls
    ((3, 5, 4), (2, 1, 4, 6)),
    ((4, 2, 3, 5, 4), (4, 2, 3, 4, 6)),
])
def test_matmul_batch_broadcasting(shapes, threads):
    rng = np.random.default_rng(6)
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    got = (cy(a) @ cy(b)).numpy()
    want = a.astype(np.float64) @ b.astype(np.float64)
    bound = (a.shape[-1] + 3) * np.finfo(np.float32).eps * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))
    assert got.shape == want.shape
    assert (np.abs(got - want) <= bound).all()


def test_matmul_transposed_batch_views(threads):
    """batch strides that are not the contiguous ones (a transposed batch view) merge or loop correctly"""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((5, 3, 8)).astype(np.float64)   # read as (3, 5, 8) through a transpose
    b = rng.standard_normal((3, 8, 4)).astype(np.float64)
    got = (cy(a).transpose(0, 1) @ cy(b)).numpy()
    want = np.transpose(a, (1, 0, 2)) @ b
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    got = cygrad.bmm(cy(b).transpose(1, 2), cy(b)).numpy()
    np.testing.assert_allclose(got, np.transpose(b, (0, 2, 1)) @ b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_bias_epilogue_matches_reference(dtype, threads):
    import cygrad.nn.functional as F

    rng = np.random.default_rng(8)
    for batch, fin, fout in [(1, 1, 1), (3, 7, 5), (64, 784, 256), (17, 33, 129)]:
        x = rng.standard_normal((batch, fin)).astype(dtype)
        w = rng.standard_normal((fout, fin)).astype(dtype)
        bias2 = rng.standard_normal(2 * fout).astype(dtype)
        bias = bias2[::2]
        got = F.linear(cy(x), cy(w), cy(bias2)[::2]).numpy()  # a non-contiguous bias
        want, bound = reference(1.0, x, w.T, 0.0, np.zeros((batch, fout), dtype), bias)
        assert (np.abs(got - want) <= bound).all()
