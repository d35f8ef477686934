"""The layer protocol: a layer written outside the package, shared parameters, training and
inference passes, the gradient with respect to the input, and what a layer exposes when."""

import numpy as np
import pytest

from backprop_edu import SGD, Adam, Dense, Momentum, Network, Residual, build_network, gradcheck
from backprop_edu.gradcheck import finite_difference
from backprop_edu.train import train


class Scale:
    """h = s ⊙ h_prev: one learnable scale per unit (a student's layer, ~20 lines)."""

    params = ("s",)

    def __init__(self, n, dtype="float64"):
        self.n_in = self.n_out = n
        self.s = np.linspace(0.5, 1.5, n).astype(dtype)

    def forward(self, h_prev, training=True):
        if training:
            self.h_prev = h_prev
        return self.s[:, None] * h_prev

    def backward(self, grad_h, input_gradient=True):
        m = grad_h.shape[1]
        self.grad_s = (grad_h * self.h_prev).sum(axis=1) / m
        return self.s[:, None] * grad_h

    def config(self):
        return {"type": "Scale", "n": self.n_in, "dtype": str(self.s.dtype)}


def blobs(m=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(m) % 3
    X = rng.standard_normal((m, 4)) * 0.5 + np.eye(3, 4)[y] * 2
    return X, y


def scaled_net(dtype="float64"):
    return Network([Dense(4, 6, activation="tanh", rng=1, dtype=dtype), Scale(6, dtype),
                    Dense(6, 3, activation="identity", rng=2, dtype=dtype)],
                   loss="softmax_cross_entropy")


# -- a layer from outside the package ----------------------------------------------------------


def test_a_students_layer_is_gradchecked_with_the_others():
    X, y = blobs(8)
    result = gradcheck(scaled_net(), X, y)
    assert result.ok(1e-7), str(result)
    assert result.rows[1].errors.keys() == {"s"} and result.rows[1].checked == {"s": 6}
    assert "max rel err s" in str(result)


@pytest.mark.parametrize("make", [lambda net: SGD(net, lr=0.5), lambda net: Adam(net, lr=0.05),
                                  lambda net: Momentum(net, lr=0.1)])
def test_a_students_layer_is_trained_by_every_optimiser(make):
    X, y = blobs()
    net = scaled_net()
    opt = make(net)
    s_before = net.layers[1].s.copy()
    first = net.compute_loss(X, y)
    for _ in range(60):
        net.forward(X)
        net.backward(y)
        opt.step()
    assert net.compute_loss(X, y) < 0.5 * first
    assert not np.allclose(net.layers[1].s, s_before)  # its own parameter was stepped


def test_a_students_layer_goes_through_the_training_loop():
    X, y = blobs()
    net = scaled_net()
    history = train(net, SGD(net, lr=0.3), X, y, X, y, epochs=5, batch_size=16, rng=0)
    assert history[-1]["val_accuracy"] > 0.9
    assert history[-1]["grad_W_norm"][1] is None and history[-1]["grad_W_norm"][0] > 0
    assert history[-1]["delta_norm"][1] is None


def test_a_students_layer_is_saved_and_loaded_with_its_class(tmp_path):
    X, y = blobs()
    net = scaled_net()
    net.layers[1].s[...] = [0.1, 2, 3, 4, 5, 6]
    net.save(tmp_path / "scaled.npz")
    again = Network.load(tmp_path / "scaled.npz", layers={"Scale": Scale})
    assert isinstance(again.layers[1], Scale)
    np.testing.assert_array_equal(again.layers[1].s, net.layers[1].s)
    np.testing.assert_array_equal(again.forward(X), net.forward(X))
    with pytest.raises(ValueError, match=r"layer 2 has the unknown type 'Scale': for a layer "
                                         r"class of your own, pass it: Network\.load\(path, "
                                         r"layers=\{'Scale': Scale\}\)"):
        Network.load(tmp_path / "scaled.npz")


def test_an_object_that_is_not_a_layer_is_refused_naming_what_it_lacks():
    class Half:
        n_in = n_out = 3

        def forward(self, h_prev, training=True):
            return h_prev / 2

    with pytest.raises(TypeError, match=r"layer 2 is .*Half.*which does not follow the layer "
                                        r"protocol: it has no params, backward, config"):
        Network([Dense(2, 3), Half()])


def test_the_same_layer_twice_is_refused():
    layer = Dense(3, 3)
    with pytest.raises(ValueError, match="layer 2 is layer 1 again"):
        Network([layer, layer])


# -- shared parameters ----------------------------------------------------------------------


def tied_net(seed=0):
    """Two square layers using one W (an unrolled recurrence of two steps), then an output."""
    rng = np.random.default_rng(seed)
    first = Dense(3, 3, activation="tanh", rng=rng)
    second = Dense(3, 3, activation="tanh", rng=rng)
    second.W = first.W
    second.b[...] = 0.3
    return Network([first, second, Dense(3, 2, activation="identity", rng=rng)], loss="half_mse")


def test_a_shared_parameter_is_listed_once_and_its_gradient_is_the_sum():
    net = tied_net()
    X, Y = np.random.default_rng(1).standard_normal((5, 3)), np.ones((5, 2))
    names = [parameter.name for parameter in net.parameters()]
    assert names == ["W_1", "b_1", "b_2", "W_3", "b_3"]
    net.forward(X)
    net.backward(Y)
    W = net.parameters()[0]
    assert W.places == [(net.layers[0], "W"), (net.layers[1], "W")]
    np.testing.assert_array_equal(W.grad, net.layers[0].grad_W + net.layers[1].grad_W)
    fd = np.array([finite_difference(net, X, Y, net.layers[0].W, i, 1e-6)
                   for i in np.ndindex(3, 3)]).reshape(3, 3)
    np.testing.assert_allclose(W.grad, fd, rtol=1e-6, atol=1e-9)
    assert gradcheck(net, X, Y).ok(1e-7)


def test_a_view_of_another_layers_parameter_is_refused():
    first = Dense(3, 4)
    second = Dense(4, 3)
    second.W = first.W.T
    with pytest.raises(ValueError, match="layer 2's W is a view of W_1"):
        Network([first, second])


def test_a_shared_parameter_survives_save_and_load(tmp_path):
    net = tied_net()
    path = net.save(tmp_path / "tied")
    assert path == str(tmp_path / "tied.npz")
    again = Network.load(tmp_path / "tied")  # finds tied.npz, as numpy's load does not
    assert again.layers[1].W is again.layers[0].W
    X = np.ones((2, 3))
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


# -- training and inference passes ----------------------------------------------------------


def test_an_inference_pass_keeps_nothing_and_backward_then_says_what_to_do():
    net = build_network([3, 5, 2], "tanh", loss="half_mse", rng=0)
    X, Y = np.ones((4, 3)), np.zeros((4, 2))
    net.forward(X)
    assert all(hasattr(layer, "a") and hasattr(layer, "h_prev") for layer in net.layers)
    prediction = net.predict(X)
    assert prediction.shape == (4, 2)
    assert not any(hasattr(layer, name) for layer in net.layers for name in ("a", "h", "h_prev"))
    with pytest.raises(ValueError, match=r"backward\(\) needs a training pass first"):
        net.backward(Y)
    net.compute_loss(X, Y)
    assert not hasattr(net.layers[0], "a")
    net.forward(X, training=False)
    assert not hasattr(net.layers[0], "a")


def test_reading_a_quantity_before_its_pass_says_which_pass_makes_it():
    layer = Dense(2, 3)
    assert not hasattr(layer, "delta") and not hasattr(layer, "a")
    with pytest.raises(AttributeError, match=r"Dense\.delta does not exist yet: backward makes "
                                             r"it; run net\.forward\(X\) and net\.backward\(Y\)"):
        layer.delta
    with pytest.raises(AttributeError, match=r"Dense\.a does not exist yet: a training pass "
                                             r"keeps it"):
        layer.a
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        layer.nonsense


def test_no_attribute_holds_unwritten_memory_after_a_pass():
    net = build_network([3, 4, 4, 2], "relu", loss="half_mse", rng=0)
    X, Y = np.ones((6, 3)), np.zeros((6, 2))
    net.forward(X)
    net.backward(Y)
    assert net.layers[0].grad_h_prev is None and net.grad_X is None
    W2 = net.layers[1].W
    np.testing.assert_array_equal(net.layers[1].grad_h_prev, W2.T @ net.layers[1].delta)
    net.backward(Y, input_gradient=True)
    np.testing.assert_array_equal(net.layers[0].grad_h_prev,
                                  net.layers[0].W.T @ net.layers[0].delta)


# -- ∂J/∂X ----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss, output", [("half_mse", "identity"),
                                          ("softmax_cross_entropy", "identity"),
                                          ("binary_cross_entropy", "sigmoid")])
