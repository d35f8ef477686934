"""Gradient checkpointing: the same gradients, bit for bit, with fewer values kept."""

import copy

import numpy as np
import pytest

from backprop_edu import SGD, Adam, Dense, Network, Residual, build_network, gradcheck
from backprop_edu.checkpoint import segment_starts
from backprop_edu.train import train


class Drop:
    """Inverted dropout as issue 11's layer will be: its own Generator ``rng``, its ``mask``."""

    params = ()

    def __init__(self, n, p=0.5, rng=None):
        self.n_in = self.n_out = n
        self.p = p
        self.rng = np.random.default_rng(rng)

    def forward(self, h_prev, training=True):
        if not training:
            return h_prev
        self.mask = (self.rng.random(h_prev.shape) >= self.p) / (1 - self.p)
        return h_prev * self.mask

    def backward(self, grad_h, input_gradient=True):
        return grad_h * self.mask

    def forget(self):
        vars(self).pop("mask", None)

    def config(self):
        return {"type": "Drop", "n": self.n_in, "p": self.p}


class Keep:
    """A student's layer with no forget(): checkpointing must still give the right gradients."""

    params = ()

    def __init__(self, n):
        self.n_in = self.n_out = n

    def forward(self, h_prev, training=True):
        if training:
            self.h_prev = h_prev
        return 2 * h_prev

    def backward(self, grad_h, input_gradient=True):
        return 2 * grad_h

    def config(self):
        return {"type": "Keep", "n": self.n_in}


