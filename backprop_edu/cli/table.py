"""What `backprop-edu train` shows while it runs: the per-epoch table, and the progress bar.

        epoch  train loss  train acc   val loss    val acc  ‖∇W1‖ 64×64  ‖∇W2‖ 10×64
            1      1.1019     0.6975     0.4759     0.8969    1.043e+00    1.135e+00

With --health, each layer's health follows (backprop_edu.health): dead ReLU units
(deadl), saturated sigmoid/tanh units (satl), in %, and the update ratio ‖ΔW_l‖/‖W_l‖.

The table goes to stdout, one row per epoch; the bar goes to stderr, one step per
mini-batch, and only when both are a terminal (it shares the terminal with the table:
none when either goes to a file or a pipe, so no bar is ever mixed into the output).

What is left out: the numbers (backprop_edu.train computes them) and the file that
keeps them (backprop_edu.history).
"""

import sys

import click

from backprop_edu.health import activation_of


def number(value):
    """A loss for the table: fixed point while it is readable, scientific when it is huge."""
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.3e}"


class Table:
    """The per-epoch table: fixed columns, then ‖∇W_l‖ of every layer that has a W (pooling
    and dropout have none), named by index and shape."""

    def __init__(self, net, accuracy, validation, clipping=False, health=False):
        self.columns = ["epoch", "train loss"]
        if accuracy:
            self.columns.append("train acc")
        if validation:
            self.columns.append("val loss")
            if accuracy:
                self.columns.append("val acc")
        self.n_fixed = len(self.columns)
        self.columns += [f"‖∇W{l}‖ {layer.n_out}×{layer.n_in}"  # pooling, dropout: no W
                         for l, layer in enumerate(net.layers, start=1) if "W" in layer.params]
        if clipping:  # train --clip-norm: the global norm before clipping, and how often
            self.columns += ["‖g‖ before clip", "clipped"]
        self.health = []  # train --health: (record key, layer index) of each health column
        for l, layer in enumerate(net.layers if health else [], start=1):
            kind = activation_of(layer)
            if kind == "relu":
                self.health.append(("dead_fraction", l - 1))
                self.columns.append(f"dead{l}")
            elif kind in ("sigmoid", "tanh"):
                self.health.append(("saturated_fraction", l - 1))
                self.columns.append(f"sat{l}")
            if "W" in layer.params:
                self.health.append(("update_ratio", l - 1))
                self.columns.append(f"ΔW{l}/W{l}")
        self.widths = [max(len(name), 9) for name in self.columns]
        self.accuracy, self.validation, self.clipping = accuracy, validation, clipping

    def header(self):
        return "  ".join(name.rjust(w) for name, w in zip(self.columns, self.widths))

    def row(self, record):
        values = [str(record["epoch"]), number(record["train_loss"])]
        if self.accuracy:
            values.append(f"{record['train_accuracy']:.4f}")
        if self.validation:
            values.append(number(record["val_loss"]))
            if self.accuracy:
                values.append(f"{record['val_accuracy']:.4f}")
        values += [f"{norm:.3e}" for norm in record["grad_W_norm"] if norm is not None]
        if self.clipping:
            values += [f"{record['grad_norm_before_clip']:.3e}", str(record["clipped_steps"])]
        for key, l in self.health:
            value = record[key][l]
            values.append("—" if value is None else f"{value:.1e}" if key == "update_ratio"
                          else f"{100 * value:.1f}%")
        return "  ".join(value.rjust(w) for value, w in zip(values, self.widths))


class Progress:
    """The progress bar on stderr: ``steps`` mini-batches in all; nothing when ``quiet`` or
    when stdout or stderr is not a terminal."""

    def __init__(self, steps, quiet=False):
        shown = not quiet and sys.stderr.isatty() and sys.stdout.isatty()
        self.bar = click.progressbar(length=steps, file=sys.stderr, label="training",
                                     show_eta=False) if shown else None

    @property
    def on_batch(self):
        """What train_epochs calls after every step (None when there is no bar)."""
        return (lambda k: self.bar.update(1)) if self.bar else None

    def clear_line(self):
        """Clear the bar's line, so that a row of the table can take it."""
        if self.bar:
            sys.stderr.write("\r\x1b[K")

    def finish(self):
        """Erase the bar's line and show the cursor again (the bar hid it); once."""
        if self.bar is not None:
            sys.stderr.write("\r\x1b[K\x1b[?25h")
            sys.stderr.flush()
            self.bar = None