def test_the_input_gradient_matches_finite_differences(loss, output):
    rng = np.random.default_rng(4)
    net = build_network([4, 6, 6, 3], "tanh", output_activation=output, loss=loss,
                        residual=True, rng=rng)
    X = rng.standard_normal((5, 4))
    Y = {"half_mse": rng.standard_normal((5, 3)),
         "softmax_cross_entropy": rng.integers(0, 3, 5),
         "binary_cross_entropy": rng.uniform(0, 1, (5, 3))}[loss]
    net.forward(X)
    J = net.backward(Y, input_gradient=True)
    assert net.grad_X.shape == X.shape
    eps = 1e-6
    fd = np.zeros_like(X)
    for i in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[i] += eps
        Xm[i] -= eps
        fd[i] = (net.compute_loss(Xp, Y) - net.compute_loss(Xm, Y)) / (2 * eps)
    np.testing.assert_allclose(net.grad_X, fd, rtol=1e-6, atol=1e-10)
    assert J == pytest.approx(net.compute_loss(X, Y), rel=1e-12)


def test_the_residual_block_keeps_the_two_parts_it_adds():
    net = build_network([3, 3, 2], "tanh", loss="half_mse", residual=True, rng=0)
    assert isinstance(net.layers[0], Residual)
    net.forward(np.ones((4, 3)))
    net.backward(np.zeros((4, 2)), input_gradient=True)
    block = net.layers[0]
    parts = block.grad_h_prev_parts
    np.testing.assert_array_equal(parts["identity"], net.layers[1].grad_h_prev)
    np.testing.assert_array_equal(parts["branch"], block.W.T @ block.delta)
    np.testing.assert_array_equal(block.grad_h_prev, parts["identity"] + parts["branch"])
    np.testing.assert_allclose(net.grad_X, block.grad_h_prev.T / 4)


