"""`backprop-edu train`: train a network from the shell, a table row per epoch.

    backprop-edu train                                    # digits, sensible defaults
    backprop-edu train --layers 64,32,32,10 --activation sigmoid --epochs 30 --lr 0.5
    backprop-edu train --data my.csv --target label --layers 4,16,3 --save model.npz
    backprop-edu train --data mnist --layers 784,30,10 --activation sigmoid \
        --output-activation sigmoid --loss half_mse --lr 3 --batch-size 10 --epochs 30

This module parses options, checks them, prints and writes files; the data comes from
backprop_edu.datasets and backprop_edu.preparation, the loop from backprop_edu.train,
the history file from backprop_edu.history, the table and the progress bar from
cli/table.py. Every file is written atomically (a temporary file in the same directory,
then a rename), so an error or Ctrl-C never leaves half a file behind.

What is left out: using a saved model (cli/models.py) and listing the data sets
(cli/datasets.py).
"""

import sys

import click
import numpy as np

from backprop_edu import datasets
from backprop_edu.activations import ACTIVATIONS
from backprop_edu.checks import CLIPPING
from backprop_edu.cli.options import (SEED, FiniteFloatRange, distinct_outputs, figure_path,
                                      output_path, parse_layers_with_pooling)
from backprop_edu.cli.table import Progress, Table
from backprop_edu.health import verdicts
from backprop_edu.history import HistoryWriter
from backprop_edu.init import INITS
from backprop_edu.losses import LOSSES
from backprop_edu.optim import OPTIMIZERS
from backprop_edu.preparation import prepare
from backprop_edu.residual import Residual
from backprop_edu.builder import build_network
from backprop_edu.train import Diverged, train_epochs

DEFAULT_HIDDEN = 64
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "adam": 0.001}
EXIT_DIVERGED = 3


@click.command()
@click.option("--data", default="digits", show_default=True,
              help="A shipped data set (digits, xor, moons, circles, spirals), mnist or "
                   "fashion-mnist (downloaded on first use; trained on their 60,000 training "
                   "images; see `backprop-edu datasets`), or the path of a CSV file with a "
                   "header row.")
@click.option("--target", default=None,
              help="For a CSV: the name of the column to predict (every other column is a "
                   "numeric feature). Not used with shipped data. [default: none; required "
                   "for a CSV]")
@click.option("--task", type=click.Choice(["classification", "regression"]),
              default="classification", show_default=True,
              help="For a CSV: class labels of any type (classification) or real-valued "
                   "targets (regression, standardised like the features).")
@click.option("--layers", "widths", default=None, callback=parse_layers_with_pooling,
              help="Every layer width, input to output, e.g. 64,32,10; maxpoolK or avgpoolK "
                   "between two widths pools windows of K units, e.g. 64,64,maxpool2,10 "
                   "(64 → 64 → 32 → 10). "
                   f"[default: FEATURES,{DEFAULT_HIDDEN},OUTPUTS of the data]")
@click.option("--activation", type=click.Choice(list(ACTIVATIONS)), default="relu",
              show_default=True, help="φ of the hidden layers.")
@click.option("--output-activation", type=click.Choice(list(ACTIVATIONS)), default=None,
              help="φ_L of the output layer: sigmoid for the textbook's network, with --loss "
                   "half_mse or binary_cross_entropy. softmax_cross_entropy needs identity "
                   "(softmax is part of the loss). [default: identity (linear), sigmoid with "
                   "binary_cross_entropy]")
@click.option("--loss", type=click.Choice(list(LOSSES)), default=None,
              help="The loss J. [default: softmax_cross_entropy for class labels, "
                   "half_mse for real targets]")
@click.option("--init", type=click.Choice(list(INITS)), default=None,
              help="How initial weights are drawn. [default: he for relu/leaky_relu, "
                   "xavier otherwise]")
@click.option("--dropout", type=FiniteFloatRange(0, 1, max_open=True), default=0.0,
              show_default=True,
              help="p of a Dropout layer after every hidden layer (after its pooling): each "
                   "unit is dropped with probability p while training, none at evaluation.")
