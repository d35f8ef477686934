"""The training history file: written one epoch at a time, read back whole (docs/history.md).

    writer = HistoryWriter("run.json", config, net)   # writes the file with no epochs yet
    for record in train_epochs(net, ...):
        writer.append(record)                         # rewrites it with one epoch more
    history = read_history("run.json")                # the dict, checked; a one-line ValueError

The file is one JSON object, {"config": ..., "layers": [...], "epochs": [...]}. It is
rewritten atomically after every epoch (a temporary file in the same directory, then a
rename: files.atomic_file), so it is always complete: a plot can read it while training
runs, and a Ctrl-C keeps every finished epoch. Each epoch is serialised once, when it is
appended, so a long run does not spend its time re-encoding the epochs already written.

What is left out: what the numbers mean (train.train_epochs computes them) and drawing
them (plots.plot_history).
"""

import json
import math
import os

from backprop_edu.files import atomic_file

WHAT = "a training history (the JSON file of docs/history.md)"
PER_LAYER = ("grad_W_norm", "grad_b_norm", "delta_norm",             # one value per layer
             "dead_fraction", "saturated_fraction", "update_ratio")  # (grad_W_norm required)

# -- writing -------------------------------------------------------------------

class HistoryWriter:
    """The history file of one run at ``path``: config and layers once, then one line per epoch.

    config: the options of the run (a dict of JSON values), written as given.
    net:    the Network being trained; its layers are described by n_in, n_out, activation
            (layer_entry).
    """

    def __init__(self, path, config, net):
        self.path = os.fspath(path)
        layers = [layer_entry(layer) for layer in net.layers]
        self.head = (f'{{"config": {json.dumps(config)},\n "layers": {json.dumps(layers)},'
                     '\n "epochs": [')
        self.lines = []  # every epoch, serialised once
        self.write()

    def append(self, record):
        """Add one epoch's record (what train_epochs yields) and rewrite the file.

        A number that is not finite becomes null (JSON has no nan)."""
        record = {key: value if not isinstance(value, float) or math.isfinite(value) else None
                  for key, value in record.items()}
        self.lines.append(json.dumps(record, allow_nan=False))
        self.write()

    def write(self):
        epochs = ",".join(f"\n  {line}" for line in self.lines)
        with atomic_file(self.path, encoding="utf-8", newline="") as f:
            f.write(f"{self.head}{epochs}\n ]\n}}\n")

    def epochs_on_disk(self):
        """How many epochs the file holds, read back: after a Ctrl-C in the middle of a write
        that may be one fewer than were appended. None if the file cannot be read."""
        try:
            with open(self.path, encoding="utf-8") as f:
                return len(json.load(f)["epochs"])
        except (OSError, ValueError, KeyError, TypeError):  # e.g. removed while training ran
            return None


def layer_entry(layer):
    """{"n_in", "n_out", "activation"} of a layer; a layer without an activation (pooling,
    dropout) has {"n_in", "n_out", "type"} instead, e.g. "type": "MaxPool"."""
    entry = {"n_in": layer.n_in, "n_out": layer.n_out}
    if hasattr(layer, "activation"):
        entry["activation"] = layer.activation.name
    else:
        entry["type"] = type(layer).__name__
    return entry


# -- reading -------------------------------------------------------------------

def read_history(path):
    """Load and check a history file. One read of the file, so a history still being written
    (it is replaced atomically) is read whole.

    Returns the dict; a one-line ValueError says what is missing or wrong.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ValueError(f"no such history file: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not a history file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a history file: it is not text (JSON expected)") from None
    try:
        history = json.loads(text)
    except json.JSONDecodeError as error:
        if not text.strip():
            raise ValueError(f"{path} is empty; expected {WHAT}") from None
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            # the JSON stops before it is complete
            raise ValueError(f"{path} is not valid JSON: it ends early (line {error.lineno}), "
                             "as if cut off or still being written by a program that does not "
                             "replace it whole; backprop-edu always writes a complete "
                             "file") from None
        raise ValueError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}, "
                         f"column {error.colno}); expected {WHAT}") from None
    check_history(history, path)
    return history


def check_history(history, name="the history"):
    """Raise a one-line ValueError naming the first thing ``history`` lacks."""
    where = f"{name} is not a training history:"
    if not isinstance(history, dict):
        raise ValueError(f"{where} expected a JSON object with 'layers' and 'epochs', "
                         f"got a {type(history).__name__}")
    for key in ("layers", "epochs"):
        if key not in history:
            raise ValueError(f"{where} it has no {key!r} key (expected {WHAT})")
        if not isinstance(history[key], list):
            raise ValueError(f"{where} {key!r} must be a list, got {type(history[key]).__name__}")
    layers, epochs = history["layers"], history["epochs"]
    if not layers:
        raise ValueError(f"{where} 'layers' is empty")
    for l, layer in enumerate(layers, start=1):
        if not isinstance(layer, dict) or not all(k in layer for k in ("n_in", "n_out")):
            raise ValueError(f"{where} layer {l} in 'layers' needs 'n_in' and 'n_out'")
    if not epochs:
        raise ValueError(f"{where} it has no epochs yet (is training still starting? "
                         "try again after the first epoch)")
    for i, epoch in enumerate(epochs):
        if not isinstance(epoch, dict):
            raise ValueError(f"{where} epochs[{i}] must be an object")
        for key in ("epoch", "train_loss", "grad_W_norm"):
            if key not in epoch:
                raise ValueError(f"{where} epochs[{i}] has no {key!r}")
        values = [epoch["epoch"], epoch["train_loss"]]
        for key in PER_LAYER:
            if key not in epoch and key != "grad_W_norm":  # older histories lack some
                continue
            per_layer = epoch[key]
            if not isinstance(per_layer, list) or len(per_layer) != len(layers):
                raise ValueError(f"{where} epochs[{i}][{key!r}] must list one number per layer "
                                 f"({len(layers)}; null where it has none), got "
                                 f"{per_layer!r:.60}")
            values += per_layer
        values += [epoch.get(k) for k in ("val_loss", "train_accuracy", "val_accuracy")]
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                   for v in values):
            raise ValueError(f"{where} epochs[{i}] holds a value that is not a number or null")
