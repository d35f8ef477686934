"""`backprop-edu train`, `evaluate`, `predict`, `datasets`: as a user runs them."""

import importlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from backprop_edu import Network, Residual
from conftest import installed_command, run

cli_train = importlib.import_module("backprop_edu.cli.train")  # the module, not the command


def last_accuracy(output):
    return float(output.rsplit("validation accuracy ", 1)[1].split()[0].rstrip(";"))


@pytest.fixture
def animals(tmp_path):
    """A separable CSV with string labels, and a CSV of new rows with shuffled and extra columns."""
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "emu"])
    y = np.arange(90) % 3
    X = rng.normal(size=(90, 2)) * 0.3 + 4.0 * np.eye(3, 2)[y] - 2.0 * (y == 2)[:, None]
    train_csv = tmp_path / "animals.csv"
    train_csv.write_text("height,animal,weight\n" + "".join(
        f"{h:.4f},{names[c]},{w:.4f}\n" for (h, w), c in zip(X, y)))
    new_csv = tmp_path / "new.csv"
    new_csv.write_text("id,weight,height\n" + "".join(
        f"{i},{w:.4f},{h:.4f}\n" for i, ((h, w), c) in enumerate(zip(X[:12], y[:12]))))
    return train_csv, new_csv, list(names[y[:12]])


# -- a default run, the table, the history ---------------------------------------------

def test_default_run_on_digits_reaches_95_percent_validation_accuracy():
    result = run("train")
    assert result.exit_code == 0, result.output
    assert last_accuracy(result.output) >= 0.95
    lines = result.output.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("epoch"))
    assert "‖∇W1‖ 64×64" in header and "‖∇W2‖ 10×64" in header and "val acc" in header
    rows = [line for line in lines if line.split() and line.split()[0].isdigit()]
    assert [int(row.split()[0]) for row in rows] == list(range(1, 21))
    assert "█" not in result.output and "#" not in result.output  # no progress bar off a terminal


def test_history_file_follows_the_documented_schema(tmp_path):
    history = tmp_path / "run.json"
    result = run("train", "--layers", "64,16,16,10", "--epochs", "3", "--history", history)
    assert result.exit_code == 0, result.output
    run_ = json.loads(history.read_text())
    assert set(run_) == {"config", "layers", "epochs"}
    assert run_["layers"] == [{"n_in": 64, "n_out": 16, "activation": "relu"},
                              {"n_in": 16, "n_out": 16, "activation": "relu"},
                              {"n_in": 16, "n_out": 10, "activation": "identity"}]
    for option in ("data", "target", "task", "layers", "activation", "loss", "init", "residual",
                   "optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs",
                   "val_split", "seed", "dtype", "history", "save", "plot_boundary", "quiet"):
        assert option in run_["config"]
    assert run_["config"]["loss"] == "softmax_cross_entropy" and run_["config"]["lr"] == 0.1
    assert len(run_["epochs"]) == 3
    for record in run_["epochs"]:
        assert set(record) == {"epoch", "train_loss", "train_accuracy", "val_loss",
                               "val_accuracy", "grad_W_norm", "grad_b_norm", "delta_norm",
                               "dead_fraction", "saturated_fraction", "update_ratio", "seconds"}
        assert all(len(record[key]) == 3 for key in ("grad_W_norm", "grad_b_norm", "delta_norm"))
        assert 0 <= record["val_accuracy"] <= 1 and record["seconds"] > 0
    # the table's last row shows the history's last ‖∇W_l‖
    row = [line for line in result.output.splitlines() if line.split()[:1] == ["3"]][0]
    assert [float(v) for v in row.split()[-3:]] == pytest.approx(
        run_["epochs"][-1]["grad_W_norm"], rel=1e-3)
    assert os.listdir(tmp_path) == ["run.json"]  # no temporary files left


