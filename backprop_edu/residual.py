"""A residual block: h_l = h_{l−1} + φ(W_l h_{l−1} + b_l), with a square W_l.

The block is a Dense layer (the "branch") plus an identity path around it:

    forward    a_l = W_l h_{l−1} + b_l
               h_l = h_{l−1} + φ(a_l)

    backward   given ∂J/∂h_l from the layer above:
      BP2      δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l
      BP3      ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ
      BP4      ∇_{b_l} J = (1/m) Δ_l 1
               ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)

The last line is the "gradient highway": ∂J/∂h_l reaches h_{l−1} unchanged,
*added* to the branch's contribution instead of multiplied by it. Through a
stack of plain layers BP2 multiplies the error by W_{l+1}ᵀ and φ' at every
layer, and a product of many factors below 1 vanishes; through residual blocks
the identity term keeps a path on which nothing is multiplied at all.

BP2–BP4 are Dense's, word for word; this file adds the identity path only.
"""

import numpy as np

from backprop_edu.layers import Dense


class Residual(Dense):
    """h_l = h_{l−1} + φ(W_l h_{l−1} + b_l). Residual(64) maps 64 units to 64 units.

    Takes Dense's keyword arguments (activation, init, rng, dtype, gain, std).
    Inside the block, ``self.h`` is the branch φ(a_l) as in Dense; the block's
    output h_{l−1} + φ(a_l) is ``self.out``.
    """

    def __init__(self, width, activation="relu", **kwargs):
        super().__init__(width, width, activation=activation, **kwargs)

    def __repr__(self):
        return f"Residual({self.n_out}, activation={self.activation.name!r})"

    def _allocate(self, m):
        super()._allocate(m)
        self.out = np.empty((self.n_out, m), self.dtype)  # h_l of the block

    def forward(self, h_prev):
        """h_{l−1} -> h_l = h_{l−1} + φ(a_l)."""
        branch = super().forward(h_prev)           # φ(a_l) = φ(W_l h_{l−1} + b_l)
        np.add(h_prev, branch, out=self.out)       # h_l = h_{l−1} + φ(a_l)
        return self.out

    def backward(self, grad_h, propagate=True):
        """∂J/∂h_l -> ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)."""
        through_branch = super().backward(grad_h, propagate)  # BP2, BP3, BP4; W_lᵀ δ^(l)
        if not propagate:
            return None
        through_branch += grad_h                   # ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)
        return through_branch

    def config(self):
        return {"type": "Residual", "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation.name, "init": self.init}
