"""The computational graph (`backprop-edu graph`): its numbers against the hand calculation and
finite differences, its edges against the equations, its figure against overlapping labels."""

import json
import os
from fractions import Fraction as F

import numpy as np
import pytest

from backprop_edu import Network, build_network
from backprop_edu.example import example_network
from backprop_edu.graph import (MAX_UNITS, check_drawable, computational_graph,
                                residual_network, tied_network)
from conftest import read_image, run as run_cli


def run(*args):
    return run_cli("graph", *args)


def nodes(graph):
    return {node["id"]: node for node in graph["nodes"]}


def as_fractions(value):
    if isinstance(value, list):
        return [as_fractions(entry) for entry in value]
    return F(value)


# -- the numbers ------------------------------------------------------------------------

# (node, "value" or "grad") -> the textbook's worked example, by hand
HAND = {
    ("x", "value"): [F(2), F(-1)],
    ("a_1", "value"): [F(3), F(-2)],
    ("h_1", "value"): [F(3), F(0)],
    ("y_hat", "value"): F(7, 2),
    ("J", "value"): F(25, 8),
    ("a_2", "grad"): F(5, 2),                            # δ⁽²⁾, BP1
    ("W_2", "grad"): [[F(15, 2), F(0)]],                 # BP3
    ("b_2", "grad"): F(5, 2),                            # BP4
    ("h_1", "grad"): [F(5, 2), F(-5)],                   # ∂J/∂h1 = W2ᵀ δ⁽²⁾
    ("a_1", "grad"): [F(5, 2), F(0)],                    # δ⁽¹⁾, BP2
    ("W_1", "grad"): [[F(5), F(-5, 2)], [F(0), F(0)]],   # BP3
    ("b_1", "grad"): [F(5, 2), F(0)],                    # BP4
    ("y_hat", "grad"): F(5, 2),                          # ∂J/∂ŷ = ŷ − y
}


def test_the_json_numbers_are_the_worked_example_exactly():
    result = run("--json", "-")
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    found = nodes(graph)
    for (node, field), expected in HAND.items():
        assert as_fractions(found[node][field]) == expected, (node, field)
    assert found["W_1"]["grad_exact"] == [["5", "-5/2"], ["0", "0"]]
    assert found["a_1"]["grad_symbol"] == "δ⁽¹⁾"
    assert graph["J"] == 3.125 and graph["x"] == [2, -1] and graph["y"] == 1
    assert set(found) == {"x", "W_1", "b_1", "a_1", "h_1", "W_2", "b_2", "a_2", "y_hat", "J"}


def test_every_number_is_read_from_the_network_itself():
    net = example_network("sigmoid")
    graph = computational_graph(net, (1.5, -0.5), 0.25)
    hidden, output = net.layers
    found = nodes(graph)
    np.testing.assert_array_equal(found["W_1"]["grad"], hidden.grad_W)
    np.testing.assert_array_equal(found["a_1"]["grad"], hidden.delta[:, 0])
    np.testing.assert_array_equal(found["h_1"]["grad"], output.grad_h_prev[:, 0])
    np.testing.assert_array_equal(found["x"]["grad"], hidden.grad_h_prev[:, 0])
    assert found["W_1"]["grad_source"] == "net.parameters()[0].grad"
    assert found["a_1"]["grad_source"] == "net.layers[0].delta"


def test_every_backward_edge_is_named_after_its_equation():
    graph = computational_graph(example_network())
    backward = {(e["from"], e["to"]): e["equation"] for e in graph["edges"]
                if e["direction"] == "backward"}
    assert backward == {("J", "y_hat"): "loss", ("y_hat", "a_2"): "BP1",
                        ("a_2", "W_2"): "BP3", ("a_2", "b_2"): "BP4",
                        ("a_2", "h_1"): "hand-down", ("h_1", "a_1"): "BP2",
                        ("a_1", "W_1"): "BP3", ("a_1", "b_1"): "BP4", ("a_1", "x"): "hand-down"}
    forward = {(e["from"], e["to"]) for e in graph["edges"] if e["direction"] == "forward"}
    assert forward == {(v, u) for u, v in backward}


