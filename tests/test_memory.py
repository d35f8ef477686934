"""Memory kept by a pass: tracemalloc's measurement against the count the equations predict."""

import json
import tracemalloc

import numpy as np
import pytest

from backprop_edu import Dense, Network, Residual, memory
from backprop_edu.memory import (forward_values_peak, measured_counts, memory_experiment,
                                 predicted_counts, sqrt_choice)

WIDTHS = [20, 64, 64, 64, 64, 5]   # L = 5 layers
M = 32                             # a 64 × 32 float64 array is 16 KiB
HEADERS = 400                      # numpy's array headers, counted by tracemalloc only


@pytest.fixture(scope="module")
def result():
    return memory_experiment(WIDTHS, batch_size=M, checkpoint_every=2)


def test_a_training_pass_keeps_h_prev_and_a_of_every_layer_as_the_equations_count(result):
    rows = result["training"]["per_layer"]
    assert rows[0]["arrays"] == ["a_1"]               # h_0 is X: not made by the pass
    assert rows[0]["predicted_bytes"] == 64 * M * 8
    for l in (2, 3, 4):
        assert rows[l - 1]["arrays"] == [f"h_{l - 1}", f"a_{l}"]
        assert rows[l - 1]["predicted_bytes"] == (64 + 64) * M * 8
    assert rows[4]["arrays"] == ["h_4", "a_5"]        # identity output: h_5 is a_5
    assert rows[4]["predicted_bytes"] == (64 + 5) * M * 8
    for row in rows:
        assert abs(row["measured_bytes"] - row["predicted_bytes"]) <= HEADERS
    total = result["training"]["kept_predicted_bytes"]
    assert total == sum(row["predicted_bytes"] for row in rows)
    assert 0 <= result["training"]["kept_measured_bytes"] - total <= 10 * HEADERS


def test_every_layer_holds_three_arrays_and_shares_two_of_them(result):
    for layer in result["layers"]:
        assert layer["holds_bytes"] == (layer["n_in"] + 2 * layer["n_out"]) * M * 8
    held = sum(layer["holds_bytes"] for layer in result["layers"])
    kept = result["training"]["kept_predicted_bytes"]
    # h_1..h_4 are counted in two layers each, X (h_0) is yours, and h_5 is a_5
    assert held - kept == (4 * 64 * M + 20 * M + 5 * M) * 8


def test_an_inference_pass_keeps_nothing_but_its_output(result):
    inference = result["inference"]
    for row in inference["per_layer"]:
        assert row["arrays"] == [] and row["predicted_bytes"] == 0
        assert abs(row["measured_bytes"]) <= HEADERS
    assert inference["output"]["arrays"] == ["h_5"]
    assert 0 <= inference["output"]["measured_bytes"] - 5 * M * 8 <= HEADERS
    assert inference["kept_measured_bytes"] < 2 * 5 * M * 8


def test_checkpointed_keeps_the_segment_inputs_and_the_top_segment(result):
    rows = result["checkpointed"]["per_layer"]     # k = 2 on 5 layers: [1], [2, 3], [4, 5]
    assert [row["arrays"] for row in rows] == [[], ["h_1"], [], ["h_3", "a_4"], ["h_4", "a_5"]]
    for row in rows:
        assert abs(row["measured_bytes"] - row["predicted_bytes"]) <= HEADERS
    assert result["checkpointed"]["recomputed_layers"] == 3
    kept = result["checkpointed"]["kept_measured_bytes"]
    assert kept < result["training"]["kept_measured_bytes"]


def test_the_sweep_runs_k_from_1_to_L_and_marks_the_square_root(result):
    sweep = result["sweep"]
    assert [row["k"] for row in sweep] == [1, 2, 3, 4, 5]
    assert [row["sqrt_choice"] for row in sweep] == [False, True, False, False, False]
    assert [row["recomputed_layers"] for row in sweep] == [4, 3, 2, 1, 0]
    plain = sweep[-1]
    assert plain["extra_forward_fraction"] == 0
    assert plain["kept_predicted_bytes"] == result["training"]["kept_predicted_bytes"]
    for row in sweep:
        assert abs(row["kept_measured_bytes"] - row["kept_predicted_bytes"]) <= 10 * HEADERS
    # k = 2 holds at most h_1, h_3 and two segments' values: less than every layer's
    assert sweep[1]["forward_values_peak_bytes"] < plain["forward_values_peak_bytes"]
    assert sweep[1]["peak_bytes"] < plain["peak_bytes"]
    json.dumps(result, allow_nan=False)
    assert {"training", "inference", "checkpointed"} <= result.keys()


def test_forward_values_peak_counts_the_checkpoints_the_top_and_one_segment():
    layers = [Dense(10, 10, rng=l) for l in range(4)] + [Dense(10, 2, "identity", rng=9)]
    m = 3
    # plain: h_1..h_4 and a_1..a_4, and a_5 = h_5
    assert forward_values_peak(layers, m) == (4 * 10 + 4 * 10 + 2) * m
    # k = 2: segments [1], [2, 3], [4, 5]: checkpoints h_1, h_3; the top holds h_3, a_4, h_4,
    # a_5; segment [2, 3] holds h_1, a_2, h_2, a_3, h_3: h_1..h_4, a_2..a_4 and a_5
    assert forward_values_peak(layers, m, 2) == (7 * 10 + 2) * m


def test_a_residual_block_keeps_its_branch_too():
    m = 200
    net = Network([Dense(4, 6, rng=0), Residual(6, rng=1), Dense(6, 2, "identity", rng=2)],
                  "softmax_cross_entropy")
    per_layer, output = predicted_counts(net.layers, m, "training")
    assert [names for names, _ in per_layer] == [["a_1"], ["h_1", "a_2", "φ(a_2)"], ["h_2", "a_3"]]
    assert output == ([], 0)
    X = np.random.default_rng(0).standard_normal((m, 4))
    tracemalloc.start()
    try:
        measured, _, _ = measured_counts(net, X.T, training=True)
    finally:
        tracemalloc.stop()
    for (_, entries), got in zip(per_layer, measured):
        assert abs(got - entries * 8) <= HEADERS


def test_float32_halves_every_count():
    result = memory_experiment([20, 64, 5], batch_size=M, dtype="float32")
    assert result["training"]["per_layer"][1]["predicted_bytes"] == (64 + 5) * M * 4
    assert result["settings"]["itemsize"] == 4


@pytest.mark.parametrize("widths, batch_size, match", [
    ([1000, 20000, 20000, 10], 64, "GiB"),
    ([300] * 101, 400, "multiply-adds"),
])
def test_sizes_that_would_exhaust_memory_are_refused_before_any_work(widths, batch_size, match,
                                                                     monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a network was built before the sizes were checked")

    monkeypatch.setattr(memory, "build_network", no_network)
    with pytest.raises(ValueError, match=match) as caught:
        memory.memory_experiment(widths, batch_size=batch_size)
    assert "\n" not in str(caught.value)


def test_a_checkpoint_interval_outside_the_depth_is_refused():
    with pytest.raises(ValueError, match="checkpoint_every must lie between 1 and"):
        memory_experiment([4, 8, 2], batch_size=4, checkpoint_every=3)


def test_sqrt_choice_rounds_the_square_root():
    assert [sqrt_choice(L) for L in (1, 2, 3, 9, 16, 20)] == [1, 1, 2, 3, 4, 4]
