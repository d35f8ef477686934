"""A layer that uses another layer's W, transposed: the decoder of a tied autoencoder.

A tied autoencoder encodes with W and decodes with the same W, transposed:

    encoder   h_1 = φ_1(W h_0 + b_1)           a Dense layer, W is k × n
    decoder   h_2 = φ_2(Wᵀ h_1 + b_2)          this layer: the same array W, n × k in use

The decoder keeps **the very same array** as the encoder (docs/layers.md, "A parameter
used twice"), not a view W.T: the network then lists W once, its gradient is the sum
of the two layers' grad_W, and every optimiser steps it once. The transpose happens
here, in forward and backward. For a mini-batch held as columns (H_{l−1} is n_in × m):

    forward    A_l = Wᵀ H_{l−1} + b_l 1ᵀ
               H_l = φ(A_l)

    backward   given ∂J/∂H_l from above (the loss's ∇_{h_L} J at the output)
      BP2      Δ_l = φ'(A_l) ⊙ ∂J/∂H_l                 (BP1 at the output)
      BP3      ∇_{Wᵀ} J = (1/m) Δ_l H_{l−1}ᵀ, so ∇_W J = (1/m) H_{l−1} Δ_lᵀ   (W's shape)
      BP4      ∇_{b_l} J = (1/m) Δ_l 1
               ∂J/∂H_{l−1} = (Wᵀ)ᵀ Δ_l = W Δ_l

Its grad_W is therefore one of W's two contributions, already in W's shape; the
network's Parameter.grad adds the encoder's (the chain rule over both paths).

What is left out: random initialisation of its own (the weights are the encoder's;
a TiedDense built without W, as loading does, gets zeros until Network.load hands it
the shared array).
"""

import numpy as np

from backprop_edu.activations import get_activation
from backprop_edu.layers import Dense, check_dtype, check_width


class TiedDense:
    """h_l = φ(Wᵀ h_{l−1} + b_l), where W is another layer's weight matrix (the same array).

    TiedDense.transposing(encoder) is the decoder of ``encoder`` (a Dense layer with W of
    shape k × n): it maps k inputs back to n outputs with encoder.W itself.

    Arguments:
        n_in, n_out: widths; W has shape (n_in, n_out), the encoder's (k, n).
        activation:  the decoder's φ (default identity: a linear decoder).
        W:           the array to share (kept as is, not copied); None: zeros of its own,
                     which Network.load replaces by the shared array.
        dtype:       float64 (default), float32 or float16.
    """

    params = ("W", "b")

    def __init__(self, n_in, n_out, activation="identity", W=None, dtype=np.float64):
        self.n_in = check_width("n_in", n_in)
        self.n_out = check_width("n_out", n_out)
        self.activation = get_activation(activation)
        self.dtype = check_dtype(dtype)
        if W is None:
            W = np.zeros((self.n_in, self.n_out), dtype=self.dtype)
        if not isinstance(W, np.ndarray) or W.shape != (self.n_in, self.n_out) \
                or W.dtype != self.dtype:
            got = f"shape {W.shape}, dtype {W.dtype}" if isinstance(W, np.ndarray) else repr(W)
            raise ValueError(f"W must be the encoder's weight array, of shape "
                             f"({self.n_in}, {self.n_out}) = (n_in, n_out) and dtype "
                             f"{self.dtype}, got {got}")
        self.W = W                                    # the same array as the encoder's
        self.b = np.zeros(self.n_out, dtype=self.dtype)

    @classmethod
    def transposing(cls, encoder, activation="identity"):
        """The decoder that uses ``encoder.W`` (k × n) transposed: k inputs -> n outputs."""
        k, n = encoder.W.shape
        return cls(k, n, activation=activation, W=encoder.W, dtype=encoder.W.dtype)

    def __repr__(self):
        return f"TiedDense({self.n_in}, {self.n_out}, activation={self.activation.name!r})"

    __getattr__ = Dense.__getattr__  # says which pass makes a_l, δ^(l), ∇W, ... when missing
    forget = Dense.forget            # lets go of h_{l−1}, a_l, h_l

    def forward(self, h_prev, training=True):
        """h_{l−1} (n_in × m) -> h_l (n_out × m). A training pass keeps h_{l−1}, a_l, h_l."""
        a = self.W.T @ h_prev + self.b[:, None]   # a_l = Wᵀ h_{l−1} + b_l
        h = self.activation.phi(a)                 # h_l = φ(a_l)
        if training:
            self.h_prev, self.a, self.h = h_prev, a, h
        else:
            self.forget()
        return h

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l (n_out × m) -> ∂J/∂h_{l−1} (n_in × m), filling delta, grad_W, grad_b."""
        m = grad_h.shape[1]
        delta = self.activation.phi_prime(self.a, self.h) * grad_h  # BP2: δ = φ'(a_l) ⊙ ∂J/∂h_l
        self.delta = delta
        self.grad_W = self.h_prev @ delta.T / m  # BP3, transposed use: ∇W = (1/m) H_{l−1} Δ_lᵀ
        self.grad_b = delta.mean(axis=1)         # BP4: ∇b_l = (1/m) Δ_l 1
        self.grad_h_prev = self.W @ delta if input_gradient else None  # ∂J/∂h_{l−1} = W δ^(l)
        return self.grad_h_prev

    def config(self):
        """Its type and constructor arguments; W is saved once, as the encoder's, and loading
        shares it again (saving.py's "shared")."""
        return {"type": "TiedDense", "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation.name, "dtype": str(self.dtype)}
