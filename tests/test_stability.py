"""The ODE view: a residual stack is forward Euler, its backward pass the discrete adjoint.

Oracles: the adjoint recursion g_{l−1} = g_l + τ J_F(h_{l−1})ᵀ g_l written out here with an
explicit Jacobian, plain powers of (I + τA)ᵀ, finite differences (gradcheck) and PyTorch.
"""

import json
import math

import numpy as np
import pytest

from backprop_edu import Dense, Network, Residual, gradcheck
from backprop_edu.euler import EulerStep
from backprop_edu.stability import (MAX_DEPTH, adjoint_pass, euler_stack, linear_problem,
                                    measured_growth, recurrent_experiment, residual_stack,
                                    stability_experiment)


# -- the Euler-step layer -------------------------------------------------------

def adjoint_by_hand(Ws, bs, tau, h_0, g_L):
    """h_l = h_{l−1} + τ tanh(W_l h_{l−1} + b_l) forward, then g_{l−1} = g_l + τ J_Fᵀ g_l with
    the Jacobian J_F = diag(1 − tanh²(a_l)) W_l built as a matrix (one sample)."""
    hs = [h_0]
    for W, b in zip(Ws, bs):
        hs.append(hs[-1] + tau * np.tanh(W @ hs[-1] + b))
    grads = [g_L]
    for W, b, h in zip(Ws[::-1], bs[::-1], hs[-2::-1]):
        J_F = np.diag(1 - np.tanh(W @ h + b) ** 2) @ W     # ∂F/∂h at h_{l−1}
        grads.append(grads[-1] + tau * J_F.T @ grads[-1])  # the discrete adjoint equation
    return hs, grads[::-1]


def test_euler_step_backward_is_the_discrete_adjoint_recursion():
    rng = np.random.default_rng(0)
    n, depth, tau = 5, 6, 0.3
    layers = [EulerStep(n, tau=tau, rng=l) for l in range(depth)]
    for layer in layers:
        layer.b[:] = rng.standard_normal(n)
    net = Network(layers, loss="half_mse")
    h_0, g_L = rng.standard_normal((n, 1)), rng.standard_normal((n, 1))
    grads = adjoint_pass(net, h_0, g_L)
    hs, expected = adjoint_by_hand([l.W for l in layers], [l.b for l in layers], tau,
                                   h_0[:, 0], g_L[:, 0])
    assert np.allclose(net.output[:, 0], hs[-1], rtol=1e-13, atol=1e-14)
    assert np.allclose(grads[-1][:, 0], g_L[:, 0], rtol=1e-12, atol=1e-13)
    for got, want in zip(grads, expected):
        assert np.allclose(got[:, 0], want, rtol=1e-12, atol=1e-13)
    for layer in layers:
        parts = layer.grad_h_prev_parts
        assert np.array_equal(parts["identity"] + parts["branch"], layer.grad_h_prev)


def test_euler_step_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    net = Network([Dense(3, 4, activation="tanh", rng=0), EulerStep(4, tau=0.7, rng=1),
                   EulerStep(4, tau=0.2, activation="sigmoid", rng=2),
                   Dense(4, 2, activation="identity", rng=3)], loss="half_mse")
    report = gradcheck(net, rng.standard_normal((6, 3)), rng.standard_normal((6, 2)))
    assert report.ok()


