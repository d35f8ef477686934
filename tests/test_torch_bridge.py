"""The way out to PyTorch: net.to_torch() gives the same J and gradients; from_torch comes back."""

import sys

import numpy as np
import pytest

from backprop_edu import (AvgPool, Dense, Dropout, MaxPool, Network, Residual, TiedDense,
                          loss_to_torch)
from backprop_edu.activations import ACTIVATIONS
from backprop_edu.euler import EulerStep


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch (the other side of the bridge) is not "
                                               "installed")


def random_network(rng, loss, dtype):
    """Widths 2..8, a random activation per hidden layer, a Residual block, the loss's output."""
    activations = sorted(ACTIVATIONS)
    widths = [int(n) for n in rng.integers(2, 9, size=int(rng.integers(2, 5)))]
    layers = [Dense(n_in, n_out, activation=activations[rng.integers(len(activations))],
                    rng=rng, dtype=dtype) for n_in, n_out in zip(widths[:-1], widths[1:])]
    layers.append(Residual(widths[-1], activation=activations[rng.integers(len(activations))],
                           rng=rng, dtype=dtype))
    output = {"half_mse": "tanh", "softmax_cross_entropy": "identity",
              "binary_cross_entropy": "sigmoid"}[loss]
    layers.append(Dense(widths[-1], 3, activation=output, rng=rng, dtype=dtype))
    for layer in layers:
        layer.b[...] = 0.1 * rng.standard_normal(layer.n_out)
    return Network(layers, loss=loss)


def random_targets(rng, loss, m):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, 3, m)
    if loss == "binary_cross_entropy":
        return rng.uniform(0, 1, (m, 3))
    return rng.standard_normal((m, 3))


def linears(torch_net, torch):
    """The nn.Linear modules in layer order (a ResidualBlock's own included)."""
    return [module for module in torch_net.modules() if isinstance(module, torch.nn.Linear)]


@pytest.mark.parametrize("dtype, rel", [(np.float64, 1e-9), (np.float32, 2e-4)])
@pytest.mark.parametrize("loss", ["half_mse", "softmax_cross_entropy", "binary_cross_entropy"])
def test_to_torch_gradients_equal_the_packages_on_random_networks(torch, loss, dtype, rel):
    rng = np.random.default_rng(len(loss) + np.dtype(dtype).itemsize)
    for trial in range(4):
        net = random_network(rng, loss, dtype)
        m = int(rng.integers(1, 9))
        X = rng.standard_normal((m, net.n_in)).astype(dtype)
        Y = random_targets(rng, loss, m)
        Y_hat = net.forward(X)
        J = net.backward(Y)

        torch_net = net.to_torch()
        output = torch_net(torch.from_numpy(X))
        J_torch = loss_to_torch(net.loss)(output, Y)
        J_torch.backward()

        assert output.dtype == getattr(torch, np.dtype(dtype).name)
        assert np.allclose(output.detach().numpy(), Y_hat, rtol=rel, atol=rel)
        assert J_torch.item() == pytest.approx(J, rel=rel)
        modules = linears(torch_net, torch)
        assert len(modules) == len(net.layers)
        for layer, linear in zip(net.layers, modules):
            assert linear.weight.dtype == output.dtype
            scale = max(np.abs(layer.grad_W).max(), np.abs(layer.grad_b).max(), 1e-3)
            assert np.allclose(linear.weight.grad.numpy(), layer.grad_W, rtol=rel,
                               atol=rel * scale)
            assert np.allclose(linear.bias.grad.numpy(), layer.grad_b, rtol=rel, atol=rel * scale)


