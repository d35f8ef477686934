"""Gradient clipping by global norm: the norm, the scaling, a shared parameter, the loop."""

import math

import numpy as np
import pytest

from backprop_edu import SGD, Dense, Network, build_network
from backprop_edu.clipping import clip_grad_norm, global_norm
from backprop_edu.train import Diverged, train, train_epochs


def tied_network(rng=0):
    """Three layers, the first two sharing one W (and each its own b)."""
    first, second = Dense(3, 3, activation="tanh", rng=rng), Dense(3, 3, activation="tanh", rng=1)
    second.W = first.W
    return Network([first, second, Dense(3, 2, activation="identity", rng=2)], loss="half_mse")


def backward(net, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    net.forward(scale * rng.standard_normal((5, net.n_in)))
    net.backward(scale * rng.standard_normal((5, net.n_out)))


def test_the_global_norm_counts_a_shared_parameter_once_with_its_summed_gradient():
    net = tied_network()
    backward(net)
    first, second, out = net.layers
    summed = first.grad_W + second.grad_W
    every = [summed, first.grad_b, second.grad_b, out.grad_W, out.grad_b]
    expected = math.sqrt(sum(float((g ** 2).sum()) for g in every))
    assert global_norm(net.parameters()) == pytest.approx(expected, rel=1e-14)
    by_layer = math.sqrt(sum(float((g ** 2).sum()) for g in every[1:] +
                             [first.grad_W, second.grad_W]))
    assert not math.isclose(expected, by_layer, rel_tol=1e-3)   # not the same as per place


def test_clipping_scales_every_gradient_by_c_over_the_norm():
    net = tied_network()
    backward(net, scale=5.0)
    parameters = net.parameters()
    before = [parameter.grad.copy() for parameter in parameters]
    norm = global_norm(parameters)
    assert norm > 0.5
    assert clip_grad_norm(parameters, 0.5) == norm
    assert global_norm(parameters) == pytest.approx(0.5, rel=1e-14)
    for parameter, old in zip(parameters, before):   # the same direction, C/‖g‖ of the length
        assert np.allclose(parameter.grad, old * 0.5 / norm, rtol=1e-14)


def test_gradients_below_the_threshold_are_left_alone():
    net = tied_network()
    backward(net)
    parameters = net.parameters()
    before = [parameter.grad for parameter in parameters]
    norm = clip_grad_norm(parameters, 1e6)
    assert norm == global_norm(parameters)
    assert all(parameter.grad is old or np.array_equal(parameter.grad, old)
               for parameter, old in zip(parameters, before))


def test_clipping_agrees_with_pytorch_clip_grad_norm():
    torch = pytest.importorskip("torch", reason="PyTorch (the oracle) is not installed")
    net = build_network([4, 8, 8, 3], loss="half_mse", rng=0)
    backward(net, scale=3.0)
    tensors = [torch.tensor(parameter.value, requires_grad=True) for parameter in net.parameters()]
    for tensor, parameter in zip(tensors, net.parameters()):
        tensor.grad = torch.tensor(parameter.grad)
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm=0.3).item()
    norm = clip_grad_norm(net.parameters(), 0.3)
    assert norm == pytest.approx(torch_norm, rel=1e-12)
    for tensor, parameter in zip(tensors, net.parameters()):   # torch adds 1e-6 to the norm
        assert np.allclose(parameter.grad, tensor.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("clip_norm", [0, -1.0, float("nan"), float("inf")])
def test_a_threshold_that_is_not_positive_and_finite_is_refused(clip_norm):
    net = build_network([2, 3, 2], rng=0)
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="clip_norm .*positive finite"):
        train(net, SGD(net, lr=0.1), X, y, epochs=1, clip_norm=clip_norm)


def test_the_history_holds_the_mean_norm_before_clipping_and_the_clipped_steps():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    net = build_network([3, 8, 2], rng=0)
    replay = build_network([3, 8, 2], rng=0)
    history = train(net, SGD(net, lr=0.5), X, y, epochs=2, batch_size=10, rng=1, clip_norm=0.2)
    # the same steps by hand: the order train_epochs shuffles in, clip, step
    order, shuffle = np.arange(40), np.random.default_rng(1)
    optimizer = SGD(replay, lr=0.5)
    for record in history:
        shuffle.shuffle(order)
        norms = []
        for k in range(4):
            rows = order[10 * k:10 * k + 10]
            replay.forward(X[rows])
            replay.backward(y[rows])
            norms.append(clip_grad_norm(replay.parameters(), 0.2))
            optimizer.step()
        assert record["grad_norm_before_clip"] == pytest.approx(np.mean(norms), rel=1e-12)
        assert record["clipped_steps"] == sum(norm > 0.2 for norm in norms)
    assert np.array_equal(net.layers[0].W, replay.layers[0].W)
    assert history[0]["clipped_steps"] > 0


def test_without_clipping_the_record_has_no_clipping_keys():
    net = build_network([2, 3, 2], rng=0)
    record = next(train_epochs(net, SGD(net, lr=0.1), np.ones((4, 2)), np.array([0, 1, 0, 1])))
    assert "grad_norm_before_clip" not in record and "clipped_steps" not in record


def test_a_run_that_diverges_trains_with_clipping():
    from backprop_edu import datasets

    digits = datasets.load("digits")
    X = np.asarray(digits.X, dtype=float)[:600]
    X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
    y = np.asarray(digits.y)[:600]
    net = build_network([64, 64, 10], rng=0)
    with pytest.raises(Diverged):
        train(net, SGD(net, lr=20.0), X, y, epochs=10, rng=0)
    net = build_network([64, 64, 10], rng=0)
    history = train(net, SGD(net, lr=20.0), X, y, epochs=10, rng=0, clip_norm=1.0)
    assert history[-1]["train_accuracy"] > 0.9
    assert all(record["clipped_steps"] > 0 for record in history)
    assert history[0]["grad_norm_before_clip"] > 1.0
