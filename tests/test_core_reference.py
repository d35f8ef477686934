"""The layers against a reference backprop written out directly, and what a pass leaves behind.

Every test asserts a value that a wrong pass would get wrong: gradients against
plain sums, dtypes kept through a step, gradients that a later pass must not change.
"""

import numpy as np
import pytest

from backprop_edu import SGD, Dense, Network, Residual
from backprop_edu.activations import relu


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
def test_bp1_to_bp4_match_a_reference_backprop_written_with_plain_sums(m):
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
    net.backward(y, input_gradient=True)
    opt.step()
    assert Y_hat.dtype == np.float32
    assert net.grad_X.dtype == np.float32
    for layer in net.layers:
        for name in ("W", "b", "h_prev", "a", "h", "delta", "grad_W", "grad_b", "grad_h_prev"):
            assert getattr(layer, name).dtype == np.float32, (layer, name)
    assert all(part.dtype == np.float32 for part in net.layers[1].grad_h_prev_parts.values())


def test_a_step_updates_the_parameters_in_place():
    net = mlp(np.float64)
    opt = SGD(net, lr=0.1)
    X, y = data(32, 6, 4, np.float64)
    W, b = net.layers[1].W, net.layers[1].b
    W_before, b_before = W.copy(), b.copy()
    net.forward(X)
    net.backward(y)
    expected_W = W_before - 0.1 * net.layers[1].grad_W
    opt.step()
    assert net.layers[1].W is W and net.layers[1].b is b  # the arrays a user holds are stepped
    np.testing.assert_array_equal(W, expected_W)
    assert not np.array_equal(b, b_before)


def test_gradients_read_after_one_pass_are_not_changed_by_the_next():
    net = mlp(np.float64)
    X, y = data(8, 6, 4, np.float64)
    net.forward(X)
    net.backward(y)
    kept = [(layer.delta, layer.grad_W, layer.a) for layer in net.layers]
    copies = [tuple(array.copy() for array in arrays) for arrays in kept]
    X2, y2 = data(8, 6, 4, np.float64, seed=7)
    net.forward(X2)
    net.backward(y2)
    for arrays, saved in zip(kept, copies):
        for array, copy in zip(arrays, saved):
            np.testing.assert_array_equal(array, copy)
    assert not np.array_equal(net.layers[0].grad_W, copies[0][1])  # the new pass differs


def test_a_new_batch_size_gives_the_right_gradients():
    net = mlp(np.float64)
    for m in (7, 3, 7):
        X, y = data(m, 6, 4, np.float64, seed=m)
        net.forward(X)
        net.backward(y)
        deltas, grads = reference_gradients(net, X, y)
        for layer, (grad_W, grad_b) in zip(net.layers, grads):
            np.testing.assert_allclose(layer.grad_W, grad_W, rtol=1e-12, atol=1e-14)
            assert layer.delta.shape == (layer.n_out, m)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_max_a_0_and_keeps_nan(dtype):
    a = np.array([[-2.0, -0.0, 0.0, 1.5, np.nan, np.inf, -np.inf]], dtype=dtype)
    h = relu(a)
    assert h.dtype == dtype
    np.testing.assert_array_equal(h, np.maximum(a, 0))
    assert np.isnan(h[0, 4]) and h[0, 5] == np.inf and h[0, 6] == 0


# -- the textbook's backprop, one sample at a time (as Nielsen's network.py writes it) ------

PHI = {"identity": (lambda z: z, lambda z: np.ones_like(z)),
       "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
       "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
       "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2)}


def textbook_backprop(Ws, bs, activations, loss, x, y):
    """∇W, ∇b and every δ for ONE sample x (a vector): the four equations, nothing shared."""
    zs, hs = [], [x]
    for W, b, name in zip(Ws, bs, activations):
        zs.append(W @ hs[-1] + b)
        hs.append(PHI[name][0](zs[-1]))
    y_hat = hs[-1]
    if loss == "half_mse":
        cost_gradient = y_hat - y                                   # ∂C/∂ŷ
    else:                                                          # binary cross-entropy
        cost_gradient = (y_hat - y) / (y_hat * (1 - y_hat))
    delta = PHI[activations[-1]][1](zs[-1]) * cost_gradient         # BP1
    deltas = [delta]
    for l in range(len(Ws) - 2, -1, -1):
        delta = (Ws[l + 1].T @ delta) * PHI[activations[l]][1](zs[l])   # BP2
        deltas.insert(0, delta)
    grads_W = [np.outer(d, h) for d, h in zip(deltas, hs)]           # BP3
    return grads_W, deltas                                           # BP4: ∇b = δ


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("output, loss", [("sigmoid", "half_mse"), ("identity", "half_mse"),
                                          ("sigmoid", "binary_cross_entropy"),
                                          ("tanh", "half_mse")])
def test_the_layers_agree_with_the_textbook_backprop_sample_by_sample(hidden, output, loss):
    rng = np.random.default_rng(len(hidden + output + loss))
    sizes = [5, 7, 6, 3]
    layers = [Dense(a, b, activation=hidden, rng=rng) for a, b in zip(sizes[:-2], sizes[1:-1])]
    layers.append(Dense(sizes[-2], sizes[-1], activation=output, rng=rng))
    for layer in layers:
        layer.b[...] = 0.3 * rng.standard_normal(layer.n_out)
    net = Network(layers, loss=loss)
    m = 9
    X = rng.standard_normal((m, 5))
    Y = rng.uniform(0, 1, (m, 3))
    net.forward(X)
    net.backward(Y)
    Ws, bs = [layer.W for layer in layers], [layer.b for layer in layers]
    activations = [hidden, hidden, output]
    per_sample = [textbook_backprop(Ws, bs, activations, loss, X[i], Y[i]) for i in range(m)]
    for l, layer in enumerate(layers):
        np.testing.assert_allclose(layer.grad_W, np.mean([g[0][l] for g in per_sample], axis=0),
                                   rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(layer.grad_b, np.mean([g[1][l] for g in per_sample], axis=0),
                                   rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(layer.delta, np.column_stack([g[1][l] for g in per_sample]),
                                   rtol=1e-10, atol=1e-13)
    J, delta_L = net.output_error(Y)
    assert delta_L is layers[-1].delta
