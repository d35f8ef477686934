"""One forward-Euler step as a layer: h_l = h_{l−1} + τ F(h_{l−1}), F(h) = φ(W_l h + b_l).

A residual block is the forward Euler method for the ODE dh/dt = F(h): the
layer index l is the time t = l τ, and τ is the step size. This layer makes the
step size explicit (``Residual`` is the case τ = 1):

    forward    a_l = W_l h_{l−1} + b_l
               h_l = h_{l−1} + τ φ(a_l)                    h_l = h_{l−1} + τ F(h_{l−1})

    backward   given g_l = ∂J/∂h_l from the layer above:
      BP2      δ^(l) = φ'(a_l) ⊙ (τ g_l)                   J sees φ(a_l) only through τ φ(a_l)
      BP3      ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ
      BP4      ∇_{b_l} J = (1/m) Δ_l 1
               g_{l−1} = g_l + W_lᵀ δ^(l)
                       = g_l + τ J_F(h_{l−1})ᵀ g_l          the discrete adjoint equation

J_F(h) = D_φ'(a) W_l is the Jacobian of F at h_{l−1}, so W_lᵀ (φ'(a_l) ⊙ τ g_l) is
τ J_Fᵀ g_l, computed without building J_F. The backward pass is the adjoint
method of numerical analysis, run backward in time: g_{l−1} = (I + τ J_F)ᵀ g_l.
On a linear F(h) = A h it multiplies g by (I + τA)ᵀ at every step, and along an
eigenvector of A with eigenvalue λ the norm grows by |1 + τλ| per step: exploding
gradients are Euler's instability (docs/lab/stability.md).

BP2–BP4 are Dense's, word for word (called with τ g_l); this file adds the step.
Like Residual, the layer keeps ``grad_h_prev_parts`` = {"identity": g_l,
"branch": τ J_F(h_{l−1})ᵀ g_l}.

What is left out: other integrators (Runge–Kutta, implicit Euler), adaptive steps.
"""

import math
import numbers

from backprop_edu.layers import Dense
from backprop_edu.residual import Residual


def check_tau(tau):
    """The step size τ must be a positive finite number."""
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real):
        raise TypeError(f"tau (the step size τ) must be a number, got {tau!r}")
    tau = float(tau)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau (the step size τ) must be a positive finite number, got {tau}")
    return tau


class EulerStep(Residual):
    """h_l = h_{l−1} + τ φ(W_l h_{l−1} + b_l). EulerStep(8, tau=0.1) maps 8 units to 8 units.

    Takes Dense's keyword arguments (activation, default tanh; init, rng, dtype, gain, std).
    As in Residual, ``self.h`` is φ(a_l) = F(h_{l−1}); the layer's output is h_{l−1} + τ F.
    """

    def __init__(self, width, tau, activation="tanh", **kwargs):
        super().__init__(width, activation=activation, **kwargs)
        self.tau = check_tau(tau)

    def __repr__(self):
        return f"EulerStep({self.n_out}, tau={self.tau!r}, activation={self.activation.name!r})"

    def forward(self, h_prev, training=True):
        """h_{l−1} -> h_l = h_{l−1} + τ F(h_{l−1})."""
        F = Dense.forward(self, h_prev, training)    # F(h_{l−1}) = φ(W_l h_{l−1} + b_l)
        return h_prev + self.tau * F                 # h_l = h_{l−1} + τ F(h_{l−1})

    def backward(self, grad_h, input_gradient=True):
        """g_l = ∂J/∂h_l -> g_{l−1} = g_l + τ J_F(h_{l−1})ᵀ g_l (the discrete adjoint)."""
        # BP2 with ∂J/∂φ(a_l) = τ g_l: δ^(l) = φ'(a_l) ⊙ τ g_l; BP3, BP4; W_lᵀ δ^(l) = τ J_Fᵀ g_l
        through_F = Dense.backward(self, self.tau * grad_h, input_gradient)
        if not input_gradient:
            self.grad_h_prev_parts = None
            return None
        self.grad_h_prev_parts = {"identity": grad_h, "branch": through_F}
        self.grad_h_prev = grad_h + through_F        # g_{l−1} = g_l + τ J_F(h_{l−1})ᵀ g_l
        return self.grad_h_prev

    def config(self):
        return {**super().config(), "type": "EulerStep", "tau": self.tau}
