"""The numbers behind the lab's figures: vanishing/exploding gradients, residual, low precision, modes."""

import json

import numpy as np
import pytest

from backprop_edu import build_network
from backprop_edu.experiments import (gaussian_batch, modes_experiment, multiply_adds,
                                      vanishing_experiment, widths_for)


@pytest.fixture(scope="module")
def textbook():
    """The issue's run: depth 12, width 64, sigmoid/tanh/relu × normal/xavier/he, float64."""
    result = vanishing_experiment(depth=12, width=64)
    return {(c["activation"], c["init"]): c for c in result["configs"]}, result


def test_the_result_has_the_documented_shape(textbook):
    configs, result = textbook
    assert len(configs) == 9
    assert result["settings"]["layers"] == 13
    for config in configs.values():
        assert config["residual"] is False and config["dtype"] == "float64"
        assert len(config["delta_norm"]) == len(config["grad_W_norm"]) == 13
        assert config["delta_ratio"] == pytest.approx(
            config["delta_norm"][0] / config["delta_norm"][-1])
    json.dumps(result, allow_nan=False)  # plain JSON, no inf or nan


def test_the_normal_init_is_the_packages_small_random_numbers():
    from backprop_edu.init import NORMAL_STD

    result = vanishing_experiment(depth=2, width=8, activations="sigmoid", inits="normal")
    assert result["settings"]["normal_std"] == NORMAL_STD == 0.1
    net = build_network([10] + [64] * 30 + [10], "sigmoid", init="normal")
    assert np.std(np.concatenate([layer.W.ravel() for layer in net.layers])) == \
        pytest.approx(0.1, rel=0.02)


def test_sigmoid_signal_vanishes_towards_the_first_layer(textbook):
    configs, _ = textbook
    # plain N(0, 0.1²): the first layer's signal is orders of magnitude below the last's,
    # ‖δ^(1)‖/‖δ^(L)‖ ≈ (√64 · 0.1 · 1/4)^12 ≈ 4e-9 (measured 2.1e-9)
    assert configs["sigmoid", "normal"]["delta_ratio"] < 1e-7
    assert configs["sigmoid", "normal"]["grad_W_ratio"] < 1e-7
    # ... and with weights that keep sigmoid unsaturated (φ' ≤ 1/4 per layer) by many orders
    assert configs["sigmoid", "xavier"]["delta_ratio"] < 1e-6
    assert configs["sigmoid", "he"]["delta_ratio"] < 1e-5
    # δ decreases monotonically towards layer 1 for sigmoid/xavier: one factor per layer (BP2)
    assert np.all(np.diff(configs["sigmoid", "xavier"]["delta_norm"]) > 0)
    assert np.all(np.diff(configs["sigmoid", "normal"]["delta_norm"]) > 0)


def test_xavier_for_tanh_and_he_for_relu_keep_the_signal_within_an_order(textbook):
    configs, _ = textbook
    for pair in [("tanh", "xavier"), ("relu", "he")]:
        delta = np.array(configs[pair]["delta_norm"])
        assert 0.1 < delta.min() / delta.max() <= 1, pair
        assert 0.3 < configs[pair]["delta_ratio"] < 3, pair
    assert configs["relu", "he"]["delta_ratio"] > 1e6 * configs["sigmoid", "normal"]["delta_ratio"]


def test_small_normal_init_shrinks_tanh_and_relu_too(textbook):
    configs, _ = textbook
    # √64 · 0.1 = 0.8 per layer before φ': tanh loses a factor ~20, relu (φ' = 0 for half) ~1000
    assert 1e-2 < configs["tanh", "normal"]["delta_ratio"] < 0.1
    assert 1e-4 < configs["relu", "normal"]["delta_ratio"] < 1e-2


def test_normal_init_with_std_1_explodes_tanh_and_relu():
    result = vanishing_experiment(depth=12, width=64, activations="sigmoid,tanh,relu",
                                  inits="normal", std=1.0)
    configs = {c["activation"]: c for c in result["configs"]}
    assert result["settings"]["normal_std"] == 1.0
    assert configs["tanh"]["delta_ratio"] > 1e2
    assert configs["relu"]["delta_ratio"] > 1e6
    # sigmoid saturates instead (φ' ≈ 0 for |a| ≫ 1): the large W and small φ' nearly cancel
    assert 0.05 < configs["sigmoid"]["delta_ratio"] < 0.2


