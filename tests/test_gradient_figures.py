"""The figures of saliency, FGSM and gradient routing: real images of the numbers given, and
one-line errors for what cannot be drawn."""

import numpy as np
import pytest

from backprop_edu import AvgPool, Dense, Dropout, MaxPool, Network, build_network
from backprop_edu import gradient_figures
from conftest import capture_figures, read_image


def read_png(path):
    """The pixels of a written PNG file (its signature checked first)."""
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return read_image(path)


@pytest.fixture
def captured(monkeypatch):
    """Keep every figure drawn (it is still written) for inspection."""
    return capture_figures(monkeypatch, gradient_figures)


def digits(k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 17, (k, 64)).astype(float), rng.integers(0, 10, k)


def test_saliency_draws_each_image_above_its_map_with_the_prediction(tmp_path, captured):
    images, labels = digits(4)
    maps = np.abs(np.random.default_rng(1).standard_normal((4, 64)))
    predicted = labels.copy()
    predicted[1] = (labels[1] + 1) % 10
    path = tmp_path / "saliency.png"
    gradient_figures.plot_saliency(images, maps, labels, predicted, path,
                                   standardised_maps=2 * maps)
    assert read_png(path).shape[2] in (3, 4)
    axes = captured[0].axes
    assert len(axes) == 12                                   # 3 rows × 4 samples
    np.testing.assert_array_equal(axes[4].images[0].get_array(), maps[0].reshape(8, 8))
    assert axes[1].get_title() == f"label {labels[1]}\npredicted {predicted[1]}"
    assert axes[1].title.get_color() == "red" and axes[0].title.get_color() == "black"


def test_fgsm_accuracy_plots_the_records_and_the_clean_accuracy(tmp_path, captured):
    records = [{"epsilon": 0.0, "accuracy": 0.95}, {"epsilon": 2.0, "accuracy": 0.3},
               {"epsilon": 1.0, "accuracy": 0.6}]
    gradient_figures.plot_fgsm_accuracy(records, tmp_path / "fgsm.svg", chance=0.1)
    ax = captured[0].axes[0]
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_array_equal(y, [0.95, 0.6, 0.3])
    assert "clean accuracy (ε = 0): 95.0%" in [text.get_text() for text in ax.get_legend().texts]
    assert (tmp_path / "fgsm.svg").read_text().startswith("<?xml")


def test_adversarial_examples_show_the_perturbation_between_the_images(tmp_path, captured):
    originals, labels = digits(3)
    adversarial = np.clip(originals + 2 * np.sign(np.random.default_rng(2).standard_normal(
        originals.shape)), 0, 16)
    gradient_figures.plot_adversarial_examples(originals, adversarial, labels, labels,
                                               (labels + 1) % 10, 2, tmp_path / "examples.png")
    axes = captured[0].axes                                  # row by row: 3 samples each
    np.testing.assert_array_equal(axes[3].images[0].get_array(),
                                  (adversarial[0] - originals[0]).reshape(8, 8))
    assert axes[3].images[0].get_clim() == (-2, 2)
    assert axes[0].title.get_color() == "black" and axes[6].title.get_color() == "red"


def routed():
    rng = np.random.default_rng(0)
    return Network([Dense(4, 8, activation="relu", rng=rng), MaxPool(2),
                    Dense(4, 6, activation="tanh", rng=rng), Dropout(0.5, rng=1), AvgPool(2),
                    Dense(3, 3, activation="identity", rng=rng)],
                   loss="softmax_cross_entropy"), rng.standard_normal((6, 4)), np.arange(6) % 3


def test_routing_counts_the_units_that_got_no_gradient(tmp_path, captured):
    net, X, y = routed()
    gradient_figures.plot_routing(net, X, y, tmp_path / "routing.png", sample=2)
    read_png(tmp_path / "routing.png")
    graph, *batches = captured[0].axes[:4]
    texts = [text.get_text() for text in graph.texts]
    dropped = int((~net.layers[3].mask[:, 2]).sum())
    assert "$\\partial J/\\partial h_{1}$\n4 of 8 got 0" in texts      # max-pool's losers
    assert f"$\\partial J/\\partial h_{{3}}$\n{dropped} of 6 got 0" in texts
    assert "$\\partial J/\\partial h_{4}$\n0 of 6 got 0" in texts      # avg-pool shares
    assert "MaxPool(2)\nall to the winner" in texts
    np.testing.assert_array_equal(batches[0].images[0].get_array(), net.layers[1].grad_h_prev)
    assert "50% exactly 0" in batches[0].get_title()


def test_routing_refuses_what_it_cannot_draw(tmp_path):
    net, X, y = routed()
    with pytest.raises(ValueError, match=r"sample must be one of 0..5 \(the batch has 6"):
        gradient_figures.plot_routing(net, X, y, tmp_path / "r.png", sample=6)
    with pytest.raises(ValueError, match="needs a network with a MaxPool, AvgPool or Dropout"):
        gradient_figures.plot_routing(build_network([4, 5, 3], rng=0), X, y, tmp_path / "r.png")
    with pytest.raises(ValueError, match="a layer of 40 units is more than 32"):
        gradient_figures.plot_routing(Network([Dense(4, 40), MaxPool(2), Dense(20, 3)]), X,
                                      np.ones((6, 3)), tmp_path / "r.png")
    assert not list(tmp_path.iterdir())


def test_figures_refuse_mismatched_rows_and_images_that_are_not_square(tmp_path):
    images, labels = digits(3)
    with pytest.raises(ValueError, match=r"one row per sample .* images \(3\), maps \(2\)"):
        gradient_figures.plot_saliency(images, images[:2], labels, labels, tmp_path / "s.png")
    with pytest.raises(ValueError, match="63 features are not a square image"):
        gradient_figures.plot_saliency(images[:, :63], images[:, :63], labels, labels,
                                       tmp_path / "s.png")
    with pytest.raises(ValueError, match="nothing to plot"):
        gradient_figures.plot_fgsm_accuracy([], tmp_path / "f.png")
    with pytest.raises(ValueError, match="not an image format"):
        gradient_figures.plot_fgsm_accuracy([{"epsilon": 0, "accuracy": 1}], tmp_path / "f.txt")
    assert not list(tmp_path.iterdir())
