"""`backprop-edu plot`, `vanishing` and `modes` as a user runs them: output, files, and bad input."""

import json
import os
import subprocess

import numpy as np
import pytest

from backprop_edu.experiments import vanishing_experiment
from conftest import assert_one_line_error, installed_command, read_image, run


def write_history(path, epochs=3):
    history = {"config": {"data": "moons"},
               "layers": [{"n_in": 2, "n_out": 8, "activation": "tanh"},
                          {"n_in": 8, "n_out": 2, "activation": "identity"}],
               "epochs": [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 0.5 + e / 10,
                           "val_loss": None, "val_accuracy": None, "grad_W_norm": [0.1, 0.2],
                           "grad_b_norm": [0.1, 0.1], "delta_norm": [0.3, 0.4], "seconds": 0.1}
                          for e in range(1, epochs + 1)]}
    path.write_text(json.dumps(history))
    return path


def test_plot_writes_the_figure_of_a_history(tmp_path):
    history = write_history(tmp_path / "run.json")
    result = run("plot", history, "-o", tmp_path / "run.png", "--size", "600x300")
    assert result.exit_code == 0, result.output
    assert "3 epochs, 2 layers" in result.output
    image = read_image(tmp_path / "run.png")
    assert image.shape[:2] == (300, 600)
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 1


def test_plot_defaults_to_the_history_name_with_png(tmp_path):
    history = write_history(tmp_path / "run.json")
    assert run("plot", history).exit_code == 0
    assert (tmp_path / "run.png").is_file()


@pytest.mark.parametrize("content,fragment", [
    (None, "no such history file"), ("{oops", "is not valid JSON"),
    ('{"layers": [{"n_in": 1, "n_out": 1}], "epochs": [{"epoch": 1}]}', "has no 'train_loss'")])
def test_plot_bad_history_is_one_line_and_no_image(tmp_path, content, fragment):
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    result = run("plot", path, "-o", tmp_path / "run.png")
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "run.png").exists()


def test_plot_unknown_extension_is_refused_before_anything_is_written(tmp_path):
    history = write_history(tmp_path / "run.json")
    result = run("plot", history, "-o", tmp_path / "run.docx")
    assert_one_line_error(result, "'.docx' is not an image format")
    assert sorted(os.listdir(tmp_path)) == ["run.json"]


def test_vanishing_prints_the_table_and_writes_json_and_figure(tmp_path):
    result = run("vanishing", "--depth", 3, "--width", 8, "--activations", "sigmoid,relu",
                 "--init", "xavier", "--json", tmp_path / "v.json", "-o", tmp_path / "v.png",
                 "--size", "700x500")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "v.json").read_text())
    # the JSON holds exactly the numbers the Python API computes
    expected = vanishing_experiment(depth=3, width=8, activations=["sigmoid", "relu"],
                                    inits=["xavier"])
    assert data == json.loads(json.dumps(expected))
    assert [(c["activation"], c["init"], c["residual"], c["dtype"]) for c in data["configs"]] == \
        [("sigmoid", "xavier", False, "float64"), ("relu", "xavier", False, "float64")]
    first = data["configs"][0]
    assert len(first["delta_norm"]) == len(first["grad_W_norm"]) == 4
    assert f"{first['delta_norm'][0]:.2e}" in result.output   # the table shows the same numbers
    assert "sigmoid / xavier" in result.output
    assert read_image(tmp_path / "v.png").shape[:2] == (500, 700)


def test_json_dash_prints_the_numbers_alone_and_notes_go_to_stderr(tmp_path):
    result = run("vanishing", "--depth", 2, "--width", 4, "--json", "-", "-o", tmp_path / "v.png")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(json.dumps(vanishing_experiment(depth=2,
                                                                                   width=4)))
    assert result.stderr == f"wrote {tmp_path / 'v.png'}\n"
    modes = run("modes", "--max-params", 100, "--points", 2, "--json", "-")
    assert modes.exit_code == 0 and [row["n_params"] for row in
                                     json.loads(modes.output)["rows"]][-1] <= 100


def test_vanishing_float16_reports_exact_zeros_next_to_float64():
    result = run("vanishing", "--depth", 12, "--activations", "sigmoid", "--init", "xavier",
                 "--dtype", "float16", "--table")
    assert result.exit_code == 0, result.output
    assert "entries of ∇W_l exactly 0 in float16" in result.output
    assert "entries of ∇W_l exactly 0 in float64" in result.output
    table = result.output.split("exactly 0 in float16")[1].splitlines()
    assert table[2].split() == ["1", "100.0%"]   # layer 1: every entry underflowed