@click.option("--residual", is_flag=True, default=False,
              help="Make every hidden layer whose input and output widths are equal a residual "
                   "block h_l = h_{l−1} + φ(W_l h_{l−1} + b_l). [default: off]")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default="sgd",
              show_default=True, help="How gradients become steps: plain gradient descent, "
                                      "momentum, or Adam.")
@click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=None,
              help="Learning rate η, the step size. [default: 0.1 for sgd, 0.01 for momentum, "
                   "0.001 for adam]")
@click.option("--momentum", type=FiniteFloatRange(0, 1, max_open=True), default=0.9,
              show_default=True,
              help="μ of --optimizer momentum (v ← μv + g); ignored by the others.")
@click.option("--weight-decay", type=FiniteFloatRange(min=0), default=0.0, show_default=True,
              help="L2 penalty λ: adds λθ to every gradient.")
@click.option("--clip-norm", type=FiniteFloatRange(min=0, min_open=True), default=None,
              metavar="C",
              help="Clip the gradients by global norm before every step: when ‖g‖ = "
                   "√(Σ_θ ‖∇θ J‖²) > C, scale every ∇θ J by C/‖g‖ (the history records the "
                   "norm before clipping). [default: no clipping]")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Samples per gradient step (the m of BP3/BP4); one larger than the training "
                   "split means full-batch gradient descent.")
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True,
              help="Passes over the training data.")
