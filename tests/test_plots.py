"""The lab's figures: the numbers drawn are the experiment's, the files are real images, bad paths fail cleanly."""

import json
import os

import numpy as np
import pytest

from backprop_edu import Dense, Network
from backprop_edu import plots
from backprop_edu.experiments import modes_experiment, vanishing_experiment
from conftest import capture_figures, read_image


def assert_real_image(path, size=None):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    image = read_image(path)
    if size is not None:
        assert image.shape[:2] == (size[1], size[0])
    colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
    assert len(colours) > 1


@pytest.fixture
def captured(monkeypatch):
    """Keep the figure each plot function draws (still written to disk) for inspection."""
    return capture_figures(monkeypatch, plots)


def history(accuracy=True, validation=True, epochs=4):
    layers = [{"n_in": 2, "n_out": 16, "activation": "relu"},
              {"n_in": 16, "n_out": 2, "activation": "identity"}]
    records = []
    for e in range(1, epochs + 1):
        records.append({"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e if validation else None,
                        "train_accuracy": 0.5 + 0.1 * e if accuracy else None,
                        "val_accuracy": 0.4 + 0.1 * e if accuracy and validation else None,
                        "grad_W_norm": [0.1 / e, 1.0 / e], "grad_b_norm": [0.01, 0.1],
                        "delta_norm": [0.2, 0.3], "seconds": 0.01})
    return {"config": {"data": "moons"}, "layers": layers, "epochs": records}


def test_history_plot_draws_each_layers_gradient_norm_on_a_log_scale(tmp_path, captured):
    path = tmp_path / "run.png"
    plots.plot_history(history(), path, size=(900, 400))
    assert_real_image(path, (900, 400))
    fig = captured[0]
    grads, loss, accuracy = fig.axes
    assert grads.get_yscale() == "log"
    assert [line.get_label() for line in grads.lines] == ["layer 1 (16×2)", "layer 2 (2×16)"]
    np.testing.assert_allclose(grads.lines[1].get_ydata(), [1.0, 0.5, 1 / 3, 0.25])
    np.testing.assert_allclose(grads.lines[0].get_xdata(), [1, 2, 3, 4])
    assert [line.get_label() for line in loss.lines] == ["train", "validation"]
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(), [0.5, 0.6, 0.7, 0.8])
    assert grads.get_title() and grads.get_xlabel() == "epoch" and grads.get_ylabel()


def test_history_plot_of_a_regression_run_without_validation(tmp_path, captured):
    plots.plot_history(history(accuracy=False, validation=False), tmp_path / "r.png")
    fig = captured[0]
    assert len(fig.axes) == 2   # no accuracy panel
    assert [line.get_label() for line in fig.axes[1].lines] == ["train"]


def test_vanishing_plot_draws_the_experiments_numbers(tmp_path, captured):
    result = vanishing_experiment(depth=4, width=8, activations="sigmoid,relu", inits="he",
                                  residual=True)
    path = tmp_path / "v.png"
    plots.plot_vanishing(result, path, size=(1000, 600))
    assert_real_image(path, (1000, 600))
    delta_ax, grad_ax = captured[0].axes
    assert delta_ax.get_yscale() == grad_ax.get_yscale() == "log"
    labels = [line.get_label() for line in delta_ax.lines]
    assert labels == ["sigmoid / he", "sigmoid / he + residual", "relu / he", "relu / he + residual"]
    for line, config in zip(delta_ax.lines, result["configs"]):
        np.testing.assert_allclose(line.get_ydata(), config["delta_norm"])
        np.testing.assert_allclose(line.get_xdata(), np.arange(1, 6))
        assert line.get_linestyle() == ("--" if config["residual"] else "-")
    for line, config in zip(grad_ax.lines, result["configs"]):
        np.testing.assert_allclose(line.get_ydata(), config["grad_W_norm"])


def test_vanishing_plot_in_float16_adds_the_zero_fraction_and_the_float64_reference(tmp_path, captured):
    result = vanishing_experiment(depth=6, width=16, activations="sigmoid", inits="xavier",
                                  dtype="float16", steps=2)
    plots.plot_vanishing(result, tmp_path / "v16.png")
    axes = captured[0].axes
    assert len(axes) == 6   # 2 rows (init, after steps) × 3 panels
    zeros = axes[2]
    np.testing.assert_allclose(zeros.lines[0].get_ydata(), result["configs"][0]["grad_W_zero_fraction"])
    np.testing.assert_allclose(zeros.lines[1].get_ydata(),
                               result["configs"][0]["float64"]["grad_W_zero_fraction"])
    np.testing.assert_allclose(axes[3].lines[0].get_ydata(),
                               result["configs"][0]["trained"]["delta_norm"])


def test_vanishing_plot_accepts_the_json_it_was_saved_as(tmp_path):
    result = vanishing_experiment(depth=20, width=16, activations="relu", inits="normal",
                                  dtype="float16")
    reloaded = json.loads(json.dumps(result))  # with nulls for the overflowed values
    plots.plot_vanishing(reloaded, tmp_path / "v.png")
    assert_real_image(tmp_path / "v.png")


