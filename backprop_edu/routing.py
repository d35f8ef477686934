"""Layers that learn nothing and route the gradient: max-pooling, average-pooling, dropout.

None of them has a parameter (``params = ()``): their backward pass only decides
where each entry of ∂J/∂h_l goes in ∂J/∂h_{l−1}. Each is the chain rule for one
simple function, with the batch as columns (H_{l−1} is n_in × m):

    MaxPool(k)   h_{l,i} = max_{j in window i} h_{l−1,j}
                 ∂J/∂h_{l−1,j} = ∂J/∂h_{l,i} if j won window i, else 0
                 (the gradient goes to the winner; the other k − 1 units get none)
    AvgPool(k)   h_{l,i} = (1/k) Σ_{j in window i} h_{l−1,j}
                 ∂J/∂h_{l−1,j} = (1/k) ∂J/∂h_{l,i}      (shared equally)
    Dropout(p)   h_l = M ⊙ h_{l−1} / (1 − p)             (M: 0/1, each entry kept with
                 ∂J/∂h_{l−1} = M ⊙ ∂J/∂h_l / (1 − p)    probability 1 − p; training only)

A window is k consecutive units: window i holds units i·k, ..., i·k + k − 1, so the
layer below's width must be a multiple of k. Windows are formed by reshaping the
(n_in × m) batch to (n_in/k, k, m): no loop over units or samples.

Each follows the layer protocol (docs/layers.md) and may be created without its
width (``n_in=None``): the network then calls ``bind(n_in)`` with the width of the
layer below. After a training pass a MaxPool keeps ``winner`` (which unit of each
window won, per sample), a Dropout keeps ``mask``; after backward each holds
``grad_h_prev`` (∂J/∂h_{l−1}, n_in × m). They have no δ (there is no a_l), so the
training history records ‖∇W_l‖ and ‖δ^(l)‖ as None for them.

Dropout at evaluation (``training=False``: predict, compute_loss) is the identity:
this is *inverted* dropout, which divides by 1 − p while training so that every
unit's expected value is the same in both passes.

What is left out: overlapping windows (a stride other than k), 2-D pooling, padding.
"""

import numbers

import numpy as np

from backprop_edu.layers import check_width, missing_attribute

KEPT_BY_FORWARD = ("winner", "mask")
MADE_BY_BACKWARD = ("grad_h_prev",)


class RoutingLayer:
    """What the three layers share: no parameters, a width that may follow the layer below,
    and errors that say which pass makes an attribute that does not exist yet."""

    params = ()

    def __getattr__(self, name):
        """Called only for a missing attribute: say which pass makes it (winner, mask, ...)."""
        raise missing_attribute(self, name, KEPT_BY_FORWARD, MADE_BY_BACKWARD)

    def bind(self, n_in):
        """Take the width of the layer below (the network calls this when n_in was None)."""
        self.n_in = check_width("n_in", n_in)
        self.n_out = self.n_in

    def hand_down(self, grad_h_prev, input_gradient):
        """Keep ∂J/∂h_{l−1} and return it (None when nobody below needs it)."""
        self.grad_h_prev = grad_h_prev if input_gradient else None
        return self.grad_h_prev


class Pooling(RoutingLayer):
    """Pooling over consecutive windows of k units (MaxPool and AvgPool)."""

    def __init__(self, k, n_in=None):
        self.k = check_width("k", k)
        self.n_in = self.n_out = None
        if n_in is not None:
            self.bind(n_in)

    def __repr__(self):
        width = "" if self.n_in is None else f", n_in={self.n_in}"
        return f"{type(self).__name__}({self.k}{width})"

    def bind(self, n_in):
        """n_in units in n_in/k windows of k: n_in must be a multiple of k."""
        n_in = check_width("n_in", n_in)
        if n_in % self.k:
            divisors = ", ".join(str(d) for d in range(2, n_in + 1) if n_in % d == 0)
            raise ValueError(f"{type(self).__name__}(k={self.k}) cannot pool n_in={n_in} "
                             f"units: {n_in} is not a multiple of {self.k}; choose a k that "
                             f"divides {n_in} ({divisors}), or change the width of the "
                             "layer below")
        self.n_in, self.n_out = n_in, n_in // self.k

    def windows(self, h_prev):
        """(n_in × m) -> (n_in/k, k, m): windows[i, j, s] is unit i·k + j of sample s."""
        return h_prev.reshape(self.n_out, self.k, h_prev.shape[1])

    def config(self):
        return {"type": type(self).__name__, "k": self.k, "n_in": self.n_in}


