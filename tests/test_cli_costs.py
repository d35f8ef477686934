"""`backprop-edu memory`, `slowdown`, `train --health` and `plot` of a history with health, as a
user runs them: output, files, and bad input (one line, exit ≠ 0, nothing written)."""

import json
import os
import subprocess

import pytest

from conftest import assert_one_line_error, installed_command, read_image, run

SMALL = ("--layers", "10,32,32,32,32,4", "--batch-size", "64")


def test_memory_prints_each_layer_beside_the_prediction_and_writes_json_and_figure(tmp_path):
    result = run("memory", *SMALL, "--json", tmp_path / "m.json", "-o", tmp_path / "m.png")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "m.json").read_text())
    assert {"training", "inference", "checkpointed", "sweep"} <= data.keys()
    assert data["settings"]["checkpoint_every"] == 2   # √5, rounded
    lines = result.output.splitlines()
    row = next(line for line in lines if line.split()[:2] == ["2", "32×32"])
    # layer 2 keeps h_1 and a_2: 2 × 32 × 64 entries × 8 bytes = 32 KiB, predicted and measured
    arrays, predicted, measured = row.split()[3:6]
    assert (arrays, predicted) == ("h_1,a_2", "32.00")
    assert float(measured) == pytest.approx(32, abs=0.5)   # numpy's array headers on top
    assert any(line.rstrip().endswith("← √L") and line.split()[0] == "2" for line in lines)
    assert any(line.rstrip().endswith("← plain") and line.split()[0] == "5" for line in lines)
    assert f"wrote {tmp_path / 'm.png'}" in result.output
    assert read_image(tmp_path / "m.png").shape[0] > 100


def test_memory_json_to_stdout_is_the_json_alone():
    result = run("memory", "--layers", "8,16,16,2", "--batch-size", "32", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["k"] for row in data["sweep"]] == [1, 2, 3]


@pytest.mark.parametrize("every, fragment", [("0", "got 0"), ("6", "got 6"), ("-2", "got -2")])
def test_a_checkpoint_interval_outside_1_to_the_depth_is_one_line_and_no_file(tmp_path, every,
                                                                              fragment):
    result = run("memory", *SMALL, "--checkpoint-every", every, "--json", tmp_path / "m.json",
                 "-o", tmp_path / "m.png")
    assert_one_line_error(result, "--checkpoint-every must lie between 1 and the number of "
                                  "layers (5)", fragment)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("layers, batch, fragment", [
    ("1000,20000,20000,10", "64", "GiB"),
    (",".join(["300"] * 101), "400", "multiply-adds"),
])
def test_sizes_that_would_exhaust_memory_are_refused_up_front(tmp_path, layers, batch, fragment):
    result = run("memory", "--layers", layers, "--batch-size", batch, "--json",
                 tmp_path / "m.json", "-o", tmp_path / "m.png")
    assert_one_line_error(result, fragment, "--batch-size")
    assert os.listdir(tmp_path) == []


def test_slowdown_prints_when_each_cost_halves_the_error(tmp_path):
    result = run("slowdown", "--epochs", "300", "--json", tmp_path / "s.json",
                 "-o", tmp_path / "s.png")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "s.json").read_text())
    quadratic = data["neuron"]["runs"]["half_mse"]["epochs_to_halve_error"]
    cross = data["neuron"]["runs"]["binary_cross_entropy"]["epochs_to_halve_error"]
    assert f"after {quadratic} epochs with the quadratic cost and after {cross} " \
           "with cross-entropy" in result.output
    assert cross < 30 < 150 < quadratic
    assert read_image(tmp_path / "s.png").shape[0] > 100


def test_slowdown_bad_input_is_one_line(tmp_path):
    result = run("slowdown", "--epochs", "0", "-o", tmp_path / "s.png")
    assert_one_line_error(result, "--epochs")
    result = run("slowdown", "-o", tmp_path / "s.txt")
    assert_one_line_error(result, "s.txt")
    assert os.listdir(tmp_path) == []


def test_train_health_adds_columns_and_a_verdict_per_layer(tmp_path):
    result = run("train", "--layers", "64,64,64,10", "--lr", "2", "--epochs", "4", "--health",
                 "--history", tmp_path / "run.json")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("epoch"))
    assert header.split()[-5:] == ["dead1", "ΔW1/W1", "dead2", "ΔW2/W2", "ΔW3/W3"]
    history = json.loads((tmp_path / "run.json").read_text())
    dead = history["epochs"][-1]["dead_fraction"]
    assert dead[1] > 0.5 and dead[2] is None
    last_row = next(line for line in lines if line.split()[:1] == ["4"])
    assert last_row.split()[-3] == f"{100 * dead[1]:.1f}%"
    verdict = next(line for line in lines if line.strip().startswith("layer 2:"))
    assert f"{100 * dead[1]:.0f} % dead ReLU units" in verdict
    assert "lower the learning rate or use leaky_relu" in verdict
    assert history["config"]["health"] is True


def test_train_without_health_shows_no_health_but_the_history_has_it(tmp_path):
    result = run("train", "--epochs", "2", "--history", tmp_path / "run.json")
    assert result.exit_code == 0, result.output
    assert "dead1" not in result.output and "layer 1:" not in result.output
    record = json.loads((tmp_path / "run.json").read_text())["epochs"][-1]
    assert record["dead_fraction"][0] is not None and record["update_ratio"][1] > 0


def test_plot_adds_a_row_of_health_panels_when_the_history_has_them(tmp_path):
    assert run("train", "--epochs", "2", "--history", tmp_path / "run.json").exit_code == 0
    result = run("plot", tmp_path / "run.json", "-o", tmp_path / "run.png")
    assert result.exit_code == 0, result.output
    height, width = read_image(tmp_path / "run.png").shape[:2]
    assert (width, height) == (1500, 900)   # two rows; a history without health: 1500 × 450


def test_memory_runs_as_an_installed_command(tmp_path):
    command = installed_command()
    done = subprocess.run([command, "memory", *SMALL, "--json", "m.json"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "m.json").read_text())["settings"]["depth"] == 5
    failed = subprocess.run([command, "memory", *SMALL, "--checkpoint-every", "9"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