def reference_delta_norms(net, X, y):
    """BP1 and BP2 written again from scratch in plain numpy (rows = samples), for an
    independent recomputation of what the experiment reports."""
    hs, As = [X], []
    phi = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh,
           "relu": lambda a: np.maximum(a, 0), "identity": lambda a: a}
    dphi = {"sigmoid": lambda a: phi["sigmoid"](a) * (1 - phi["sigmoid"](a)),
            "tanh": lambda a: 1 - np.tanh(a) ** 2, "relu": lambda a: (a > 0) * 1.0,
            "identity": lambda a: np.ones_like(a)}
    for layer in net.layers:
        a = hs[-1] @ layer.W.T + layer.b
        As.append(a)
        hs.append(phi[layer.activation.name](a) + (hs[-1] if layer.W.shape[0] == layer.W.shape[1]
                                                   and type(layer).__name__ == "Residual" else 0))
    logits = hs[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = p - np.eye(logits.shape[1])[y]                      # ∂J_i/∂h_L for each sample (row)
    norms, grad_W = [], []
    for l in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[l]
        delta = dphi[layer.activation.name](As[l]) * g          # rows = samples
        norms.append(np.linalg.norm(delta, axis=1).mean())
        grad_W.append(np.linalg.norm(delta.T @ hs[l] / len(X)))
        through = delta @ layer.W
        g = through + g if type(layer).__name__ == "Residual" else through
    return norms[::-1], grad_W[::-1]


@pytest.mark.parametrize("activation,init,residual", [("sigmoid", "normal", False),
                                                      ("relu", "he", True),
                                                      ("tanh", "xavier", True)])
def test_reported_norms_match_an_independent_recomputation(activation, init, residual):
    result = vanishing_experiment(depth=5, width=16, activations=[activation], inits=[init],
                                  residual=residual, batch_size=20, seed=3)
    config = result["configs"][-1]
    assert config["residual"] is residual
    X, y, n_classes = gaussian_batch(20, seed=3)
    net = build_network([X.shape[1]] + [16] * 5 + [n_classes], activation, init=init,
                        residual=residual, rng=3)
    delta_norm, grad_W_norm = reference_delta_norms(net, X, y)
    np.testing.assert_allclose(config["delta_norm"], delta_norm, rtol=1e-10)
    np.testing.assert_allclose(config["grad_W_norm"], grad_W_norm, rtol=1e-10)


def test_residual_blocks_stop_the_collapse():
    result = vanishing_experiment(depth=30, width=32, activations="sigmoid", inits="xavier",
                                  residual=True)
    plain, residual = result["configs"]
    assert (plain["residual"], residual["residual"]) == (False, True)
    assert plain["delta_ratio"] < 1e-12
    assert residual["delta_ratio"] > 0.05
    assert residual["delta_ratio"] > 1e10 * plain["delta_ratio"]  # orders of magnitude above


def test_float16_underflows_to_exact_zeros_where_float64_has_none():
    result = vanishing_experiment(depth=12, width=64, activations="sigmoid", inits="xavier",
                                  dtype="float16")
    config = result["configs"][0]
    assert config["dtype"] == "float16"
    zeros16 = config["grad_W_zero_fraction"]
    zeros64 = config["float64"]["grad_W_zero_fraction"]
    assert zeros16[0] > 0.9            # the first layer's gradient is (almost) all zeros in float16
    assert zeros16[-1] == 0            # the last layer's is not
    assert max(zeros64) == 0           # in float64 no entry is exactly 0
    assert min(config["float64"]["grad_W_norm"]) > 0


def test_float32_agrees_with_float64_when_nothing_underflows():
    result = vanishing_experiment(depth=6, width=32, activations="relu", inits="he",
                                  dtype="float32")
    config = result["configs"][0]
    np.testing.assert_allclose(config["delta_norm"], config["float64"]["delta_norm"], rtol=1e-4)
    assert config["grad_W_zero_fraction"] == config["float64"]["grad_W_zero_fraction"]


def test_overflowed_runs_become_null_in_json():
    result = vanishing_experiment(depth=20, width=32, activations="relu", inits="normal",
                                  dtype="float16", std=1.0)
    config = result["configs"][0]
    assert None in config["delta_norm"]      # float16 overflowed to inf on the way down
    assert None not in config["float64"]["delta_norm"]
    json.dumps(result, allow_nan=False)


def test_steps_repeat_the_measurement_after_training():
    result = vanishing_experiment(depth=3, width=16, activations="tanh", inits="xavier",
                                  steps=30, lr=0.1)
    config = result["configs"][0]
    trained = config["trained"]
    assert trained["steps"] == 30
    assert trained["loss"] < config["loss"]   # the SGD steps did learn the batch
    assert trained["delta_norm"] != config["delta_norm"]


def test_a_shipped_dataset_can_be_the_batch():
    result = vanishing_experiment(depth=2, width=8, activations="relu", inits="he",
                                  data="moons", batch_size=30)
    assert result["settings"]["n_features"] == 2 and result["settings"]["n_classes"] == 2


@pytest.mark.parametrize("kwargs,message", [
    ({"depth": 0}, "depth"), ({"activations": "sigmoid,swish"}, "unknown activation 'swish'"),
    ({"inits": "orthogonal"}, "unknown init 'orthogonal'"), ({"dtype": "int8"}, "float16"),
    ({"data": "emnist"}, "unknown data 'emnist'")])
def test_bad_settings_are_one_clear_error(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        vanishing_experiment(**{"depth": 2, "width": 4, **kwargs})


def test_widths_for_grow_geometrically_up_to_the_maximum():
    widths, counts = widths_for(20000, 10, 10)
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert counts[-1] <= 20000 and counts[-1] > 15000
    assert all(w * w + 22 * w + 10 == n for w, n in zip(widths, counts))


def test_modes_agree_and_forward_mode_costs_more_as_n_grows():
    result = modes_experiment(max_params=3000, points=3, batch_size=8)
    rows = result["rows"]
    assert [r["n_params"] for r in rows] == sorted(r["n_params"] for r in rows)
    assert rows[-1]["n_params"] <= 3000
    for row in rows:
        assert row["max_abs_difference"] <= 1e-10
        assert row["ratio"] == pytest.approx(row["forward_seconds"] / row["reverse_seconds"])
    assert rows[-1]["forward_seconds"] > 5 * rows[-1]["reverse_seconds"]
    json.dumps(result, allow_nan=False)


def test_multiply_adds_counts_each_matrix_product_of_both_modes():
    net = build_network([2, 3, 3, 2], rng=0)   # P_l = 6, 9, 6 weights; batch m = 4
    # reverse: forward 4·21, BP3 4·21, hand-down W_lᵀ δ^(l) for layers 2, 3: 4·15
    # forward: the forward pass 4·21; layer 1's 6 + 3 directions pushed through W_2, W_3 and
    # J̇: 4·(9 + 6 + 2) each; layer 2's 9 + 3 through W_3 and J̇: 4·(6 + 2); layer 3's 6 + 2: 4·2
    assert multiply_adds(net, 4) == (84 + 9 * 68 + 12 * 32 + 8 * 8, 84 + 84 + 60)
    rows = modes_experiment(max_params=3000, points=3, batch_size=8)["rows"]
    counted = [row["forward_multiply_adds"] / row["reverse_multiply_adds"] for row in rows]
    n = [row["n_params"] for row in rows]
    assert counted == sorted(counted)       # the factor grows with n, at most as n JVPs of a
    assert n[-1] ** 0.5 < counted[-1] < n[-1] / 3   # whole forward pass each (m P against 3 m P)


def test_modes_rejects_a_maximum_below_the_smallest_network():
    with pytest.raises(ValueError, match="at least 33"):
        modes_experiment(max_params=10)