def test_history_is_rewritten_after_every_epoch_and_kept_on_ctrl_c(tmp_path, monkeypatch):
    history = tmp_path / "run.json"
    snapshots = []
    real_train_epochs = cli_train.train_epochs

    def interrupted(*args, **kwargs):
        for record in real_train_epochs(*args, **kwargs):
            snapshots.append(len(json.loads(history.read_text())["epochs"]))
            yield record
            if record["epoch"] == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "train_epochs", interrupted)
    result = run("train", "--epochs", "5", "--history", history, "--save", tmp_path / "m.npz")
    assert result.exit_code == 130
    assert snapshots == [0, 1]  # before epoch 1's record was written, then before epoch 2's
    assert [r["epoch"] for r in json.loads(history.read_text())["epochs"]] == [1, 2]
    assert "interrupted after 2 epochs" in result.output
    assert sorted(os.listdir(tmp_path)) == ["run.json"]  # model not saved, no temp files


def test_same_seed_same_history_bit_for_bit(tmp_path):
    def history(seed, name):
        path = tmp_path / name
        result = run("train", "--layers", "64,16,10", "--epochs", "3", "--seed", seed,
                     "--history", path, "--quiet")
        assert result.exit_code == 0, result.output
        return [{k: v for k, v in r.items() if k != "seconds"}
                for r in json.loads(path.read_text())["epochs"]]

    assert history(7, "a.json") == history(7, "b.json")
    assert history(7, "a.json") != history(8, "c.json")


def test_divergence_stops_with_exit_code_3_and_keeps_the_history(tmp_path):
    history = tmp_path / "run.json"
    result = run("train", "--lr", "50", "--epochs", "10", "--history", history,
                 "--save", tmp_path / "m.npz")
    assert result.exit_code == 3
    message = result.output.strip().splitlines()[-1]
    assert "diverged at epoch" in message and "batch" in message and "smaller --lr" in message
    assert "layer 1:" in message and "Traceback" not in result.output
    epochs = json.loads(history.read_text())["epochs"]
    assert f"diverged at epoch {len(epochs) + 1}," in message
    assert not (tmp_path / "m.npz").exists()


# -- bad input ---------------------------------------------------------------------------

