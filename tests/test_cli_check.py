"""`backprop-edu gradcheck`: the per-layer table, the exit code, bad input."""

import json
import re

from conftest import run


def errors_in_table(output):
    """The (max rel err W, max rel err b) pairs of every table row."""
    return [(float(w), float(b)) for w, b in
            re.findall(r"^\s+\d+\s+\d+×\d+\s+(\S+)\s+(\S+)\s+\d+$", output, flags=re.M)]


def test_gradcheck_reports_every_layer_below_tolerance():
    result = run("gradcheck", "--layers", "3,6,6,2", "--activation", "sigmoid")
    assert result.exit_code == 0, result.output
    errors = errors_in_table(result.output)
    assert len(errors) == 3
    assert all(0 < w < 1e-6 and b < 1e-6 for w, b in errors)
    assert "6×3" in result.output and "2×6" in result.output
    assert "OK: every error is below --tol 1e-06" in result.output


def test_gradcheck_checks_residual_blocks_and_half_mse():
    result = run("gradcheck", "--layers", "3,5,5,1", "--loss", "half_mse",
                                       "--residual", "--activation", "relu")
    assert result.exit_code == 0, result.output
    assert "Residual(5, activation='relu')" in result.output
    assert len(errors_in_table(result.output)) == 3


def test_gradcheck_exits_1_when_an_error_exceeds_the_tolerance():
    result = run("gradcheck", "--tol", "1e-15")
    assert result.exit_code == 1
    assert "FAIL: an error exceeds --tol 1e-15" in result.output


def test_gradcheck_refuses_bad_layers_in_one_line():
    result = run("gradcheck", "--layers", "4,,3")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "empty width" in result.output
    result = run("gradcheck", "--layers", "4,8,1")
    assert result.exit_code == 2 and "needs at least 2 outputs" in result.output
    result = run("gradcheck", "--eps", "inf")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "'--eps': inf is not in the range x>0 (a finite number)." in result.output


def test_gradcheck_json_follows_the_convention_of_every_command(tmp_path):
    printed = run("gradcheck", "--json", "-")
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.output)
    assert data["ok"] is True and data["tol"] == 1e-6 and data["samples"] == 8
    assert [layer["shape"] for layer in data["layers"]] == [[8, 4], [8, 8], [3, 8]]
    assert data["max_error"] == max(max(layer["max_error_W"], layer["max_error_b"])
                                    for layer in data["layers"])
    path = tmp_path / "check.json"
    written = run("gradcheck", "--json", str(path))
    assert written.exit_code == 0 and f"wrote {path}" in written.output
    assert "OK: every error is below" in written.output
    assert json.loads(path.read_text()) == data
    failed = run("gradcheck", "--tol", "1e-15", "--json", "-")
    assert failed.exit_code == 1 and json.loads(failed.stdout)["ok"] is False