class MaxPool(Pooling):
    """h_{l,i} = max of window i (k consecutive units). MaxPool(2) halves the width.

    Arguments:
        k:    the window; the layer below's width must be a multiple of k.
        n_in: the input width, or None to take the width of the layer below.

    Its backward pass sends each ∂J/∂h_{l,i} to the unit that won window i and 0 to
    the other k − 1. In a tie (e.g. two ReLU units at 0) the first unit wins, as in
    PyTorch's max_pool1d: the gradient goes to one unit, never to two.
    """

    def forward(self, h_prev, training=True):
        """h_{l−1} (n_in × m) -> h_l (n_in/k × m); a training pass keeps ``winner``."""
        windows = self.windows(h_prev)
        h = windows.max(axis=1)                    # h_{l,i} = max_j h_{l−1,j}, j in window i
        if training:
            self.winner = windows.argmax(axis=1)   # which unit of window i won, per sample
        else:
            vars(self).pop("winner", None)         # an inference pass keeps nothing
        return h

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l (n_in/k × m) -> ∂J/∂h_{l−1} (n_in × m): all of it to each window's winner."""
        won = np.arange(self.k)[None, :, None] == self.winner[:, None, :]  # True for the winner
        grad_h_prev = np.where(won, grad_h[:, None, :], 0)  # ∂J/∂h_{l,i} if j won window i, else 0
        return self.hand_down(grad_h_prev.reshape(self.n_in, -1), input_gradient)


class AvgPool(Pooling):
    """h_{l,i} = the mean of window i (k consecutive units). AvgPool(2) halves the width.

    Arguments:
        k:    the window; the layer below's width must be a multiple of k.
        n_in: the input width, or None to take the width of the layer below.

    Its backward pass shares each ∂J/∂h_{l,i} equally: 1/k of it to every unit of
    window i. It needs nothing from the forward pass.
    """

    def forward(self, h_prev, training=True):
        """h_{l−1} (n_in × m) -> h_l (n_in/k × m)."""
        return self.windows(h_prev).mean(axis=1)   # h_{l,i} = (1/k) Σ_j h_{l−1,j}, j in window i

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l (n_in/k × m) -> ∂J/∂h_{l−1} (n_in × m): 1/k of it to each unit of its window."""
        grad_h_prev = np.repeat(grad_h / self.k, self.k, axis=0)  # (1/k) ∂J/∂h_{l,i} to each j
        return self.hand_down(grad_h_prev, input_gradient)


def check_probability(p):
    """The probability of dropping a unit: a number in [0, 1)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p (the probability of dropping a unit) must be a number in [0, 1), "
                        f"got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"p (the probability of dropping a unit) must lie in [0, 1), got {p}: "
                         "0 keeps every unit, 0.5 drops half of them (1 would drop them all)")
    return float(p)