def data(m=23, n=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.integers(0, k, m)


def both(layers, loss="softmax_cross_entropy", every=2):
    """The same layers twice: a plain network and a checkpointed one."""
    return (Network(copy.deepcopy(layers), loss),
            Network(copy.deepcopy(layers), loss, checkpoint_every=every))


def assert_same_gradients(plain, checkpointed):
    for l, (a, b) in enumerate(zip(plain.layers, checkpointed.layers), start=1):
        for name in ("delta", "grad_W", "grad_b", "grad_h_prev"):
            if hasattr(a, name):
                x, y = getattr(a, name), getattr(b, name)
                assert (x is None and y is None) or np.array_equal(x, y), f"layer {l}: {name}"
    assert np.array_equal(plain.grad_X, checkpointed.grad_X)


def mixed_layers(dtype="float64"):
    return [Dense(5, 8, activation="tanh", rng=1, dtype=dtype),
            Residual(8, activation="relu", rng=2, dtype=dtype),
            Dense(8, 6, activation="sigmoid", rng=3, dtype=dtype),
            Residual(6, activation="leaky_relu", rng=4, dtype=dtype),
            Dense(6, 6, activation="softplus", rng=5, dtype=dtype),
            Dense(6, 3, activation="identity", rng=6, dtype=dtype)]


@pytest.mark.parametrize("every", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_checkpointed_gradients_are_bit_identical_for_every_interval(every, dtype):
    X, y = data()
    plain, checkpointed = both(mixed_layers(dtype), every=every)
    plain.forward(X)
    checkpointed.forward(X)
    assert plain.backward(y, input_gradient=True) == checkpointed.backward(y, input_gradient=True)
    assert_same_gradients(plain, checkpointed)


def test_bit_identical_with_binary_cross_entropy_whose_bp1_collapses():
    X, _ = data()
    y = (X[:, 0] > 0).astype(float)
    layers = [Dense(5, 7, activation="relu", rng=1), Dense(7, 7, activation="tanh", rng=2),
              Dense(7, 1, activation="sigmoid", rng=3)]
    for every in (1, 2, 3):
        plain, checkpointed = both(layers, "binary_cross_entropy", every)
        plain.forward(X)
        checkpointed.forward(X)
        assert plain.backward(y) == checkpointed.backward(y)
        assert_same_gradients(plain, checkpointed)


def test_the_first_layer_gets_the_very_input_array_so_layouts_match():
    """H_0 = Xᵀ is a transposed view; a recomputation from a contiguous copy would multiply
    differently. The checkpoint is the array itself."""
    X, y = data(m=64, n=40)
    plain, checkpointed = both([Dense(40, 30, rng=1), Dense(30, 30, rng=2),
                                Dense(30, 3, activation="identity", rng=3)], every=1)
    plain.forward(X)
    checkpointed.forward(X)
    kept = checkpointed.checkpoints.inputs[0]
    assert kept.flags.f_contiguous and not kept.flags.c_contiguous
    plain.backward(y)
    checkpointed.backward(y)
    assert checkpointed.layers[0].h_prev is kept
    assert_same_gradients(plain, checkpointed)


def test_dropout_draws_the_same_mask_when_recomputed_and_training_stays_identical():
    """Two Drop layers share one generator, in different segments; after several Adam steps
    the plain and the checkpointed networks are still equal bit for bit."""
    X, y = data(m=40)
    shared = np.random.default_rng(7)
    layers = [Dense(5, 8, rng=1), Drop(8, rng=shared), Dense(8, 8, rng=2), Drop(8, rng=shared),
              Dense(8, 8, rng=3), Dense(8, 3, activation="identity", rng=4)]
    plain, checkpointed = both(layers, every=2)
    checkpointed.layers[1].rng = checkpointed.layers[3].rng  # deepcopy copied it once per net
    assert plain.layers[1].rng is plain.layers[3].rng
    optimizers = Adam(plain, lr=0.01), Adam(checkpointed, lr=0.01)
    for _ in range(4):
        plain.forward(X)
        checkpointed.forward(X)
        assert plain.backward(y) == checkpointed.backward(y)
        assert_same_gradients(plain, checkpointed)
        assert np.array_equal(plain.layers[1].mask, checkpointed.layers[1].mask)
        for optimizer in optimizers:
            optimizer.step()
    assert np.array_equal(plain.layers[4].W, checkpointed.layers[4].W)
    assert plain.layers[1].rng.random() == checkpointed.layers[1].rng.random()


def test_a_layer_without_forget_keeps_its_values_and_the_gradients_stay_right():
    X, y = data()
    plain, checkpointed = both([Dense(5, 6, rng=1), Keep(6), Dense(6, 6, rng=2),
                                Dense(6, 3, activation="identity", rng=3)], every=1)
    plain.forward(X)
    checkpointed.forward(X)
    plain.backward(y)
    checkpointed.backward(y)
    assert_same_gradients(plain, checkpointed)


def test_only_checkpoints_and_the_top_segment_are_kept_after_the_forward_pass():
    X, y = data()
    net = build_network([5, 8, 8, 8, 8, 8, 3], rng=0)
    checkpointed = Network(net.layers, net.loss, checkpoint_every=2)
    assert segment_starts(6, 2) == [0, 2, 4]
    checkpointed.forward(X)
    assert [hasattr(layer, "a") for layer in net.layers] == [False] * 4 + [True] * 2
    assert sorted(checkpointed.checkpoints.inputs) == [0, 2, 4]
    assert checkpointed.checkpoints.inputs[2] is not None
    checkpointed.backward(y)
    assert checkpointed.checkpoints.recomputed_layers() == 4


@pytest.mark.parametrize("depth, every, starts", [(9, 4, [0, 1, 5]), (9, 3, [0, 3, 6]),
                                                  (3, 1, [0, 1, 2]), (5, 5, [0])])
def test_segments_are_cut_from_the_top(depth, every, starts):
    assert segment_starts(depth, every) == starts


def test_a_second_backward_and_gradcheck_work_on_a_checkpointed_network():
    X, y = data(m=6)
    plain, checkpointed = both(mixed_layers(), every=2)
    plain.forward(X)
    checkpointed.forward(X)
    first = checkpointed.backward(y)
    assert checkpointed.backward(y) == first == plain.backward(y)
    assert_same_gradients(plain, checkpointed)
    assert gradcheck(checkpointed, X, y).ok(1e-6)


def test_training_with_checkpointing_follows_the_plain_run_exactly():
    X, y = data(m=50)
    plain, checkpointed = both(mixed_layers(), every=3)
    a = train(plain, SGD(plain, lr=0.1), X, y, epochs=2, batch_size=16, rng=0)
    b = train(checkpointed, SGD(checkpointed, lr=0.1), X, y, epochs=2, batch_size=16, rng=0)
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert all(np.array_equal(p.W, c.W) for p, c in zip(plain.layers, checkpointed.layers))


def test_an_inference_pass_keeps_no_checkpoint():
    X, y = data()
    net = Network(mixed_layers(), "softmax_cross_entropy", checkpoint_every=2)
    net.forward(X)
    net.predict(X)
    assert net.checkpoints.inputs == {} and not hasattr(net.layers[-1], "a")
    with pytest.raises(ValueError, match="training pass first"):
        net.backward(y)


@pytest.mark.parametrize("every, error", [(0, ValueError), (7, ValueError), (-1, ValueError),
                                          (2.0, TypeError), (True, TypeError)])
def test_an_interval_outside_1_to_the_depth_is_refused_in_one_line(every, error):
    with pytest.raises(error, match=r"checkpoint_every must .*6") as caught:
        Network(mixed_layers(), "softmax_cross_entropy", checkpoint_every=every)
    assert "\n" not in str(caught.value)


def test_the_packages_dropout_and_pooling_follow_the_checkpointing_hooks():
    """Dropout keeps its generator as ``rng``: a checkpointed network draws the same masks and
    trains bit for bit like the plain one; MaxPool and AvgPool keep what they keep."""
    from backprop_edu import AvgPool, Dropout, MaxPool

    X, y = data(m=30, n=4)
    layers = [Dense(4, 8, rng=1), MaxPool(2), Dense(4, 6, activation="tanh", rng=2),
              Dropout(0.5, rng=3), AvgPool(2), Dense(3, 3, activation="identity", rng=4)]
    for every in (1, 2, 4):
        plain, checkpointed = both(layers, every=every)
        optimizers = SGD(plain, lr=0.1), SGD(checkpointed, lr=0.1)
        for _ in range(3):
            plain.forward(X)
            checkpointed.forward(X)
            assert plain.backward(y, input_gradient=True) == checkpointed.backward(
                y, input_gradient=True)
            assert_same_gradients(plain, checkpointed)
            assert np.array_equal(plain.layers[3].mask, checkpointed.layers[3].mask)
            for optimizer in optimizers:
                optimizer.step()
