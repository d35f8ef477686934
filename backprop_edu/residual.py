"""A residual block: h_l = h_{l−1} + φ(W_l h_{l−1} + b_l), with a square W_l.

The block is a Dense layer (the "branch") plus an identity path around it:

    forward    a_l = W_l h_{l−1} + b_l
               h_l = h_{l−1} + φ(a_l)

    backward   given ∂J/∂h_l from the layer above:
      BP2      δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l
      BP3      ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ
      BP4      ∇_{b_l} J = (1/m) Δ_l 1
               ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)

The last line is the identity path at work: ∂J/∂h_l reaches h_{l−1} unchanged,
*added* to the branch's contribution instead of multiplied by it. Through a
stack of plain layers BP2 multiplies the error by W_{l+1}ᵀ and φ' at every
layer, and a product of many factors below 1 vanishes; through residual blocks
the identity term keeps a path on which nothing is multiplied at all.

BP2–BP4 are Dense's, word for word; this file adds the identity path only. The
block keeps the two parts it adds, ``grad_h_prev_parts`` = {"identity": ∂J/∂h_l,
"branch": W_lᵀ δ^(l)}, so that a figure can show where the gradient came from.
"""

from backprop_edu.layers import Dense


class Residual(Dense):
    """h_l = h_{l−1} + φ(W_l h_{l−1} + b_l). Residual(64) maps 64 units to 64 units.

    Takes Dense's keyword arguments (activation, init, rng, dtype, gain, std).
    Inside the block, ``self.h`` is the branch φ(a_l), as in Dense (φ' reads it);
    the block's output is h_{l−1} + φ(a_l).
    """

    def __init__(self, width, activation="relu", **kwargs):
        super().__init__(width, width, activation=activation, **kwargs)

    def __repr__(self):
        return f"Residual({self.n_out}, activation={self.activation.name!r})"

    def forward(self, h_prev, training=True):
        """h_{l−1} -> h_l = h_{l−1} + φ(a_l)."""
        branch = super().forward(h_prev, training)   # φ(a_l) = φ(W_l h_{l−1} + b_l)
        return h_prev + branch                       # h_l = h_{l−1} + φ(a_l)

    def backward(self, grad_h, input_gradient=True):
        """∂J/∂h_l -> ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)."""
        through_branch = super().backward(grad_h, input_gradient)  # BP2, BP3, BP4; W_lᵀ δ^(l)
        if not input_gradient:
            self.grad_h_prev_parts = None
            return None
        self.grad_h_prev_parts = {"identity": grad_h, "branch": through_branch}
        self.grad_h_prev = grad_h + through_branch  # ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)
        return self.grad_h_prev

    def config(self):
        return {"type": "Residual", "width": self.n_in, "activation": self.activation.name,
                "init": self.init, "dtype": str(self.dtype)}
