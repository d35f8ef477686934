"""`--data mnist` and `--data fashion-mnist` from the shell, `--output-activation`, and the
textbook's runs of docs/mnist.md, on small MNIST-format files made here.

Nothing here touches the network: the data folder (BACKPROP_EDU_DATA) is a temporary one,
filled by tests/idx_files.py, and every mirror points at a port where nothing listens.
"""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from backprop_edu import datasets, mnist
from backprop_edu.preparation import prepare
from conftest import installed_command, run
from idx_files import make_files, offline_cache

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "mnist.md"
TEXTBOOK = ["--layers", "784,30,10", "--activation", "sigmoid", "--output-activation",
            "sigmoid", "--loss", "half_mse", "--lr", "3", "--batch-size", "10"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An offline data folder holding a small MNIST (60 + 20 images) and Fashion-MNIST."""
    folder = offline_cache(monkeypatch, tmp_path / "cache")
    make_files(folder / "mnist", m_train=60, m_test=20, seed=1)
    make_files(folder / "fashion-mnist", m_train=60, m_test=20, seed=2)
    monkeypatch.chdir(tmp_path)
    return folder


def accuracy(output, what="accuracy"):
    return float(re.findall(rf"{what} ([0-9.]+)", output)[-1].rstrip("."))


# -- train, evaluate, predict ------------------------------------------------------------

def test_the_textbook_network_trains_on_mnist_and_evaluate_uses_the_test_part(cache):
    result = run("train", "--data", "mnist", *TEXTBOOK, "--epochs", "30", "--val-split", "0.25",
                 "--dtype", "float32", "--save", "net.npz")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "mnist: 45 training and 15 validation samples, 784 features, 10 classes. Network "
        "784-30-10 (sigmoid, sigmoid output), half_mse, sgd lr=3, float32.")
    assert accuracy(result.output, "validation accuracy") >= 0.9   # the squares are learnable

    test = run("evaluate", "net.npz")
    assert test.exit_code == 0, test.output
    assert test.output.startswith("mnist (test part): 20 samples, half_mse loss ")
    assert accuracy(test.output) >= 0.9
    train = run("evaluate", "net.npz", "--split", "train")
    assert train.output.startswith("mnist (train part): 60 samples, ")


def test_predict_names_the_classes_of_fashion_mnist(cache):
    assert run("train", "--data", "fashion-mnist", "--layers", "784,32,10", "--epochs", "8",
               "--lr", "0.5", "--batch-size", "60", "--save", "net.npz", "--quiet").exit_code == 0
    result = run("predict", "net.npz")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "label" and len(lines) == 21
    expected = [mnist.SOURCES["fashion-mnist"].classes[k % 10] for k in range(20)]
    assert sum(a == b for a, b in zip(lines[1:], expected)) >= 18  # "T-shirt/top", "Trouser"..


def test_binary_cross_entropy_gets_a_sigmoid_output_layer_by_default(cache):
    result = run("train", "--data", "mnist", "--layers", "784,16,10", "--activation", "sigmoid",
                 "--loss", "binary_cross_entropy", "--lr", "0.5", "--batch-size", "10",
                 "--epochs", "2", "--history", "run.json")
    assert result.exit_code == 0, result.output
    history = json.loads(Path("run.json").read_text())
    assert [layer["activation"] for layer in history["layers"]] == ["sigmoid", "sigmoid"]
    assert history["config"]["output_activation"] == "sigmoid"


@pytest.mark.parametrize("args, says", [
    (["--output-activation", "sigmoid"],
     "sigmoid would clip the logits that softmax_cross_entropy turns into probabilities: use "
     "--output-activation identity"),
    (["--output-activation", "relu", "--loss", "softmax_cross_entropy"], "use --output-activation "
     "identity (softmax is part of the loss), or keep relu with --loss half_mse"),
    (["--output-activation", "tanh", "--loss", "binary_cross_entropy"],
     "binary_cross_entropy reads the outputs as probabilities: use --output-activation sigmoid"),
])
def test_an_output_activation_the_loss_cannot_take_is_one_line_naming_the_flag(args, says):
    result = run("train", "--epochs", "1", *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Invalid value for '--output-activation'" in lines[0], lines
    assert says in lines[0]


def test_the_data_is_held_once_in_the_runs_dtype_and_not_standardised(cache):
    dataset = datasets.load("mnist", dtype="float32")
    prepared = prepare(dataset, 0.25, np.random.default_rng(0))
    assert prepared.X is dataset.X and prepared.X.dtype == np.float32   # no copy, no float64
    assert prepared.metadata["feature_mean"] == [0.0] * 784
    assert prepared.metadata["feature_std"] == [1.0] * 784


def test_split_is_only_for_the_two_downloaded_sets(cache):
    assert run("train", "--quiet", "--epochs", "1", "--save", "digits.npz").exit_code == 0
    result = run("evaluate", "digits.npz", "--split", "train")
    assert result.exit_code == 2
    assert "--split is only for mnist and fashion-mnist, which have a train and a test part: " \
           "leave --split out for digits" in result.output


# -- the data folder: listing, offline, corrupt files ---------------------------------------

def test_datasets_lists_both_with_their_size_and_whether_they_are_here(cache, tmp_path,
                                                                       monkeypatch):
    result = run("datasets")
    assert result.exit_code == 0
    mnist_row = next(line for line in result.output.splitlines() if line.startswith("mnist "))
    assert "60000+10000" in mnist_row and " 784 " in mnist_row
    assert mnist_row.endswith(f"cached in {cache / 'mnist'}")
    monkeypatch.setenv("BACKPROP_EDU_DATA", str(tmp_path / "empty"))
    rows = run("datasets").output.splitlines()
    assert next(line for line in rows if line.startswith("fashion-mnist")).endswith(
        "downloaded on first use (30.9 MB)")
    assert f"live in {tmp_path / 'empty'} (set BACKPROP_EDU_DATA" in rows[-1]


@pytest.mark.parametrize("command", [["train"], ["vanishing"]])
def test_offline_a_command_says_where_to_put_the_files_in_one_line(tmp_path, monkeypatch,
                                                                   command):
    folder = offline_cache(monkeypatch, tmp_path / "nothing-here")
    result = run(*command, "--data", "fashion-mnist")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Error: could not download train-images-idx3-ubyte.gz of fashion-mnist (127.0.0.1:")
    assert "Connection refused" in lines[0] and "BACKPROP_EDU_DATA" in lines[0]
    assert f"in {folder / 'fashion-mnist'} by hand" in lines[0]
    assert not any(path.is_file() for path in folder.rglob("*"))


def test_a_corrupt_file_is_one_line_naming_it_in_a_real_process(cache):
    labels = cache / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-9])   # a copy cut short
    assert run("train", "--data", "mnist", "--epochs", "1", "--save", "net.npz",
               "--quiet").exit_code == 0               # the train part is whole
    result = subprocess.run([installed_command(), "evaluate", "net.npz"], capture_output=True,
                            text=True, env={**os.environ, "BACKPROP_EDU_DATA": str(cache)})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {labels} is cut short") and \
        result.stderr.count("\n") == 1, result.stderr


def test_vanishing_measures_mnist_pixels_as_they_are(cache):
    result = run("vanishing", "--data", "mnist", "--depth", "3", "--width", "16",
                 "--activations", "sigmoid", "--init", "xavier", "--batch-size", "20")
    assert result.exit_code == 0, result.output
    assert "mnist data, batch of 20" in result.output


# -- the documented runs (docs/mnist.md) -------------------------------------------------------

def documented_commands():
    """Every `$ backprop-edu ...` line of docs/mnist.md's console blocks, as argument lists."""
    text = DOCS_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```console\n(.*?)^```", text, re.S | re.M)
    return [shlex.split(line[2:])[1:] for block in blocks for line in block.splitlines()
            if line.startswith("$ backprop-edu")]


def test_every_flag_of_the_documented_commands_is_in_the_commands_help():
    commands = documented_commands()
    assert len(commands) >= 8
    for args in commands:
        help_text = run(args[0], "--help").output
        for flag in (arg for arg in args[1:] if arg.startswith("-")):
            assert re.search(rf"(^|[\s,/]){re.escape(flag)}([\s,=]|$)", help_text, re.M), \
                f"{flag} of `backprop-edu {' '.join(args)}` is not in `{args[0]} --help`"


def test_the_documented_commands_run_as_written_on_small_files(tmp_path, monkeypatch):
    folder = offline_cache(monkeypatch, tmp_path / "cache")
    make_files(folder / "mnist", m_train=24, m_test=10)   # 30 epochs of 2 steps: quick
    monkeypatch.chdir(tmp_path)
    for args in documented_commands():
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    assert Path("chapter1.npz").is_file() and Path("chapter5.png").is_file()
    assert Path("mnist-vanishing.png").is_file()
    assert run("evaluate", "chapter3.npz").output.startswith("mnist (test part): 10 samples")


def test_the_documented_python_runs_on_small_files(tmp_path, monkeypatch):
    folder = offline_cache(monkeypatch, tmp_path / "cache")
    make_files(folder / "mnist", m_train=24, m_test=10)
    code = re.findall(r"^```python\n(.*?)^```", DOCS_PAGE.read_text(encoding="utf-8"),
                      re.S | re.M)
    namespace = {}
    exec("\n".join(code), namespace)
    assert namespace["train"].X.shape == (24, 784) and namespace["test"].X.shape == (10, 784)
    assert namespace["train"].X.dtype == np.float32
    assert namespace["train"].classes == tuple("0123456789")
