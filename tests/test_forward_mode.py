"""Forward mode (JVPs) against reverse mode (backprop), finite differences and torch.func.jvp."""

import numpy as np
import pytest

from backprop_edu import Dense, Network, Residual
from backprop_edu.forward_mode import (count_parameters, gradient_by_forward_mode,
                                       gradient_by_reverse_mode, jvp)
from conftest import random_batch


def small_net(activation, loss="half_mse", n_out=3, dtype=np.float64):
    return Network([Dense(4, 5, activation=activation, rng=1, dtype=dtype),
                    Residual(5, activation=activation, rng=2, dtype=dtype),
                    Dense(5, 6, activation=activation, rng=3, dtype=dtype),
                    Dense(6, n_out, activation="identity", rng=4, dtype=dtype)], loss=loss)


def batch(loss, m=7, seed=0):
    return random_batch(np.random.default_rng(seed), 4, 3, loss, m)


def random_tangent(net, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(layer.W.shape) for layer in net.layers],
            [rng.standard_normal(layer.b.shape) for layer in net.layers])


def directional(grads, W_dots, b_dots):
    """⟨∇J, θ̇⟩ from a list of (grad_W, grad_b)."""
    return sum(np.vdot(gW, W) + np.vdot(gb, b) for (gW, gb), W, b in zip(grads, W_dots, b_dots))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("loss", ["half_mse", "softmax_cross_entropy"])
def test_jvp_equals_the_directional_derivative_from_backprop(activation, loss):
    net = small_net(activation, loss)
    X, Y = batch(loss)
    W_dots, b_dots = random_tangent(net)
    J, J_dot = jvp(net, X, Y, W_dots, b_dots)
    J_rev, grads = gradient_by_reverse_mode(net, X, Y)
    assert J == pytest.approx(J_rev, abs=1e-14)
    expected = directional(grads, W_dots, b_dots)
    assert abs(J_dot - expected) <= 1e-10 * max(1.0, abs(expected))
    assert abs(expected) > 1e-3  # a direction along which J really changes


def test_jvp_of_the_input_matches_central_differences():
    net = small_net("tanh")
    X, Y = batch("half_mse")
    x_dot = np.random.default_rng(5).standard_normal(X.shape)
    nothing = [None] * len(net.layers)
    _, J_dot = jvp(net, X, Y, nothing, nothing, x_dot=x_dot)
    eps = 1e-6
    fd = (net.compute_loss(X + eps * x_dot, Y) - net.compute_loss(X - eps * x_dot, Y)) / (2 * eps)
    assert J_dot == pytest.approx(fd, rel=1e-6)


def test_jvp_along_one_layer_only_moves_that_layers_gradient():
    net = small_net("sigmoid")
    X, Y = batch("half_mse")
    _, grads = gradient_by_reverse_mode(net, X, Y)
    W_dots = [None, np.ones((5, 5)), None, None]
    b_dots = [None] * 4
    _, J_dot = jvp(net, X, Y, W_dots, b_dots)
    assert J_dot == pytest.approx(grads[1][0].sum(), abs=1e-12)


def test_stacked_tangents_give_the_same_numbers_as_one_at_a_time():
    net = small_net("relu", "softmax_cross_entropy")
    X, Y = batch("softmax_cross_entropy")
    tangents = [random_tangent(net, seed) for seed in range(3)]
    stacked_W = [np.stack([t[0][l] for t in tangents]) for l in range(4)]
    stacked_b = [np.stack([t[1][l] for t in tangents]) for l in range(4)]
    _, J_dots = jvp(net, X, Y, stacked_W, stacked_b)
    one_by_one = [jvp(net, X, Y, *t)[1] for t in tangents]
    np.testing.assert_allclose(J_dots, one_by_one, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["half_mse", "softmax_cross_entropy"])
@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_forward_mode_gradient_agrees_with_backprop_to_1e_10(loss, chunk):
    net = small_net("tanh", loss)
    X, Y = batch(loss)
    J_fwd, forward = gradient_by_forward_mode(net, X, Y, chunk=chunk)
    J_rev, reverse = gradient_by_reverse_mode(net, X, Y)
    assert J_fwd == pytest.approx(J_rev, abs=1e-14)
    for (gW_f, gb_f), (gW_r, gb_r), layer in zip(forward, reverse, net.layers):
        assert gW_f.shape == layer.W.shape and gb_f.shape == layer.b.shape
        np.testing.assert_allclose(gW_f, gW_r, rtol=0, atol=1e-10)
        np.testing.assert_allclose(gb_f, gb_r, rtol=0, atol=1e-10)
    assert max(np.abs(g).max() for pair in reverse for g in pair) > 1e-3


def test_forward_mode_gradient_matches_central_differences_in_a_few_entries():
    net = small_net("sigmoid")
    X, Y = batch("half_mse")
    _, grads = gradient_by_forward_mode(net, X, Y)
    eps = 1e-6
    for l, (i, j) in [(0, (2, 1)), (1, (4, 0)), (3, (1, 5))]:
        W = net.layers[l].W
        W[i, j] += eps
        plus = net.compute_loss(X, Y)
        W[i, j] -= 2 * eps
        minus = net.compute_loss(X, Y)
        W[i, j] += eps
        assert grads[l][0][i, j] == pytest.approx((plus - minus) / (2 * eps), rel=1e-6, abs=1e-10)


def test_count_parameters():
    net = small_net("relu")
    assert count_parameters(net) == (4 * 5 + 5) + (5 * 5 + 5) + (5 * 6 + 6) + (6 * 3 + 3)


def test_jvp_agrees_with_torch_func_jvp():
    torch = pytest.importorskip("torch", reason="torch is the independent oracle for the JVP")
    net = small_net("tanh")
    X, Y = batch("half_mse")
    W_dots, b_dots = random_tangent(net, seed=3)
    _, J_dot = jvp(net, X, Y, W_dots, b_dots)

    params = [torch.tensor(p) for layer in net.layers for p in (layer.W, layer.b)]
    tangents = [torch.tensor(t) for pair in zip(W_dots, b_dots) for t in pair]
    x, y = torch.tensor(X), torch.tensor(Y)

    def loss(*flat):
        h = x
        for l, layer in enumerate(net.layers):
            a = h @ flat[2 * l].T + flat[2 * l + 1]
            branch = torch.tanh(a) if layer.activation.name == "tanh" else a
            h = h + branch if isinstance(layer, Residual) else branch
        return 0.5 * ((h - y) ** 2).sum(dim=1).mean()

    _, expected = torch.func.jvp(loss, tuple(params), tuple(tangents))
    assert J_dot == pytest.approx(expected.item(), rel=1e-10)
