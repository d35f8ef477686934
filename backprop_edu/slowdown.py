"""The learning slowdown: a sigmoid output trained with the quadratic cost learns slowly
when it is badly wrong; with binary cross-entropy it does not.

    result = slowdown_experiment()
    result["neuron"]["runs"]["half_mse"]["delta_norm"]     # ‖δ^(L)‖ at epochs 0, 1, 2, ...

BP1 for a sigmoid output layer, with each cost (losses.py):

    half_mse               δ^(L) = σ'(a_L) ⊙ (ŷ − y),   σ'(a_L) = ŷ(1 − ŷ)
    binary_cross_entropy   δ^(L) = ŷ − y                (σ' cancels the cost's 1/(ŷ(1 − ŷ)))

and BP3, BP4 (and BP2 below) scale every gradient by δ^(L). An output that is
confidently wrong, ŷ ≈ 1 for y = 0, has σ'(a_L) ≈ 0: with the quadratic cost its
gradient is tiny exactly when its error is largest, and it sits on a plateau for
many epochs before it moves; with cross-entropy the gradient is the error itself.

Two experiments, each trained once with either cost, with plain gradient descent on
the whole data (one step per epoch, no randomness after the start):

    neuron    the single sigmoid neuron of Nielsen's chapter 3: x = 1, y = 0, starting
              at w = b = 2, so ŷ = σ(4) ≈ 0.98
    network   a 2 → 8 (tanh) → 1 (sigmoid) network on two Gaussian blobs, whose output
              bias starts at +5: it answers "1" with ŷ ≈ 0.99 for every sample, badly
              wrong for the half whose label is 0

What is left out: softmax outputs (softmax with cross-entropy cancels the same way),
and tuning η per cost (the same η for both, to show the gradient, not the tuning).
"""

import numpy as np

from backprop_edu.errors import ParameterError
from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.optim import SGD

COSTS = ("half_mse", "binary_cross_entropy")
MAX_EPOCHS = 100_000


def blobs(m=200, seed=0):
    """Two Gaussian blobs in 2-D, centred at (−1, −1) (label 0) and (1, 1) (label 1)."""
    rng = np.random.default_rng(seed)
    y = np.arange(m) % 2
    X = rng.standard_normal((m, 2)) * 0.7 + np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y.astype(float)


def neuron(cost, w, b):
    """One sigmoid neuron, ŷ = σ(w x + b), with the given start."""
    layer = Dense(1, 1, activation="sigmoid", rng=0)
    layer.W[...] = w
    layer.b[...] = b
    return Network([layer], loss=cost)


def small_network(cost, seed, output_bias):
    """2 → 8 (tanh) → 1 (sigmoid), whose output starts confidently at ŷ ≈ σ(output_bias)."""
    hidden = Dense(2, 8, activation="tanh", rng=seed)
    output = Dense(8, 1, activation="sigmoid", rng=seed + 1)
    output.b[...] = output_bias
    return Network([hidden, output], loss=cost)


def run(net, X, y, epochs, lr):
    """Gradient descent on all of (X, y), one step per epoch. Per epoch 0..epochs (0: the
    start): the loss J of the run's own cost, ‖δ^(L)‖ (per sample, averaged), the mean
    error |ŷ − y| and the accuracy (ŷ > 0.5 against y)."""
    optimizer = SGD(net, lr=lr)
    record = {"loss": [], "delta_norm": [], "error": [], "accuracy": []}
    for epoch in range(epochs + 1):
        net.forward(X)
        J, delta_L = net.output_error(y)          # BP1: δ^(L), one column per sample
        y_hat = net.output[0]
        record["loss"].append(float(J))
        record["delta_norm"].append(float(np.abs(delta_L[0]).mean()))  # ‖δ_i^(L)‖, n_L = 1
        record["error"].append(float(np.abs(y_hat - y).mean()))
        record["accuracy"].append(float(np.mean((y_hat > 0.5) == (y > 0.5))))
        if epoch < epochs:
            optimizer.step()                       # θ ← θ − η ∇θ J
    start = record["error"][0]
    record["epochs_to_halve_error"] = next(
        (epoch for epoch, error in enumerate(record["error"]) if error < start / 2), None)
    return record


def check_settings(epochs, lr, epochs_name="epochs", lr_name="lr"):
    """A number of epochs from 1 to 100,000 and a positive, finite learning rate."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) \
            or not 1 <= epochs <= MAX_EPOCHS:
        raise ParameterError(epochs_name, epochs_name + " must be a whole number from 1 to "
                             "{most:,}, got {epochs!r}", most=MAX_EPOCHS, epochs=epochs)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float("inf"):
        raise ParameterError(lr_name, lr_name + " (the learning rate η) must be a positive "
                             "number, got {lr!r}", lr=lr)


def slowdown_experiment(epochs=300, lr=0.15, w=2.0, b=2.0, network_epochs=300, network_lr=1.0,
                        output_bias=5.0, seed=0):
    """Loss and ‖δ^(L)‖ against epochs, for the quadratic cost and for cross-entropy.

    epochs, lr, w, b: the single neuron (x = 1, y = 0, ŷ = σ(w + b) at the start).
    network_epochs, network_lr, output_bias, seed: the small network and its data.

    Returns {"neuron": {"settings", "runs": {"half_mse": {...}, "binary_cross_entropy":
    {...}}}, "network": {...}}; each run holds per epoch 0..epochs: "loss" (its own
    cost), "delta_norm", "error" (mean |ŷ − y|), "accuracy", and "epochs_to_halve_error"
    (the first epoch whose error is below half the start's; None if none is).
    """
    check_settings(epochs, lr)
    check_settings(network_epochs, network_lr, "network_epochs", "network_lr")
    x, target = np.array([[1.0]]), np.array([0.0])
    X, y = blobs(seed=seed)
    result = {
        "neuron": {"settings": {"x": 1.0, "y": 0.0, "w": float(w), "b": float(b),
                                "start_output": float(1 / (1 + np.exp(-(w + b)))),
                                "epochs": epochs, "lr": lr, "optimizer": "sgd"},
                   "runs": {cost: run(neuron(cost, w, b), x, target, epochs, lr)
                            for cost in COSTS}},
        "network": {"settings": {"layers": [2, 8, 1], "activation": "tanh",
                                 "output_activation": "sigmoid", "output_bias": output_bias,
                                 "data": "two Gaussian blobs", "samples": len(X), "seed": seed,
                                 "epochs": network_epochs, "lr": network_lr, "optimizer": "sgd",
                                 "batch": "all samples"},
                    "runs": {cost: run(small_network(cost, seed, output_bias), X, y,
                                       network_epochs, network_lr) for cost in COSTS}},
    }
    return result
