"""Preparing data for a network: the validation split, the scaling, what a saved model keeps.

    rng = np.random.default_rng(0)
    prepared = prepare(datasets.load("digits"), val_split=0.2, rng=rng)
    net = build_network([64, 64, 10], "relu", rng=rng, metadata=prepared.metadata)
    X, y, train, val = prepared.X, prepared.y, prepared.train_rows, prepared.val_rows
    train_epochs(net, SGD(net, lr=0.1), X[train], y[train], X[val], y[val], rng=rng)

    X, y = prepare_for_model(net.metadata, "test.csv", target="label")  # scaled as in training
    predictions(net.metadata, net.forward(X, training=False))  # class names, or targets

``prepare`` draws the validation split from ``rng`` (one permutation, its only draw,
so the Generator then goes on to the weights and the shuffling as before), standardises
the features, (x − mean) / std, with the training split's statistics only (except the
pixels of mnist and fashion-mnist, already in [0, 1]: datasets.SCALED), and, for
regression, the targets too. Its ``metadata`` holds what a saved model needs to treat
new data the same way: the task, the feature names and their statistics, the class
names, the target's name (and statistics). ``prepare_for_model`` applies them to new
data; ``predictions`` maps the network's outputs back.

What is left out: reading files (datasets.py), the network and the loop (train.py).
"""

from typing import NamedTuple

import numpy as np

from backprop_edu import datasets
from backprop_edu.errors import ParameterError


class Prepared(NamedTuple):
    """A data set ready to train on: X and y (standardised), which rows train and which validate,
    and the metadata to save with the model."""

    X: np.ndarray
    y: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    metadata: dict


def prepare(dataset, val_split, rng):
    """Split ``dataset`` (a datasets.Dataset) with ``rng`` and standardise it -> Prepared.

    val_split: the fraction of the samples held out for validation, in [0, 1).
    rng:       a numpy Generator; the split is its first and only draw here.
    """
    train_rows, val_rows = datasets.split(len(dataset.X), val_split, rng)
    if dataset.name in datasets.SCALED:  # pixels in [0, 1] already: kept as they are, no copy
        n = dataset.X.shape[1]
        mean, std, X = np.zeros(n), np.ones(n), dataset.X
    else:
        mean, std = datasets.standardisation(dataset.X[train_rows], dataset.features)
        X = datasets.standardise(dataset.X, mean, std, dataset.features)
    metadata = {"task": dataset.task, "data": dataset.name, "target": dataset.target,
                "features": list(dataset.features), "feature_mean": mean.tolist(),
                "feature_std": std.tolist(), "classes": list(dataset.classes)}
    y = dataset.y
    if dataset.task == "regression":  # real targets are standardised too, and mapped back
        y_mean, y_std = datasets.standardisation(y[train_rows].reshape(-1, 1), [dataset.target])
        y = datasets.standardise(y, y_mean[0], y_std[0], [dataset.target])
        metadata.update(target_mean=float(y_mean[0]), target_std=float(y_std[0]))
    elif len(np.unique(y[train_rows])) < 2:
        raise ParameterError("val_split", "the training split holds a single class; use more "
                             "data or a smaller val_split")
    return Prepared(X, y, train_rows, val_rows, metadata)


def prepare_for_model(metadata, data=None, target=None, with_target=True, split=None,
                      dtype=np.float64):
    """The features of ``data`` standardised as in training, and its targets encoded as in
    training (class indices, or standardised real values) -> (X, y); y is None when
    with_target is False.

    metadata: a saved model's metadata (what prepare returned), e.g. net.metadata.
    data:     a data set's name or a CSV path; None for the data set the model was trained
              on, when it has a name. A CSV needs the model's feature columns, found by name.
    target:   the CSV's target column; None for the one the model was trained on.
    split:    for mnist and fashion-mnist, "test" (the default) or "train".
    dtype:    of X (e.g. the network's): float32 features stay float32.
    """
    data = resolve_data(metadata, data)
    if data in datasets.BY_NAME:
        datasets.check_shipped(data, target)
    if not with_target:
        target = None
    elif target is None:
        target = metadata["target"]
    X, values = datasets.for_model(data, metadata["features"], target, metadata["task"],
                                   split, dtype)
    X = datasets.standardise(X, np.asarray(metadata["feature_mean"], X.dtype),
                             np.asarray(metadata["feature_std"], X.dtype), metadata["features"])
    if values is None:
        return X, None
    if metadata["task"] == "classification":
        return X, datasets.encode(values, metadata["classes"])
    return X, datasets.standardise(values, metadata["target_mean"], metadata["target_std"],
                                   [metadata["target"]])


def resolve_data(metadata, data=None):
    """``data``, or else the named data set the model was trained on; a ParameterError when
    the model was trained on a CSV file, which it cannot find by itself."""
    if data is not None:
        return str(data)
    if metadata["data"] not in datasets.BY_NAME:
        raise ParameterError("data", "give data: the CSV file to use (with the columns "
                             "{columns})", columns=", ".join(metadata["features"]))
    return metadata["data"]


def predictions(metadata, Y_hat):
    """The network's outputs as the data's own values: class names (argmax of each row) for
    classification, real targets in their units (standardisation undone) for regression."""
    if metadata["task"] == "classification":
        return np.array(metadata["classes"])[Y_hat.argmax(axis=1)]
    return datasets.unstandardise(Y_hat[:, 0], metadata["target_mean"], metadata["target_std"])
