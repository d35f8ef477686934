"""`backprop-edu saliency` and `adversarial`: the gradient with respect to the input, put to use.

    backprop-edu saliency                           # trains a digits classifier, saliency.png
    backprop-edu saliency --model model.npz --json maps.json
    backprop-edu adversarial --epsilons 0,0.5,1,2,4
    backprop-edu adversarial --model model.npz --json fgsm.json

Both work on held-out digits: the validation split `backprop-edu train` makes (the
model's own seed and --val-split when it was saved by `train --save` on digits, else
train's defaults), through the package's own preparation (backprop_edu.preparation).
Without --model they first train the classifier `backprop-edu train` trains by
default, with the same code (a few seconds). The maths is in backprop_edu.adversarial,
the figures in backprop_edu.gradient_figures; this module checks options, prints a
table and writes the files (each atomically, and only once everything is computed).

What is left out: data sets other than digits (the figures draw 8 × 8 images).
"""

import math
import time
from typing import NamedTuple

import click
import numpy as np

from backprop_edu import build_network, datasets
from backprop_edu.cli.models import load_model
from backprop_edu.cli.options import (SEED, FiniteFloatRange, distinct_outputs, figure_path,
                                      json_option, print_or_write, size_option)
from backprop_edu.cli.table import Progress
from backprop_edu.optim import SGD
from backprop_edu.preparation import prepare
from backprop_edu.train import train_epochs

# what `backprop-edu train` does with its defaults
TRAIN_DEFAULTS = {"hidden": 64, "activation": "relu", "lr": 0.1, "batch_size": 32,
                  "epochs": 20, "val_split": 0.2, "seed": 0}
PIXELS = (0.0, 16.0)  # the digits' pixel levels: FGSM clips x' to them


class HeldOut(NamedTuple):
    """A digits classifier and its held-out digits: raw pixels X (0..16), labels y (class
    indices), their rows in the digits data, and a sentence saying where they come from."""

    net: object
    X: np.ndarray
    y: np.ndarray
    rows: np.ndarray
    classes: tuple
    source: str


def held_out_digits(model, seed, epochs, quiet):
    """The model of --model (checked to be a digits classifier), or one trained now as
    `backprop-edu train` trains it; and the held-out digits of its validation split."""
    digits = datasets.load("digits")
    if model is not None:
        net = load_model(model)
        check_digits_model(net, model, digits)
        config = net.metadata.get("config") or {}
        val_split, seed = TRAIN_DEFAULTS["val_split"], TRAIN_DEFAULTS["seed"]
        if config.get("data") == "digits" and config.get("val_split"):
            val_split, seed = config["val_split"], config.get("seed", seed)
            source = f"the validation split of {model} (seed {seed}, --val-split {val_split:g})"
        elif config.get("data") == "digits":
            source = (f"train's default validation split (seed 0); {model} was trained with "
                      "--val-split 0, on every digit, so none of these is held out from it")
        else:
            source = ("train's default validation split (seed 0): the model may have seen "
                      "some of these digits in training")
        prepared = prepare(digits, val_split, np.random.default_rng(seed))
    else:
        net, prepared = train_digits_classifier(digits, seed, epochs, quiet)
        source = f"the validation split of the training run (seed {seed})"
    rows = prepared.val_rows
    return HeldOut(net, digits.X[rows], prepared.y[rows], rows, digits.classes, source)


def check_digits_model(net, model, digits):
    """--model must classify the digits: the same 64 pixel features and the same classes."""
    meta = net.metadata
    features, classes = meta.get("features", []), meta.get("classes", [])
    if list(features) != list(digits.features):
        raise click.BadParameter(
            f"{model} was trained on {len(features)} features ({few(features)}), not on the "
            f"digits' {len(digits.features)} pixels ({few(digits.features)}): give a model "
            "trained on digits, e.g. `backprop-edu train --save model.npz`",
            param_hint="'--model'")
    if meta.get("task") != "classification" or list(classes) != list(digits.classes):
        raise click.BadParameter(f"{model} does not classify the digits into the classes "
                                 f"{', '.join(digits.classes)}: give a model trained on digits",
                                 param_hint="'--model'")