class Dropout(RoutingLayer):
    """h_l = M ⊙ h_{l−1} / (1 − p) while training, h_l = h_{l−1} at evaluation (inverted dropout).

    Dropout(0.5) drops each unit of each sample with probability 0.5 at every
    training pass, and scales the kept ones by 1/(1 − p) = 2, so that a unit's
    expected value is the same in training and at evaluation, where the layer does
    nothing.

    Arguments:
        p:    the probability of dropping a unit, in [0, 1).
        n_in: the width (n_out = n_in), or None to take the width of the layer below.
        rng:  an int seed, a numpy Generator (one number is drawn from it to seed the
              layer), or None (fresh entropy). The layer draws its masks from its own
              generator, seeded by ``seed``; config() saves the seed, so a loaded network
              draws the same sequence of masks as a fresh one built with the same seed.

    The mask: every training pass draws a fresh ``mask`` (n_in × m, True where a unit is
    kept) and keeps it for backward, which routes ∂J/∂h_l through the kept units only.

    A fixed mask: set ``fixed_mask`` to a 0/1 array of shape (n_in, m) (or any shape that
    broadcasts to it, e.g. (n_in, 1) for one mask shared by the batch) and every training
    pass uses it instead of drawing, until you set it back to None. This is how a test
    or gradcheck, which repeats training passes, sees one function. To keep the mask the
    last pass drew: ``layer.fixed_mask = layer.mask``.
    """

    def __init__(self, p, n_in=None, rng=None):
        self.p = check_probability(p)
        self.n_in = self.n_out = None
        if n_in is not None:
            self.bind(n_in)
        if rng is None:
            rng = np.random.default_rng()          # fresh entropy: a seed drawn from it below
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(2 ** 32))       # the layer's seed, saved by config()
        elif isinstance(rng, bool) or not isinstance(rng, numbers.Integral) or rng < 0:
            raise TypeError(f"rng must be a non-negative int seed, a numpy.random.Generator "
                            f"or None, got {rng!r}")
        self.seed = int(rng)
        self.rng = np.random.default_rng(self.seed)
        self.fixed_mask = None

    def __repr__(self):
        width = "" if self.n_in is None else f", n_in={self.n_in}"
        return f"Dropout({self.p:g}{width})"

    def forward(self, h_prev, training=True):
        """h_{l−1} (n_in × m) -> h_l (n_in × m); a training pass draws (or reuses) ``mask``."""
        if not training:
            vars(self).pop("mask", None)           # an inference pass keeps nothing
            return h_prev                          # h_l = h_{l−1} at evaluation
        if self.fixed_mask is None:
            mask = self.rng.random(h_prev.shape) >= self.p  # M: each unit kept with prob. 1 − p
        else:
            mask = self.checked_fixed_mask(h_prev.shape)
        self.mask = mask
        return np.where(mask, h_prev, 0) / (1 - self.p)   # h_l = M ⊙ h_{l−1} / (1 − p)

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l -> ∂J/∂h_{l−1} = M ⊙ ∂J/∂h_l / (1 − p): nothing reaches a dropped unit."""
        grad_h_prev = np.where(self.mask, grad_h, 0) / (1 - self.p)  # M ⊙ ∂J/∂h_l / (1 − p)
        return self.hand_down(grad_h_prev, input_gradient)

    def checked_fixed_mask(self, shape):
        """``fixed_mask`` as booleans broadcast to ``shape``; one line if it does not fit."""
        mask = np.asarray(self.fixed_mask)
        fix = "or set fixed_mask = None to draw a fresh mask at every training pass"
        try:
            mask = np.broadcast_to(mask, shape)
        except ValueError:
            raise ValueError(f"{self!r}: fixed_mask has shape {mask.shape}, but this pass has "
                             f"{shape[0]} units × {shape[1]} samples: give it the shape "
                             f"{shape}, {fix}") from None
        if mask.dtype != bool and not ((mask == 0) | (mask == 1)).all():
            raise ValueError(f"{self!r}: fixed_mask must hold 0/1 (or True/False) values, "
                             f"1 for a kept unit, {fix}")
        return mask.astype(bool, copy=False)

    def config(self):
        return {"type": "Dropout", "p": self.p, "n_in": self.n_in, "rng": self.seed}