def test_modes_plot_is_log_log_with_both_modes(tmp_path, captured):
    result = modes_experiment(max_params=400, points=3, batch_size=4)
    plots.plot_modes(result, tmp_path / "m.png", size=(800, 400))
    assert_real_image(tmp_path / "m.png", (800, 400))
    times, ratio = captured[0].axes
    assert times.get_xscale() == times.get_yscale() == "log"
    n = [row["n_params"] for row in result["rows"]]
    np.testing.assert_allclose(times.lines[0].get_xdata(), n)
    np.testing.assert_allclose(times.lines[0].get_ydata(), [r["forward_seconds"] for r in result["rows"]])
    np.testing.assert_allclose(times.lines[1].get_ydata(), [r["reverse_seconds"] for r in result["rows"]])
    np.testing.assert_allclose(ratio.lines[0].get_ydata(), [r["ratio"] for r in result["rows"]])


def trained_xor_like_net():
    """A 2-2 linear classifier set by hand: class 1 exactly where x₁ > 0."""
    net = Network([Dense(2, 2, activation="identity", rng=0)], loss="softmax_cross_entropy")
    net.layers[0].W[...] = [[-1.0, 0.0], [1.0, 0.0]]
    net.layers[0].b[...] = 0
    return net


def test_decision_grid_is_the_networks_prediction():
    net = trained_xor_like_net()
    X = np.array([[-2.0, -1.0], [2.0, 1.0]])
    xx, yy, classes = plots.decision_grid(net, X, resolution=50)
    assert classes.shape == (50, 50)
    np.testing.assert_array_equal(classes, (xx > 0).astype(int))


def test_decision_boundary_draws_regions_and_points(tmp_path, captured):
    net = trained_xor_like_net()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int)
    path = tmp_path / "moons.png"
    plots.plot_decision_boundary(net, X, y, path, title="a test")
    assert_real_image(path, (650, 500))
    ax = captured[0].axes[0]
    assert ax.get_title() == "a test"
    from matplotlib.collections import PathCollection

    points = [c for c in ax.collections if type(c) is PathCollection]  # the scatter plots
    assert [c.get_label() for c in points] == ["class 0", "class 1"]
    np.testing.assert_allclose(points[1].get_offsets(), X[y == 1])  # every point, where it is


def test_decision_boundary_rejects_data_that_is_not_2d(tmp_path):
    net = Network([Dense(3, 2, activation="identity", rng=0)], loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match="needs 2-D data"):
        plots.plot_decision_boundary(net, np.zeros((5, 3)), np.zeros(5, int), tmp_path / "b.png")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("extension,magic", [("svg", b"<?xml"), ("pdf", b"%PDF-")])
def test_the_extension_picks_the_format(tmp_path, extension, magic):
    path = tmp_path / f"run.{extension}"
    plots.plot_history(history(), path)
    with open(path, "rb") as f:
        assert f.read(5) == magic


def test_an_unknown_extension_is_one_error_and_no_file(tmp_path):
    with pytest.raises(ValueError, match="not an image format") as error:
        plots.plot_history(history(), tmp_path / "run.xyz")
    assert "\n" not in str(error.value)
    assert os.listdir(tmp_path) == []


def test_a_missing_directory_is_one_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        plots.plot_history(history(), tmp_path / "nowhere" / "run.png")


def test_a_figure_replaces_an_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "run.png"
    path.write_bytes(b"old")
    plots.plot_history(history(accuracy=False), path)
    assert_real_image(path)
    assert os.listdir(tmp_path) == ["run.png"]


def test_a_gradient_that_is_exactly_zero_is_marked_not_left_out(tmp_path, captured):
    dead = history(epochs=4)
    for record in dead["epochs"][1:]:
        record["grad_W_norm"] = [0.0, 0.0]   # dead ReLU units: no gradient reaches W_l
    plots.plot_history(dead, tmp_path / "dead.png")
    grads = captured[0].axes[0]
    marks = [line for line in grads.lines if line.get_marker() == "v" and len(line.get_xdata())]
    assert [list(line.get_xdata()) for line in marks] == [[2, 3, 4], [2, 3, 4]]  # one per layer
    assert grads.get_legend().get_texts()[-1].get_text() == plots.ZERO_MARK


def test_float16_zero_norms_are_marked_in_the_vanishing_plot(tmp_path, captured):
    result = vanishing_experiment(depth=12, width=64, activations="sigmoid", inits="xavier",
                                  dtype="float16")
    zero_layers = [l + 1 for l, v in enumerate(result["configs"][0]["grad_W_norm"]) if v == 0]
    assert zero_layers[:2] == [1, 2]   # underflowed: ∇W_1 and ∇W_2 are exactly 0 in float16
    plots.plot_vanishing(result, tmp_path / "v16.png")
    grad_ax = captured[0].axes[1]
    marks = [line for line in grad_ax.lines if line.get_marker() == "v" and len(line.get_xdata())]
    assert list(marks[0].get_xdata()) == zero_layers


def test_the_loss_is_on_a_log_scale_only_when_it_spans_a_decade(tmp_path, captured):
    plots.plot_history(history(epochs=4), tmp_path / "a.png")     # 1 .. 0.25: linear
    plots.plot_history(history(epochs=20), tmp_path / "b.png")    # 1.2 .. 0.05: log
    assert captured[0].axes[1].get_yscale() == "linear"
    assert captured[1].axes[1].get_yscale() == "log"


def test_a_name_without_extension_and_pgf_without_tex_are_refused_up_front(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="a name without an extension is not an image format"):
        plots.check_figure_path(tmp_path / "run")
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ValueError, match=r"\.pgf needs .*TeX"):
        plots.check_figure_path(tmp_path / "run.pgf")
