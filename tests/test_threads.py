"""Intra-op threads: set/get_num_threads, results that do not depend on the thread count, and a
pool that survives fork() and concurrent callers.

Kernels split work only above a grain (csrc/include/cygrad/parallel.h: 32K elements for cheap
ops, 4K for transcendental ones), so the tensors here are large enough to be split."""
import multiprocessing
import os
import threading

import numpy as np
import pytest

import cygrad

LARGE = 3 * 65536 + 17  # above every grain, and not a multiple of the chunk count


@pytest.fixture
def restore_threads():
    before = cygrad.get_num_threads()
    yield
    cygrad.set_num_threads(before)


def run_with_threads(threads, fn):
    cygrad.set_num_threads(threads)
    return fn()


def test_num_threads_round_trip(restore_threads):
    cygrad.set_num_threads(1)
    assert cygrad.get_num_threads() == 1
    cygrad.set_num_threads(3)
    assert cygrad.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -2])
def test_set_num_threads_rejects_non_positive(bad, restore_threads):
    with pytest.raises(RuntimeError, match="positive integer"):
        cygrad.set_num_threads(bad)


@pytest.fixture
def threadpoolctl():
    module = pytest.importorskip("threadpoolctl")
    if not hasattr(module, "register"):
        pytest.skip("this threadpoolctl takes no custom controllers")
    return module


def test_threadpoolctl_lists_cygrad_pool(threadpoolctl, restore_threads):
    cygrad.set_num_threads(3)
    pools = [p for p in threadpoolctl.threadpool_info() if p["internal_api"] == "cygrad"]
    assert len(pools) == 1
    assert os.path.samefile(pools[0]["filepath"], cygrad._core.__file__)
    assert pools[0]["user_api"] == "cygrad"
    assert pools[0]["num_threads"] == 3
    assert pools[0]["version"] == cygrad.__version__


def test_threadpool_limits_sets_cygrad_threads_and_restores_them(threadpoolctl, restore_threads):
    cygrad.set_num_threads(2)
    with threadpoolctl.threadpool_limits(limits=1):
        assert cygrad.get_num_threads() == 1
    assert cygrad.get_num_threads() == 2
    with threadpoolctl.threadpool_limits(limits=1, user_api="cygrad"):
        assert cygrad.get_num_threads() == 1
    assert cygrad.get_num_threads() == 2
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):  # numpy's BLAS only
        assert cygrad.get_num_threads() == 2