@pytest.fixture
def bad_files(tmp_path):
    files = {"ok.csv": "a,b,y\n1,2,x\n3,4,z\n5,6,x\n7,8,z\n",
             "empty.csv": "",
             "ragged.csv": "a,b,y\n1,2,x\n3,4\n",
             "text.csv": "a,b,y\n1,2,x\n3,four,z\n",
             "nan.csv": "a,b,y\n1,2,x\n3,4,z\n5,nan,x\n",
             "inf.csv": "a,b,y\n1,-inf,x\n3,4,z\n",
             "one.csv": "a,b,y\n1,2,x\n3,4,x\n",
             "notcsv.csv": "{\"a\": [1, 2, 3]}\n",
             "words.csv": "a b y\n1 2 x\n3 4 z\n",
             "huge.csv": "a,b,y\n1e308,2,x\n-1.5e308,4,z\n1,6,x\n2,8,z\n",
             "real.csv": "a,b,y\n1,2,0.5\n3,4,1.5\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    return tmp_path


BAD_TRAIN = [
    (["--layers", "abc"], "not a list of integers"),
    (["--layers", "64"], "at least an input and an output width"),
    (["--layers", "64,,10"], "empty width"),
    (["--layers", "64,0,10"], "width 0"),
    (["--layers", "64,-3,10"], "width -3"),
    (["--layers", "64,32,5"], "digits has 64 features and 10 classes: use --layers 64,...,10"),
    (["--layers", "2,8,2"], "use --layers 64,...,10"),
    (["--activation", "swish"], "'identity', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softplus'"),
    (["--optimizer", "rmsprop"], "'sgd', 'momentum', 'adam'"),
    (["--data", "emnist"], "expected one of digits, xor, moons, circles, spirals"),
    (["--lr", "0"], "'--lr': 0.0 is not in the range x>0."),
    (["--lr", "-0.1"], "-0.1 is not in the range x>0."),
    (["--batch-size", "0"], "'--batch-size': 0 is not in the range x>=1."),
    (["--epochs", "0"], "'--epochs': 0 is not in the range x>=1."),
    (["--val-split", "1"], "'--val-split': 1.0 is not in the range 0<=x<1."),
    (["--val-split", "-0.2"], "-0.2 is not in the range 0<=x<1."),
    (["--val-split", "nan"], "nan is not in the range 0<=x<1 (a finite number)."),
    (["--val-split", "0.9999"], "nothing to train on with --val-split 0.9999: use a smaller "
                                "--val-split"),
    (["--lr", "nan"], "'--lr': nan is not in the range x>0 (a finite number)."),
    (["--lr", "inf"], "inf is not in the range x>0 (a finite number)."),
    (["--layers", "64.5,10"], "not a list of integers"),
    (["--momentum", "1"], "'--momentum': 1.0 is not in the range 0<=x<1."),
    (["--weight-decay", "-1"], "'--weight-decay': -1.0 is not in the range x>=0."),
    (["--weight-decay", "inf"], "inf is not in the range x>=0 (a finite number)."),
    (["--seed", "-1"], "'--seed': -1 is not in the range x>=0."),
    (["--layers", f"64,{10 ** 15},10"], "does not fit in this machine's memory"),
    (["--target", "label"], "--target is only for a CSV"),
    (["--plot-boundary", "{dir}/b.png"], "needs 2-D classification data"),
    (["--data", "{dir}/missing.csv", "--target", "y"], "no such file"),
    (["--data", "{dir}/empty.csv", "--target", "y"], "is empty"),
    (["--data", "{dir}/binary.csv", "--target", "y"], "not a CSV file"),
    (["--data", "{dir}/notcsv.csv", "--target", "y"], "no data rows"),
    (["--data", "{dir}/words.csv", "--target", "y"], "single column"),
    (["--data", "{dir}/text.csv", "--target", "y"], "line 3, column 'b'"),
    (["--data", "{dir}/ragged.csv", "--target", "y"], "line 3 of"),
    (["--data", "{dir}/nan.csv", "--target", "y"], "line 4, column 'b'"),
    (["--data", "{dir}/inf.csv", "--target", "y"], "line 2, column 'b'"),
    (["--data", "{dir}/ok.csv", "--target", "label"], "its columns are a, b, y"),
    (["--data", "{dir}/ok.csv"], "needs --target"),
    (["--data", "{dir}/one.csv", "--target", "y"], "single class"),
    (["--data", "{dir}/huge.csv", "--target", "y"], "column 'a' holds values too large"),
    (["--data", "{dir}", "--target", "y"], "is a directory"),
    (["--data", "{dir}/ok.csv", "--target", "y", "--layers", "2,4,3"],
     "has 2 features and 2 classes: use --layers 2,...,2"),
    (["--data", "{dir}/ok.csv", "--target", "y", "--task", "regression"], "must be numeric"),
    (["--data", "{dir}/real.csv", "--target", "y"],
     "to predict real values use --task regression"),
    (["--data", "moons", "--task", "regression"], "moons is a classification data set: leave "
                                                  "--task out"),
]


@pytest.mark.parametrize("args, message", BAD_TRAIN, ids=[" ".join(a) for a, _ in BAD_TRAIN])
def test_bad_train_input_is_one_clear_line_and_writes_nothing(bad_files, args, message):
    before = sorted(os.listdir(bad_files))
    args = [a.format(dir=bad_files) for a in args]
    result = run("train", "--epochs", "1", *args, "--history", bad_files / "h.json",
                 "--save", bad_files / "m.npz")
    assert result.exit_code not in (0, None), result.output
    assert message in result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1
    assert sorted(os.listdir(bad_files)) == before  # no history, no model, no temp file


@pytest.mark.parametrize("option", ["--history", "--save", "--plot-boundary"])
def test_output_into_a_missing_directory_fails_before_training(tmp_path, option):
    result = run("train", "--data", "moons", option, tmp_path / "no" / "such" / "out.png")
    assert result.exit_code != 0 and "does not exist" in result.output
    assert "epoch" not in result.output and os.listdir(tmp_path) == []


def test_output_into_an_unwritable_directory_fails_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):  # root may write anyway; /proc refuses everyone
            locked = Path("/proc")
            if not locked.is_dir():
                pytest.skip("no directory here refuses to be written")
        result = run("train", "--data", "moons", "--save", locked / "m.npz")
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert result.exit_code == 2 and "is not writable" in result.output
    assert "epoch" not in result.output and "Traceback" not in result.output
    assert os.listdir(tmp_path / "locked") == []