def test_euler_step_gradients_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    rng = np.random.default_rng(2)
    tau, n, m = 0.4, 4, 5
    net = Network([EulerStep(n, tau=tau, rng=l) for l in range(3)], loss="half_mse")
    X, Y = rng.standard_normal((m, n)), rng.standard_normal((m, n))
    net.forward(X)
    net.backward(Y, input_gradient=True)
    Ws = [torch.tensor(layer.W, requires_grad=True) for layer in net.layers]
    x = torch.tensor(X, requires_grad=True)
    h = x
    for W in Ws:
        h = h + tau * torch.tanh(h @ W.T)
    (0.5 * ((h - torch.tensor(Y)) ** 2).sum(dim=1).mean()).backward()
    for layer, W in zip(net.layers, Ws):
        assert np.allclose(layer.grad_W, W.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(net.grad_X, x.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_a_residual_block_with_w_tau_a_is_the_euler_step_of_a():
    rng = np.random.default_rng(3)
    A, tau = rng.standard_normal((4, 4)), 0.25
    euler = EulerStep(4, tau=tau, activation="identity", rng=0)
    euler.W[...] = A
    block = Residual(4, activation="identity", rng=0)
    block.W[...] = tau * A
    h, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert np.allclose(euler.forward(h), h + tau * A @ h, rtol=1e-14)
    assert np.allclose(block.forward(h), h + tau * A @ h, rtol=1e-14)
    assert np.allclose(euler.backward(g), g + tau * A.T @ g, rtol=1e-14)
    assert np.allclose(block.backward(g), g + tau * A.T @ g, rtol=1e-14)


def test_euler_step_config_rebuilds_it_and_saving_round_trips(tmp_path):
    step = EulerStep(3, tau=0.5, activation="tanh", rng=0)
    config = step.config()
    assert config == {"type": "EulerStep", "width": 3, "tau": 0.5, "activation": "tanh",
                      "init": "xavier", "dtype": "float64"}
    net = Network([step, Dense(3, 1, activation="identity", rng=1)], loss="half_mse")
    again = Network.load(net.save(tmp_path / "euler"), layers={"EulerStep": EulerStep})
    X = np.random.default_rng(4).standard_normal((5, 3))
    assert again.layers[0].tau == 0.5
    assert np.array_equal(again.forward(X), net.forward(X))


@pytest.mark.parametrize("tau", [0, -0.1, float("nan"), float("inf")])
def test_a_step_size_that_is_not_positive_and_finite_is_refused(tau):
    with pytest.raises(ValueError, match="tau .*positive finite"):
        EulerStep(2, tau=tau)


def test_a_step_size_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="tau .*number"):
        EulerStep(2, tau="0.1")


# -- the linear problem ---------------------------------------------------------

def test_a_is_real_block_diagonal_with_the_given_eigenvalues_and_their_conjugates():
    A, V, eigenvalues = linear_problem([-0.5, -1 + 2j, -1 - 2j, 3j, 0.25])
    assert eigenvalues == [-0.5, -1 + 2j, 3j, 0.25]       # -1-2j is -1+2j's block
    assert A.dtype == np.float64 and A.shape == (6, 6)
    expected = sorted([-0.5, -1 + 2j, -1 - 2j, 3j, -3j, 0.25], key=lambda z: (z.real, z.imag))
    got = sorted(np.linalg.eigvals(A), key=lambda z: (round(z.real, 9), round(z.imag, 9)))
    assert np.allclose(got, expected, atol=1e-12)
    assert np.allclose(np.linalg.norm(V, axis=0), 1)
    for j, eigenvalue in enumerate(eigenvalues):    # V's column j stays in λ's block ...
        v = V[:, j]
        outside = v == 0
        assert not (A.T @ v)[outside].any()
        # ... where one step of (I + τA)ᵀ multiplies its norm by |1 + τλ|
        assert np.linalg.norm(v + 0.3 * A.T @ v) == pytest.approx(abs(1 + 0.3 * eigenvalue),
                                                                  rel=1e-14)


def test_every_linear_record_agrees_with_one_plus_tau_lambda_and_an_independent_recursion():
    result = stability_experiment(eigenvalues=[-0.5, -1 + 2j, -4, 0.3, 2j], taus=[0.1, 0.3, 0.6],
                                  depth=30, nonlinear=False)
    json.dumps(result, allow_nan=False)
    records = result["records"]
    assert len(records) == 15
    A = np.array(result["settings"]["A"])
    for record in records:
        tau, (re, im) = record["tau"], record["eigenvalue"]
        assert record["predicted_growth"] == pytest.approx(math.hypot(1 + tau * re, tau * im),
                                                           rel=1e-15)
        assert abs(record["measured_growth"] - record["predicted_growth"]) < 1e-8
        assert record["steps_measured"] == 30
        assert record["stable"] == (record["predicted_growth"] <= 1)
        # the adjoint recursion g ← (I + τA)ᵀ g, from a unit vector in λ's block
        k = [i for i, z in enumerate(result["settings"]["eigenvalues"]) if z == [re, im]][0]
        start = sum(1 if z[1] == 0 else 2 for z in result["settings"]["eigenvalues"][:k])
        g = np.zeros(len(A))
        g[start:start + (1 if im == 0 else 2)] = 1
        g /= np.linalg.norm(g)
        norms = [1.0]
        for _ in range(30):
            g = g + tau * A.T @ g
            norms.append(np.linalg.norm(g))
        assert np.allclose(record["grad_norms"], norms[::-1], rtol=1e-12)


def test_the_residual_stack_hands_down_exactly_powers_of_i_plus_tau_a_transposed():
    A, V, _ = linear_problem([-0.5, 1 + 1j])
    net = residual_stack(A, 0.4, 5)
    assert all(type(layer) is Residual for layer in net.layers)
    grads = adjoint_pass(net, np.zeros_like(V), V)
    assert np.array_equal(grads[-1], V)                      # ∂J/∂h_L is exactly g_L
    step = (np.eye(3) + 0.4 * A).T
    for l in range(5, -1, -1):
        assert np.allclose(grads[l], np.linalg.matrix_power(step, 5 - l) @ V, rtol=1e-13)


def test_growth_is_measured_until_the_norm_overflows_and_a_zero_step_is_zero():
    result = stability_experiment(eigenvalues=[-30, -1], taus=[1.0], depth=400, nonlinear=False)
    exploding, zero = result["records"]
    assert exploding["predicted_growth"] == 29 and exploding["stable"] is False
    assert 90 < exploding["steps_measured"] < 110           # ‖g‖² overflows past 29^105
    assert exploding["measured_growth"] == pytest.approx(29, abs=1e-8)
    assert exploding["grad_norms"][0] is None                       # inf → null in JSON
    assert zero["predicted_growth"] == 0 and zero["measured_growth"] == 0
    assert measured_growth(np.array([np.inf, 1.0])) == (None, 0)
    assert measured_growth(np.array([0.5, 2.0, 1.0])) == (pytest.approx(math.sqrt(0.5)), 2)


def test_the_nonlinear_run_follows_the_prediction_only_near_the_fixed_point():
    result = stability_experiment(eigenvalues=[-0.5, -1 + 2j, -4], taus=[0.1, 0.6], depth=40)
    stable, unstable = result["nonlinear"]
    assert stable["asymptotic"] is True and stable["stable"] is True
    assert stable["eigenvalue"] == [-0.5, 0.0]                # the mode that decays slowest
    assert stable["measured_growth"] == pytest.approx(stable["predicted_growth"], rel=1e-3)
    assert unstable["eigenvalue"] == [-4.0, 0.0] and unstable["predicted_growth"] == \
        pytest.approx(1.4)
    assert unstable["measured_growth"] < 1.2                  # tanh saturates: less growth


def test_the_nonlinear_stack_is_made_of_euler_steps_sharing_nothing():
    W = np.eye(2)
    net = euler_stack(W, 0.5, 3)
    assert all(type(layer) is EulerStep and layer.tau == 0.5 for layer in net.layers)
    assert len(net.parameters()) == 6


@pytest.mark.parametrize("kwargs, error, match", [
    ({"taus": [0.1, 0]}, ValueError, "tau .*positive"),
    ({"taus": [float("nan")]}, ValueError, "tau .*positive finite"),
    ({"eigenvalues": ["-1+2j"]}, TypeError, "eigenvalues must be numbers"),
    ({"eigenvalues": [complex(1, float("inf"))]}, ValueError, "finite"),
    ({"eigenvalues": []}, ValueError, "at least one eigenvalue"),
    ({"depth": MAX_DEPTH + 1}, ValueError, "depth must lie between 1 and 1,000"),
    ({"depth": 0}, ValueError, "depth"),
    ({"eigenvalues": [1j] * 101}, ValueError, "at most 200"),
    ({"eigenvalues": [1j] * 80, "depth": 1000}, ValueError, "at most 20,000,000 weights"),
])
def test_bad_settings_are_refused_with_one_line(kwargs, error, match):
    with pytest.raises(error, match=match) as caught:
        stability_experiment(**kwargs)
    assert "\n" not in str(caught.value)


# -- backpropagation through time -------------------------------------------------

def test_a_shared_w_gets_the_sum_of_the_steps_gradients():
    result = recurrent_experiment(steps=6, spectral_radii=[0.9], width=4, batch_size=3)
    run = result["runs"][0]
    assert len(run["grad_W_parts"]) == 6 and len(run["grad_h_norms"]) == 7
    from backprop_edu.stability import random_rotation, recurrent_network
    rng = np.random.default_rng(0)
    W = 0.9 * random_rotation(4, rng)
    net = recurrent_network(W, np.zeros(4), 6, 4, rng=rng)
    names = [parameter.name for parameter in net.parameters()]
    assert names == ["W_1", "b_1", "W_7", "b_7"]          # W and b listed once
    net.forward(rng.standard_normal((3, 4)))
    net.backward(rng.standard_normal((3, 4)))
    shared = net.parameters()[0]
    assert np.allclose(shared.grad, sum(layer.grad_W for layer in net.layers[:6]), rtol=1e-14)


def test_bptt_matches_pytorch_for_the_shared_w_and_every_hidden_state():
    torch = pytest.importorskip("torch", reason="PyTorch (the gradient oracle) is not installed")
    from backprop_edu.stability import random_rotation, recurrent_network
    rng = np.random.default_rng(5)
    T, n, m = 8, 5, 4
    W, b = 1.3 * random_rotation(n, rng), rng.standard_normal(n) * 0.1
    net = recurrent_network(W, b, T, 2, rng=rng)
    X, Y = rng.standard_normal((m, n)), rng.standard_normal((m, 2))
    net.forward(X)
    J = net.backward(Y, input_gradient=True)

    W_t, b_t = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = net.layers[-1]
    V, c = torch.tensor(out.W, requires_grad=True), torch.tensor(out.b, requires_grad=True)
    hs = [torch.tensor(X, requires_grad=True)]
    for _ in range(T):
        hs.append(torch.tanh(hs[-1] @ W_t.T + b_t))       # the same W_t at every step
        hs[-1].retain_grad()
    J_t = 0.5 * ((hs[-1] @ V.T + c - torch.tensor(Y)) ** 2).sum(dim=1).mean()
    J_t.backward()
    assert J == pytest.approx(J_t.item(), rel=1e-13)
    W_param, b_param = net.parameters()[:2]
    assert np.allclose(W_param.grad, W_t.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.allclose(b_param.grad, b_t.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.allclose(out.grad_W, V.grad.numpy(), rtol=1e-12, atol=1e-15)
    for t in range(T):                   # ∂J/∂h_t per sample = m × torch's (J is a mean)
        assert np.allclose(net.layers[t].grad_h_prev.T, m * hs[t].grad.numpy(),
                           rtol=1e-12, atol=1e-15)


def test_the_hidden_gradient_vanishes_below_radius_one_and_explodes_above_in_a_linear_rnn():
    result = recurrent_experiment(steps=30, spectral_radii=[0.8, 1.0, 1.25], width=6,
                                  activation="identity")
    for run in result["runs"]:
        rho = run["spectral_radius"]
        assert run["measured_growth"] == pytest.approx(rho, rel=1e-10)
        assert np.allclose(run["grad_h_norms"], run["bound"], rtol=1e-10)
    first = [run["grad_h_norms"][0] / run["grad_h_norms"][-1] for run in result["runs"]]
    assert first[0] < 1e-2 and first[1] == pytest.approx(1) and first[2] > 1e2


def test_with_tanh_the_hidden_gradient_stays_under_the_bound():
    result = recurrent_experiment(steps=50, spectral_radii=[0.9, 2.0], width=16)
    for run in result["runs"]:
        assert all(g <= bound * (1 + 1e-12) for g, bound in zip(run["grad_h_norms"],
                                                                 run["bound"]))
    vanishing, exploding = result["runs"]
    assert vanishing["grad_h_norms"][0] < 0.1 * vanishing["grad_h_norms"][-1]
    assert exploding["grad_h_norms"][0] > 10 * exploding["grad_h_norms"][-1]
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": MAX_DEPTH + 1}, "steps .T. must lie between 1 and 1,000"),
    ({"spectral_radii": [0.9, -1]}, "positive finite"),
    ({"spectral_radii": [float("inf")]}, "positive finite"),
    ({"width": 0}, "width"),
    ({"steps": 1000, "width": 200, "batch_size": 100}, "at most 10,000,000 activations"),
])
def test_bad_recurrent_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        recurrent_experiment(**kwargs)


# -- the figures --------------------------------------------------------------------

@pytest.fixture
def drawn(monkeypatch):
    """The figures stability_plots draws (still written to disk), kept for inspection."""
    from backprop_edu import stability_plots

    figures = []
    write = stability_plots.save_figure

    def keep(fig, path, dpi=100):
        figures.append(fig)
        write(fig, path, dpi)
    monkeypatch.setattr(stability_plots, "save_figure", keep)
    return figures


def test_the_stability_figure_draws_every_run_and_marks_every_tau_lambda(tmp_path, drawn):
    from backprop_edu.stability_plots import plot_stability

    result = json.loads(json.dumps(stability_experiment(eigenvalues=[-0.5, -1 + 2j],
                                                        taus=[0.1, 1.5], depth=10)))
    path = tmp_path / "stability.png"
    plot_stability(result, path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    panel, _, region = drawn[0].axes[:3]
    curves = [line.get_ydata() for line in panel.get_lines() if len(line.get_ydata()) == 11]
    for record in result["records"][:2]:             # τ = 0.1: both eigenvalues, and tanh
        assert any(np.allclose(curve, record["grad_norms"]) for curve in curves)
    assert any(np.allclose(curve, result["nonlinear"][0]["grad_norms"]) for curve in curves)
    points = [(float(line.get_xdata()[0]), float(line.get_ydata()[0]), line.get_marker())
              for line in region.get_lines() if len(line.get_xdata()) == 1]
    for record in result["records"]:
        tau, (re, im) = record["tau"], record["eigenvalue"]
        marker = "o" if record["stable"] else "X"
        assert (pytest.approx(tau * re), pytest.approx(tau * im), marker) in points


def test_the_recurrent_figure_draws_each_radius(tmp_path, drawn):
    from backprop_edu.stability_plots import plot_recurrent

    result = recurrent_experiment(steps=12, spectral_radii=[0.5, 2.0], width=4)
    plot_recurrent(result, tmp_path / "bptt.svg")
    assert (tmp_path / "bptt.svg").read_text().lstrip().startswith("<?xml")
    curves = [line.get_ydata() for line in drawn[0].axes[0].get_lines()]
    for run in result["runs"]:
        assert any(np.allclose(curve, run["grad_h_norms"]) for curve in curves
                   if len(curve) == 13)


def test_a_bad_figure_path_is_refused_before_drawing_and_writes_nothing(tmp_path):
    from backprop_edu.stability_plots import plot_recurrent, plot_stability

    with pytest.raises(ValueError, match="use a name ending in .png"):
        plot_stability({"settings": {}, "records": []}, tmp_path / "figure.txt")
    with pytest.raises(ValueError, match="does not exist"):
        plot_recurrent({"settings": {}, "runs": []}, tmp_path / "missing" / "bptt.png")
    assert list(tmp_path.iterdir()) == []
