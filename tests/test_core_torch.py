"""PyTorch autograd as an independent oracle for the loss, grad_W, grad_b, and the optimisers."""

import numpy as np
import pytest

from backprop_edu import Adam, Dense, Momentum, Network, Residual, SGD
from backprop_edu.activations import ACTIVATIONS

torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
F = torch.nn.functional

TORCH_ACTIVATIONS = {
    "identity": lambda a: a,
    "relu": torch.relu,
    "leaky_relu": lambda a: F.leaky_relu(a, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda a: torch.logaddexp(torch.zeros_like(a), a),
}


def torch_loss(net, X, Y):
    """The same network, written directly in PyTorch, rows = samples: J and the parameter tensors."""
    params = [(torch.tensor(layer.W, requires_grad=True), torch.tensor(layer.b, requires_grad=True))
              for layer in net.layers]
    h = torch.tensor(X)
    for layer, (W, b) in zip(net.layers, params):
        a = h @ W.T + b
        a.retain_grad()
        branch = TORCH_ACTIVATIONS[layer.activation.name](a)
        h = h + branch if isinstance(layer, Residual) else branch
    m = len(X)
    if net.loss.name == "half_mse":
        J = 0.5 * ((h - torch.tensor(Y)) ** 2).sum(dim=1).mean()
    elif net.loss.name == "binary_cross_entropy":  # on the sigmoid output layer's a_L
        J = F.binary_cross_entropy_with_logits(a, torch.tensor(Y), reduction="sum") / m
    else:
        J = F.cross_entropy(h, torch.tensor(Y))
    J.backward()
    torch_loss.delta_L = (a.grad * m).numpy().T  # ∂J_i/∂a_L per sample, one column each
    return J.item(), params


def targets(rng, loss, m, n_out):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, n_out, m)
    if loss == "binary_cross_entropy":
        return rng.uniform(0, 1, (m, n_out))
    return rng.standard_normal((m, n_out))


@pytest.mark.parametrize("loss, output", [("half_mse", "identity"),
                                          ("half_mse", "sigmoid"),
                                          ("half_mse", "tanh"),
                                          ("softmax_cross_entropy", "identity"),
                                          ("softmax_cross_entropy", "leaky_relu"),
                                          ("binary_cross_entropy", "sigmoid")])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradients_and_loss_agree_with_pytorch_autograd(activation, loss, output):
    rng = np.random.default_rng(sorted(ACTIVATIONS).index(activation) * 10 + len(loss + output))
    for trial in range(3):
        widths = [int(n) for n in rng.integers(2, 9, size=int(rng.integers(2, 5)))]
        layers = [Dense(n_in, n_out, activation=activation, rng=rng)
                  for n_in, n_out in zip(widths[:-1], widths[1:])]
        if trial == 2:
            layers.append(Residual(widths[-1], activation=activation, rng=rng))
        layers.append(Dense(widths[-1], 4, activation=output, rng=rng))
        for layer in layers:
            layer.b[...] = 0.1 * rng.standard_normal(layer.n_out)
        net = Network(layers, loss=loss)
        m = int(rng.integers(1, 17))
        X = rng.standard_normal((m, widths[0]))
        Y = targets(rng, loss, m, 4)

        net.forward(X)
        J = net.backward(Y)
        J_torch, params = torch_loss(net, X, Y)

        assert J == pytest.approx(J_torch, rel=1e-8)
        for layer, (W, b) in zip(net.layers, params):
            np.testing.assert_allclose(layer.grad_W, W.grad.numpy(), rtol=1e-8, atol=1e-14)
            np.testing.assert_allclose(layer.grad_b, b.grad.numpy(), rtol=1e-8, atol=1e-14)
        # BP1: δ^(L) = φ'_L(a_L) ⊙ ∇_{h_L} J, whatever the output activation
        np.testing.assert_allclose(net.layers[-1].delta, torch_loss.delta_L, rtol=1e-8,
                                   atol=1e-14)
        J_again, delta_L = net.output_error(Y)
        assert J_again == J and delta_L is net.layers[-1].delta


