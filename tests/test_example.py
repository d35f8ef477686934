"""The worked example (`backprop-edu example`): every quantity against the hand calculation, exactly."""

import json
import os
import subprocess
from fractions import Fraction as F

import numpy as np
import pytest

from backprop_edu.example import exact, format_value, on_kink, worked_example
from conftest import installed_command, run as run_cli

# The hand calculation (x = (2, −1), y = 1, W1 = [[1, −1], [1/2, 2]], b1 = (0, −1),
# W2 = [[1, −2]], b2 = 1/2, ReLU): every number is a dyadic fraction, so the
# floats the network computes must equal these exactly, not approximately.
HAND = {
    "a1": [F(3), F(-2)],                    # W1 x + b1 = (2 + 1 + 0, 1 − 2 − 1)
    "h1": [F(3), F(0)],                     # relu
    "y_hat": F(7, 2),                       # 1·3 − 2·0 + 1/2
    "L": F(25, 8),                          # ½ (7/2 − 1)²
    "delta2": F(5, 2),                      # BP1: ŷ − y
    "grad_W2": [[F(15, 2), F(0)]],          # BP3: δ⁽²⁾ h1ᵀ
    "grad_b2": F(5, 2),                     # BP4
    "grad_h1": [F(5, 2), F(-5)],            # W2ᵀ δ⁽²⁾
    "phi_prime_a1": [F(1), F(0)],           # relu'(3), relu'(−2)
    "delta1": [F(5, 2), F(0)],              # BP2: (1, 0) ⊙ (5/2, −5)
    "grad_W1": [[F(5), F(-5, 2)], [F(0), F(0)]],  # BP3: δ⁽¹⁾ xᵀ
    "grad_b1": [F(5, 2), F(0)],             # BP4
}


def as_fractions(value):
    if isinstance(value, (np.ndarray, list)):
        return [as_fractions(entry) for entry in value]
    return F(float(value))


def run(*args):
    return run_cli("example", *args)


@pytest.mark.parametrize("key", sorted(HAND))
def test_every_quantity_equals_the_hand_calculation_exactly(key):
    example = worked_example()
    assert as_fractions(example.value(key)) == HAND[key]


def test_the_values_are_read_from_the_real_network_layers():
    example = worked_example()
    hidden, output = example.network.layers
    np.testing.assert_array_equal(hidden.grad_W, example.value("grad_W1"))
    np.testing.assert_array_equal(output.grad_h_prev[:, 0], example.value("grad_h1"))
    np.testing.assert_array_equal(hidden.delta[:, 0], example.value("delta1"))
    assert [s.key for s in example.forward] == ["a1", "h1", "y_hat", "L"]
    assert [s.equation for s in example.backward] == [
        "BP1", "BP3", "BP4", "chain", "φ'", "BP2", "BP3", "BP4"]


def test_sigmoid_matches_an_independent_hand_computation():
    example = worked_example(activation="sigmoid")
    x, y = np.array([2.0, -1.0]), 1.0
    W1, b1 = np.array([[1, -1], [0.5, 2]]), np.array([0, -1.0])
    w2, b2 = np.array([1, -2.0]), 0.5
    a1 = W1 @ x + b1
    h1 = 1 / (1 + np.exp(-a1))
    y_hat = w2 @ h1 + b2
    delta2 = y_hat - y
    delta1 = h1 * (1 - h1) * (w2 * delta2)
    assert example.value("L") == pytest.approx(0.5 * (y_hat - y) ** 2, rel=1e-14)
    np.testing.assert_allclose(example.value("grad_W2"), [delta2 * h1], rtol=1e-14)
    np.testing.assert_allclose(example.value("delta1"), delta1, rtol=1e-14)
    np.testing.assert_allclose(example.value("grad_W1"), np.outer(delta1, x), rtol=1e-14)
    assert example.value("L") != float(HAND["L"])


# φ and φ' written independently of backprop_edu.activations, as a student would by hand
PHI = {
    "identity": (lambda a: a, lambda a: np.ones_like(a)),
    "relu": (lambda a: np.maximum(a, 0), lambda a: (a > 0).astype(float)),
    "leaky_relu": (lambda a: np.where(a > 0, a, 0.01 * a), lambda a: np.where(a > 0, 1, 0.01)),
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
    "tanh": (np.tanh, lambda a: 1 / np.cosh(a) ** 2),
    "softplus": (lambda a: np.log1p(np.exp(a)), lambda a: 1 / (1 + np.exp(-a))),
}


