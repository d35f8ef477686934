"""`backprop-edu stability` and `train --clip-norm` as a user runs them: output, files, errors."""

import json
import math
import subprocess

import numpy as np
import pytest

from conftest import assert_one_line_error, installed_command, read_image, run


def test_the_json_records_agree_with_one_plus_tau_lambda(tmp_path):
    path = tmp_path / "stability.json"
    result = run("stability", "--eigenvalues", "-0.5,-1+2j,-4,0.2,3i", "--tau", "0.1,0.3,0.6",
                 "--depth", "25", "--json", path)
    assert result.exit_code == 0, result.output
    assert f"wrote {path}" in result.output
    records = json.loads(path.read_text())["records"]
    assert len(records) == 15
    for record in records:
        tau, (re, im) = record["tau"], record["eigenvalue"]
        predicted = math.hypot(1 + tau * re, tau * im)           # |1 + τλ|, recomputed here
        assert abs(record["measured_growth"] - predicted) < 1e-8
        assert record["stable"] == (predicted <= 1)
        norms = record["grad_norms"]
        assert len(norms) == 26
        assert norms[0] / norms[-1] == pytest.approx(predicted ** 25, rel=1e-10)
    # the table prints each row with both numbers
    assert "0.6          −4       1.40000000    1.40000000" in result.output
    assert "UNSTABLE" in result.output and "asymptotic" in result.output


def test_json_dash_prints_the_json_alone():
    result = run("stability", "--tau", "0.5", "--depth", "5", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["settings"]["taus"] == [0.5] and len(data["records"]) == 3
    assert data["nonlinear"][0]["asymptotic"] is True


def test_the_figure_is_written(tmp_path):
    path = tmp_path / "stability.png"
    result = run("stability", "--tau", "0.3,0.6", "--depth", "10", "-o", path,
                 "--size", "900x400")
    assert result.exit_code == 0, result.output
    image = read_image(path)
    assert image.shape[:2] == (400, 900)
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 1


def test_recurrent_prints_json_and_draws_bptt(tmp_path):
    result = run("stability", "--recurrent", "-T", "20", "--spectral-radius", "0.8,1.25",
                 "--activation", "identity", "--json", tmp_path / "bptt.json",
                 "-o", tmp_path / "bptt.pdf")
    assert result.exit_code == 0, result.output
    runs = json.loads((tmp_path / "bptt.json").read_text())["runs"]
    for run_, rho in zip(runs, (0.8, 1.25)):
        assert run_["spectral_radius"] == rho
        assert run_["measured_growth"] == pytest.approx(rho, rel=1e-10)   # linear: exactly ρ
        assert len(run_["grad_h_norms"]) == 21 and len(run_["grad_W_parts"]) == 20
    assert (tmp_path / "bptt.pdf").read_bytes().startswith(b"%PDF")
    assert "growth per step" in result.output


@pytest.mark.parametrize("args, fragment", [
    (["--tau", "0"], "0 is not a positive finite step size τ"),
    (["--tau", "-0.1"], "-0.1 is not a positive finite step size τ"),
    (["--tau", "nan"], "nan is not a positive finite step size τ"),
    (["--tau", "inf"], "inf is not a positive finite step size τ"),
    (["--tau", "0.1,x"], "'x' is not a number"),
    (["--eigenvalues", "-1+2k"], "'-1+2k' is not a number"),
    (["--eigenvalues", "1,,2"], "'' is not a number"),
    (["--eigenvalues", "nanj"], "is not finite"),
    (["--depth", "100000"], "--depth 100000 with 4 × 4 A"),
    (["--depth", "1000", "--eigenvalues", ",".join(["1j"] * 80)], "160 × 160 A"),
    (["--recurrent", "--steps", "5000"], "--steps 5000 --width 16 --batch-size 8 is too large"),
    (["--recurrent", "-T", "1000", "--width", "200", "--batch-size", "100"], "too large"),
    (["--recurrent", "--spectral-radius", "0"], "0 is not a positive finite spectral radius"),
    (["--steps", "10"], "--steps set the recurrent network of --recurrent"),
    (["--recurrent", "--tau", "0.1"], "--tau set the residual stack"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, fragment):
    result = run("stability", *args, "-o", tmp_path / "fig.png", "--json", tmp_path / "out.json")
    assert_one_line_error(result, fragment)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_figure_path_is_refused_before_any_work(tmp_path):
    result = run("stability", "-o", tmp_path / "fig.txt", "--json", tmp_path / "out.json")
    assert_one_line_error(result, "use a name ending in .png")
    result = run("stability", "-o", tmp_path / "same.png", "--json", tmp_path / "same.png")
    assert_one_line_error(result, "give --json a file name of its own")
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_runs_and_fails_cleanly(tmp_path):
    command = installed_command()
    done = subprocess.run([command, "stability", "--eigenvalues=-1+1j", "--tau", "0.5",
                           "--depth", "5"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "−1±1i" in done.stdout
    failed = subprocess.run([command, "stability", "--tau", "-1"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr


# -- train --clip-norm -------------------------------------------------------------

def test_train_clip_norm_is_in_the_table_and_the_history(tmp_path):
    history = tmp_path / "run.json"
    result = run("train", "--data", "moons", "--layers", "2,16,2", "--epochs", "2",
                 "--lr", "2", "--clip-norm", "0.1", "--history", history)
    assert result.exit_code == 0, result.output
    assert "‖g‖ before clip" in result.output and "gradients clipped to norm 0.1" in result.output
    data = json.loads(history.read_text())
    assert data["config"]["clip_norm"] == 0.1
    for record in data["epochs"]:
        assert record["grad_norm_before_clip"] > 0.1
        assert 0 < record["clipped_steps"] <= 10      # 320 training samples, batches of 32


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_train_refuses_a_clip_norm_that_is_not_positive(tmp_path, value):
    result = run("train", "--data", "moons", "--clip-norm", value, "--history",
                 tmp_path / "run.json")
    assert_one_line_error(result, "--clip-norm")
    assert not (tmp_path / "run.json").exists()
