"""BP1–BP4 against central finite differences, for every activation and loss."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from backprop_edu import Dense, Network, Residual, gradcheck
from backprop_edu.activations import ACTIVATIONS
from backprop_edu.gradcheck import finite_difference
from backprop_edu.losses import LOSSES


OUTPUT_ACTIVATION = {"half_mse": "identity", "softmax_cross_entropy": "identity",
                     "binary_cross_entropy": "sigmoid"}


def random_problem(rng, widths, activation, loss, m, residual=False, output_activation=None):
    layers = [Dense(n_in, n_out, activation=activation, rng=rng)
              for n_in, n_out in zip(widths[:-2], widths[1:-1])]
    if residual:
        layers.append(Residual(widths[-2], activation=activation, rng=rng))
    layers.append(Dense(widths[-2], widths[-1], rng=rng,
                        activation=output_activation or OUTPUT_ACTIVATION[loss]))
    for layer in layers:  # random biases: zero biases put dead ReLU units exactly on the kink
        layer.b[...] = rng.standard_normal(layer.n_out)
    net = Network(layers, loss=loss)
    X = rng.standard_normal((m, widths[0]))
    if loss == "softmax_cross_entropy":
        Y = rng.integers(0, widths[-1], size=m)
    elif loss == "binary_cross_entropy":
        Y = rng.uniform(0, 1, size=(m, widths[-1]))
    else:
        Y = rng.standard_normal((m, widths[-1]))
    return net, X, Y


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_bp3_and_bp4_match_finite_differences_for_every_activation_and_loss(activation, loss):
    rng = np.random.default_rng(42)
    net, X, Y = random_problem(rng, [4, 6, 5, 3], activation, loss, m=7)
    result = gradcheck(net, X, Y)
    assert len(result.rows) == 3
    assert result.max_error < 1e-6, str(result)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_residual_block_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(7)
    net, X, Y = random_problem(rng, [3, 5, 2], activation, "half_mse", m=6, residual=True)
    assert isinstance(net.layers[1], Residual)
    result = gradcheck(net, X, Y)
    assert result.max_error < 1e-6, str(result)


@settings(max_examples=25, deadline=None)
@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       m=st.integers(1, 9),
       activation=st.sampled_from(sorted(ACTIVATIONS)),
       loss=st.sampled_from(sorted(LOSSES)),
       seed=st.integers(0, 2**31))
def test_random_architectures_agree_with_finite_differences(widths, m, activation, loss, seed):
    if loss == "softmax_cross_entropy" and widths[-1] < 2:
        widths = widths[:-1] + [2]
    rng = np.random.default_rng(seed)
    net, X, Y = random_problem(rng, widths, activation, loss, m)
    net.forward(X)
    net.backward(Y)
    for layer in net.layers:
        for theta, g_bp in ((layer.W, layer.grad_W.copy()), (layer.b, layer.grad_b.copy())):
            g_fd = np.array([finite_difference(net, X, Y, theta, i, 1e-6)
                             for i in np.ndindex(theta.shape)]).reshape(theta.shape)
            # absolute tolerance: ReLU's kink may sit within ε of an input in rare draws
            np.testing.assert_allclose(g_bp, g_fd, rtol=1e-4, atol=1e-6)


def test_gradcheck_catches_a_planted_bug_in_bp2():
    class ForgetsPhiPrime(Dense):
        def backward(self, grad_h, input_gradient=True):
            delta = grad_h  # the bug: δ = ∂J/∂h, no φ'(a)
            return self.backward_from_delta(delta, input_gradient)

    rng = np.random.default_rng(0)
    net = Network([ForgetsPhiPrime(3, 4, activation="tanh", rng=rng),
                   Dense(4, 2, activation="identity", rng=rng)], loss="half_mse")
    X, Y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    result = gradcheck(net, X, Y)
    assert result.rows[0].max_error_W > 1e-2   # layer 1 is wrong
    assert result.rows[1].max_error_W < 1e-6   # layer 2 is right
    assert not result.ok()


def test_gradcheck_checks_a_seeded_subset_on_large_layers_and_prints_a_table():
    rng = np.random.default_rng(3)
    net, X, Y = random_problem(rng, [30, 20, 4], "tanh", "softmax_cross_entropy", m=8)
    result = gradcheck(net, X, Y, max_entries=25)
    assert result.rows[0].checked_W == 25 and result.rows[0].checked_b == 20
    assert result.rows[1].checked_W == 25 and result.rows[1].checked_b == 4
    text = str(result)
    assert "20×30" in text and "4×20" in text and "max relative error" in text
    again = gradcheck(net, X, Y, max_entries=25)
    assert again.rows == result.rows  # the subset is seeded
