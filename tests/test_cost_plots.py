"""The figures of the memory, health and slowdown pages: images of the experiments' numbers."""

import json

import numpy as np
import pytest

from backprop_edu import SGD, build_network, cost_plots, plots
from backprop_edu.memory import memory_experiment
from backprop_edu.slowdown import slowdown_experiment
from backprop_edu.train import train


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def captured(monkeypatch):
    """The figures the functions draw, for inspection (they are still written to disk)."""
    figures = []
    monkeypatch.setattr(cost_plots, "save_figure",
                        lambda fig, path: figures.append(fig) or plots.save_figure(fig, path))
    return figures


def test_the_memory_figure_draws_the_measured_bytes_and_marks_the_square_root(tmp_path, captured):
    result = json.loads(json.dumps(memory_experiment([10, 32, 32, 32, 32, 4], batch_size=64)))
    cost_plots.plot_memory(result, tmp_path / "memory.png")
    assert_png(tmp_path / "memory.png")
    bars, sweep = captured[0].axes
    heights = [patch.get_height() for patch in bars.patches]
    training = [row["measured_bytes"] / 2**20 for row in result["training"]["per_layer"]]
    assert heights[:5] == pytest.approx(training)
    star = next(line for line in sweep.get_lines() if line.get_marker() == "*")
    choice = next(row for row in result["sweep"] if row["sqrt_choice"])
    assert choice["k"] == 2 and "√L" in star.get_label()
    assert star.get_ydata()[0] == pytest.approx(choice["peak_bytes"] / 2**20)


def test_the_health_figure_draws_one_line_per_layer_and_field(tmp_path, captured):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), rng.integers(0, 2, 60)
    net = build_network([3, 8, 8, 2], "tanh", rng=0)
    history = {"layers": [{"n_in": l.n_in, "n_out": l.n_out, "activation": l.activation.name}
                          for l in net.layers],
               "epochs": train(net, SGD(net, lr=0.1), X, y, epochs=3, batch_size=20, rng=0)}
    cost_plots.plot_health(history, tmp_path / "health.png")
    assert_png(tmp_path / "health.png")
    dead, saturated, ratio = captured[0].axes
    assert "no layer of this kind" in [text.get_text() for text in dead.texts]
    tanh_lines = [line for line in saturated.get_lines() if line.get_label().startswith("layer")]
    assert len(tanh_lines) == 2
    # one line per layer; a layer named in a legend already (same colour) is not named again
    drawn = [line for line in ratio.get_lines() if len(line.get_xdata()) == 3]
    assert len(drawn) == 3 and ratio.get_yscale() == "log"
    assert [line.get_label().startswith("layer") for line in drawn] == [False, False, True]
    assert list(drawn[2].get_ydata()) == [e["update_ratio"][2] for e in history["epochs"]]


def test_a_history_without_health_fields_is_refused(tmp_path):
    history = {"layers": [{"n_in": 2, "n_out": 1}], "epochs": [{"epoch": 1, "grad_W_norm": [1]}]}
    with pytest.raises(ValueError, match="no health fields"):
        cost_plots.plot_health(history, tmp_path / "health.png")
    assert not (tmp_path / "health.png").exists()


def test_the_slowdown_figure_draws_both_costs_in_both_experiments(tmp_path, captured):
    result = slowdown_experiment(epochs=50, network_epochs=20)
    cost_plots.plot_slowdown(result, tmp_path / "slowdown.svg")
    assert (tmp_path / "slowdown.svg").read_text().lstrip().startswith("<?xml")
    axes = captured[0].axes
    assert len(axes) == 6
    delta = axes[2].get_lines()
    runs = result["neuron"]["runs"]
    assert [list(line.get_ydata()) for line in delta] == [
        runs[cost]["delta_norm"] for cost in ("half_mse", "binary_cross_entropy")]
    assert axes[2].get_yscale() == "log"


def test_a_bad_figure_path_fails_before_any_drawing(tmp_path):
    with pytest.raises(ValueError, match="extension|image format"):
        cost_plots.plot_slowdown({}, tmp_path / "slowdown.txt")


def test_repeated_widths_are_counted_in_titles():
    assert cost_plots.widths_label([64, 256, 256, 256, 10]) == "64, 256×3, 10"
    assert cost_plots.widths_label([2, 8, 8, 1]) == "2, 8, 8, 1"
