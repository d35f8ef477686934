"""Build a network from its widths: the one builder the CLI, the lab and the benchmarks share.

    build_network([64, 32, 10])              64 → 32 (ReLU) → 10 (linear), softmax cross-entropy
    build_network([784, 30, 10], activation="sigmoid", output_activation="sigmoid",
                  loss="half_mse")           the textbook's chapter-1 network

Hidden layers use ``activation``; the output layer uses ``output_activation``,
"identity" unless told otherwise, as softmax cross-entropy and regression want
(so the common case needs no repetition). With residual=True every hidden layer
whose input and output widths are equal becomes a Residual block.

Pooling and dropout (routing.py):

    build_network([64, 64, "maxpool2", 10])  64 → 64 (ReLU) → max of each pair: 32 → 10
    build_network([64, 64, 32, 10], dropout=0.2)
                                             a Dropout(0.2) after every hidden layer

A pooling layer is written between the widths as "maxpoolK" or "avgpoolK" (windows
of K units: the width before it must be a multiple of K); dropout > 0 puts a Dropout
layer before every Dense layer but the first, so after every hidden layer (after its
pooling, if it has one).
"""

import numpy as np

from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.residual import Residual
from backprop_edu.routing import AvgPool, Dropout, MaxPool, check_probability


POOLING = {"maxpool": MaxPool, "avgpool": AvgPool}


def pooling_layer(token):
    """'maxpool2' -> MaxPool(2), 'avgpool3' -> AvgPool(3); None for a width (an integer)."""
    if not isinstance(token, str):
        return None
    name = token.rstrip("0123456789")
    k = token[len(name):]
    if name not in POOLING or not k:
        raise ValueError(f"widths holds {token!r}, which is neither a width (a positive "
                         "integer) nor a pooling layer such as 'maxpool2' or 'avgpool2'")
    return POOLING[name](int(k))


def build_network(widths, activation="relu", output_activation="identity",
                  loss="softmax_cross_entropy", init=None, residual=False, dtype=np.float64,
                  rng=None, std=None, gain=1.0, metadata=None, dropout=0.0):
    """A Network from its widths, input to output: [64, 32, 10] is 64 → 32 → 10.

    widths: integers, and "maxpoolK" / "avgpoolK" between them for a pooling layer.
    init, std, gain: how every layer's weights are drawn (see init.py).
    rng: a numpy Generator or seed; it draws the initial weights, layer by layer (and
    each Dropout layer's seed).
    dropout: p of a Dropout layer after every hidden layer; 0 for none.
    """
    widths = list(widths)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {widths}")
    if pooling_layer(widths[0]) is not None or pooling_layer(widths[-1]) is not None:
        raise ValueError(f"widths must start with the input width and end with the output "
                         f"width (integers), got {widths}")
    if dropout:
        check_probability(dropout)
    rng = np.random.default_rng(rng)
    options = dict(init=init, rng=rng, dtype=dtype, std=std, gain=gain)
    layers, n_in = [], widths[0]
    for position, token in enumerate(widths[1:], start=1):
        pool = pooling_layer(token)
        if pool is not None:           # windows of k of the n_in units below
            pool.bind(n_in)            # (a ValueError if k does not divide n_in)
            layers.append(pool)
            n_in = pool.n_out
            continue
        if layers and dropout:         # after a hidden layer (and its pooling)
            layers.append(Dropout(dropout, rng=rng))
        if position == len(widths) - 1:
            layers.append(Dense(n_in, token, activation=output_activation, **options))
        elif residual and n_in == token:
            layers.append(Residual(n_in, activation=activation, **options))
        else:
            layers.append(Dense(n_in, token, activation=activation, **options))
        n_in = token
    return Network(layers, loss=loss, metadata=metadata)