def test_vanishing_residual_runs_each_configuration_both_ways(tmp_path):
    result = run("vanishing", "--depth", 8, "--width", 16, "--activations", "sigmoid",
                 "--init", "xavier", "--residual", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    plain, residual = json.loads((tmp_path / "r.json").read_text())["configs"]
    assert residual["residual"] and not plain["residual"]
    assert residual["delta_ratio"] > 100 * plain["delta_ratio"]


def test_vanishing_prints_a_summary_per_configuration_and_every_layer_with_table():
    args = ["vanishing", "--depth", 30, "--activations", "sigmoid", "--residual"]
    summary, table = run(*args), run(*args, "--table")
    assert summary.exit_code == table.exit_code == 0
    assert len(summary.output.splitlines()) < 15 < 60 < len(table.output.splitlines())
    result = vanishing_experiment(depth=30, activations=["sigmoid"], residual=True)
    rows = [line.split() for line in summary.output.splitlines()
            if line.startswith("sigmoid / ")]
    assert len(rows) == len(result["configs"]) == 6
    for row, config in zip(rows, result["configs"]):   # layer 1, layer L, 1 / L, twice; loss J
        numbers = row[-7:]
        assert numbers == [f"{config['delta_norm'][0]:.2e}", f"{config['delta_norm'][-1]:.2e}",
                           f"{config['delta_ratio']:.2e}", f"{config['grad_W_norm'][0]:.2e}",
                           f"{config['grad_W_norm'][-1]:.2e}", f"{config['grad_W_ratio']:.2e}",
                           f"{config['loss']:.3f}"]
    assert "ln 10 = 2.30" in summary.output and "(every layer: --table)" in summary.output
    assert "‖δ^(l)‖ at initialisation" in table.output and "   31  " in table.output
    assert table.output.endswith(summary.output.split("\n", 3)[3].replace(
        "(every layer: --table)\n", ""))


@pytest.mark.parametrize("args,fragment", [
    (["--depth", "0"], "--depth"), (["--activations", "sigmoid,swish"], "unknown activation 'swish'"),
    (["--init", "orthogonal"], "unknown init 'orthogonal'"), (["--dtype", "float8"], "--dtype"),
    (["--data", "emnist"], "unknown data 'emnist'"), (["-o", "out.bmpx"], "not an image format"),
    (["--size", "big"], "WIDTHxHEIGHT"),
    (["--lr", "nan"], "'--lr': nan is not in the range x>0 (a finite number)."),
    (["--seed", "-1"], "'--seed': -1 is not in the range x>=0.")])
def test_vanishing_bad_input_is_one_line(args, fragment):
    result = run("vanishing", "--depth", 2, "--width", 4, *args) if "--depth" not in args \
        else run("vanishing", *args)
    assert_one_line_error(result, fragment)


def test_modes_agree_and_print_the_ratio(tmp_path):
    result = run("modes", "--max-params", 600, "--points", 3, "--json", tmp_path / "m.json",
                 "-o", tmp_path / "m.png")
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "m.json").read_text())["rows"]
    assert len(rows) == 3 and rows[-1]["n_params"] <= 600
    assert "forward and reverse mode agree" in result.output
    assert all(row["max_abs_difference"] <= 1e-10 for row in rows)
    assert f"{rows[-1]['ratio']:.1f}" in result.output
    assert "(w: the units of each of the two hidden layers)" in result.output
    last = [line for line in result.output.splitlines()   # the largest network's row
            if line.startswith(f"{rows[-1]['n_params']:>9}")][0].split()
    assert last[:2] == [str(rows[-1]["n_params"]), str(rows[-1]["width"])]
    assert last[5:7] == [f"{rows[-1]['forward_multiply_adds']:.2e}",
                         f"{rows[-1]['reverse_multiply_adds']:.2e}"]
    assert (tmp_path / "m.png").is_file()


def test_modes_too_small_is_one_line():
    assert_one_line_error(run("modes", "--max-params", 5), "--max-params")


@pytest.mark.parametrize("args,fragment", [
    (["modes", "--max-params", 10**8], "33<=x<=500000"),  # forward mode: n² work, hours
    (["vanishing", "--depth", 5000, "--width", 2000], "too large for the lab"),  # 160 GB
    (["vanishing", "--depth", 100, "--batch-size", 100000], "too large for the lab"),
    (["vanishing", "--steps", 10**6], "0<=x<=10000")])
def test_sizes_that_would_fill_the_memory_or_run_for_hours_are_refused_up_front(args, fragment):
    assert_one_line_error(run(*args), fragment)


def test_running_out_of_memory_anyway_is_one_line(monkeypatch):
    import backprop_edu.experiments

    def out_of_memory(**settings):
        raise MemoryError
    monkeypatch.setattr(backprop_edu.experiments, "vanishing_experiment", out_of_memory)
    result = run("vanishing", "--depth", 2)
    assert result.exit_code == 1
    assert_one_line_error(result, "ran out of memory: use smaller sizes")


def test_the_installed_command_runs_the_lab(tmp_path):
    command = installed_command()
    done = subprocess.run([command, "vanishing", "--depth", "2", "--width", "8", "--activations",
                           "relu", "--init", "he", "-o", "v.png"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "relu / he" in done.stdout and (tmp_path / "v.png").is_file()
    failed = subprocess.run([command, "plot", "missing.json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        "Error: no such history file: missing.json (write one with "
        "`backprop-edu train --history run.json`)"]


def test_vanishing_names_the_normal_std_only_when_normal_init_runs():
    default = run("vanishing", "--depth", 2, "--width", 4, "--activations", "sigmoid")
    assert default.exit_code == 0, default.output
    assert default.output.splitlines()[0].endswith("float64, normal init std 0.1")
    xavier = run("vanishing", "--depth", 2, "--width", 4, "--init", "xavier")
    assert "normal init" not in xavier.output.splitlines()[0]