def test_outputs_may_not_overwrite_each_other_or_the_data(bad_files):
    before = sorted(os.listdir(bad_files))
    data = bad_files / "ok.csv"
    result = run("train", "--data", data, "--target", "y", "--history", data)
    assert result.exit_code == 2 and "is also the data file" in result.output
    result = run("train", "--data", "moons", "--history", bad_files / "out",
                 "--save", bad_files / "." / "out")
    assert result.exit_code == 2 and "is also the file of --history" in result.output
    assert sorted(os.listdir(bad_files)) == before


def test_ctrl_c_just_after_a_history_rename_is_still_a_clean_interrupt(tmp_path, monkeypatch):
    history = tmp_path / "run.json"
    real_replace, calls = os.replace, []

    def replace_then_ctrl_c(source, target):
        real_replace(source, target)
        calls.append(target)
        if len(calls) == 3:  # the empty history, epoch 1, then epoch 2
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    result = run("train", "--epochs", "5", "--history", history)
    assert result.exit_code == 130, result.output
    assert "interrupted after 2 epochs; the history of the 2 finished epochs" in result.output
    assert len(json.loads(history.read_text())["epochs"]) == 2 and "Errno" not in result.output
    assert os.listdir(tmp_path) == ["run.json"]


# -- evaluate and predict --------------------------------------------------------------------

def test_train_evaluate_predict_round_trip_with_string_labels(tmp_path, animals):
    train_csv, new_csv, truth = animals
    model = tmp_path / "model.npz"
    result = run("train", "--data", train_csv, "--target", "animal", "--layers", "2,8,3",
                 "--epochs", "40", "--save", model, "--quiet")
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1  # --quiet: the result line only
    result = run("evaluate", model, "--data", train_csv, "--target", "animal")
    assert result.exit_code == 0, result.output
    assert "90 samples" in result.output and "accuracy 1.0000" in result.output
    result = run("predict", model, "--data", new_csv)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["animal"] + truth
    out = tmp_path / "predictions.csv"
    assert run("predict", model, "--data", new_csv, "-o", out).exit_code == 0
    assert out.read_text().splitlines() == ["animal"] + truth


def test_saved_model_keeps_the_training_split_scaling(tmp_path, animals):
    train_csv, _, _ = animals
    model = tmp_path / "model.npz"
    run("train", "--data", train_csv, "--target", "animal", "--layers", "2,4,3", "--epochs", "1",
        "--val-split", "0.5", "--save", model, "-q")
    meta = Network.load(model).metadata
    assert meta["classes"] == ["cat", "dog", "emu"] and meta["features"] == ["height", "weight"]
    assert meta["task"] == "classification" and meta["target"] == "animal"
    data = np.loadtxt(train_csv, delimiter=",", skiprows=1, usecols=(0, 2))
    rng = np.random.default_rng(0)  # --seed 0: the split is the Generator's first draw
    train_rows = rng.permutation(90)[45:]
    assert meta["feature_mean"] == pytest.approx(data[train_rows].mean(axis=0).tolist())
    assert meta["feature_std"] == pytest.approx(data[train_rows].std(axis=0).tolist())


