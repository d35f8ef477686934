"""What the speed work must not change: values, dtypes, and buffers reused from step to step.

No timings here (see benchmarks/): every test asserts a value that a faster
but wrong hot path would get wrong.
"""

import tracemalloc

import numpy as np
import pytest

from backprop_edu import SGD, Dense, Network, Residual
from backprop_edu.activations import relu
from backprop_edu.optim import BLOCK, row_blocks


def mlp(dtype, sizes=(6, 9, 7, 4), activation="relu", seed=0):
    layers = [Dense(n_in, n_out, activation=activation, rng=seed + l, dtype=dtype)
              for l, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1]))]
    layers.append(Dense(sizes[-2], sizes[-1], activation="identity", rng=seed + 9, dtype=dtype))
    return Network(layers, loss="softmax_cross_entropy")


def data(m, n_in, n_classes, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n_in)).astype(dtype), rng.integers(0, n_classes, m)


def reference_gradients(net, X, y):
    """BP1..BP4 written out directly, with fresh arrays and plain sums: the oracle."""
    Ws = [layer.W.astype(np.float64) for layer in net.layers]
    bs = [layer.b.astype(np.float64) for layer in net.layers]
    H, A = [X.astype(np.float64).T], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        a = W @ H[-1] + b[:, None]
        A.append(a)
        H.append(np.maximum(a, 0) if l < len(Ws) - 1 else a)
    m = X.shape[0]
    p = np.exp(A[-1] - A[-1].max(axis=0))
    p /= p.sum(axis=0)
    delta = p.copy()
    delta[y, np.arange(m)] -= 1
    deltas, grads = [None] * len(Ws), [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        deltas[l] = delta
        grads[l] = (delta @ H[l].T / m, delta.sum(axis=1) / m)
        if l > 0:
            delta = (Ws[l].T @ delta) * (A[l - 1] > 0)
    return deltas, grads


@pytest.mark.parametrize("m", [1, 5, 128])
def test_bp3_bp4_with_the_mean_folded_into_delta_match_the_plain_formulas(m):
    net = mlp(np.float64)
    X, y = data(m, 6, 4, np.float64)
    net.forward(X)
    net.backward(y)
    deltas, grads = reference_gradients(net, X, y)
    for layer, delta, (grad_W, grad_b) in zip(net.layers, deltas, grads):
        np.testing.assert_allclose(layer.delta, delta, rtol=1e-12, atol=1e-14)  # unscaled δ
        np.testing.assert_allclose(layer.grad_W, grad_W, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.grad_b, grad_b, rtol=1e-12, atol=1e-14)


def test_float32_stays_float32_end_to_end():
    net = Network([Dense(6, 9, activation="sigmoid", rng=0, dtype=np.float32),
                   Residual(9, activation="tanh", rng=1, dtype=np.float32),
                   Dense(9, 4, activation="identity", rng=2, dtype=np.float32)],
                  loss="softmax_cross_entropy")
    opt = SGD(net, lr=0.1)
    X, y = data(16, 6, 4, np.float64)  # float64 data is converted at the boundary
    Y_hat = net.forward(X)
    net.backward(y)
    opt.step()
    assert Y_hat.dtype == np.float32
    for layer in net.layers:
        for name in ("W", "b", "a", "h", "delta", "mean_delta", "grad_W", "grad_b",
                     "grad_h_prev"):
            assert getattr(layer, name).dtype == np.float32, (layer, name)
    assert net.layers[1].out.dtype == np.float32
    assert all(step.dtype == np.float32 for blocks in opt.blocks for _, step in blocks)


def test_a_training_step_reuses_every_buffer():
    net = mlp(np.float64)
    opt = SGD(net, lr=0.1)
    X, y = data(32, 6, 4, np.float64)
    names = ("W", "b", "a", "h", "delta", "mean_delta", "ones", "grad_W", "grad_b", "grad_h_prev")

    def buffers():
        return [getattr(layer, name) for layer in net.layers for name in names]

    net.forward(X)
    net.backward(y)
    opt.step()
    before = buffers()
    W_before = net.layers[1].W.copy()
    for _ in range(3):
        net.forward(X)
        net.backward(y)
        opt.step()
    assert all(a is b for a, b in zip(buffers(), before))
    assert not np.array_equal(net.layers[1].W, W_before)  # the steps did change W, in place


def test_a_training_step_allocates_no_batch_sized_arrays():
    # numpy's ufuncs may use internal buffers of a fixed size (8,192 elements) for a
    # broadcast or a cast; what must not happen is an array that grows with the batch.
    m = 512
    net = mlp(np.float64, sizes=(64, 256, 256, 10))
    opt = SGD(net, lr=0.01)
    X, y = data(m, 64, 10, np.float64)
    net.forward(X)
    net.backward(y)
    opt.step()
    tracemalloc.start()
    try:
        for _ in range(3):
            net.forward(X)
            net.backward(y)
            opt.step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    one_activation = 256 * m * 8  # a single (n_out × m) float64 buffer: 1 MiB
    assert peak < one_activation / 8, f"a step allocated up to {peak} bytes"


@pytest.mark.parametrize("shape", [(3, 5), (7,), (BLOCK // 100 + 3, 100), (1, BLOCK + 1)])
def test_row_blocks_cover_every_row_once_with_views_of_the_buffer(shape):
    row = int(np.prod(shape[1:]))
    buffer = np.empty(max(row, min(BLOCK, int(np.prod(shape)))))  # as SGD sizes it
    blocks = row_blocks(shape, buffer)
    covered = np.concatenate([np.arange(shape[0])[rows] for rows, _ in blocks])
    np.testing.assert_array_equal(covered, np.arange(shape[0]))
    for rows, step in blocks:
        assert step.shape == (rows.stop - rows.start,) + shape[1:]
        assert np.shares_memory(step, buffer)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_sgd_in_blocks_is_exactly_theta_minus_eta_g(weight_decay):
    # W of the middle layer has 300 × 300 = 90,000 entries: more than one block
    net = mlp(np.float64, sizes=(20, 300, 300, 3))
    assert net.layers[1].W.size > BLOCK
    X, y = data(8, 20, 3, np.float64)
    net.forward(X)
    net.backward(y)
    lr = 0.05
    expected = [(layer.W - lr * (layer.grad_W + weight_decay * layer.W),
                 layer.b - lr * (layer.grad_b + weight_decay * layer.b)) for layer in net.layers]
    grads = [(layer.grad_W.copy(), layer.grad_b.copy()) for layer in net.layers]
    SGD(net, lr=lr, weight_decay=weight_decay).step()
    for layer, (W, b), (grad_W, grad_b) in zip(net.layers, expected, grads):
        np.testing.assert_array_equal(layer.W, W)  # bit for bit: the same two operations
        np.testing.assert_array_equal(layer.b, b)
        np.testing.assert_array_equal(layer.grad_W, grad_W)  # the step leaves ∇W alone
        np.testing.assert_array_equal(layer.grad_b, grad_b)


def test_a_new_batch_size_reallocates_and_still_gives_the_right_gradients():
    net = mlp(np.float64)
    for m in (7, 3, 7):
        X, y = data(m, 6, 4, np.float64, seed=m)
        net.forward(X)
        net.backward(y)
        _, grads = reference_gradients(net, X, y)
        for layer, (grad_W, grad_b) in zip(net.layers, grads):
            assert layer.delta.shape == (layer.n_out, m)
            np.testing.assert_allclose(layer.grad_W, grad_W, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(layer.grad_b, grad_b, rtol=1e-12, atol=1e-14)


def test_sgd_steps_a_layer_whose_single_row_is_larger_than_a_block():
    net = Network([Dense(BLOCK + 5, 2, activation="identity", rng=0)], loss="half_mse")
    X, Y = np.random.default_rng(0).standard_normal((3, BLOCK + 5)), np.ones((3, 2))
    net.forward(X)
    net.backward(Y)
    expected = net.layers[0].W - 0.1 * net.layers[0].grad_W
    SGD(net, lr=0.1).step()
    np.testing.assert_array_equal(net.layers[0].W, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_written_as_fill_then_maximum_is_max_a_0_bit_for_bit(dtype):
    a = np.array([[-2.0, -0.0, 0.0, 3.5], [np.nan, np.inf, -np.inf, 1e-40]], dtype=dtype)
    out = np.full_like(a, 7.0)  # whatever the buffer held before must not leak through
    relu(a, out)
    expected = np.maximum(a, 0)
    np.testing.assert_array_equal(out, expected)  # NaN stays NaN: divergence is not hidden
    assert np.array_equal(np.signbit(out), np.signbit(expected))
