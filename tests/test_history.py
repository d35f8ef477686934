"""The history file: the writer keeps the format of docs/history.md; bad files are named."""

import json

import pytest

from backprop_edu import history as history_module
from backprop_edu.history import HistoryWriter, read_history
from backprop_edu import build_network

CONFIG = {"data": "moons", "layers": [2, 4, 2], "lr": 0.1, "init": None}


def record(epoch, **changes):
    return {"epoch": epoch, "train_loss": 1.0 / epoch, "train_accuracy": 0.5,
            "val_loss": None, "val_accuracy": None, "grad_W_norm": [0.25, 0.5],
            "grad_b_norm": [0.1, 0.2], "delta_norm": [0.3, 0.4], "seconds": 0.01, **changes}


def test_the_file_has_config_and_layers_on_a_line_each_then_one_line_per_epoch(tmp_path):
    path = tmp_path / "run.json"
    writer = HistoryWriter(path, CONFIG, build_network([2, 4, 2], "tanh", rng=0))
    assert json.loads(path.read_text()) == {
        "config": CONFIG, "epochs": [],
        "layers": [{"n_in": 2, "n_out": 4, "activation": "tanh"},
                   {"n_in": 4, "n_out": 2, "activation": "identity"}]}
    writer.append(record(1))
    writer.append(record(2, val_loss=float("nan")))  # not finite: null, JSON has no nan
    lines = path.read_text().splitlines()
    assert lines[0] == '{"config": ' + json.dumps(CONFIG) + ","
    assert lines[1].startswith(' "layers": [{"n_in": 2') and lines[2] == ' "epochs": ['
    assert lines[3] == "  " + json.dumps(record(1)) + ","
    assert lines[4] == "  " + json.dumps(record(2, val_loss=None))
    assert lines[5:] == [" ]", "}"]
    assert read_history(path)["epochs"] == [record(1), record(2, val_loss=None)]
    assert writer.epochs_on_disk() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_appending_an_epoch_encodes_that_epoch_only(tmp_path, monkeypatch):
    writer = HistoryWriter(tmp_path / "run.json", CONFIG, build_network([2, 4, 2], "relu", rng=0))
    encoded = []
    real_dumps = json.dumps
    monkeypatch.setattr(history_module.json, "dumps",
                        lambda value, **kw: encoded.append(value) or real_dumps(value, **kw))
    for epoch in range(1, 6):
        writer.append(record(epoch))
    assert [value["epoch"] for value in encoded] == [1, 2, 3, 4, 5]


def test_epochs_on_disk_of_a_removed_file_is_none(tmp_path):
    writer = HistoryWriter(tmp_path / "run.json", CONFIG, build_network([2, 4, 2], "relu", rng=0))
    (tmp_path / "run.json").unlink()
    assert writer.epochs_on_disk() is None


@pytest.mark.parametrize("content,message", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"layers": [{"n_in": 2, "n_out": 2}]}', "no 'epochs' key"),
    ('{"layers": [{"n_in": 2, "n_out": 2}], "epochs": []}', "no epochs yet"),
    ('{"layers": [{"n_in": 2, "n_out": 2}], "epochs": [{"epoch": 1, "train_loss": 1}]}',
     "has no 'grad_W_norm'"),
    ('{"layers": [{"n_in": 2, "n_out": 2}], "epochs": [{"epoch": 1, "train_loss": 1, '
     '"grad_W_norm": [1, 2]}]}', "one number per layer"),
    ("", "is empty"),
    ('{"layers": [{"n_in": 2, "n_out": 2}], "epochs": [{"epoch": 1, "tr', "ends early"),
])
def test_read_history_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "h.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_history(path)


def test_read_history_of_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="no such history file"):
        read_history(tmp_path / "missing.json")
