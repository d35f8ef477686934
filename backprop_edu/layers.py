"""A fully connected layer: the forward equations and BP2, BP3, BP4, in matrix form.

For a mini-batch of m samples held as columns (H_{l−1} is n_in × m):

    forward    A_l = W_l H_{l−1} + b_l 1ᵀ          (pre-activation, n_out × m)
               H_l = φ(A_l)                        (activation, n_out × m)

    backward   given ∂J/∂H_l, what the layer above handed down
               (for the output layer, the loss's ∇_{h_L} J)
      BP2      Δ_l = φ'(A_l) ⊙ ∂J/∂H_l             (= φ'(a_l) ⊙ W_{l+1}ᵀ δ^(l+1); BP1 at the output)
      BP3      ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ
      BP4      ∇_{b_l} J = (1/m) Δ_l 1             (the row-mean of Δ_l)
               ∂J/∂H_{l−1} = W_lᵀ Δ_l              (handed down to the layer below)

The textbook's diagonal matrix D_φ(a_l) is never built: multiplying by it is
the elementwise product ⊙. The 1/m of the mean loss enters only in BP3/BP4:
Δ_l keeps one column per sample, exactly as the equations write δ^(l).

Dense is also the reference for the layer protocol (docs/layers.md): any object
with the same few members (n_in, n_out, params, forward, backward, config) is a
layer that Network, the optimisers, gradcheck, training and save/load accept.

    n_in, n_out                  widths
    params = ("W", "b")          the names of its parameters; the gradient of
                                 parameter θ is the attribute grad_θ (grad_W, grad_b)
    forward(h_prev, training)    h_{l−1} -> h_l; a training pass keeps what backward needs,
                                 an inference pass (training=False) keeps nothing
    backward(grad_h, input_gradient)
                                 ∂J/∂h_l -> ∂J/∂h_{l−1}, filling the grad_θ; with
                                 input_gradient=False (the first layer) it may skip
                                 the hand-down and return None
    config()                     a JSON-able dict: {"type": class name, **constructor arguments}

After a training pass the layer holds h_prev (h_{l−1}), a (a_l) and h (h_l); after
backward, delta (δ^(l)), grad_W, grad_b and grad_h_prev (∂J/∂h_{l−1}; None when it
was not asked for). Each pass makes new arrays: a gradient read once stays as it was.

What is left out: convolutions, normalisation layers.
"""

import numpy as np

from backprop_edu.activations import get_activation
from backprop_edu.init import default_init, initial_weights

KEPT_BY_FORWARD = ("h_prev", "a", "h")
MADE_BY_BACKWARD = ("delta", "grad_W", "grad_b", "grad_h_prev")


def check_width(name, value):
    """A layer width must be a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_dtype(dtype):
    """A layer computes in one floating-point dtype: float16, float32 or float64."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float16, float32 or float64, got {dtype!r}") from None
    if dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"dtype must be float16, float32 or float64, got {dtype}")
    return dtype


def missing_attribute(layer, name, kept_by_forward, made_by_backward):
    """The AttributeError for ``layer.name``, which does not exist: if a pass makes it (one of
    ``kept_by_forward`` or ``made_by_backward``), the error says which."""
    kind = type(layer).__name__
    if name in kept_by_forward:
        return AttributeError(f"{kind}.{name} does not exist yet: a training pass keeps it; run "
                              "net.forward(X) first (predict and compute_loss are inference "
                              "passes and keep nothing)")
    if name in made_by_backward:
        return AttributeError(f"{kind}.{name} does not exist yet: backward makes it; run "
                              "net.forward(X) and net.backward(Y) first")
    return AttributeError(f"{kind!r} object has no attribute {name!r}")