@pytest.mark.parametrize("activation", sorted(PHI))
@pytest.mark.parametrize("x, y", [((2, -1), 1), ((0.3, 0.7), -2), ((-1.5, 4), 0.25)])
def test_every_activation_and_input_matches_the_chain_rule_by_hand(activation, x, y):
    phi, phi_prime = PHI[activation]
    x = np.array(x, dtype=float)
    W1, b1 = np.array([[1, -1], [0.5, 2]]), np.array([0, -1.0])
    w2, b2 = np.array([1, -2.0]), 0.5
    a1 = W1 @ x + b1
    y_hat = w2 @ phi(a1) + b2
    dL_dh1 = w2 * (y_hat - y)
    delta1 = phi_prime(a1) * dL_dh1
    example = worked_example(x, y, activation)
    assert example.value("y_hat") == pytest.approx(y_hat, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(example.value("grad_h1"), dL_dh1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(example.value("phi_prime_a1"), phi_prime(a1), rtol=1e-12,
                               atol=1e-12)  # 1 − tanh² loses digits near saturation
    np.testing.assert_allclose(example.value("grad_W1"), np.outer(delta1, x), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(example.value("grad_b1"), delta1, rtol=1e-12, atol=1e-12)


def test_other_x_and_y_change_the_numbers():
    # x = (1, 3), y = −2: a1 = (1 − 3, 1/2 + 6 − 1) = (−2, 11/2), h1 = (0, 11/2),
    # ŷ = −11 + 1/2 = −21/2, δ⁽²⁾ = −21/2 + 2 = −17/2, W2ᵀδ⁽²⁾ = (−17/2, 17), δ⁽¹⁾ = (0, 17)
    example = worked_example(x=(1, 3), y=-2)
    assert example.value("y_hat") == -10.5
    assert example.value("delta2") == -8.5
    np.testing.assert_array_equal(example.value("grad_W1"), [[0, 0], [17, 51]])


def test_exact_prints_fractions_only_when_the_float_is_one():
    assert exact(3.125) == "25/8"
    assert exact(-2.5) == "-5/2"
    assert exact(-0.0) == "0"
    assert exact(3.0) == "3"
    assert exact(1 / (1 + np.exp(-1))) == "0.731059"  # σ(1): no small fraction gives it back
    assert format_value(np.array([[5, -2.5], [0, 0]])) == "[[5, -5/2], [0, 0]]"
    assert format_value(np.array([2.5, 0.0])) == "(5/2, 0)"


def test_cli_prints_every_step_named_after_its_equation():
    result = run()
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    for expected in [
        "a1 = W1 x + b1 = (3, -2)",
        "h1 = φ(a1) = relu(a1) = (3, 0)",
        "ŷ = a2 = W2 h1 + b2 = 7/2",
        "L = ½(ŷ − y)² = 25/8",
        "BP1 δ⁽²⁾ = ∂L/∂a2 = ŷ − y = 5/2",
        "BP3 ∂L/∂W2 = δ⁽²⁾ h1ᵀ = [[15/2, 0]]",
        "BP4 ∂L/∂b2 = δ⁽²⁾ = 5/2",
        "∂L/∂h1 = W2ᵀ δ⁽²⁾ = (5/2, -5)",
        "φ'(a1) = relu'(a1) = (1, 0)",
        "BP2 δ⁽¹⁾ = φ'(a1) ⊙ W2ᵀ δ⁽²⁾ = (5/2, 0)",
        "BP3 ∂L/∂W1 = δ⁽¹⁾ xᵀ = [[5, -5/2], [0, 0]]",
        "BP4 ∂L/∂b1 = δ⁽¹⁾ = (5/2, 0)",
    ]:
        assert expected in lines, f"missing line {expected!r} in\n{result.output}"


def test_json_holds_the_same_numbers_as_data():
    result = run("--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    steps = {step["key"]: step for step in data["forward"] + data["backward"]}
    assert set(steps) == set(HAND)
    for key, expected in HAND.items():
        assert as_fractions(steps[key]["value"]) == expected, key
    assert steps["L"]["exact"] == "25/8"
    assert steps["grad_W1"]["exact"] == [["5", "-5/2"], ["0", "0"]]
    assert steps["delta1"]["equation"] == "BP2"
    assert data["parameters"]["W1"] == [[1, -1], [0.5, 2]]
    assert data["x"] == [2, -1] and data["y"] == 1


def test_json_path_writes_the_file_beside_the_text_and_dash_prints_it_alone(tmp_path):
    result = run("--check", "--json", tmp_path / "example.json")
    assert result.exit_code == 0, result.output
    assert "BP2" in result.output and result.output.endswith(f"wrote {tmp_path}/example.json\n")
    written = json.loads((tmp_path / "example.json").read_text())
    assert written == json.loads(run("--check", "--json", "-").output)
    assert os.listdir(tmp_path) == ["example.json"]
    result = run("--json")
    assert result.exit_code == 2 and "'--json' requires an argument" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_options_change_the_printed_numbers():
    result = run("--activation", "sigmoid", "--x", "1/2,-1", "--y", "0")
    assert result.exit_code == 0, result.output
    assert "sigmoid'(a1)" in result.output
    assert "x  = (1/2, -1)" in result.output
    assert "25/8" not in result.output


def test_check_runs_gradcheck_and_agrees():
    result = run("--check")
    assert result.exit_code == 0, result.output
    assert "max rel err W" in result.output
    assert "backprop and finite differences agree" in result.output
    data = json.loads(run("--check", "--json", "-").output)
    assert data["gradcheck"]["max_error"] < 1e-7
    assert [row["shape"] for row in data["gradcheck"]["layers"]] == [[2, 2], [1, 2]]


def test_check_on_relu_kink_explains_the_disagreement():
    # x = (1, 1): a1 = (1 − 1 + 0, 1/2 + 2 − 1) = (0, 3/2): the first unit sits on the kink
    assert on_kink(worked_example(x=(1, 1))) == [0]
    result = run("--x", "1,1", "--check")
    assert result.exit_code == 1, result.output          # a check that disagrees fails
    assert "a1_1 = 0 sits on relu's kink" in result.output
    assert "the subgradient φ'(0) = 0\n" in result.output
    leaky = run("--x", "1,1", "--activation", "leaky_relu")
    assert "the subgradient φ'(0) = 1/100\n" in leaky.output
    assert "they disagree at the kink" in result.output
    assert run("--x", "1,1", "--check", "--json", "-").exit_code == 1
    assert run("--x", "1,1").exit_code == 0              # without --check nothing is compared


@pytest.mark.parametrize("args, message", [
    (["--x", "1,2,3"], "--x needs 2 comma-separated numbers"),
    (["--x", "5"], "got 1"),
    (["--x", "a,1"], "'a' is not a finite number"),
    (["--y", "nan"], "--y 'nan' is not a finite number"),
    (["--activation", "softmax"], "unknown activation 'softmax': expected one of identity, relu"),
])
def test_bad_input_is_one_line_error(args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_installed_command_runs_as_a_subprocess():
    done = subprocess.run([installed_command(), "example", "--x=-1,2"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # x = (−1, 2): a1 = (−1 − 2, −1/2 + 4 − 1) = (−3, 5/2), h1 = (0, 5/2), ŷ = −5 + 1/2 = −9/2
    assert "ŷ = a2 = W2 h1 + b2          = -9/2" in done.stdout


def test_json_has_no_negative_zero():
    # δ⁽¹⁾_2 = relu'(−2) · (−5) is IEEE's −0: it is 0 in the data, as in the text
    data = json.loads(run("--json", "-").output)
    delta1 = next(step for step in data["backward"] if step["key"] == "delta1")
    assert delta1["value"] == [2.5, 0.0] and "-0.0" not in run("--json", "-").output
    assert delta1["exact"] == ["5/2", "0"]


def test_huge_values_are_decimals_and_an_overflow_is_a_one_line_error():
    assert exact(1e12) == "1e+12" and exact(123456) == "123456"
    result = run("--y", "1e308")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: with x = (2, -1) and y = 1e+308 the numbers overflow float64 (L = inf): "
        "choose x and y between -1e100 and 1e100"]