def test_regression_predictions_come_back_in_the_targets_units(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    price = 1000 + 300 * X[:, 0] - 200 * X[:, 1]
    csv = tmp_path / "prices.csv"
    csv.write_text("x1,x2,price\n" + "".join(f"{a},{b},{p}\n" for (a, b), p in zip(X, price)))
    model = tmp_path / "r.npz"
    result = run("train", "--data", csv, "--target", "price", "--task", "regression",
                 "--layers", "2,16,1", "--epochs", "40", "--save", model, "-q")
    assert result.exit_code == 0, result.output
    assert "accuracy" not in result.output
    result = run("predict", model, "--data", csv)
    predicted = np.array([float(v) for v in result.output.splitlines()[1:]])
    assert np.sqrt(np.mean((predicted - price) ** 2)) < 0.1 * price.std()
    assert "RMSE" in run("evaluate", model, "--data", csv).output


def test_evaluate_and_predict_bad_input(tmp_path, animals):
    train_csv, new_csv, _ = animals
    model = tmp_path / "model.npz"
    run("train", "--data", train_csv, "--target", "animal", "--layers", "2,4,3", "--epochs", "1",
        "--save", model, "-q")
    not_a_model = tmp_path / "notes.npz"
    not_a_model.write_text("hello")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("height,weight,animal\n1,2,yak\n")
    out = tmp_path / "p.csv"
    cases = [
        (["evaluate", not_a_model, "--data", train_csv], "is not a saved backprop-edu network"),
        (["predict", tmp_path / "missing.npz", "--data", new_csv], "written by `backprop-edu "
                                                                    "train --save`"),
        (["predict", model, "--data", wrong, "-o", out], "lacks the column(s) height, weight"),
        (["predict", model, "-o", out], "give --data"),
        (["predict", model, "--data", new_csv, "-o", tmp_path / "no" / "p.csv"], "does not exist"),
        (["predict", model, "--data", new_csv, "-o", new_csv], "is also the data file"),
        (["predict", model, "--data", new_csv, "-o", model], "is also the model file"),
        (["evaluate", model, "--data", unseen], "'yak' were not seen in training"),
        (["evaluate", model, "--data", new_csv], "no column 'animal'"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "no").exists()
    assert new_csv.read_text().startswith("id,weight,height") and Network.load(model)


# -- options ------------------------------------------------------------------------------

def test_residual_and_plot_boundary_on_moons(tmp_path):
    picture, model = tmp_path / "moons.png", tmp_path / "m.npz"
    result = run("train", "--data", "moons", "--layers", "2,16,16,2", "--residual", "--epochs",
                 "30", "--plot-boundary", picture, "--save", model)
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [type(layer) for layer in Network.load(model).layers][1] is Residual
    assert "(relu, residual)" in result.output
    assert last_accuracy(result.output) > 0.9


def test_float32_adam_and_no_validation_split():
    result = run("train", "--data", "spirals", "--layers", "2,32,32,3", "--optimizer", "adam",
                 "--lr", "0.01", "--dtype", "float32", "--val-split", "0", "--epochs", "5")
    assert result.exit_code == 0, result.output
    assert "val acc" not in result.output and "600 training and 0 validation" in result.output


def test_datasets_lists_every_shipped_set_with_its_shape():
    result = run("datasets")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:4] for line in result.output.splitlines()[1:6]}
    assert rows == {"digits": ["1797", "64", "10"], "xor": ["400", "2", "2"],
                    "moons": ["400", "2", "2"], "circles": ["400", "2", "2"],
                    "spirals": ["600", "2", "3"]}


