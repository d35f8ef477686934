"""The public contract of DESIGN.md: shapes, dtypes, the worked example, save/load, bad input."""

import numpy as np
import pytest

from backprop_edu import Adam, Dense, Momentum, Network, Residual, SGD


def textbook_net():
    """The 2-2-1 ReLU network of the worked example."""
    net = Network([Dense(2, 2, activation="relu"), Dense(2, 1, activation="identity")],
                  loss="half_mse")
    net.layers[0].W[...] = [[1, -1], [0.5, 2]]
    net.layers[0].b[...] = [0, -1]
    net.layers[1].W[...] = [[1, -2]]
    net.layers[1].b[...] = [0.5]
    return net


def test_worked_example_through_the_public_contract():
    net = textbook_net()
    y_hat = net.forward(np.array([[2.0, -1.0]]))
    J = net.backward(np.array([1.0]))
    hidden, output = net.layers
    assert y_hat.tolist() == [[3.5]]
    assert J == 25 / 8
    assert hidden.a.ravel().tolist() == [3, -2]
    assert hidden.h.ravel().tolist() == [3, 0]
    assert output.delta.ravel().tolist() == [2.5]                 # BP1
    assert output.grad_W.tolist() == [[7.5, 0]]                   # BP3
    assert output.grad_b.tolist() == [2.5]                        # BP4
    assert output.grad_h_prev.ravel().tolist() == [2.5, -5]       # W2ᵀ δ^(2)
    assert hidden.delta.ravel().tolist() == [2.5, 0]              # BP2 (ReLU'(−2) = 0)
    assert hidden.grad_W.tolist() == [[5, -2.5], [0, 0]]          # BP3
    assert hidden.grad_b.tolist() == [2.5, 0]                     # BP4


def test_relu_derivative_at_zero_is_zero():
    net = textbook_net()
    net.layers[0].b[...] = [-3, -1]   # a1 = (0, −2): the first unit sits on the kink
    net.forward(np.array([[2.0, -1.0]]))
    net.backward(np.array([1.0]))
    assert net.layers[0].delta.ravel().tolist() == [0, 0]


@pytest.mark.parametrize("m", [1, 5])
def test_shapes_of_delta_and_gradients(m):
    rng = np.random.default_rng(0)
    net = Network([Dense(4, 6, rng=rng), Residual(6, rng=rng),
                   Dense(6, 3, activation="identity", rng=rng)], loss="softmax_cross_entropy")
    Y_hat = net.forward(rng.standard_normal((m, 4)))
    assert Y_hat.shape == (m, 3)
    J = net.backward(rng.integers(0, 3, m))
    assert isinstance(J, float) and J > 0
    for layer in net.layers:
        assert layer.delta.shape == (layer.n_out, m)
        assert layer.grad_W.shape == layer.W.shape == (layer.n_out, layer.n_in)
        assert layer.grad_b.shape == layer.b.shape == (layer.n_out,)


