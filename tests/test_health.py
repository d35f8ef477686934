"""A health report per layer: dead ReLU units, saturated units and update ratios, over an epoch."""

import copy

import numpy as np
import pytest

from backprop_edu import SGD, Adam, Dense, Momentum, Network, build_network
from backprop_edu.health import EpochHealth, verdict, verdicts
from backprop_edu.train import train


class Scale:
    """A student's layer: no W, no activation."""

    params = ("s",)

    def __init__(self, n):
        self.n_in = self.n_out = n
        self.s = np.ones(n)

    def forward(self, h_prev, training=True):
        self.h_prev = h_prev
        return self.s[:, None] * h_prev

    def backward(self, grad_h, input_gradient=True):
        self.grad_s = (grad_h * self.h_prev).mean(axis=1)
        return self.s[:, None] * grad_h

    def config(self):
        return {"type": "Scale", "n": self.n_in}


def hand_made(activation, bias):
    """One input x ∈ [−1, 1] to units a_j = x + bias_j, then a linear output."""
    first = Dense(1, len(bias), activation=activation, rng=0)
    first.W[...] = 1.0
    first.b[...] = bias
    return Network([first, Dense(len(bias), 1, activation="identity", rng=1)], "half_mse")


def one_epoch(net, X, batch_size, lr=1e-12):
    """One epoch in the given order (a tiny learning rate: the weights hardly move)."""
    y = np.zeros((len(X), 1))
    (record,) = train(net, SGD(net, lr=lr), X, y, epochs=1, batch_size=batch_size, rng=0)
    return record


def test_a_relu_unit_is_dead_only_if_no_sample_of_the_epoch_made_it_positive():
    X = np.linspace(-1, 1, 40).reshape(-1, 1)     # x up to 1: a = x + b > 0 needs b > −1
    net = hand_made("relu", [-5.0, -3.0, -0.99, 0.0, 2.0])
    record = one_epoch(net, X, batch_size=8)     # only one batch sees x > 0.99
    assert record["dead_fraction"] == [pytest.approx(2 / 5), None]
    record = one_epoch(hand_made("relu", [-5.0, -1.0, -1.0]), X, batch_size=8)
    assert record["dead_fraction"][0] == 1.0     # a = x − 1 ≤ 0 everywhere (0 at x = 1: not > 0)


def test_a_sigmoid_or_tanh_unit_is_saturated_only_if_phi_prime_stayed_tiny_on_every_sample():
    X = np.linspace(-1, 1, 40).reshape(-1, 1)
    # σ'(a) < 2.5e-4 for |a| > 8.29; tanh'(a) < 1e-3 for |a| > 4.15
    record = one_epoch(hand_made("sigmoid", [-20.0, 9.5, 9.0, 0.0]), X, batch_size=8)
    assert record["saturated_fraction"] == [pytest.approx(2 / 4), None]  # 9.0: x = −1 gives 8
    assert record["dead_fraction"] == [None, None]
    record = one_epoch(hand_made("tanh", [6.0, -5.5, 5.0, 1.0]), X, batch_size=8)
    assert record["saturated_fraction"][0] == pytest.approx(2 / 4)


def test_leaky_relu_never_dies_and_other_layers_get_null():
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    record = one_epoch(hand_made("leaky_relu", [-5.0, 0.0]), X, batch_size=5)
    assert record["dead_fraction"] == [None, None] and record["saturated_fraction"] == [None, None]
    net = Network([Dense(1, 3, rng=0), Scale(3), Dense(3, 1, "identity", rng=1)], "half_mse")
    record = one_epoch(net, X, batch_size=5, lr=0.1)
    assert record["update_ratio"][1] is None and record["dead_fraction"][1] is None
    assert record["update_ratio"][0] > 0 and record["update_ratio"][2] > 0


@pytest.mark.parametrize("make", [lambda net: SGD(net, lr=0.05),
                                  lambda net: Momentum(net, lr=0.05, momentum=0.9),
                                  lambda net: Adam(net, lr=0.01)])