@click.option("--val-split", type=FiniteFloatRange(0, 1, max_open=True), default=0.2,
              show_default=True, help="Fraction of the samples held out for validation.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the initial weights, the validation split and the shuffling: "
                   "the same seed gives the same run.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True, help="Floating-point type of every array in the network.")
@click.option("--history", type=click.Path(dir_okay=False), default=None, callback=output_path,
              help="Write every epoch's losses and per-layer norms to this JSON file "
                   "(see docs/history.md). [default: not written]")
@click.option("--save", type=click.Path(dir_okay=False), default=None, callback=output_path,
              help="Save the trained network (.npz) for evaluate/predict. [default: not saved]")
@click.option("--plot-boundary", type=click.Path(dir_okay=False), default=None,
              callback=figure_path,
              help="For 2-D data: draw the decision regions after training to this image "
                   "(.png/.svg/.pdf). [default: not drawn]")
@click.option("--health", is_flag=True, default=False,
              help="Add each layer's health to the table (dead ReLU units, saturated "
                   "sigmoid/tanh units, ‖ΔW_l‖/‖W_l‖ per step) and print a verdict per layer "
                   "at the end. The history holds them either way. [default: off]")
@click.option("--quiet", "-q", is_flag=True, default=False,
              help="Print only the final result: no table, no progress bar. [default: off]")
def train(data, target, task, widths, activation, output_activation, loss, init, dropout,
          residual, optimizer, lr, momentum, weight_decay, clip_norm, batch_size, epochs,
          val_split, seed, dtype, history, save, plot_boundary, health, quiet):
    """Train a network and print, every epoch, its losses and each layer's ‖∇W_l‖.

    \b
    Examples:
      backprop-edu train
      backprop-edu train --layers 64,32,32,10 --activation sigmoid --epochs 30 --lr 0.5
      backprop-edu train --data moons --layers 2,16,16,2 --plot-boundary moons.png
      backprop-edu train --data my.csv --target label --layers 4,16,3 --save model.npz
      backprop-edu train --layers 64,64,maxpool2,10 --dropout 0.2 --save pooled.npz
      backprop-edu train --layers 64,64,64,10 --lr 1 --health   # ReLU units die
      backprop-edu train --data mnist --layers 784,30,10 --activation sigmoid
          --output-activation sigmoid --loss half_mse --lr 3 --batch-size 10 --epochs 30

    The last is the first network of Nielsen's book (docs/mnist.md).

    ‖∇W_l‖ is the Frobenius norm of layer l's weight gradient (BP3), averaged over the
    epoch's mini-batches: a layer whose norm is orders of magnitude below the others
    learns slowly. A loss that becomes NaN or infinite stops training (exit code 3).
    """
    distinct_outputs(data, history=history, save=save, plot_boundary=plot_boundary)
    dataset = datasets.load(data, target, task, dtype=dtype)  # MNIST: made in the run's dtype
    classification = dataset.task == "classification"
    n_features, n_outputs = dataset.X.shape[1], dataset.n_outputs
    what = f"{n_outputs} classes" if classification else "1 target"
    if widths is None:
        widths = [n_features, DEFAULT_HIDDEN, n_outputs]
    elif widths[0] != n_features or widths[-1] != n_outputs:
        raise click.BadParameter(
            f"{dataset.name} has {n_features} features and {what}: use --layers "
            f"{n_features},...,{n_outputs} (got {','.join(map(str, widths))})",
            param_hint="'--layers'")
    if loss is None:
        loss = "softmax_cross_entropy" if classification else "half_mse"
    elif loss == "softmax_cross_entropy" and not classification:
        raise click.BadParameter("softmax_cross_entropy needs class labels; for real targets "
                                 "use --loss half_mse", param_hint="'--loss'")
    output_activation = check_output_activation(output_activation, loss)
    if plot_boundary is not None:
        if n_features != 2 or not classification:
            raise click.BadParameter(
                f"a decision boundary needs 2-D classification data, but {dataset.name} has "
                f"{n_features} features{'' if classification else ' and real targets'}; "
                "try --data moons", param_hint="'--plot-boundary'")
    if lr is None:
        lr = DEFAULT_LR[optimizer]

    # one Generator drives the split, the initial weights and the shuffling, in that order
    rng = np.random.default_rng(seed)
    X, y, train_rows, val_rows, metadata = prepare(dataset, val_split, rng)
    X_train, y_train, X_val, y_val = X[train_rows], y[train_rows], X[val_rows], y[val_rows]
    name = dataset.name
    if plot_boundary is None:  # held once: the two splits (MNIST in float32 is 188 MB)
        del X, y, dataset

    config = {"data": str(data), "target": metadata["target"], "task": metadata["task"],
              "layers": widths, "activation": activation,
              "output_activation": output_activation, "loss": loss, "init": init,
              "dropout": dropout, "residual": residual, "optimizer": optimizer, "lr": lr,
              "momentum": momentum, "weight_decay": weight_decay, "clip_norm": clip_norm,
              "batch_size": batch_size, "epochs": epochs, "val_split": val_split, "seed": seed,
              "dtype": dtype, "history": history, "save": save, "plot_boundary": plot_boundary,
              "health": health, "quiet": quiet}
    metadata["config"] = config
    try:
        net = build_network(widths, activation, output_activation, init=init, loss=loss,
                            residual=residual, dtype=dtype, rng=rng, metadata=metadata,
                            dropout=dropout)
    except ValueError as error:  # e.g. a pooling window that does not divide the width below
        raise click.BadParameter(str(error), param_hint="'--layers'") from None
    except MemoryError:
        raise click.BadParameter(f"a {'-'.join(map(str, widths))} network does not fit in this "
                                 "machine's memory: use smaller hidden widths",
                                 param_hint="'--layers'") from None
    if residual and not any(isinstance(layer, Residual) for layer in net.layers):
        click.echo("note: --residual changes nothing here: no hidden layer has equal input and "
                   "output widths (e.g. --layers 64,32,32,10 has one)", err=True)
    options = {"momentum": momentum} if optimizer == "momentum" else {}
    opt = OPTIMIZERS[optimizer](net, lr=lr, weight_decay=weight_decay, **options)

    writer = HistoryWriter(history, config, net) if history is not None else None
    validation = len(val_rows) > 0
    table = Table(net, classification, validation, clipping=clip_norm is not None,
                  health=health)
    if not quiet:
        output = "" if output_activation == "identity" else f", {output_activation} output"
        clipped = f", gradients clipped to norm {clip_norm:g}" if clip_norm is not None else ""
        click.echo(f"{name}: {len(train_rows)} training and {len(val_rows)} validation "
                   f"samples, {n_features} features, {what}. Network "
                   f"{'-'.join(map(str, widths))} ({activation}{', residual' if residual else ''}"
                   f"{output}{f', dropout {dropout:g}' if dropout else ''}), {loss}, "
                   f"{optimizer} lr={lr:g}{clipped}, {dtype}.")
        click.echo(table.header())

    n_batches = -(-len(train_rows) // min(batch_size, len(train_rows)))
    progress = Progress(epochs * n_batches, quiet)
    epochs_run = train_epochs(net, opt, X_train, y_train, X_val, y_val, epochs=epochs,
                              batch_size=batch_size, rng=rng, on_batch=progress.on_batch,
                              clip_norm=clip_norm)
    record = None
    done = 0  # epochs finished

    def finished():
        """The epochs kept: those in the history file, read back (a Ctrl-C may land mid-write)."""
        on_disk = writer.epochs_on_disk() if writer is not None else None
        return done if on_disk is None else on_disk

    def kept(n):
        return f"; the history of the {n} finished epoch{'s' * (n != 1)} is in {history}" \
            if history else ""

    try:
        for record in epochs_run:
            done += 1
            if writer is not None:
                writer.append(record)
            if not quiet:
                progress.clear_line()
                click.echo(table.row(record))
    except Diverged as error:
        progress.finish()
        clip = " or clip the gradients (--clip-norm 1)" if clip_norm is None else ""
        click.echo(f"Error: {error}. The steps were too large: try a smaller --lr "
                   f"(e.g. --lr {lr / 10:g}){clip}{kept(finished())}.", err=True)
        sys.exit(EXIT_DIVERGED)
    except KeyboardInterrupt:
        progress.finish()
        n = finished()
        click.echo(f"interrupted after {n} epoch{'s' * (n != 1)}{kept(n)}; model not saved",
                   err=True)
        sys.exit(130)
    finally:
        progress.finish()

    if save is not None:
        net.save(save)
    if plot_boundary is not None:
        from backprop_edu.plots import plot_decision_boundary
        plot_decision_boundary(net, X, dataset.y, plot_boundary,
                               title=f"{name}: decision regions of "
                                     f"{'-'.join(map(str, widths))} {activation} "
                                     "(standardised features)")
    summary = [f"train loss {record['train_loss']:.4f}"]
    if classification:
        summary.append(f"train accuracy {record['train_accuracy']:.4f}")
    if validation:
        summary.append(f"validation loss {record['val_loss']:.4f}")
        if classification:
            summary.append(f"validation accuracy {record['val_accuracy']:.4f}")
    outputs = (("history", history), ("model", save), ("decision regions", plot_boundary))
    written = [f"{what} {path}" for what, path in outputs if path]
    epochs_done = f"{record['epoch']} epoch{'s' if record['epoch'] > 1 else ''}"
    if health:  # one line per layer, from the last epoch's statistics
        click.echo(f"health in epoch {record['epoch']}:")
        for line in verdicts(record):
            click.echo(f"  {line}")
    click.echo(f"after {epochs_done}: {', '.join(summary)}"
               + (f"; wrote {', '.join(written)}" if written else ""))


def check_output_activation(output_activation, loss):
    """The output layer's φ_L for ``loss`` (identity, or sigmoid for binary_cross_entropy, when
    none was given), or a one-line error naming the flags for a pair the core refuses."""
    needed = LOSSES[loss].output_activation  # binary_cross_entropy: sigmoid
    if output_activation is None:
        return needed or "identity"
    if loss == "softmax_cross_entropy" and output_activation in CLIPPING:
        raise click.BadParameter(
            f"{output_activation} would clip the logits that softmax_cross_entropy turns into "
            "probabilities: use --output-activation identity (softmax is part of the loss), or "
            f"keep {output_activation} with --loss half_mse or binary_cross_entropy",
            param_hint="'--output-activation'")
    if needed is not None and output_activation != needed:
        raise click.BadParameter(
            f"{loss} reads the outputs as probabilities: use --output-activation {needed} "
            "(its default with this loss)", param_hint="'--output-activation'")
    return output_activation