def test_batch_gradients_are_the_mean_of_per_sample_gradients():
    """BP3/BP4 for a batch carry the 1/m: they equal the average of single-sample gradients."""
    rng = np.random.default_rng(1)
    net = Network([Dense(3, 4, activation="tanh", rng=rng), Dense(4, 2, activation="identity", rng=rng)])
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    singles = []
    for i in range(6):
        net.forward(X[i:i + 1])
        net.backward(Y[i:i + 1])
        singles.append([(layer.grad_W.copy(), layer.grad_b.copy()) for layer in net.layers])
    net.forward(X)
    net.backward(Y)
    for l, layer in enumerate(net.layers):
        np.testing.assert_allclose(layer.grad_W, np.mean([s[l][0] for s in singles], axis=0), rtol=1e-12)
        np.testing.assert_allclose(layer.grad_b, np.mean([s[l][1] for s in singles], axis=0), rtol=1e-12)
        # δ keeps one column per sample: column i is the single-sample δ
    net.forward(X[2:3])
    net.backward(Y[2:3])
    single_delta = net.layers[0].delta[:, 0].copy()
    net.forward(X)
    net.backward(Y)
    np.testing.assert_allclose(net.layers[0].delta[:, 2], single_delta, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softplus", "leaky_relu"])
def test_float32_stays_float32_through_the_whole_pass(activation):
    rng = np.random.default_rng(2)
    net = Network([Dense(5, 8, activation=activation, rng=rng, dtype=np.float32),
                   Residual(8, activation=activation, rng=rng, dtype=np.float32),
                   Dense(8, 3, activation="identity", rng=rng, dtype=np.float32)],
                  loss="softmax_cross_entropy")
    X = rng.standard_normal((7, 5))  # float64 input is converted once, at the boundary
    assert net.forward(X).dtype == np.float32
    net.backward(rng.integers(0, 3, 7))
    for layer in net.layers:
        for array in (layer.W, layer.b, layer.a, layer.h, layer.delta, layer.grad_W, layer.grad_b):
            assert array.dtype == np.float32
    opt = Adam(net, lr=0.01, weight_decay=0.1)
    opt.step()
    assert all(layer.W.dtype == np.float32 and layer.b.dtype == np.float32 for layer in net.layers)


def test_float32_gradients_agree_with_float64_to_single_precision():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    grads = {}
    for dtype in (np.float64, np.float32):
        net = Network([Dense(4, 6, activation="tanh", rng=5, dtype=dtype),
                       Dense(6, 3, activation="identity", rng=6, dtype=dtype)],
                      loss="softmax_cross_entropy")
        net.forward(X)
        net.backward(Y)
        grads[dtype] = net.layers[0].grad_W.astype(np.float64)
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-6)


def test_same_seed_gives_bit_identical_weights_and_different_seeds_do_not():
    for init in ("normal", "xavier", "he"):
        a = Dense(7, 5, init=init, rng=np.random.default_rng(11))
        b = Dense(7, 5, init=init, rng=np.random.default_rng(11))
        c = Dense(7, 5, init=init, rng=np.random.default_rng(12))
        assert np.array_equal(a.W, b.W) and not np.array_equal(a.W, c.W)


def test_init_schemes_have_their_documented_scale():
    n_in, n_out = 400, 300
    rng = np.random.default_rng(0)
    assert Dense(n_in, n_out, init="normal", rng=rng).W.std() == pytest.approx(0.1, rel=0.02)
    assert Dense(n_in, n_out, init="normal", std=1.5, rng=rng).W.std() == pytest.approx(1.5, rel=0.02)
    assert Dense(n_in, n_out, init="xavier", rng=rng).W.std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert Dense(n_in, n_out, init="he", rng=rng).W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert Dense(n_in, n_out, init="he", gain=3, rng=rng).W.std() == pytest.approx(3 * np.sqrt(2 / 400), rel=0.02)
    assert Dense(4, 3, rng=rng).b.tolist() == [0, 0, 0]


def test_save_and_load_give_identical_predictions(tmp_path):
    rng = np.random.default_rng(4)
    net = Network([Dense(4, 6, activation="sigmoid", init="normal", rng=rng, dtype=np.float32),
                   Residual(6, activation="tanh", rng=rng, dtype=np.float32),
                   Dense(6, 3, activation="identity", rng=rng, dtype=np.float32)],
                  loss="softmax_cross_entropy", metadata={"classes": ["a", "b", "c"]})
    net.layers[0].b[...] = rng.standard_normal(6)
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = Network.load(path)
    X = rng.standard_normal((10, 4))
    assert np.array_equal(loaded.forward(X), net.forward(X))
    assert loaded.dtype == np.float32 and loaded.loss.name == "softmax_cross_entropy"
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Residual", "Dense"]
    assert [layer.activation.name for layer in loaded.layers] == ["sigmoid", "tanh", "identity"]
    assert loaded.metadata == {"classes": ["a", "b", "c"]}
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


@pytest.mark.parametrize("Optimizer", [SGD, Momentum, Adam])
def test_every_optimiser_lowers_the_loss(Optimizer):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((64, 2))
    Y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Network([Dense(2, 16, activation="tanh", rng=rng), Dense(16, 2, activation="identity", rng=rng)],
                  loss="softmax_cross_entropy")
    opt = Optimizer(net, lr=0.05) if Optimizer is not SGD else Optimizer(net, lr=0.5)
    net.forward(X)
    first = net.backward(Y)
    for _ in range(200):
        net.forward(X)
        net.backward(Y)
        opt.step()
    assert net.compute_loss(X, Y) < 0.5 * first
    assert (net.predict(X) == Y).mean() > 0.9


