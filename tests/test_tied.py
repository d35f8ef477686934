"""TiedDense: the decoder that uses the encoder's W transposed; one W, two gradients that add."""

import numpy as np
import pytest

from backprop_edu import Dense, Network, SGD, TiedDense, gradcheck


def tied_autoencoder(n=3, k=2, activation="tanh", decoder="identity", seed=0):
    encoder = Dense(n, k, activation=activation, rng=seed)
    decoder = TiedDense.transposing(encoder, activation=decoder)
    decoder.b[...] = np.random.default_rng(seed + 1).normal(size=n)
    return Network([encoder, decoder], loss="half_mse")


def test_the_decoder_keeps_the_encoders_array_and_the_network_lists_it_once():
    net = tied_autoencoder()
    encoder, decoder = net.layers
    assert decoder.W is encoder.W
    names = [parameter.name for parameter in net.parameters()]
    assert names == ["W_1", "b_1", "b_2"]
    assert len(net.parameters()[0].places) == 2


def test_forward_is_w_transposed_times_h():
    net = tied_autoencoder(activation="relu")
    encoder, decoder = net.layers
    X = np.random.default_rng(3).normal(size=(5, 3))
    X_hat = net.forward(X)
    h1 = np.maximum(X @ encoder.W.T + encoder.b, 0)
    np.testing.assert_allclose(X_hat, h1 @ encoder.W + decoder.b, rtol=1e-14)


@pytest.mark.parametrize("activation, decoder", [("tanh", "identity"), ("sigmoid", "tanh"),
                                                 ("softplus", "sigmoid")])
def test_the_summed_gradient_of_the_shared_w_matches_finite_differences(activation, decoder):
    net = tied_autoencoder(activation=activation, decoder=decoder)
    X = np.random.default_rng(4).normal(size=(6, 3))
    report = gradcheck(net, X, X)
    assert report.ok(1e-7), str(report)


def test_each_use_is_one_part_of_the_sum():
    net = tied_autoencoder()
    encoder, decoder = net.layers
    X = np.random.default_rng(5).normal(size=(4, 3))
    net.forward(X)
    net.backward(X)
    W = net.parameters()[0]
    np.testing.assert_array_equal(W.grad, encoder.grad_W + decoder.grad_W)
    # the decoder's BP3 for a transposed use, in W's shape: (1/m) H_1 Δ_2ᵀ
    np.testing.assert_allclose(decoder.grad_W, encoder.h @ decoder.delta.T / 4, rtol=1e-14)
    assert decoder.grad_W.shape == encoder.W.shape == (2, 3)


def test_gradients_agree_with_pytorch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    net = tied_autoencoder(activation="sigmoid", decoder="tanh")
    encoder, decoder = net.layers
    X = np.random.default_rng(6).normal(size=(7, 3))
    net.forward(X)
    J = net.backward(X, input_gradient=True)

    W = torch.tensor(encoder.W, requires_grad=True)
    b1 = torch.tensor(encoder.b, requires_grad=True)
    b2 = torch.tensor(decoder.b, requires_grad=True)
    x = torch.tensor(X, requires_grad=True)
    x_hat = torch.tanh(torch.sigmoid(x @ W.T + b1) @ W + b2)   # rows = samples: (Wᵀ h)ᵀ = hᵀ W
    J_torch = 0.5 * ((x_hat - torch.tensor(X)) ** 2).sum(dim=1).mean()
    J_torch.backward()
    assert J == pytest.approx(J_torch.item(), rel=1e-12)
    np.testing.assert_allclose(net.parameters()[0].grad, W.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(encoder.grad_b, b1.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(decoder.grad_b, b2.grad.numpy(), rtol=1e-10)
    # the target is a constant copy of X: ∂J/∂X counts the path through the network only
    np.testing.assert_allclose(net.grad_X, x.grad.numpy(), rtol=1e-10)


def test_sgd_steps_the_shared_w_once_with_the_sum():
    net = tied_autoencoder()
    X = np.random.default_rng(7).normal(size=(4, 3))
    before = net.layers[0].W.copy()
    net.forward(X)
    net.backward(X)
    total = net.layers[0].grad_W + net.layers[1].grad_W
    SGD(net, lr=0.1).step()
    np.testing.assert_allclose(net.layers[0].W, before - 0.1 * total, rtol=1e-14)
    assert net.layers[1].W is net.layers[0].W


def test_a_loaded_tied_network_still_shares_its_w(tmp_path):
    net = tied_autoencoder()
    X = np.random.default_rng(8).normal(size=(3, 3))
    path = net.save(tmp_path / "tied")
    again = Network.load(path)            # TiedDense is a package layer: no layers= needed
    encoder, decoder = again.layers
    assert isinstance(decoder, TiedDense) and decoder.W is encoder.W
    assert [parameter.name for parameter in again.parameters()] == ["W_1", "b_1", "b_2"]
    np.testing.assert_array_equal(again.forward(X), net.forward(X))
    encoder.W[0, 0] += 1.0                # one array: the decoder sees the change
    assert decoder.W[0, 0] == encoder.W[0, 0]
    with np.load(path) as saved:
        assert sorted(saved.files) == ["W_1", "architecture", "b_1", "b_2"]


def test_a_w_of_the_wrong_shape_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) = \(n_in, n_out\)"):
        TiedDense(2, 3, W=np.zeros((3, 2)))


def test_before_a_pass_the_missing_attribute_says_which_pass_makes_it():
    decoder = TiedDense(2, 3)
    with pytest.raises(AttributeError, match="backward makes it"):
        decoder.grad_W
    with pytest.raises(AttributeError, match="a training pass keeps it"):
        decoder.a