def test_zeros_from_relu_prime_are_marked_and_no_others():
    found = nodes(computational_graph(example_network()))
    # a1 = (3, −2): unit 2 is off, so δ⁽¹⁾_2, ∇b1_2 and row 2 of ∇W1 are 0 because relu′ = 0
    assert found["a_1"]["zero_from_phi_prime"] == [False, True]
    assert found["b_1"]["zero_from_phi_prime"] == [False, True]
    assert found["W_1"]["zero_from_phi_prime"] == [[False, False], [True, True]]
    # ∇W2 = [[15/2, 0]] has a 0 too, but it comes from h1_2 = 0, not from a φ′ of layer 2
    assert found["W_2"]["zero_from_phi_prime"] is None
    assert found["h_1"]["zero_from_phi_prime"] is None


def J_of(net, X, Y):
    return net.compute_loss(X, Y)


def test_the_tied_w_sums_both_uses_and_the_sum_matches_finite_differences():
    net = tied_network()
    x = np.array([2.0, -1.0])
    found = nodes(computational_graph(net, x, x))
    W = found["W_1"]
    assert [part["via"] for part in W["parts"]] == ["a_1", "a_2"]
    encoder_part, decoder_part = (np.array(part["grad"]) for part in W["parts"])
    np.testing.assert_array_equal(encoder_part + decoder_part, W["grad"])
    assert W["grad"] == [[8, -7], [0, 0]]   # [[5, −5/2], [0, 0]] + [[3, −9/2], [0, 0]]
    X = x[None]
    shared = net.layers[0].W             # the one array both layers use
    numeric = np.zeros_like(shared)
    eps = 1e-6
    for index in np.ndindex(shared.shape):
        saved = shared[index]
        shared[index] = saved + eps
        up = J_of(net, X, X)
        shared[index] = saved - eps
        down = J_of(net, X, X)
        shared[index] = saved
        numeric[index] = (up - down) / (2 * eps)
    np.testing.assert_allclose(W["grad"], numeric, rtol=1e-7, atol=1e-8)
    assert not np.allclose(encoder_part, numeric)  # one use alone is not the gradient


def test_the_residual_input_sums_both_paths_and_the_sum_matches_finite_differences():
    net = residual_network()
    found = nodes(computational_graph(net, (2, -1), 1))
    h1 = found["h_1"]
    identity, branch = (np.array(part["grad"]) for part in h1["parts"])
    assert [part["equation"] for part in h1["parts"]] == ["identity", "hand-down"]
    assert identity.tolist() == [4, -8] and branch.tolist() == [2, 4] and h1["grad"] == [6, -4]
    above = Network(net.layers[1:], loss="half_mse")   # J as a function of h1
    h = np.array(h1["value"])
    numeric = []
    for i in range(2):
        step = np.zeros(2)
        step[i] = 1e-6
        numeric.append((J_of(above, (h + step)[None], [[1.0]]) -
                        J_of(above, (h - step)[None], [[1.0]])) / 2e-6)
    np.testing.assert_allclose(h1["grad"], numeric, rtol=1e-7)
    assert found["phi_2"]["grad"] == identity.tolist()  # the sum hands ∂J/∂h2 to both paths


def test_a_saved_tied_network_is_drawn_with_its_sum(tmp_path):
    path = tied_network().save(tmp_path / "tied.npz")
    result = run("--model", path, "--y", "2,-1", "--json", "-")
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    assert graph["sums"] == ["W_1"]
    assert nodes(graph)["W_1"]["grad"] == [[8, -7], [0, 0]]


def test_softmax_models_take_a_class_index(tmp_path):
    path = build_network([3, 4, 2], loss="softmax_cross_entropy", rng=0).save(tmp_path / "m")
    graph = json.loads(run("--model", path, "--x", "1,2,3", "--y", "1", "--json", "-").output)
    assert graph["y"] == 1 and graph["loss"] == "softmax_cross_entropy"
    result = run("--model", path, "--x", "1,2,3", "--y", "2")
    assert result.exit_code != 0 and "an integer from 0 to 1" in result.output


# -- the figure -------------------------------------------------------------------------

def overlaps(fig):
    """Pairs of texts (node titles, bodies, edge labels, legend, title) whose boxes overlap,
    and edge labels that overlap a node's box."""
    from matplotlib.text import Text
    from matplotlib.patches import FancyBboxPatch

    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    texts = [t for t in ax.findobj(Text) if t.get_text() and t.get_visible()]
    extents = [t.get_window_extent(renderer).shrunk(0.98, 0.9) for t in texts]
    found = [(texts[i].get_text(), texts[j].get_text())
             for i in range(len(texts)) for j in range(i + 1, len(texts))
             if extents[i].overlaps(extents[j])]
    boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    labels = [(t, e) for t, e in zip(texts, extents) if t.get_bbox_patch() is not None]
    found += [(t.get_text(), "a node") for t, e in labels if any(e.overlaps(b) for b in boxes)]
    return found