@pytest.mark.parametrize("dtype, rel", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_shared_weights_euler_steps_and_tied_decoders_give_the_same_gradients(torch, dtype,
                                                                              rel):
    rng = np.random.default_rng(3)
    encoder = Dense(5, 3, activation="tanh", rng=rng, dtype=dtype)
    again = Dense(3, 3, activation="sigmoid", rng=rng, dtype=dtype)
    reused = Dense(3, 3, activation="sigmoid", rng=rng, dtype=dtype)
    reused.W = again.W                                  # one W used by two layers
    layers = [encoder, again, reused, EulerStep(3, 0.3, rng=rng, dtype=dtype),
              TiedDense.transposing(encoder, activation="softplus"),   # encoder's W, transposed
              Dense(5, 2, activation="identity", rng=rng, dtype=dtype)]
    for layer in layers:
        layer.b[...] = 0.1 * rng.standard_normal(layer.n_out)
    net = Network(layers, loss="half_mse")
    X, Y = rng.standard_normal((6, 5)).astype(dtype), rng.standard_normal((6, 2))
    net.forward(X)
    J = net.backward(Y)

    torch_net = net.to_torch()
    assert list(dict(torch_net.named_children())) == [
        "linear1", "tanh1", "linear2", "sigmoid2", "linear3", "sigmoid3", "euler4", "tied5",
        "softplus5", "linear6"]
    assert torch_net.linear2.weight is torch_net.linear3.weight          # one Parameter
    assert torch_net.tied5.weight is torch_net.linear1.weight
    J_torch = loss_to_torch(net.loss)(torch_net(torch.from_numpy(X)), Y)
    J_torch.backward()
    assert J_torch.item() == pytest.approx(J, rel=rel)
    grads = {id(p): p.grad.numpy() for p in torch_net.parameters()}     # each Parameter once
    assert len(grads) == len(net.parameters()) == 10   # 12 arrays, 2 of them shared
    for parameter, (name, theta) in zip(net.parameters(), torch_net.named_parameters()):
        scale = max(np.abs(parameter.grad).max(), 1e-3)
        assert np.allclose(grads[id(theta)], parameter.grad, rtol=rel, atol=rel * scale), name

    back = Network.from_torch(torch_net, loss="half_mse")               # and back, tied again
    assert [type(layer) for layer in back.layers] == [Dense, Dense, Dense, EulerStep, TiedDense,
                                                      Dense]
    assert back.layers[2].W is back.layers[1].W and back.layers[4].W is back.layers[0].W
    assert back.layers[3].tau == 0.3
    assert np.allclose(back.forward(X), net.forward(X), rtol=rel, atol=rel)


def test_pooling_and_dropout_translate_with_the_same_outputs_and_gradients(torch):
    rng = np.random.default_rng(5)
    net = Network([Dense(5, 8, activation="relu", rng=rng), MaxPool(2),
                   Dense(4, 6, activation="tanh", rng=rng), AvgPool(3), Dropout(0.3, rng=1),
                   Dense(2, 3, activation="identity", rng=rng)], loss="softmax_cross_entropy")
    torch_net = net.to_torch()
    assert list(dict(torch_net.named_children())) == [
        "linear1", "relu1", "maxpool2", "linear3", "tanh3", "avgpool4", "dropout5", "linear6"]
    assert torch_net.dropout5.p == 0.3 and torch_net.maxpool2.kernel_size == 2
    X, y = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)
    torch_net.eval()                                   # dropout off on both sides
    with torch.no_grad():
        assert np.allclose(torch_net(torch.from_numpy(X)).numpy(),
                           net.forward(X, training=False), rtol=1e-12, atol=1e-14)
    net.layers[4].fixed_mask = np.ones((6 // 3, 1))    # a training pass that keeps every unit
    net.layers[4].p = 0.0                              # ... and does not scale them
    net.forward(X)
    J = net.backward(y)
    J_torch = loss_to_torch(net.loss)(torch_net(torch.from_numpy(X)), y)
    J_torch.backward()
    assert J_torch.item() == pytest.approx(J, rel=1e-12)
    with_W = [layer for layer in net.layers if "W" in layer.params]
    for layer, linear in zip(with_W, linears(torch_net, torch)):
        assert np.allclose(linear.weight.grad.numpy(), layer.grad_W, rtol=1e-10, atol=1e-13)
    back = Network.from_torch(torch_net, loss="softmax_cross_entropy")
    assert [repr(layer) for layer in back.layers] == [
        "Dense(5, 8, activation='relu')", "MaxPool(2, n_in=8)", "Dense(4, 6, activation='tanh')",
        "AvgPool(3, n_in=6)", "Dropout(0.3, n_in=2)", "Dense(2, 3, activation='identity')"]
    assert np.array_equal(back.forward(X, training=False), net.forward(X, training=False))


def test_to_torch_names_modules_after_the_layers_and_copies_the_weights(torch):
    net = Network([Dense(3, 4, activation="leaky_relu", rng=0), Residual(4, "tanh", rng=1),
                   Dense(4, 2, activation="identity", rng=2)], loss="softmax_cross_entropy")
    torch_net = net.to_torch()
    assert list(dict(torch_net.named_children())) == ["linear1", "leaky_relu1", "residual2",
                                                       "linear3"]
    assert torch_net.leaky_relu1.negative_slope == 0.01
    assert np.array_equal(torch_net.residual2.linear.weight.detach().numpy(), net.layers[1].W)
    with torch.no_grad():
        torch_net.linear1.weight.zero_()     # a copy: the package's W_1 does not change
    assert np.abs(net.layers[0].W).min() > 0


def test_to_torch_names_a_layer_it_cannot_translate(torch):
    class Scale:                             # a student's own layer (docs/layers.md)
        params = ()
        n_in = n_out = 2

        def forward(self, h_prev, training=True):
            return h_prev

        def backward(self, grad_h, input_gradient=True):
            return grad_h

        def config(self):
            return {"type": "Scale"}

    net = Network([Dense(2, 2, rng=0), Scale(), Dense(2, 1, activation="identity", rng=1)])
    with pytest.raises(TypeError) as error:
        net.to_torch()
    message = str(error.value)
    assert "layer 2 (Scale) has no PyTorch translation" in message and "\n" not in message

    class MyDense(Dense):                    # a subclass may compute something else
        pass

    with pytest.raises(TypeError, match=r"layer 1 \(MyDense\)"):
        Network([MyDense(2, 1, activation="identity")]).to_torch()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_from_torch_round_trip(torch, dtype):
    nn = torch.nn
    torch.manual_seed(0)
    torch_net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(),
                              nn.Linear(8, 6), nn.Softplus(), nn.Linear(6, 6), nn.Sigmoid(),
                              nn.Linear(6, 4), nn.LeakyReLU(0.01), nn.Linear(4, 3))
    torch_net.to(getattr(torch, dtype))
    net = Network.from_torch(torch_net, loss="softmax_cross_entropy")

    assert [(layer.n_in, layer.n_out, layer.activation.name) for layer in net.layers] == [
        (5, 8, "relu"), (8, 8, "tanh"), (8, 6, "softplus"), (6, 6, "sigmoid"),
        (6, 4, "leaky_relu"), (4, 3, "identity")]
    assert net.dtype == np.dtype(dtype)
    X = np.random.default_rng(0).standard_normal((7, 5)).astype(dtype)
    with torch.no_grad():
        expected = torch_net(torch.from_numpy(X)).numpy()
    assert np.allclose(net.forward(X), expected, rtol=1e-6, atol=1e-6)

    again = net.to_torch()                   # and back: the very same weights
    originals = [m for m in torch_net if isinstance(m, nn.Linear)]
    for original, copy in zip(originals, linears(again, torch)):
        assert torch.equal(original.weight, copy.weight) and torch.equal(original.bias, copy.bias)


def test_a_network_survives_to_torch_and_back(torch):
    net = Network([Dense(3, 5, "sigmoid", rng=0), Residual(5, "relu", rng=1),
                   Dense(5, 2, "identity", rng=2)], loss="half_mse")
    back = Network.from_torch(net.to_torch(), loss="half_mse")
    assert [type(layer) for layer in back.layers] == [Dense, Residual, Dense]
    for layer, copy in zip(net.layers, back.layers):
        assert layer.activation.name == copy.activation.name
        assert np.array_equal(layer.W, copy.W) and np.array_equal(layer.b, copy.b)


def test_from_torch_refuses_what_it_cannot_translate_in_one_line(torch):
    nn = torch.nn
    cases = [(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)),
              "module '1' (BatchNorm1d)"),
             (nn.Sequential(nn.Linear(2, 4), nn.MaxPool1d(2, stride=1), nn.Linear(3, 1)),
              "pools windows of k units with stride k"),
             (nn.Sequential(nn.ReLU(), nn.Linear(2, 1)), "needs a Linear module right before"),
             (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1)),
              "only LeakyReLU(0.01)"),
             (nn.Conv1d(1, 1, 3), "takes a torch.nn.Sequential"),
             (nn.Sequential(nn.Linear(2, 1).to(torch.bfloat16)), "torch.bfloat16")]
    for module, expected in cases:
        with pytest.raises((TypeError, ValueError)) as error:
            Network.from_torch(module)
        assert expected in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ValueError, match='activation="identity"'):  # the core's output rule
        Network.from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
                           loss="softmax_cross_entropy")