def test_every_train_option_has_help_with_a_default():
    text = run("train", "--help").output
    for option in ("--data", "--target", "--layers", "--activation", "--loss", "--init",
                   "--optimizer", "--lr", "--momentum", "--weight-decay", "--batch-size",
                   "--epochs", "--val-split", "--seed", "--dtype", "--history", "--save",
                   "--quiet", "--residual", "--plot-boundary"):
        assert option in text
    assert text.count("default") >= 20


def test_installed_command_trains_from_any_directory(tmp_path):
    command = installed_command()
    result = subprocess.run([command, "train", "--epochs", "2", "--history", "run.json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar: stderr is not a terminal
    assert len(json.loads((tmp_path / "run.json").read_text())["epochs"]) == 2
    result = subprocess.run([command, "train", "--layers", "64,,10"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "empty width" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_a_real_run_cleanly_and_keeps_the_finished_epochs(tmp_path):
    command = installed_command()
    process = subprocess.Popen([command, "train", "--epochs", "100000", "--history", "run.json",
                                "--save", "m.npz"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    history = tmp_path / "run.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for two finished epochs
        if history.exists() and len(json.loads(history.read_text())["epochs"]) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    kept = len(json.loads(history.read_text())["epochs"])
    assert kept >= 2 and f"interrupted after {kept} epochs" in err
    assert os.listdir(tmp_path) == ["run.json"]  # no model, no temporary file


def test_a_reader_that_goes_away_stops_the_run_quietly(tmp_path):
    """`backprop-edu train | head -3`: no 'Broken pipe' error, no traceback, no history half-written."""
    command = installed_command()
    process = subprocess.Popen([command, "train", "--epochs", "100000", "--history", "run.json"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(3):  # the header lines and the first epoch, then the reader leaves
        process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert err == ""
    assert os.listdir(tmp_path) == ["run.json"]  # no temporary file left beside it
    assert len(json.loads((tmp_path / "run.json").read_text())["epochs"]) >= 1


def run_on_a_terminal(tmp_path, args, stdout_too=True):
    """Run the installed command with stderr (and stdout) on a pseudo-terminal; what it drew."""
    pty = pytest.importorskip("pty", reason="pseudo-terminals (pty) exist on POSIX systems only")
    command = installed_command()
    leader, follower = pty.openpty()
    process = subprocess.Popen([command, *args], cwd=tmp_path, stderr=follower,
                               stdout=follower if stdout_too else subprocess.DEVNULL)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return drawn.decode(errors="replace")


def test_progress_bar_only_when_the_output_is_a_terminal(tmp_path):
    assert "training  [" in run_on_a_terminal(tmp_path, ["train", "--epochs", "2"])
    assert "training  [" not in run_on_a_terminal(tmp_path, ["train", "--epochs", "2", "-q"])
    # the table piped to a file: no bar on stderr to interleave with it
    assert "training  [" not in run_on_a_terminal(tmp_path, ["train", "--epochs", "2"],
                                                  stdout_too=False)


def test_the_cli_runs_exactly_the_python_recipe_of_docs_cli(tmp_path):
    from backprop_edu import datasets
    from backprop_edu.optim import SGD
    from backprop_edu.preparation import prepare
    from backprop_edu import build_network
    from backprop_edu.train import train

    history = tmp_path / "run.json"
    assert run("train", "--epochs", "3", "--history", history, "-q").exit_code == 0
    digits = datasets.load("digits")
    rng = np.random.default_rng(0)
    X, y, train_rows, val_rows, metadata = prepare(digits, 0.2, rng)
    net = build_network([64, 64, 10], "relu", rng=rng, metadata=metadata)
    records = train(net, SGD(net, lr=0.1), X[train_rows], y[train_rows], X[val_rows],
                    y[val_rows], epochs=3, batch_size=32, rng=rng)
    from_cli = json.loads(history.read_text())["epochs"]
    for ours, theirs in zip(records, from_cli):
        assert {k: v for k, v in ours.items() if k != "seconds"} == \
            {k: v for k, v in theirs.items() if k != "seconds"}
