"""`backprop-edu evaluate` and `predict`: a model saved by `train --save`, on new data.

    backprop-edu evaluate model.npz --data test.csv --target label
    backprop-edu predict model.npz --data new.csv > predictions.csv
    backprop-edu evaluate mnist.npz                      # a model trained on mnist: its test part

The model file holds the network and the data preparation it was trained with
(backprop_edu.preparation): new data is standardised the same way, classes keep
their names, and real targets come back in their units. This module loads the model,
calls the package and prints; the predictions CSV is written atomically.

What is left out: training (cli/train.py) and the preparation itself.
"""

import csv
import io
import os

import click
import numpy as np

from backprop_edu import mnist
from backprop_edu.cli.options import distinct_outputs, output_path
from backprop_edu.files import atomic_file
from backprop_edu.network import Network
from backprop_edu.preparation import predictions, prepare_for_model, resolve_data
from backprop_edu.train import evaluate as evaluate_net


def load_model(path):
    """A network saved by `train --save`, with the data preparation it was trained with."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}; expected the .npz file written by "
                                "`backprop-edu train --save`")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            if f.read(2) != b"PK":  # an .npz file is a zip archive
                raise ValueError(f"{path} is not a saved backprop-edu network: expected the .npz "
                                 "file written by `backprop-edu train --save`")
    net = Network.load(path)
    if "features" not in net.metadata:
        raise ValueError(f"{path} holds a network but not the data preparation of "
                         "`backprop-edu train --save` (its feature names and scaling)")
    return net


split_option = click.option(
    "--split", type=click.Choice(["test", "train"]), default=None,
    help="For mnist and fashion-mnist: their 10,000 test images or their 60,000 training "
         "images. [default: test]")


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", default=None,
              help="A data set known by name (see `backprop-edu datasets`) or a CSV file with "
                   "the model's feature columns and the target. [default: the named data set "
                   "the model was trained on]")
@click.option("--target", default=None,
              help="The target column of the CSV. [default: the one the model was trained on]")
@split_option
def evaluate(model, data, target, split):
    """Loss and accuracy of a saved model (train --save) on a data set.

    \b
    Examples:
      backprop-edu evaluate model.npz --data test.csv --target label
      backprop-edu evaluate mnist.npz                 # on the 10,000 test images
      backprop-edu evaluate mnist.npz --split train

    Features are standardised with the training split's statistics, stored in the model.
    """
    net = load_model(model)
    data = resolve_data(net.metadata, data)
    X, y = prepare_for_model(net.metadata, data, target, split=split, dtype=net.dtype)
    loss, accuracy = evaluate_net(net, X, y)
    parts = [f"{net.loss.name} loss {loss:.4f}"]
    if accuracy is not None:
        parts.append(f"accuracy {accuracy:.4f}")
    else:
        rmse = np.sqrt(2 * loss) * net.metadata["target_std"]  # half_mse = ½ mean (ŷ − y)²
        parts.append(f"RMSE {rmse:.4g} (in the target's units)")
    part = f" ({split or 'test'} part)" if data in mnist.NAMES else ""
    click.echo(f"{data}{part}: {len(X)} samples, {', '.join(parts)}")


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--data", default=None,
              help="A data set known by name or a CSV file with the model's feature columns "
                   "(others, such as the target, are ignored). [default: the named data set "
                   "the model was trained on]")
@split_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              callback=output_path,
              help="Write the predictions CSV here. [default: standard output]")
def predict(model, data, split, output):
    """Predict with a saved model: one CSV row per sample, classes by their original names.

    \b
    Example:
      backprop-edu predict model.npz --data new.csv > predictions.csv
    """
    distinct_outputs(data, model, output=output)
    net = load_model(model)
    X, _ = prepare_for_model(net.metadata, data, with_target=False, split=split,
                             dtype=net.dtype)
    values = predictions(net.metadata, net.forward(X, training=False))  # dropout: off
    if net.metadata["task"] == "regression":
        values = [f"{value:.10g}" for value in values]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([net.metadata["target"]])
    writer.writerows([value] for value in values)
    if output is None:
        click.echo(text.getvalue(), nl=False)
    else:
        with atomic_file(output, encoding="utf-8", newline="") as f:
            f.write(text.getvalue())
