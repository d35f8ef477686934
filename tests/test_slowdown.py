"""The learning slowdown: BP1 with σ' for the quadratic cost, without it for cross-entropy."""

import json

import numpy as np
import pytest

from backprop_edu.slowdown import slowdown_experiment


@pytest.fixture(scope="module")
def result():
    return slowdown_experiment(epochs=300, network_epochs=200)


def test_the_neuron_starts_badly_wrong_at_sigma_of_4(result):
    start = 1 / (1 + np.exp(-4.0))
    assert result["neuron"]["settings"]["start_output"] == pytest.approx(start)
    for run in result["neuron"]["runs"].values():
        assert run["error"][0] == pytest.approx(start)   # y = 0: the error is ŷ
        assert len(run["loss"]) == len(run["delta_norm"]) == 301


def test_bp1_carries_sigma_prime_for_the_quadratic_cost_and_not_for_cross_entropy(result):
    """y = 0, so ŷ = error: δ = σ'(a)(ŷ − y) = ŷ²(1 − ŷ) with ½(ŷ − y)², δ = ŷ with
    cross-entropy, at every epoch."""
    quadratic = result["neuron"]["runs"]["half_mse"]
    y_hat = np.array(quadratic["error"])
    assert quadratic["delta_norm"] == pytest.approx(y_hat**2 * (1 - y_hat), rel=1e-12)
    assert quadratic["loss"] == pytest.approx(0.5 * y_hat**2, rel=1e-12)
    cross = result["neuron"]["runs"]["binary_cross_entropy"]
    assert cross["delta_norm"] == pytest.approx(cross["error"], rel=1e-12)
    y_hat = np.array(cross["error"])
    assert cross["loss"] == pytest.approx(-np.log(1 - y_hat), rel=1e-9)


def test_the_quadratic_cost_learns_many_times_more_slowly_from_a_bad_start(result):
    neuron = result["neuron"]["runs"]
    assert neuron["binary_cross_entropy"]["epochs_to_halve_error"] < 30
    assert neuron["half_mse"]["epochs_to_halve_error"] > 150
    # its δ^(L) grows as it leaves the plateau: the gradient was small because σ' was
    assert max(neuron["half_mse"]["delta_norm"]) > 5 * neuron["half_mse"]["delta_norm"][0]
    network = result["network"]["runs"]
    assert network["binary_cross_entropy"]["epochs_to_halve_error"] < 20
    assert network["half_mse"]["epochs_to_halve_error"] > 100
    start = {cost: run["delta_norm"][0] for cost, run in network.items()}
    assert start["half_mse"] < start["binary_cross_entropy"] / 50
    assert network["binary_cross_entropy"]["accuracy"][-1] > 0.9


def test_the_result_is_json_without_nan(result):
    assert json.loads(json.dumps(result, allow_nan=False)) == result


@pytest.mark.parametrize("settings, match", [({"epochs": 0}, "epochs"),
                                             ({"network_epochs": 10**9}, "epochs"),
                                             ({"lr": -1}, "learning rate"),
                                             ({"network_lr": float("nan")}, "learning rate")])
def test_bad_settings_are_one_line(settings, match):
    with pytest.raises(ValueError, match=match) as caught:
        slowdown_experiment(**settings)
    assert "\n" not in str(caught.value)
