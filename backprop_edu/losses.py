"""Loss functions J, and the gradient ∇_{h_L} J that starts backpropagation (BP1).

Each loss takes the network's output h_L = ŷ for a mini-batch and the targets,
both with one column per sample (n_out × m, as in the equations), and returns

    J           the mean loss over the batch, J = (1/m) Σ_i J_i
    ∇_{h_L} J   the gradient of each sample's loss J_i with respect to its output,
                one column per sample

The output layer then completes BP1 as every layer does BP2, with its own φ':

    BP1   δ^(L) = φ'_L(a_L) ⊙ ∇_{h_L} J

The 1/m is *not* in ∇_{h_L} J: it enters once, in BP3 and BP4, where the
per-sample gradients are averaged.

    half_mse                J_i = ½‖ŷ_i − y_i‖²                  ∇_{h_L} J = ŷ − y
    softmax_cross_entropy   J_i = −Σ_k y_ik log softmax(ŷ_i)_k   ∇_{h_L} J = softmax(ŷ) − y
    binary_cross_entropy    J_i = −Σ_k [y_ik log ŷ_ik + (1 − y_ik) log(1 − ŷ_ik)]
                                                                ∇_{h_L} J = (ŷ − y) / (ŷ (1 − ŷ))

Softmax belongs to its loss: with an identity output layer (φ' = 1) BP1
collapses to δ^(L) = softmax(a_L) − y, and log-sum-exp stays stable.

Binary cross-entropy goes on a sigmoid output layer, where σ' = ŷ(1 − ŷ) cancels
the denominator: BP1, collapsed, is δ^(L) = ŷ − y. Written as two steps the
general form divides by ŷ(1 − ŷ), which is 0 once ŷ rounds to 0 or 1; so for
that pair the network calls ``collapsed`` instead, which computes J and δ^(L)
from a_L directly (J_i = Σ_k softplus(a_k) − y_k a_k, stable for any a).

What is left out: other losses (hinge, Huber, ...), class weights.
"""

from typing import Callable, NamedTuple, Optional

import numpy as np


class Loss(NamedTuple):
    """A loss: its name, whether its targets are class labels, and its functions.

    value_and_grad(h_L, Y) -> (J, ∇_{h_L} J)
    collapsed(a_L, h_L, Y) -> (J, δ^(L)): BP1 computed in one step, for an output
        layer whose activation is ``output_activation`` (None: no such shortcut)
    """

    name: str
    classification: bool
    value_and_grad: Callable
    collapsed: Optional[Callable] = None
    output_activation: Optional[str] = None


def half_mse(y_hat, y):
    """J = (1/m) Σ_i ½‖ŷ_i − y_i‖², and ∇_{h_L} J = ŷ − y.

    y_hat, y: arrays of shape (n_out, m).
    """
    m = y_hat.shape[1]
    grad_h = y_hat - y                             # ∇_{h_L} J_i = ŷ − y
    J = 0.5 * float(np.vdot(grad_h, grad_h)) / m   # (1/m) Σ_i ½‖ŷ_i − y_i‖²
    return J, grad_h


def softmax_cross_entropy(z, y):
    """J = (1/m) Σ_i [log Σ_k e^(z_ki) − Σ_k y_ki z_ki], and ∇_{h_L} J = softmax(z) − y.

    z: the output h_L, shape (n_out, m) (the "logits": an identity output layer).
    y: integer class labels, shape (m,), or target probabilities (e.g. one-hot),
    shape (n_out, m).
    """
    m = z.shape[1]
    shifted = z - z.max(axis=0)                    # subtracting the max keeps e^z ≤ 1
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=0))   # z − log Σ_k e^(z_k)
    grad_h = np.exp(log_softmax)                   # softmax(z)
    if y.ndim == 1:                                # class labels: y_i is the class of sample i
        columns = np.arange(m)
        J = -float(log_softmax[y, columns].sum()) / m
        grad_h[y, columns] -= 1                    # ∇_{h_L} J = softmax(z) − onehot(y)
    else:
        J = -float(np.vdot(y, log_softmax)) / m    # −(1/m) Σ_i Σ_k y_ki log softmax(z_i)_k
        grad_h -= y                                # ∇_{h_L} J = softmax(z) − y
    return J, grad_h


LOG_FLOOR = -100.0  # log ŷ is clamped here, as PyTorch's BCELoss does, so that ŷ = 0 gives no inf
GRAD_FLOOR = 1e-12  # ... and ŷ(1 − ŷ) here, in the general (two-step) gradient


def binary_cross_entropy(y_hat, y):
    """J = −(1/m) Σ_i Σ_k [y log ŷ + (1 − y) log(1 − ŷ)], and ∇_{h_L} J = (ŷ − y) / (ŷ(1 − ŷ)).

    The general form, for an output ŷ in [0, 1] that no sigmoid layer made (a network's
    sigmoid output layer uses ``binary_cross_entropy_collapsed``). The logs are clamped at
    −100 and ŷ(1 − ŷ) at 1e-12, as in PyTorch's BCELoss, so ŷ = 0 or 1 gives finite numbers.
    """
    m = y_hat.shape[1]
    log_y_hat = np.maximum(np.log(y_hat), LOG_FLOOR)
    log_one_minus = np.maximum(np.log1p(-y_hat), LOG_FLOOR)
    J = -float(np.sum(y * log_y_hat + (1 - y) * log_one_minus)) / m
    grad_h = (y_hat - y) / np.maximum(y_hat * (1 - y_hat), GRAD_FLOOR)  # ∇_{h_L} J
    return J, grad_h


def binary_cross_entropy_collapsed(a, y_hat, y):
    """BP1 for a sigmoid output layer, in one step: J from a_L, and δ^(L) = ŷ − y.

    With ŷ = σ(a), −[y log σ(a) + (1 − y) log(1 − σ(a))] = softplus(a) − y a, which
    logaddexp computes without overflow for any a (|a| up to 1e4 and beyond).
    """
    m = a.shape[1]
    J = float(np.sum(np.logaddexp(0, a) - y * a)) / m   # (1/m) Σ_i Σ_k softplus(a) − y a
    delta = y_hat - y                                   # BP1, collapsed: δ^(L) = ŷ − y
    return J, delta


LOSSES = {
    "half_mse": Loss("half_mse", False, half_mse),
    "softmax_cross_entropy": Loss("softmax_cross_entropy", True, softmax_cross_entropy),
    "binary_cross_entropy": Loss("binary_cross_entropy", False, binary_cross_entropy,
                                 binary_cross_entropy_collapsed, "sigmoid"),
}


def get_loss(name):
    """The Loss called ``name``; a ValueError listing the known ones otherwise."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(LOSSES)}")
    return LOSSES[name]
