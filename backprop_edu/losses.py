"""Loss functions J and the output error δ^(L) they start backpropagation with (BP1).

Each loss takes the network's output for a mini-batch and the targets, both
with one column per sample (n_out × m, as in the equations), writes

    BP1   δ^(L) = ∇_{a_L} J_i        (the error of each sample i, one column each)

into ``delta``, and returns the mean loss over the batch, J = (1/m) Σ_i J_i.
The 1/m is *not* in δ^(L): it enters once, in BP3 and BP4, where the
per-sample gradients are averaged.

    half_mse                J_i = ½‖ŷ_i − y_i‖²          δ^(L) = ŷ − y
    softmax_cross_entropy   J_i = −Σ_k y_ik log softmax(a_L)_ik
                                                       δ^(L) = softmax(a_L) − y

Cross-entropy works on the linear output a_L (the "logits"): fusing softmax
with the loss gives the simple δ above and lets log-sum-exp stay stable.

What is left out: other losses (hinge, Huber, ...), class weights.
"""

from typing import Callable, NamedTuple

import numpy as np


class Loss(NamedTuple):
    """A loss: its name, whether its targets are class labels, and the function
    ``value_and_delta(output, targets, delta) -> J``."""

    name: str
    classification: bool
    value_and_delta: Callable


def half_mse(y_hat, y, delta):
    """J = (1/m) Σ_i ½‖ŷ_i − y_i‖², and δ^(L) = ŷ − y.

    y_hat, y, delta: arrays of shape (n_out, m).
    """
    np.subtract(y_hat, y, out=delta)  # BP1: δ^(L) = ŷ − y
    m = y_hat.shape[1]
    return 0.5 * float(np.vdot(delta, delta)) / m  # (1/m) Σ_i ½‖ŷ_i − y_i‖²


def softmax_cross_entropy(a, y, delta):
    """J = (1/m) Σ_i [log Σ_k e^(a_ki) − Σ_k y_ki a_ki], and δ^(L) = softmax(a) − y.

    a, delta: arrays of shape (n_out, m); the linear output a_L.
    y: integer class labels, shape (m,), or target probabilities (e.g. one-hot),
    shape (n_out, m).
    """
    m = a.shape[1]
    a_max = a.max(axis=0)
    # softmax(a) = e^(a − max) / Σ_k e^(a_k − max): subtracting the max keeps exp ≤ 1
    np.subtract(a, a_max, out=delta)
    np.exp(delta, out=delta)
    total = delta.sum(axis=0)
    log_sum_exp = np.log(total) + a_max  # log Σ_k e^(a_k), never overflows
    delta /= total  # delta now holds softmax(a)
    if y.ndim == 1:
        columns = np.arange(m)
        J = float(np.sum(log_sum_exp - a[y, columns])) / m
        delta[y, columns] -= 1  # BP1: δ^(L) = softmax(a) − onehot(y)
    else:
        J = float(np.sum(log_sum_exp) - np.vdot(y, a)) / m  # Σ_k y_k = 1 per sample
        delta -= y  # BP1: δ^(L) = softmax(a) − y
    return J


LOSSES = {
    "half_mse": Loss("half_mse", False, half_mse),
    "softmax_cross_entropy": Loss("softmax_cross_entropy", True, softmax_cross_entropy),
}


def get_loss(name):
    """The Loss called ``name``; a ValueError listing the known ones otherwise."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(LOSSES)}")
    return LOSSES[name]
