"""A fully connected layer: the forward equations and BP2, BP3, BP4, in matrix form.

For a mini-batch of m samples held as columns (H_{l−1} is n_in × m):

    forward    A_l = W_l H_{l−1} + b_l 1ᵀ          (pre-activation, n_out × m)
               H_l = φ(A_l)                        (activation, n_out × m)

    backward   given G_l = ∂J/∂H_l, what the layer above sent down
               (for the output layer, the loss's δ^(L): BP1)
      BP2      Δ_l = φ'(A_l) ⊙ G_l                 (= φ'(a_l) ⊙ W_{l+1}ᵀ δ^(l+1))
      BP3      ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ
      BP4      ∇_{b_l} J = (1/m) Δ_l 1             (the row-mean of Δ_l)
               ∂J/∂H_{l−1} = W_lᵀ Δ_l              (handed to the layer below)

The textbook's diagonal matrix D_φ(a_l) is never built: multiplying by it is
the elementwise product ⊙. The 1/m of the mean loss enters only in BP3/BP4:
Δ_l keeps one column per sample, exactly as the equations write δ^(l).

The layer owns its forward cache (h_{l−1}, a_l, h_l), its error signal delta and
its gradients grad_W, grad_b. Every array of the hot path is allocated once per
batch size and then written in place (``out=``), so a training step allocates
nothing; ``layer.delta`` and friends are overwritten by the next pass.

What is left out: convolutions, dropout, batch normalisation.
"""

import numpy as np

from backprop_edu.activations import get_activation
from backprop_edu.init import default_init, initial_weights


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
        self.grad_W = np.zeros_like(self.W)
        self.grad_b = np.zeros_like(self.b)
        self.h_prev = None  # h_{l−1}, cached by forward for BP3
        self._batch_size = None
        self._checked = (None, None)  # the W and b that check_parameters last accepted

    def __repr__(self):
        return f"{type(self).__name__}({self.n_in}, {self.n_out}, activation={self.activation.name!r})"

    def _allocate(self, m):
        """Working arrays for a batch of m samples, one column per sample."""
        shape, dtype = (self.n_out, m), self.dtype
        self.a = np.empty(shape, dtype)       # a_l
        self.h = np.empty(shape, dtype)       # h_l = φ(a_l)
        self.delta = np.empty(shape, dtype)   # δ^(l)
        self.mean_delta = np.empty(shape, dtype)  # (1/m) Δ_l, shared by BP3 and BP4
        self.ones = np.ones(m, dtype)         # 1, the column of m ones in BP4
        self.grad_h_prev = np.empty((self.n_in, m), dtype)  # ∂J/∂h_{l−1} = W_lᵀ δ^(l)
        self._batch_size = m

    def check_parameters(self):
        """W and b may be replaced (layer.W = ...), but keep their shape and the layer's dtype."""
        expected = (("W", self.W, (self.n_out, self.n_in)), ("b", self.b, (self.n_out,)))
        for name, theta, shape in expected:
            is_array = isinstance(theta, np.ndarray)
            if not (is_array and theta.shape == shape and theta.dtype == self.dtype):
                got = (f"shape {theta.shape} and dtype {theta.dtype}" if is_array
                       else f"a {type(theta).__name__}")
                raise ValueError(f"{self!r}: {name} must be an array of shape {shape} and dtype "
                                 f"{self.dtype}, got {got}; set it in place: "
                                 f"layer.{name}[...] = values")
        self._checked = (self.W, self.b)

    def forward(self, h_prev):
        """h_{l−1} (n_in × m) -> h_l (n_out × m). Caches h_{l−1}, a_l, h_l."""
        if self.W is not self._checked[0] or self.b is not self._checked[1]:
            self.check_parameters()  # only when W or b was replaced since the last check
        if h_prev.shape[1] != self._batch_size:
            self._allocate(h_prev.shape[1])
        self.h_prev = h_prev
        np.matmul(self.W, h_prev, out=self.a)     # a_l = W_l h_{l−1} ...
        self.a += self.b[:, None]                 #       ... + b_l
        self.activation.phi(self.a, out=self.h)   # h_l = φ(a_l)
        return self.h

    def backward(self, grad_h, propagate=True):
        """∂J/∂h_l (n_out × m) -> ∂J/∂h_{l−1} (n_in × m), filling delta, grad_W, grad_b.

        With propagate=False (the first layer: nothing below needs it) the
        product W_lᵀ δ^(l) is skipped and None is returned.
        """
        if self.h_prev is None:
            raise ValueError("backward() called before forward(): run forward first")
        m = self.h_prev.shape[1]
        self.activation.phi_prime(self.a, self.h, out=self.delta)  # φ'(a_l)
        self.delta *= grad_h                          # BP2: δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l
        # The 1/m of the mean enters once, on Δ_l (n_out × m), shared by BP3 and BP4,
        # rather than on ∇W_l (n_out × n_in) afterwards: a pass over the smaller array
        # whenever the batch is smaller than the layer's input width (m = 128, n_in = 512: 4×).
        np.multiply(self.delta, 1 / m, out=self.mean_delta)         # (1/m) Δ_l
        np.matmul(self.mean_delta, self.h_prev.T, out=self.grad_W)  # BP3: ∇W_l = (1/m) Δ_l H_{l−1}ᵀ
        np.matmul(self.mean_delta, self.ones, out=self.grad_b)      # BP4: ∇b_l = (1/m) Δ_l 1
        if not propagate:
            return None
        np.matmul(self.W.T, self.delta, out=self.grad_h_prev)  # ∂J/∂h_{l−1} = W_lᵀ δ^(l)
        return self.grad_h_prev

    def config(self):
        """What it takes to rebuild this layer (its parameters aside)."""
        return {"type": type(self).__name__, "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation.name, "init": self.init}