def test_loss_to_torch_gives_the_same_J_on_soft_targets_and_one_output(torch):
    rng = np.random.default_rng(0)
    soft = rng.dirichlet(np.ones(3), size=4)          # probability rows for cross-entropy
    net = Network([Dense(2, 3, activation="identity", rng=0)], loss="softmax_cross_entropy")
    X = rng.standard_normal((4, 2))
    net.forward(X)
    J = net.backward(soft)
    assert loss_to_torch("softmax_cross_entropy")(net.to_torch()(torch.from_numpy(X)),
                                                  soft).item() == pytest.approx(J, rel=1e-12)
    net = Network([Dense(2, 1, activation="identity", rng=0)], loss="half_mse")
    y = rng.standard_normal(4)                         # (m,) targets of a one-output network
    net.forward(X)
    J = net.backward(y)
    assert loss_to_torch(net.loss)(net.to_torch()(torch.from_numpy(X)),
                                   torch.from_numpy(y)).item() == pytest.approx(J, rel=1e-12)
    # not MSELoss: that one leaves out the ½ and divides by the outputs too
    assert J == pytest.approx(0.5 * np.mean((net.forward(X)[:, 0] - y) ** 2))


def test_binary_cross_entropy_on_the_logits_agrees_where_the_sigmoid_saturates(torch):
    rng = np.random.default_rng(1)
    net = Network([Dense(3, 4, activation="relu", rng=rng, dtype=np.float32),
                   Dense(4, 2, activation="sigmoid", rng=rng, dtype=np.float32)],
                  loss="binary_cross_entropy")
    net.layers[1].b[...] = [30.0, -30.0]                 # σ rounds to 1 and 0 in float32
    X, Y = rng.standard_normal((5, 3)).astype(np.float32), rng.uniform(0, 1, (5, 2))
    net.forward(X)
    J = net.backward(Y)
    on_probabilities = loss_to_torch(net.loss)(net.to_torch()(torch.from_numpy(X)), Y)
    assert abs(on_probabilities.item() - J) > 1           # log ŷ clamped at −100: not the same J
    logits_net = net.to_torch(logits=True)                # ... so use the logits a_L
    assert list(dict(logits_net.named_children())) == ["linear1", "relu1", "linear2"]
    J_torch = loss_to_torch(net.loss, logits=True)(logits_net(torch.from_numpy(X)), Y)
    J_torch.backward()
    assert J_torch.item() == pytest.approx(J, rel=1e-6)
    for layer, linear in zip(net.layers, linears(logits_net, torch)):
        assert np.allclose(linear.weight.grad.numpy(), layer.grad_W, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="logits=True is for binary_cross_entropy"):
        Network([Dense(3, 2, activation="identity")], loss="half_mse").to_torch(logits=True)
    with pytest.raises(ValueError, match="logits=True is for binary_cross_entropy"):
        loss_to_torch("softmax_cross_entropy", logits=True)


def test_without_torch_a_one_line_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)     # `import torch` now raises ImportError
    net = Network([Dense(2, 1, activation="identity", rng=0)])
    for attempt in (net.to_torch, lambda: Network.from_torch(object()),
                    lambda: loss_to_torch("half_mse")):
        with pytest.raises(ImportError) as error:
            attempt()
        message = str(error.value)
        assert 'pip install "backprop-edu[torch]"' in message and "\n" not in message
