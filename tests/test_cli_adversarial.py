"""From the shell: pooling and dropout in `train` (saved, loaded, evaluated), `gradcheck` with
pooling, `saliency` and `adversarial` (on a model trained now or given), and their bad input."""

import json
import subprocess

import numpy as np
import pytest

from backprop_edu import Dropout, MaxPool, Network, datasets
from backprop_edu import adversarial as fgsm
from backprop_edu.preparation import prepare
from conftest import assert_one_line_error, installed_command, read_image, run


# -- train with pooling and dropout ----------------------------------------------------


def test_a_network_with_pooling_and_dropout_trains_saves_and_loads(tmp_path):
    model, history = tmp_path / "pooled.npz", tmp_path / "run.json"
    result = run("train", "--layers", "64,64,maxpool2,32,avgpool2,10", "--dropout", "0.2",
                 "--epochs", "4", "--save", model, "--history", history)
    assert result.exit_code == 0, result.output
    assert "Network 64-64-maxpool2-32-avgpool2-10 (relu, dropout 0.2)" in result.output
    header = result.output.splitlines()[1]
    assert "‖∇W1‖ 64×64" in header and "‖∇W4‖ 32×32" in header and "‖∇W7‖ 10×16" in header
    assert "‖∇W2‖" not in header                           # a pooling layer has no W
    net = Network.load(model)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "MaxPool", "Dropout", "Dense", "AvgPool", "Dropout", "Dense"]
    assert net.layers[2].p == 0.2 and net.layers[1].n_out == 32
    run_ = json.loads(history.read_text())
    assert run_["config"]["layers"] == [64, 64, "maxpool2", 32, "avgpool2", 10]
    assert run_["config"]["dropout"] == 0.2
    assert run_["layers"][1] == {"n_in": 64, "n_out": 32, "type": "MaxPool"}
    assert run_["epochs"][-1]["grad_W_norm"][1] is None
    accuracy = float(result.output.rsplit("validation accuracy ", 1)[1].split(";")[0])
    assert accuracy > 0.85

    evaluated = run("evaluate", model)
    assert evaluated.exit_code == 0 and "accuracy" in evaluated.output
    first, second = run("predict", model), run("predict", model)   # dropout is off: the same
    assert first.exit_code == 0 and first.output == second.output
    digits = datasets.load("digits")
    X, _, _, val, _ = prepare(digits, 0.2, np.random.default_rng(0))
    assert (net.predict(X[val]) == digits.y[val]).mean() == pytest.approx(accuracy, abs=1e-4)


@pytest.mark.parametrize("args, message", [
    (["--layers", "64,64,maxpool3,10"], "MaxPool(k=3) cannot pool n_in=64 units: 64 is not a "
                                        "multiple of 3"),
    (["--layers", "64,30,avgpool4,10"], "AvgPool(k=4) cannot pool n_in=30 units"),
    (["--layers", "64,maxpool2"], "has one width"),
    (["--layers", "maxpool2,64,10"], "starts or ends with a pooling layer"),
    (["--layers", "64,64,minpool2,10"], "is not a list of integers and pooling layers"),
    (["--dropout", "1"], "'--dropout': 1.0 is not in the range 0<=x<1"),
    (["--dropout", "-0.1"], "'--dropout'"),
    (["--dropout", "nan"], "'--dropout'"),
])
def test_bad_pooling_or_dropout_in_train_is_one_line_and_writes_nothing(tmp_path, args, message):
    result = run("train", *args, "--save", tmp_path / "m.npz", "--history", tmp_path / "h.json")
    assert_one_line_error(result, message)
    assert result.exit_code == 2 and not list(tmp_path.iterdir())


def test_gradcheck_checks_a_network_with_pooling_from_the_shell():
    result = run("gradcheck", "--layers", "4,12,maxpool3,8,avgpool2,3", "--json", "-")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and [row["layer"] for row in data["layers"]] == [1, 3, 5]
    assert "MaxPool(3, n_in=12)" in data["network"]
    assert_one_line_error(run("gradcheck", "--layers", "4,12,maxpool5,3"), "not a multiple of 5")


# -- saliency ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The model `backprop-edu train --save` makes with its defaults, and the validation
    accuracy train printed."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    result = run("train", "--quiet", "--save", path)
    assert result.exit_code == 0
    return path, float(result.output.rsplit("validation accuracy ", 1)[1].split(";")[0])


@pytest.fixture(scope="module")
def digits_model(trained):
    return trained[0]