def few(names):
    """'a, b, c, ...': the first three names of a list."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def train_digits_classifier(digits, seed, epochs, quiet):
    """Train the network `backprop-edu train --seed SEED --epochs EPOCHS` trains, the same way."""
    widths = [digits.X.shape[1], TRAIN_DEFAULTS["hidden"], len(digits.classes)]
    shape = "-".join(map(str, widths))
    note(f"no --model: training a {shape} {TRAIN_DEFAULTS['activation']} classifier first, as "
         f"`backprop-edu train --seed {seed} --epochs {epochs}` does ({epochs} epochs of SGD, "
         "a few seconds) ...", quiet)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)  # as train: the split, the weights, the shuffling
    prepared = prepare(digits, TRAIN_DEFAULTS["val_split"], rng)
    X, y, train, val = prepared.X, prepared.y, prepared.train_rows, prepared.val_rows
    net = build_network(widths, TRAIN_DEFAULTS["activation"], rng=rng,
                        metadata=prepared.metadata)
    batches = math.ceil(len(train) / TRAIN_DEFAULTS["batch_size"])
    progress = Progress(epochs * batches, quiet)
    try:
        for record in train_epochs(net, SGD(net, lr=TRAIN_DEFAULTS["lr"]), X[train], y[train],
                                   X[val], y[val], epochs=epochs,
                                   batch_size=TRAIN_DEFAULTS["batch_size"], rng=rng,
                                   on_batch=progress.on_batch):
            pass
    finally:
        progress.finish()
    note(f"trained in {time.perf_counter() - start:.1f} s: validation accuracy "
         f"{record['val_accuracy']:.4f}", quiet)
    return net, prepared


def note(text, quiet):
    """A note on stderr (never mixed into --json -), unless --quiet."""
    if not quiet:
        click.echo(text, err=True)


def pixel(index):
    """'(row, column)' of pixel ``index`` of an 8 × 8 digit."""
    return f"({index // 8}, {index % 8})"


def model_options(command):
    """--model, --seed, --epochs, --quiet: the classifier both commands use."""
    options = [
        click.option("--model", default=None, type=click.Path(dir_okay=False),
                     help="A digits classifier saved by `backprop-edu train --save`. "
                          "[default: train one now, as `backprop-edu train` does]"),
        click.option("--seed", type=SEED, default=TRAIN_DEFAULTS["seed"], show_default=True,
                     help="Without --model: the seed of that training run (its validation "
                          "split is the held-out digits)."),
        click.option("--epochs", type=click.IntRange(min=1, max=1000),
                     default=TRAIN_DEFAULTS["epochs"], show_default=True,
                     help="Without --model: epochs of that training run."),
        click.option("--quiet", "-q", is_flag=True, default=False,
                     help="No notes on stderr (training, where the digits come from)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


# -- saliency --------------------------------------------------------------------------

@click.command()
@model_options
@click.option("--count", type=click.IntRange(min=1, max=40), default=10, show_default=True,
              help="How many held-out digits to draw: one of each class in turn.")
@click.option("-o", "--output", default="saliency.png", show_default=True,
              callback=figure_path, metavar="PATH",
              help="The figure to write (.png, .svg, .pdf).")
@json_option("the maps (8 × 8 lists, per digit)")
@size_option
def saliency(model, seed, epochs, quiet, count, output, json_output, size):
    """Saliency maps: for held-out digits, |∂J/∂x| drawn as an 8 × 8 image.

    ∂J/∂x is BP2's hand-down carried one layer further, W_1ᵀ δ^(1): the gradient of the
    loss with respect to the input pixels, in pixel levels (0..16; the standardisation
    the model was trained with is undone by the chain rule, ∂J/∂x = ∂J/∂x_std / std).
    The figure shows each digit, its map, and |∂J/∂x_std| (per standard deviation of
    the pixel), with the true and the predicted class.

    \b
    Examples:
      backprop-edu saliency
      backprop-edu train --save model.npz && backprop-edu saliency --model model.npz
      backprop-edu saliency --count 5 -o maps.png --json maps.json
    """
    from backprop_edu import adversarial
    from backprop_edu.gradient_figures import plot_saliency

    distinct_outputs(model=model, output=output, json=json_output)
    held = held_out_digits(model, seed, epochs, quiet)
    note(f"held-out digits: {held.source}", quiet)
    chosen = adversarial.examples_by_class(held.y, count)
    X, y = held.X[chosen], held.y[chosen]
    maps = adversarial.saliency(held.net, X, y)
    maps_std = adversarial.saliency(held.net, X, y, standardised=True)
    predicted = adversarial.predicted_classes(held.net, X)
    labels, guesses = np.array(held.classes)[y], np.array(held.classes)[predicted]
    plot_saliency(X, maps, labels, guesses, output, standardised_maps=maps_std, size=size)

    lines = [f"{'digit':>6}  {'label':>5}  {'predicted':>9}  {'max |∂J/∂x|':>12}  "
             f"{'at pixel':>8}  {'max |∂J/∂x_std|':>15}  {'at pixel':>8}"]
    for i in range(len(chosen)):
        top, top_std = int(maps[i].argmax()), int(maps_std[i].argmax())
        lines.append(f"{held.rows[chosen[i]]:>6}  {labels[i]:>5}  {guesses[i]:>9}  "
                     f"{maps[i, top]:>12.3g}  {pixel(top):>8}  {maps_std[i, top_std]:>15.3g}  "
                     f"{pixel(top_std):>8}")
    lines.append(f"(digit: row of the digits data; pixel: (row, column) of the 8 × 8 image)\n"
                 f"wrote {output}")
    data = {"model": model, "held_out": held.source,
            "samples": [{"digit": int(held.rows[chosen[i]]), "label": str(labels[i]),
                         "predicted": str(guesses[i]),
                         "saliency": maps[i].reshape(8, 8).tolist(),
                         "saliency_standardised": maps_std[i].reshape(8, 8).tolist()}
                        for i in range(len(chosen))]}
    print_or_write("\n".join(lines), data, json_output)


# -- adversarial -------------------------------------------------------------------------

def parse_epsilons(ctx, param, value):
    """'0,0.5,1' -> [0.0, 0.5, 1.0]: steps in pixel levels, each a finite number ≥ 0."""
    example = "e.g. --epsilons 0,0.5,1,2,4 (pixel levels, 0..16)"
    epsilons = []
    for part in (part.strip() for part in value.split(",")):
        if not part:
            raise click.BadParameter(f"{value!r} has an empty entry; {example}")
        try:
            epsilon = float(part)
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a number; {example}") from None
        if not math.isfinite(epsilon) or epsilon < 0:
            raise click.BadParameter(f"{part} is not a step ε ≥ 0; {example}")
        epsilons.append(epsilon)
    return epsilons


@click.command()
@model_options
@click.option("--epsilons", default="0,0.25,0.5,1,2,4,8", show_default=True,
              callback=parse_epsilons,
              help="The steps ε to try, in pixel levels (0..16), comma-separated; 0 gives the "
                   "clean accuracy.")
@click.option("--example-epsilon", type=FiniteFloatRange(min=0), default=1.0,
              show_default=True, help="The ε of the example figure.")
@click.option("--count", type=click.IntRange(min=1, max=40), default=8, show_default=True,
              help="How many held-out digits the example figure shows.")
@click.option("-o", "--output", default="fgsm.png", show_default=True, callback=figure_path,
              metavar="PATH", help="The figure of accuracy against ε (.png, .svg, .pdf).")
@click.option("--examples", default="fgsm-examples.png", show_default=True,
              callback=figure_path, metavar="PATH",
              help="The figure of originals, perturbations and adversarial digits.")
@json_option("the sweep, [{\"epsilon\": ..., \"accuracy\": ...}, ...],")
@size_option
def adversarial(model, seed, epochs, quiet, epsilons, example_epsilon, count, output, examples,
                json_output, size):
    """Adversarial digits by the fast gradient sign method, and accuracy against ε.

    Every pixel of a held-out digit moves by ε pixel levels in the direction that
    raises its loss fastest, x' = clip(x + ε · sign(∂J/∂x), 0, 16); ∂J/∂x comes from
    one backward pass that carries BP2's hand-down one layer further, W_1ᵀ δ^(1).
    The table and the figure show the accuracy on x' for every ε (ε = 0: exactly the
    clean accuracy); a second figure shows originals, perturbations and the
    adversarial digits with their predicted classes.

    \b
    Examples:
      backprop-edu adversarial
      backprop-edu adversarial --epsilons 0,0.1,0.2,0.5,1 --example-epsilon 0.5
      backprop-edu train --save model.npz && backprop-edu adversarial --model model.npz
    """
    from backprop_edu import adversarial as fgsm
    from backprop_edu.gradient_figures import plot_adversarial_examples, plot_fgsm_accuracy

    distinct_outputs(model=model, output=output, examples=examples, json=json_output)
    held = held_out_digits(model, seed, epochs, quiet)
    note(f"held-out digits: {held.source}", quiet)
    net, X, y = held.net, held.X, held.y
    records = fgsm.accuracy_against_epsilon(net, X, y, epsilons, *PIXELS)
    chosen = fgsm.examples_by_class(y, count)
    adversarial_X = fgsm.fgsm(net, X[chosen], y[chosen], example_epsilon, *PIXELS)
    names = np.array(held.classes)
    plot_fgsm_accuracy(records, output, chance=1 / len(held.classes), size=size,
                       title=f"FGSM on {len(X)} held-out digits: accuracy on "
                             "x' = clip(x + ε·sign(∂J/∂x), 0, 16)")
    plot_adversarial_examples(X[chosen], adversarial_X, names[y[chosen]],
                              names[fgsm.predicted_classes(net, X[chosen])],
                              names[fgsm.predicted_classes(net, adversarial_X)],
                              example_epsilon, examples, pixel_range=PIXELS, size=size)

    lines = [f"FGSM on {len(X)} held-out digits, x' = clip(x + ε·sign(∂J/∂x), 0, 16):",
             f"{'ε (pixel levels)':>16}  {'accuracy':>8}  {'misclassified':>13}"]
    for record in records:
        wrong = round((1 - record["accuracy"]) * len(X))
        lines.append(f"{record['epsilon']:>16g}  {record['accuracy']:>8.4f}  "
                     f"{wrong:>13}")
    lines.append(f"clean accuracy {fgsm.accuracy(net, X, y):.4f}; wrote {output}, {examples}")
    print_or_write("\n".join(lines), records, json_output)