class Dense:
    """h_l = φ(W_l h_{l−1} + b_l): a fully connected layer.

    Dense(64, 32, activation="relu") maps 64 inputs to 32 outputs.

    Arguments:
        n_in, n_out: widths; W has shape (n_out, n_in), b has shape (n_out,).
        activation:  identity, relu, leaky_relu, sigmoid, tanh or softplus.
        init:        normal, xavier or he (default: he for the ReLU family,
                     xavier otherwise); see init.py.
        rng:         a numpy.random.Generator or an int seed (None: fresh entropy).
        dtype:       float64 (default), float32 or float16; kept by every array.
        gain, std:   scale the initial weights (std only with init="normal").
    """

    params = ("W", "b")

    def __init__(self, n_in, n_out, activation="relu", init=None, rng=None,
                 dtype=np.float64, gain=1.0, std=None):
        self.n_in = check_width("n_in", n_in)
        self.n_out = check_width("n_out", n_out)
        self.activation = get_activation(activation)
        self.init = init if init is not None else default_init(self.activation.name)
        self.dtype = check_dtype(dtype)
        try:
            rng = np.random.default_rng(rng)
        except (TypeError, ValueError):
            raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, "
                            f"got {rng!r}") from None
        W = initial_weights(self.init, self.n_out, self.n_in, rng, gain=gain, std=std)
        self.W = np.ascontiguousarray(W, dtype=self.dtype)
        self.b = np.zeros(self.n_out, dtype=self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}({self.n_in}, {self.n_out}, activation={self.activation.name!r})"

    def __getattr__(self, name):
        """Called only for a missing attribute: say which pass makes a_l, δ^(l), ∇W_l, ...."""
        raise missing_attribute(self, name, KEPT_BY_FORWARD, MADE_BY_BACKWARD)

    def forward(self, h_prev, training=True):
        """h_{l−1} (n_in × m) -> h_l (n_out × m). A training pass keeps h_{l−1}, a_l, h_l."""
        a = self.W @ h_prev + self.b[:, None]   # a_l = W_l h_{l−1} + b_l  (b_l added to every column)
        h = self.activation.phi(a)               # h_l = φ(a_l)
        if training:                             # BP2 needs a_l and h_l, BP3 needs h_{l−1}
            self.h_prev, self.a, self.h = h_prev, a, h
        else:                                    # an inference pass keeps nothing
            self.forget()
        return h

    def forget(self):
        """Let go of what the last training pass kept (h_{l−1}, a_l, h_l)."""
        for name in KEPT_BY_FORWARD:
            vars(self).pop(name, None)

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l (n_out × m) -> ∂J/∂h_{l−1} (n_in × m), filling delta, grad_W, grad_b.

        With input_gradient=False (the first layer: nothing below needs it) the
        product W_lᵀ δ^(l) is skipped and None is returned.
        """
        delta = self.activation.phi_prime(self.a, self.h) * grad_h  # BP2: δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l
        return self.backward_from_delta(delta, input_gradient)

    def backward_from_delta(self, delta, input_gradient=True):
        """BP3, BP4 and the hand-down, once δ^(l) (n_out × m) is known.

        backward() calls it after BP2; the network calls it directly for an output
        layer whose BP1 collapses (sigmoid with binary cross-entropy: δ^(L) = ŷ − y).
        """
        m = delta.shape[1]
        self.delta = delta
        self.grad_W = (delta / m) @ self.h_prev.T  # BP3: ∇W_l = (1/m) Δ_l H_{l−1}ᵀ
        self.grad_b = delta.mean(axis=1)           # BP4: ∇b_l = (1/m) Δ_l 1, the row-mean of Δ_l
        self.grad_h_prev = self.W.T @ delta if input_gradient else None  # ∂J/∂h_{l−1} = W_lᵀ δ^(l)
        return self.grad_h_prev

    def config(self):
        """What it takes to rebuild this layer (its parameters aside): its type and the
        constructor's arguments, {"type": "Dense", "n_in": ..., ...}."""
        return {"type": type(self).__name__, "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation.name, "init": self.init, "dtype": str(self.dtype)}