def _operands(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(LARGE).astype(dtype)
    b = rng.standard_normal(LARGE).astype(dtype)
    return a, b


ELEMENTWISE = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul-broadcast-row": (lambda a, b: a.reshape(-1, 1)[:4096] * b[:512],
                          lambda a, b: a.reshape(-1, 1)[:4096] * b[:512]),
    "transposed": (lambda a, b: a[:512 * 384].reshape(512, 384).t() - 1.5,
                   lambda a, b: a[:512 * 384].reshape(512, 384).T - 1.5),
    "strided": (lambda a, b: a[::3] * b[1::3], lambda a, b: a[::3] * b[1::3]),
    "exp": (lambda a, b: a.exp(), lambda a, b: np.exp(a)),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: np.tanh(a)),
    "comparison": (lambda a, b: a > b, lambda a, b: a > b),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_is_independent_of_thread_count(name, dtype, restore_threads):
    a, b = _operands(dtype)
    op, reference = ELEMENTWISE[name]
    ca, cb = cygrad.from_numpy(a), cygrad.from_numpy(b)
    one = run_with_threads(1, lambda: op(ca, cb).numpy())
    two = run_with_threads(2, lambda: op(ca, cb).numpy())
    np.testing.assert_array_equal(two, one)  # the same kernel on each block: the same bits
    expected = reference(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(two, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_in_place_on_a_view_is_split_correctly(restore_threads):
    a, _ = _operands(np.float64)
    cygrad.set_num_threads(2)
    base = cygrad.from_numpy(a.copy()).reshape(-1, 1)[: LARGE - 17].reshape(3, 65536)
    view = base[:, ::2]
    view.mul_(2.0)
    expected = a[: LARGE - 17].reshape(3, 65536).copy()
    expected[:, ::2] *= 2.0
    np.testing.assert_array_equal(base.numpy(), expected)


def _scatter_in_order(base, dim, idx, src, accumulate):
    """numpy reference for scatter along dim of 2-d arrays: the rows j of idx and src in order, so
    a repeated index keeps the last write (or adds the writes in that order)"""
    out = base.copy()
    columns = np.arange(idx.shape[1 - dim])
    for j in range(idx.shape[dim]):
        k, value = (idx[j], src[j]) if dim == 0 else (idx[:, j], src[:, j])
        at = (k, columns) if dim == 0 else (columns, k)
        out[at] = out[at] + value if accumulate else value
    return out


@pytest.mark.parametrize("dim", [0, 1])
def test_gather_and_scatter_are_independent_of_thread_count(dim, restore_threads):
    """gathers split over rows, scatters over (outer, band of columns) so that the rows sharing a
    target are still visited in order: the same bits on 1 and 2 threads, numpy's values, with
    many repeated indices"""
    rng = np.random.default_rng(4)
    shape = (517, 301)  # 155617 elements: above two grains
    x = rng.standard_normal(shape).astype(np.float32)
    src = rng.standard_normal(shape).astype(np.float32)
    idx = rng.integers(0, 40, shape)  # 40 targets for 517 or 301 writers: many duplicates
    cx, csrc, cidx = cygrad.from_numpy(x), cygrad.from_numpy(src), cygrad.from_numpy(idx)
    run = lambda: (cygrad.gather(cx, dim, cidx).numpy(),
                   cygrad.scatter(cx, dim, cidx, csrc).numpy(),
                   cygrad.scatter_add(cx, dim, cidx, csrc).numpy())
    one = run_with_threads(1, run)
    two = run_with_threads(2, run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(b, a)
    gathered, scattered, added = two
    np.testing.assert_array_equal(gathered, np.take_along_axis(x, idx, axis=dim))
    np.testing.assert_array_equal(scattered, _scatter_in_order(x, dim, idx, src, False))
    expected = _scatter_in_order(x.astype(np.float64), dim, idx, src.astype(np.float64), True)
    np.testing.assert_allclose(added, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_long_index_names_its_first_invalid_entry(threads, restore_threads):
    """a long index is checked in pieces (on threads): the error still names the first invalid
    entry, here in the fifth of sixteen pieces, with later pieces holding other ones"""
    cygrad.set_num_threads(threads)
    x = cygrad.zeros(50, 10)
    idx = np.zeros((LARGE // 10, 10), dtype=np.int64)
    flat = idx.reshape(-1)
    flat[4 * flat.size // 16 + 5] = 51
    flat[9 * flat.size // 16] = 77
    flat[-1] = -3
    with pytest.raises(RuntimeError, match="index 51 is out of bounds for dimension 0 with size 50"):
        cygrad.gather(x, 0, cygrad.from_numpy(idx))


def test_row_index_ops_are_independent_of_thread_count(restore_threads):
    """one index a row (index_select, x[idx], and the embedding's backward, which adds the rows
    of the gradient at their indices) split over rows and over bands of columns"""
    rng = np.random.default_rng(5)
    table = rng.standard_normal((1000, 600)).astype(np.float32)  # 600 columns: 3 scatter bands
    rows = rng.integers(0, 1000, 700)  # repeated rows
    values = rng.standard_normal((700, 600)).astype(np.float32)
    ctable, crows, cvalues = (cygrad.from_numpy(a) for a in (table, rows, values))

    def run():
        leaf = ctable.clone().requires_grad_()
        cygrad.nn.functional.embedding(crows, leaf).backward(cvalues)
        return (cygrad.index_select(ctable, 0, crows).numpy(), ctable[crows].numpy(),
                leaf.grad.numpy())
    one = run_with_threads(1, run)
    two = run_with_threads(2, run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(two[0], table[rows])
    np.testing.assert_array_equal(two[1], table[rows])
    expected = np.zeros(table.shape)
    np.add.at(expected, rows, values.astype(np.float64))
    np.testing.assert_allclose(two[2], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, dim", [((LARGE,), None), ((6, 65536), 1), ((65536, 6), 0),
                                        ((3, 40000, 5), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_max_and_min_are_independent_of_thread_count(shape, dim, dtype, restore_threads):
    """the three splits (over outer, over bands of columns, one line in pieces) give numpy's
    answer: many ties (the first index wins) and, for floats, NaN in some lines (the first wins)"""
    rng = np.random.default_rng(2)
    x = rng.integers(-50, 50, shape).astype(dtype)
    if dtype != np.int64:
        flat = x.reshape(-1)
        flat[rng.integers(0, flat.size, 4)] = np.nan
    cx = cygrad.from_numpy(x)
    for name in ("max", "min"):
        if dim is None:
            run = lambda: (getattr(cx, name)().numpy(), getattr(cx, "arg" + name)().numpy())
        else:
            run = lambda: tuple(t.numpy() for t in getattr(cx, name)(dim))
        one = run_with_threads(1, run)
        two = run_with_threads(2, run)
        for got_one, got_two in zip(one, two):
            np.testing.assert_array_equal(got_two, got_one)
        np.testing.assert_array_equal(two[0], getattr(np, name)(x, axis=dim))
        np.testing.assert_array_equal(two[1], getattr(np, "arg" + name)(x, axis=dim))


@pytest.mark.parametrize("shape, dim", [((LARGE,), None), ((6, 65536), 1), ((65536, 6), 0),
                                        ((3, 40000, 5), 1)])
def test_sum_is_independent_of_thread_count(shape, dim, restore_threads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    for dtype in (np.float32, np.float64):
        cx = cygrad.from_numpy(x.astype(dtype))
        reduce = (lambda: cx.sum()) if dim is None else (lambda: cx.sum(dim))
        one = run_with_threads(1, lambda: reduce().numpy())
        two = run_with_threads(2, lambda: reduce().numpy())
        np.testing.assert_array_equal(two, one)
        expected = x.astype(dtype).astype(np.float64).sum(axis=dim)
        np.testing.assert_allclose(two, expected, rtol=1e-6, atol=1e-9)


def test_training_step_gradients_are_independent_of_thread_count(restore_threads):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((512, 300)).astype(np.float32)
    w = rng.standard_normal((300, 200)).astype(np.float32) * 0.05

    def grads():
        cw = cygrad.tensor(w, requires_grad=True)
        loss = cygrad.tanh(cygrad.from_numpy(x) @ cw).sigmoid().sum()
        loss.backward()
        return cw.grad.numpy()

    np.testing.assert_array_equal(run_with_threads(2, grads), run_with_threads(1, grads))


def _child_computes(queue):
    x = cygrad.ones(LARGE) * 2.0
    queue.put(float((x.exp() + x).sum()))


def test_forked_child_computes_in_parallel_without_hanging(restore_threads):
    cygrad.set_num_threads(2)
    warm = cygrad.ones(LARGE).exp()  # the parent's workers are running when it forks
    assert warm.shape == (LARGE,)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_computes, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in a parallel kernel")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == pytest.approx(LARGE * (np.exp(2.0) + 2.0), rel=1e-6)


def test_concurrent_python_threads_get_correct_results(restore_threads):
    """Kernels release the GIL: two Python threads may reach the pool at once (one runs inline)."""
    cygrad.set_num_threads(2)
    a, b = _operands(np.float64)
    ca, cb = cygrad.from_numpy(a), cygrad.from_numpy(b)
    expected = (ca.tanh() * cb).numpy()
    np.testing.assert_allclose(expected, np.tanh(a) * b, rtol=1e-12)
    failures = []

    def work():
        for _ in range(20):
            if not np.array_equal((ca.tanh() * cb).numpy(), expected):
                failures.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


@pytest.mark.parametrize("make_optimizer", [
    lambda params: cygrad.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda params: cygrad.optim.Adam(params, lr=0.01, amsgrad=True),
    lambda params: cygrad.optim.AdamW(params, lr=0.01, weight_decay=0.1),
    lambda params: cygrad.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
    lambda params: cygrad.optim.Adagrad(params, lr=0.1, lr_decay=0.01),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_steps_are_independent_of_thread_count(make_optimizer, restore_threads):
    rng = np.random.default_rng(3)
    start = rng.standard_normal(LARGE).astype(np.float32)
    grads = [rng.standard_normal(LARGE).astype(np.float32) for _ in range(3)]

    def train():
        p = cygrad.nn.Parameter(cygrad.from_numpy(start.copy()))
        optimizer = make_optimizer([p])
        for g in grads:
            p.grad = cygrad.from_numpy(g.copy())
            optimizer.step()
        return p.detach().numpy()

    np.testing.assert_array_equal(run_with_threads(2, train), run_with_threads(1, train))
    assert not np.array_equal(train(), start)  # the steps did move the parameter


@pytest.mark.parametrize("dim", [1, 2])
def test_softmax_family_is_independent_of_thread_count(dim, restore_threads):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 100, 40)).astype(np.float32) * 5

    def forward_backward(fn):
        cx = cygrad.tensor(x, requires_grad=True)
        y = fn(cx, dim=dim)
        (y * cygrad.from_numpy(x)).sum().backward()
        return y.detach().numpy(), cx.grad.numpy()

    for fn in (cygrad.softmax, cygrad.log_softmax):
        one = run_with_threads(1, lambda: forward_backward(fn))
        two = run_with_threads(2, lambda: forward_backward(fn))
        for a, b in zip(one, two):
            np.testing.assert_array_equal(b, a)
    shifted = x - x.max(axis=dim, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(run_with_threads(2, lambda: cygrad.softmax(cygrad.from_numpy(x), dim=dim)).numpy(),
                               expected, rtol=1e-5, atol=1e-7)


def _cross_entropy_on_1_and_2_threads(logits, target, weight, smoothing):
    """cross_entropy's (loss, gradient) on 2 threads, checked bit for bit against 1 thread"""
    def loss_and_grad():
        x = cygrad.tensor(logits, requires_grad=True)
        w = None if weight is None else cygrad.from_numpy(weight)
        loss = cygrad.nn.functional.cross_entropy(x, cygrad.from_numpy(target), weight=w,
                                                  label_smoothing=smoothing)
        loss.backward()
        return loss.detach().numpy(), x.grad.numpy()

    one = run_with_threads(1, loss_and_grad)
    two = run_with_threads(2, loss_and_grad)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(b, a)
    return two


@pytest.mark.parametrize("weighted, smoothing", [(False, 0.0), (True, 0.1)])
def test_cross_entropy_is_independent_of_thread_count(weighted, smoothing, restore_threads):
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal((300, 1000)) * 3).astype(np.float32)
    labels = rng.integers(0, 1000, 300)
    labels[7] = -100  # an ignored row inside a chunk
    weight = rng.random(1000).astype(np.float32) if weighted else None
    two = _cross_entropy_on_1_and_2_threads(logits, labels, weight, smoothing)
    # and the gradient is softmax minus one-hot, over the kept rows (float64 oracle)
    if not weighted and smoothing == 0:
        kept = labels != -100
        shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        p[np.arange(300), np.where(kept, labels, 0)] -= kept
        np.testing.assert_allclose(two[1], p * kept[:, None] / kept.sum(), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("weighted, smoothing", [(False, 0.0), (True, 0.2)])
def test_probability_cross_entropy_is_independent_of_thread_count(weighted, smoothing,
                                                                  restore_threads):
    """probability targets (soft labels): rows split over threads for the loss and its gradient"""
    rng = np.random.default_rng(6)
    logits = (rng.standard_normal((300, 1000)) * 3).astype(np.float32)
    target = rng.random((300, 1000)).astype(np.float32)
    target /= target.sum(axis=1, keepdims=True)
    weight = rng.random(1000).astype(np.float32) if weighted else None
    two = _cross_entropy_on_1_and_2_threads(logits, target, weight, smoothing)
    # float64 oracle: q = (1 - s) t + s / C, w = weight or 1; loss = mean over rows of
    # -sum(w q log p), its gradient (p sum(w q) - w q) / rows
    x64 = logits.astype(np.float64)
    log_p = x64 - x64.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    wq = (1 - smoothing) * target.astype(np.float64) + smoothing / 1000
    if weighted:
        wq *= weight.astype(np.float64)
    np.testing.assert_allclose(two[0], -(wq * log_p).sum(axis=1).mean(), rtol=1e-5)
    expected_grad = (np.exp(log_p) * wq.sum(axis=1, keepdims=True) - wq) / 300
    np.testing.assert_allclose(two[1], expected_grad, rtol=1e-4, atol=1e-9)


POINTWISE_LOSSES = {  # name: (the loss on (x, t), its float64 value, x's distribution)
    "bce": (lambda F, x, t: F.binary_cross_entropy(x, t, reduction="none"),
            lambda x, t: -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100)),
            lambda rng, n: rng.uniform(1e-4, 1 - 1e-4, n)),
    "bce_logits": (lambda F, x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
                   lambda x, t: (1 - t) * x + np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0),
                   lambda rng, n: rng.standard_normal(n) * 3),
    "smooth_l1": (lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.5, reduction="none"),
                  lambda x, t: np.where(np.abs(x - t) < 0.5, (x - t) ** 2, np.abs(x - t) - 0.25),
                  lambda rng, n: rng.standard_normal(n) * 3),
}


@pytest.mark.parametrize("name", sorted(POINTWISE_LOSSES))
def test_pointwise_losses_are_independent_of_thread_count(name, restore_threads):
    """BCE, BCE with logits and smooth L1 over 200,000 elements (split over threads), forward and
    backward, give the same bits on 1 and 2 threads and match a float64 numpy forward"""
    loss, reference, make_x = POINTWISE_LOSSES[name]
    rng = np.random.default_rng(3)
    x32 = make_x(rng, 200_000).astype(np.float32)
    t32 = rng.uniform(0, 1, 200_000).astype(np.float32)

    def run():
        x = cygrad.tensor(x32, requires_grad=True)
        y = loss(cygrad.nn.functional, x, cygrad.tensor(t32))
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    one, two = run_with_threads(1, run), run_with_threads(2, run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(b, a)
    want = reference(x32.astype(np.float64), t32.astype(np.float64))
    np.testing.assert_allclose(two[0], want, rtol=1e-5, atol=1e-6)


def test_bce_keeps_nan():
    """torch clamps log(x) at -100 with a clamp that keeps NaN: a NaN probability gives NaN"""
    x = cygrad.tensor([0.5, float("nan"), 0.0], dtype=cygrad.float32)
    loss = cygrad.nn.functional.binary_cross_entropy(x, cygrad.tensor([1.0, 1.0, 1.0]), reduction="none")
    got = loss.numpy()
    assert np.isnan(got[1]) and np.isfinite(got[0]) and got[2] == 100
