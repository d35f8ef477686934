"""Build a network from its widths: the one builder the CLI, the lab and the benchmarks share.

    build_network([64, 32, 10])              64 → 32 (ReLU) → 10 (linear), softmax cross-entropy
    build_network([784, 30, 10], activation="sigmoid", output_activation="sigmoid",
                  loss="half_mse")           the textbook's chapter-1 network

Hidden layers use ``activation``; the output layer uses ``output_activation``,
"identity" unless told otherwise, as softmax cross-entropy and regression want
(so the common case needs no repetition). With residual=True every hidden layer
whose input and output widths are equal becomes a Residual block.
"""

import numpy as np

from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.residual import Residual


def build_network(widths, activation="relu", output_activation="identity",
                  loss="softmax_cross_entropy", init=None, residual=False, dtype=np.float64,
                  rng=None, std=None, gain=1.0, metadata=None):
    """A Network from its widths, input to output: [64, 32, 10] is 64 → 32 → 10.

    init, std, gain: how every layer's weights are drawn (see init.py).
    rng: a numpy Generator or seed; it draws the initial weights, layer by layer.
    """
    widths = list(widths)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least an input and an output width, got {widths}")
    rng = np.random.default_rng(rng)
    options = dict(init=init, rng=rng, dtype=dtype, std=std, gain=gain)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        if l == len(widths) - 1:
            layers.append(Dense(n_in, n_out, activation=output_activation, **options))
        elif residual and n_in == n_out:
            layers.append(Residual(n_in, activation=activation, **options))
        else:
            layers.append(Dense(n_in, n_out, activation=activation, **options))
    return Network(layers, loss=loss, metadata=metadata)