@pytest.mark.parametrize("targets", ["one-hot", "soft"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_one_hot_and_soft_targets_agree_with_pytorch_cross_entropy(activation, targets):
    rng = np.random.default_rng(sorted(ACTIVATIONS).index(activation))
    net = Network([Dense(5, 6, activation=activation, rng=rng),
                   Dense(6, 6, activation=activation, rng=rng),
                   Dense(6, 4, activation="identity", rng=rng)], loss="softmax_cross_entropy")
    for layer in net.layers:
        layer.b[...] = 0.1 * rng.standard_normal(layer.n_out)
    X = rng.standard_normal((9, 5))
    if targets == "one-hot":
        Y = np.eye(4)[rng.integers(0, 4, 9)]
    else:
        Y = rng.random((9, 4))
        Y /= Y.sum(axis=1, keepdims=True)  # each row a probability distribution
    net.forward(X)
    J = net.backward(Y)
    J_torch, params = torch_loss(net, X, Y)  # F.cross_entropy takes probabilities as targets
    assert J == pytest.approx(J_torch, rel=1e-8)
    for layer, (W, b) in zip(net.layers, params):
        np.testing.assert_allclose(layer.grad_W, W.grad.numpy(), rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(layer.grad_b, b.grad.numpy(), rtol=1e-8, atol=1e-14)


def test_float32_gradients_agree_with_pytorch_float32():
    rng = np.random.default_rng(9)
    net = Network([Dense(6, 8, activation="tanh", rng=rng, dtype=np.float32),
                   Dense(8, 3, activation="identity", rng=rng, dtype=np.float32)],
                  loss="softmax_cross_entropy")
    X, Y = rng.standard_normal((10, 6)).astype(np.float32), rng.integers(0, 3, 10)
    net.forward(X)
    net.backward(Y)
    _, params = torch_loss(net, X, Y)
    for layer, (W, _) in zip(net.layers, params):
        assert W.grad.dtype == torch.float32
        np.testing.assert_allclose(layer.grad_W, W.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_extreme_preactivations_give_finite_values_like_pytorch():
    a = np.array([[-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4]])
    for name in ("sigmoid", "softplus", "tanh"):
        activation = ACTIVATIONS[name]
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            h = activation.phi(a)
            d = activation.phi_prime(a, h)
        t = torch.tensor(a, requires_grad=True)
        TORCH_ACTIVATIONS[name](t).sum().backward()
        assert np.all(np.isfinite(h)) and np.all(np.isfinite(d))
        np.testing.assert_allclose(h, TORCH_ACTIVATIONS[name](torch.tensor(a)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(d, t.grad.numpy(), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("name", ["sgd", "sgd_wd", "momentum", "nesterov", "adam", "adam_wd"])
def test_optimisers_follow_pytorch_update_rules(name):
    rng = np.random.default_rng(10)
    net = Network([Dense(3, 5, activation="tanh", rng=rng), Dense(5, 2, activation="identity", rng=rng)],
                  loss="half_mse")
    params = [torch.tensor(p, requires_grad=True) for layer in net.layers for p in (layer.W, layer.b)]
    ours, theirs = {
        "sgd": (lambda: SGD(net, lr=0.1), lambda: torch.optim.SGD(params, lr=0.1)),
        "sgd_wd": (lambda: SGD(net, lr=0.1, weight_decay=0.01),
                   lambda: torch.optim.SGD(params, lr=0.1, weight_decay=0.01)),
        "momentum": (lambda: Momentum(net, lr=0.1, momentum=0.9),
                     lambda: torch.optim.SGD(params, lr=0.1, momentum=0.9)),
        "nesterov": (lambda: Momentum(net, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
                     lambda: torch.optim.SGD(params, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
        "adam": (lambda: Adam(net, lr=0.01), lambda: torch.optim.Adam(params, lr=0.01)),
        "adam_wd": (lambda: Adam(net, lr=0.01, weight_decay=0.1),
                    lambda: torch.optim.Adam(params, lr=0.01, weight_decay=0.1)),
    }[name]
    ours, theirs = ours(), theirs()
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    for _ in range(5):
        net.forward(X)
        net.backward(Y)
        ours.step()
        theirs.zero_grad()
        h = torch.tanh(torch.tensor(X) @ params[0].T + params[1]) @ params[2].T + params[3]
        (0.5 * ((h - torch.tensor(Y)) ** 2).sum(dim=1).mean()).backward()
        theirs.step()
    for p_ours, p_torch in zip([p for layer in net.layers for p in (layer.W, layer.b)], params):
        np.testing.assert_allclose(p_ours, p_torch.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_is_stable_far_out_and_matches_pytorch(dtype):
    """|a_L| up to 1e4: ŷ rounds to 0 or 1, yet J and δ^(L) = ŷ − y stay exact."""
    output = Dense(2, 3, activation="sigmoid", rng=0, dtype=dtype)
    net = Network([output], loss="binary_cross_entropy")
    output.W[...] = [[1e4, 0], [-1e4, 0], [0, 50]]
    X = np.array([[1.0, 1.0], [-1.0, 0.5]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 0.25], [1.0, 0.0, 1.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        net.forward(X)
        J = net.backward(Y)
    a = torch.tensor(X.astype(np.float64) @ output.W.T.astype(np.float64), requires_grad=True)
    J_torch = F.binary_cross_entropy_with_logits(a, torch.tensor(Y, dtype=torch.float64),
                                                 reduction="sum") / 2
    J_torch.backward()
    assert np.isfinite(J) and J == pytest.approx(J_torch.item(), rel=1e-6)
    np.testing.assert_allclose(output.delta, (a.grad * 2).numpy().T, rtol=1e-6, atol=1e-7)
    assert output.delta.dtype == dtype


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_a_parameter_used_by_two_layers_is_stepped_once_like_pytorch(name):
    """One W used by two layers (h2 = tanh(W tanh(W x + b1) + b2)): PyTorch adds the two
    gradients into one .grad and steps the tensor once; so must every optimiser here."""
    rng = np.random.default_rng(5)
    first, second = Dense(3, 3, activation="tanh", rng=rng), Dense(3, 3, activation="tanh", rng=rng)
    second.W = first.W
    second.b[...] = 0.2
    out = Dense(3, 2, activation="identity", rng=rng)
    net = Network([first, second, out], loss="half_mse")
    tensors = [torch.tensor(p, requires_grad=True) for p in (first.W, first.b, second.b, out.W, out.b)]
    W, b1, b2, W3, b3 = tensors
    ours, theirs = {
        "sgd": (SGD(net, lr=0.1), torch.optim.SGD(tensors, lr=0.1)),
        "momentum": (Momentum(net, lr=0.1, momentum=0.9),
                     torch.optim.SGD(tensors, lr=0.1, momentum=0.9)),
        "adam": (Adam(net, lr=0.05), torch.optim.Adam(tensors, lr=0.05)),
    }[name]
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    for _ in range(4):
        net.forward(X)
        net.backward(Y)
        ours.step()
        theirs.zero_grad()
        h = torch.tanh(torch.tanh(torch.tensor(X) @ W.T + b1) @ W.T + b2) @ W3.T + b3
        (0.5 * ((h - torch.tensor(Y)) ** 2).sum(dim=1).mean()).backward()
        theirs.step()
    assert net.layers[1].W is net.layers[0].W
    for ours_p, theirs_p in zip((first.W, first.b, second.b, out.W, out.b), tensors):
        np.testing.assert_allclose(ours_p, theirs_p.detach().numpy(), rtol=1e-10, atol=1e-12)