# -- the output layer -----------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "softplus", "sigmoid", "tanh"])
def test_a_clipping_output_layer_is_refused_with_softmax(activation):
    with pytest.raises(ValueError, match=r"would clip the logits .* create it with "
                                         r"activation=\"identity\""):
        Network([Dense(4, 8), Dense(8, 3, activation=activation)], loss="softmax_cross_entropy")


@pytest.mark.parametrize("make", [lambda: Dense(8, 3, activation="identity"),
                                  lambda: Residual(8, activation="sigmoid")])
def test_binary_cross_entropy_needs_a_sigmoid_dense_output(make):
    with pytest.raises(ValueError, match="binary_cross_entropy reads the output as probabilities"):
        Network([Dense(4, 8), make()], loss="binary_cross_entropy")


def test_binary_cross_entropy_targets_must_lie_in_0_1():
    net = build_network([2, 3], output_activation="sigmoid", loss="binary_cross_entropy")
    net.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Y\[1\] is \[0.0, 0.0, 2.0\]: binary_cross_entropy "
                                         r"expects targets in \[0, 1\]"):
        net.backward(np.array([[0, 1, 1], [0, 0, 2.0]]))


def test_build_network_makes_the_output_linear_unless_told():
    net = build_network([4, 8, 3])
    assert [layer.activation.name for layer in net.layers] == ["relu", "identity"]
    textbook = build_network([4, 8, 3], "sigmoid", output_activation="sigmoid", loss="half_mse")
    assert [layer.activation.name for layer in textbook.layers] == ["sigmoid", "sigmoid"]