def test_saliency_trains_the_default_classifier_and_draws_the_maps(tmp_path, digits_model):
    figure, maps = tmp_path / "maps.png", tmp_path / "maps.json"
    result = run("saliency", "--count", "3", "-o", figure, "--json", maps)
    assert result.exit_code == 0, result.output
    assert "no --model: training a 64-64-10 relu classifier first" in result.stderr
    assert "trained in " in result.stderr and "validation accuracy 0.9" in result.stderr
    assert read_image(figure).shape[0] > 100
    data = json.loads(maps.read_text())
    assert [sample["label"] for sample in data["samples"]] == ["0", "1", "2"]
    first = data["samples"][0]
    assert np.array(first["saliency"]).shape == (8, 8) and np.min(first["saliency"]) >= 0
    # the same maps from the model `train --save` made: the same training, the same digits
    again = run("saliency", "--count", "3", "--model", digits_model, "-o", figure, "--json", "-")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["samples"] == data["samples"]
    net = Network.load(digits_model)
    digit = datasets.load("digits").X[first["digit"]]
    expected = fgsm.saliency(net, digit[None, :], [0])[0].reshape(8, 8)
    np.testing.assert_allclose(first["saliency"], expected, rtol=1e-9)


# -- adversarial ---------------------------------------------------------------------------


def test_adversarial_accuracy_starts_at_the_clean_accuracy_and_falls(tmp_path, trained):
    digits_model, val_accuracy = trained
    paths = {name: tmp_path / name for name in ("fgsm.svg", "examples.png", "fgsm.json")}
    result = run("adversarial", "--model", digits_model, "--epsilons", "0,0.5,1,2,4",
                 "--count", "3", "-o", paths["fgsm.svg"], "--examples", paths["examples.png"],
                 "--json", paths["fgsm.json"])
    assert result.exit_code == 0, result.output
    records = json.loads(paths["fgsm.json"].read_text())
    assert [record["epsilon"] for record in records] == [0, 0.5, 1, 2, 4]
    accuracies = [record["accuracy"] for record in records]
    assert accuracies[0] == pytest.approx(val_accuracy, abs=5e-5)   # train printed 4 digits
    assert f"clean accuracy {accuracies[0]:.4f}" in result.output
    assert all(later <= earlier + 0.02 for earlier, later in zip(accuracies, accuracies[1:]))
    assert accuracies[2] < accuracies[0] / 2
    assert paths["fgsm.svg"].read_text().startswith("<?xml")
    read_image(paths["examples.png"])


def test_adversarial_works_on_a_model_with_pooling_and_dropout(tmp_path):
    model = tmp_path / "pooled.npz"
    assert run("train", "--layers", "64,64,maxpool2,10", "--dropout", "0.3", "--epochs", "5",
               "--quiet", "--save", model).exit_code == 0
    net = Network.load(model)
    assert isinstance(net.layers[1], MaxPool) and isinstance(net.layers[2], Dropout)
    result = run("adversarial", "--model", model, "--epsilons", "0,2", "--json", "-",
                 "--count", "1", "-o", tmp_path / "f.png", "--examples", tmp_path / "e.png")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert records[0]["accuracy"] > 0.85 and records[1]["accuracy"] < records[0]["accuracy"] / 2
    digits = datasets.load("digits")                       # train's held-out digits, in Python
    _, y, _, val, _ = prepare(digits, 0.2, np.random.default_rng(0))
    assert records == fgsm.accuracy_against_epsilon(net, digits.X[val], y[val], [0, 2])


@pytest.mark.parametrize("epsilons, message", [
    ("-1", "-1 is not a step ε ≥ 0"),
    ("0,abc", "'abc' is not a number"),
    ("nan", "nan is not a step ε ≥ 0"),
    ("1,,2", "'1,,2' has an empty entry"),
])
def test_a_bad_epsilon_is_one_line_and_writes_nothing(tmp_path, epsilons, message):
    result = run("adversarial", "--epsilons", epsilons, "-o", tmp_path / "f.png",
                 "--examples", tmp_path / "e.png", "--json", tmp_path / "f.json")
    assert_one_line_error(result, message)
    assert result.exit_code == 2 and not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["saliency", "adversarial"])
def test_a_model_that_is_not_a_digits_network_is_one_line_and_writes_nothing(tmp_path, command):
    text = tmp_path / "notes.txt"
    text.write_text("not a network")
    moons = tmp_path / "moons.npz"
    assert run("train", "--data", "moons", "--epochs", "1", "--quiet", "--save",
               moons).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    outputs = ["-o", out / "f.png", "--json", out / "f.json"]
    if command == "adversarial":
        outputs += ["--examples", out / "e.png"]
    for model, message in [(tmp_path / "missing.npz", "no such file"),
                           (text, "is not a saved backprop-edu network"),
                           (moons, "was trained on 2 features (x1, x2), not on the digits' 64 pixels")]:
        assert_one_line_error(run(command, "--model", model, *outputs), message)
    assert_one_line_error(run(command, "-o", out / "f.txt"), "not an image format")
    assert not list(out.iterdir())


def test_the_installed_command_writes_the_sweep_as_json(tmp_path, digits_model):
    result = subprocess.run([installed_command(), "adversarial", "--epsilons", "0,2", "--json",
                             "-", "--model", digits_model, "--count", "1"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [record["epsilon"] for record in records] == [0, 2]
    assert records[1]["accuracy"] < records[0]["accuracy"] / 2
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["fgsm-examples.png", "fgsm.png"]