# -- bad input: a clear error naming what is wrong and what was expected ---------------------


def test_non_positive_width_is_refused():
    with pytest.raises(ValueError, match="n_out must be a positive integer, got 0"):
        Dense(3, 0)
    with pytest.raises(ValueError, match="n_in must be a positive integer, got -2"):
        Dense(-2, 3)
    with pytest.raises(TypeError, match="n_in must be a positive integer"):
        Dense(2.5, 3)


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'relu6'.*identity, relu, leaky_relu, sigmoid, tanh, softplus"):
        Dense(2, 2, activation="relu6")


def test_unknown_loss_and_init_list_the_known_ones():
    with pytest.raises(ValueError, match="unknown loss 'mse'.*half_mse, softmax_cross_entropy"):
        Network([Dense(2, 2)], loss="mse")
    with pytest.raises(ValueError, match="unknown init 'glorot'.*normal, xavier, he"):
        Dense(2, 2, init="glorot")


def test_layers_that_do_not_chain_are_refused():
    with pytest.raises(ValueError, match="expects n_in=4"):
        Network([Dense(2, 3), Dense(4, 1)])


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match="one dtype"):
        Network([Dense(2, 3), Dense(3, 1, dtype=np.float32)])


def test_input_of_the_wrong_width_says_what_was_expected():
    net = textbook_net()
    with pytest.raises(ValueError, match="X has 3 features per sample but the first layer expects n_in=2"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X must be 2-D"):
        net.forward(np.zeros(2))
    with pytest.raises(TypeError, match="X must hold numbers"):
        net.forward(np.array([["a", "b"]]))


def test_targets_of_the_wrong_shape_say_what_was_expected():
    net = textbook_net()
    net.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Y has shape \(3, 1\) but the network needs targets of shape \(4, 1\)"):
        net.backward(np.zeros((3, 1)))


def test_labels_outside_the_classes_are_refused():
    net = Network([Dense(2, 3, activation="identity")], loss="softmax_cross_entropy")
    net.forward(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"labels must lie in 0..2.*from 0 to 3"):
        net.backward(np.array([0, 1, 3]))
    with pytest.raises(ValueError, match=r"labels must lie in 0..2.*from -1 to 1"):
        net.backward(np.array([0, 1, -1]))
    with pytest.raises(ValueError, match=r"labels for softmax_cross_entropy must be whole numbers "
                                         r"0..2, got Y\[0\] = 0.5"):
        net.backward(np.array([0.5, 1, 2]))


def test_one_hot_targets_give_the_same_loss_and_gradients_as_labels():
    rng = np.random.default_rng(6)
    net = Network([Dense(3, 4, activation="identity", rng=rng)], loss="softmax_cross_entropy")
    X, y = rng.standard_normal((5, 3)), np.array([0, 3, 1, 1, 2])
    net.forward(X)
    J_labels, grad_labels = net.backward(y), net.layers[0].grad_W.copy()
    net.forward(X)
    J_onehot = net.backward(np.eye(4)[y])
    assert J_onehot == pytest.approx(J_labels, rel=1e-12)
    np.testing.assert_allclose(net.layers[0].grad_W, grad_labels, rtol=1e-12)


def test_backward_before_forward_is_refused():
    with pytest.raises(ValueError, match=r"backward\(\) needs a training pass first: run net\.forward\(X\)"):
        textbook_net().backward(np.array([1.0]))


def test_loading_a_file_that_is_not_a_network(tmp_path):
    not_npz = tmp_path / "notes.npz"
    not_npz.write_text("hello")
    with pytest.raises(ValueError, match="is not a saved backprop-edu network"):
        Network.load(not_npz)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(ValueError, match="is not a saved backprop-edu network"):
        Network.load(other)
    with pytest.raises(FileNotFoundError, match="no such file"):
        Network.load(tmp_path / "missing.npz")


def test_bad_optimiser_settings_are_refused():
    net = textbook_net()
    with pytest.raises(ValueError, match="lr"):
        SGD(net, lr=0)
    with pytest.raises(ValueError, match="momentum"):
        Momentum(net, lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay"):
        Adam(net, weight_decay=-1)