def test_the_update_ratio_is_the_mean_of_the_actual_steps(make):
    """A shadow network takes the same steps; ‖W after − W before‖ / ‖W before‖ per step,
    averaged: for Adam and momentum the step is not −η∇W."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    net = build_network([3, 5, 2], "tanh", rng=1)
    shadow = copy.deepcopy(net)
    (record,) = train(net, make(net), X, y, epochs=1, batch_size=10, rng=3)
    order = np.arange(40)
    np.random.default_rng(3).shuffle(order)
    optimizer, ratios = make(shadow), []
    for batch in order.reshape(4, 10):
        shadow.forward(X[batch])
        shadow.backward(y[batch])
        before = [layer.W.copy() for layer in shadow.layers]
        optimizer.step()
        ratios.append([np.linalg.norm(layer.W - W) / np.linalg.norm(W)
                       for layer, W in zip(shadow.layers, before)])
    assert record["update_ratio"] == pytest.approx(np.mean(ratios, axis=0).tolist(), rel=1e-9)
    if isinstance(optimizer, SGD):   # here, and only here, the step is η‖∇W‖
        assert ratios[-1][0] == pytest.approx(
            0.05 * np.linalg.norm(shadow.layers[0].grad_W) / np.linalg.norm(before[0]), rel=1e-9)


def test_a_large_learning_rate_kills_relu_units_and_the_verdict_says_so():
    rng = np.random.default_rng(0)
    y = np.arange(300) % 3
    X = rng.standard_normal((300, 4)) + 2 * np.eye(3, 4)[y]

    def run(lr):
        net = build_network([4, 32, 32, 3], rng=0)
        return train(net, SGD(net, lr=lr), X, y, epochs=4, batch_size=32, rng=0)[-1]

    calm, wild = run(0.1), run(3.0)
    assert calm["dead_fraction"][:2] == [0.0, 0.0]
    assert wild["dead_fraction"][1] > 0.9
    lines = verdicts(wild)
    assert lines[1].startswith("layer 2: ") and "% dead ReLU units" in lines[1]
    assert "lower the learning rate or use leaky_relu" in lines[1]
    # nothing comes down through the dead layer: its neighbours are told why they stand still
    assert lines[0].startswith("layer 1: W ") and "units of layer 2 stop its gradient" in lines[0]
    assert verdicts(calm)[0].startswith("layer 1: healthy (0 % dead units, update ratio")


def test_verdicts_name_the_problem_and_the_remedy():
    assert verdict(3, dead=0.62, update_ratio=1e-3) == (
        "layer 3: 62 % dead ReLU units (never positive on any sample); lower the learning rate "
        "or use leaky_relu")
    assert "saturated units" in verdict(1, saturated=0.5) and "xavier" in verdict(1, saturated=0.5)
    assert verdict(2, update_ratio=0.2).endswith("lower the learning rate")
    assert verdict(2, update_ratio=1e-7).endswith("raise the learning rate")
    assert verdict(2, dead=0.05, update_ratio=1e-3) == (
        "layer 2: healthy (5 % dead units, update ratio 1.0e-03)")
    assert verdict(4) == "layer 4: no statistics (no W and no ReLU, sigmoid or tanh units)"
    assert verdict(1, update_ratio=0.0, blocked=[2, 3]) == (
        "layer 1: W did not move at all: the dead or saturated units of layers 2, 3 stop its "
        "gradient")
    assert verdicts({"dead_fraction": [0.0, 0.9], "update_ratio": [1e-8, 1e-8]})[0].endswith(
        "layer 2 stop its gradient")


def test_the_statistics_read_only_what_the_layers_hold():
    """EpochHealth on its own, as the training loop drives it: a pass, a step, a record."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    net = build_network([3, 4, 2], rng=2)
    optimizer = SGD(net, lr=0.1)
    health = EpochHealth(net.layers, optimizer)
    net.forward(X)
    net.backward(y)
    health.after_backward()
    before = net.layers[0].W.copy()
    optimizer.step()
    health.after_step()
    record = health.record()
    assert record["update_ratio"][0] == pytest.approx(
        np.linalg.norm(net.layers[0].W - before) / np.linalg.norm(before), rel=1e-12)
    dead = float(np.mean((net.layers[0].a <= 0).all(axis=1)))
    assert record["dead_fraction"] == [dead, None]


def test_float16_update_ratios_neither_overflow_nor_underflow():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 8)), rng.integers(0, 2, 64)
    net = build_network([8, 300, 2], dtype="float16", rng=0)
    (record,) = train(net, SGD(net, lr=0.01), X, y, epochs=1, batch_size=64, rng=0)
    assert all(0 < ratio < 1 for ratio in record["update_ratio"])


def test_a_history_whose_health_lists_do_not_match_the_layers_is_refused():
    from backprop_edu.history import check_history

    epoch = {"epoch": 1, "train_loss": 1.0, "grad_W_norm": [1.0, 2.0],
             "dead_fraction": [0.5, None], "update_ratio": [1e-3]}
    with pytest.raises(ValueError, match=r"\['update_ratio'\] must list one number per layer"):
        check_history({"layers": [{"n_in": 2, "n_out": 2}] * 2, "epochs": [epoch]})
    epoch["update_ratio"] = [1e-3, "fast"]
    with pytest.raises(ValueError, match="not a number or null"):
        check_history({"layers": [{"n_in": 2, "n_out": 2}] * 2, "epochs": [epoch]})