@pytest.mark.parametrize("net, x, y", [(example_network(), (2, -1), 1),
                                       (tied_network(), (2, -1), (2, -1)),
                                       (residual_network(), (2, -1), 1)])
def test_no_label_overlaps_another_or_a_node(net, x, y):
    from backprop_edu.graph_figure import draw_graph

    fig = draw_graph(computational_graph(net, x, y))
    try:
        assert overlaps(fig) == []
    finally:
        import matplotlib.pyplot as plt
        plt.close(fig)


def test_the_figure_shows_the_numbers_equations_and_sums():
    from backprop_edu.graph_figure import draw_graph
    from matplotlib.text import Text

    fig = draw_graph(computational_graph(tied_network(), (2, -1), (2, -1)))
    text = "\n".join(t.get_text() for t in fig.axes[0].findobj(Text))
    import matplotlib.pyplot as plt
    plt.close(fig)
    for expected in ["BP1", "BP3", "BP4", "W₁ᵀ δ⁽¹⁾", "from a₁", "from a₂", "Σ ∇W₁",
                     "[ 8  -7 ]", "0*", "Σ: the gradients of 2 paths add", "J = 13/8"]:
        assert expected in text, expected


@pytest.mark.parametrize("extension", ["png", "svg", "pdf"])
def test_cli_writes_the_figure_in_each_format(tmp_path, extension):
    path = tmp_path / f"graph.{extension}"
    result = run("--residual", "-o", path)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"wrote {path}\n")
    head = path.read_bytes()[:5]
    assert {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF-"}[extension] in head
    if extension == "png":
        image = read_image(path)
        assert image.shape[1] > 1000 and image.shape[0] > 400


def test_cli_prints_every_node_and_the_sums(tmp_path):
    result = run("--tied", "--json", tmp_path / "g.json")
    assert result.exit_code == 0, result.output
    assert "∇W₁ = [[8, -7], [0, 0]]" in result.output
    assert "from a₁: [[5, -5/2], [0*, 0*]]" in result.output
    assert "(the gradients of 2 paths add)" in result.output
    written = json.loads((tmp_path / "g.json").read_text())
    assert written["sums"] == ["W_1"]
    assert os.listdir(tmp_path) == ["g.json"]


# -- bad input --------------------------------------------------------------------------

def test_networks_too_wide_or_of_other_layers_are_refused_naming_the_limit(tmp_path):
    with pytest.raises(ValueError, match=f"at most {MAX_UNITS} units"):
        check_drawable(build_network([2, 9, 1], rng=0))
    path = build_network([10, 4, 2], rng=0).save(tmp_path / "wide.npz")
    result = run("--model", path, "-o", tmp_path / "wide.png", "--json", tmp_path / "w.json")
    assert result.exit_code == 1
    assert result.output == ("Error: layer 1 has 10 units; the graph draws layers of at most 8 "
                             "units (inputs and outputs), so that every number fits on its node\n")
    assert sorted(os.listdir(tmp_path)) == ["wide.npz"]


@pytest.mark.parametrize("args, message", [
    (["--activation", "swish"], "unknown activation 'swish'"),
    (["--model", "{dir}/missing.npz"], "no such file"),
    (["--model", "{dir}/notes.npz"], "is not a saved backprop-edu network"),
    (["--tied", "--residual"], "--tied and --residual draw two different networks"),
    (["--tied", "--y", "1"], "target is its input x"),
    (["--model", "{dir}/notes.npz", "--tied"], "leave out --tied"),
    (["--x", "1,2,3"], "--x needs 2 comma-separated numbers"),
    (["--y", "x"], "--y value 'x' is not a finite number"),
    (["--x", "1e200,1e200"], "the numbers overflow float64"),
    (["-o", "{dir}/graph.txt"], "an image format matplotlib can write"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    (tmp_path / "notes.npz").write_text("not a network")
    args = [arg.format(dir=tmp_path) for arg in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "graph.png")]
    result = run(*args, "--json", tmp_path / "graph.json")
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(os.listdir(tmp_path)) == ["notes.npz"]
