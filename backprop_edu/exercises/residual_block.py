"""Exercise residual_block: the backward pass of a residual block, h_l = h_{l−1} + φ(W_l h_{l−1} + b_l).

Teaches: the identity path. The block's input reaches J along two paths,
the identity and the branch, and the chain rule adds them:
∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l). The branch is an ordinary layer (BP2,
BP3, BP4 with φ = tanh). Graded against Residual.backward of the package.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient
from backprop_edu.residual import Residual

NAME = "residual_block"
SUMMARY = "A residual block's backward pass: BP2–BP4 for the branch, plus the identity path"
MINUTES = 20
FUNCTIONS = ["residual_block"]
OUTPUTS = {"residual_block": ["grad_h_prev", "grad_W", "grad_b"]}
GIVEN = []
HINTS = [
    "The branch φ(W h_{l−1} + b) is an ordinary layer: δ = φ'(a) ⊙ ∂J/∂h_l (BP2), then "
    "BP3 and BP4 with the 1/m. For tanh, φ'(a) = 1 − tanh²(a).",
    "h_{l−1} reaches h_l along two paths: the identity (derivative I) and the branch "
    "(derivative Wᵀ δ). The chain rule adds the paths.",
    "Add the two paths: the identity hands ∂J/∂h_l down unchanged, the branch hands down "
    "what BP2's transpose makes of its δ. Check with W = 0: then ∂J/∂h_{l−1} = ∂J/∂h_l "
    "exactly.",
]


def residual_block(W, b, h_prev, grad_h):
    """The backward pass of h_l = h_{l−1} + tanh(W_l h_{l−1} + b_l).

    W: (n, n), square; b: (n,)
    h_prev: h_{l−1}, the block's input, shape (n, m): one column per sample
    grad_h: ∂J/∂h_l, what the layer above sent down, shape (n, m)
    returns (grad_h_prev, grad_W, grad_b):
        ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l)   (identity path + branch), shape (n, m)
        ∇W_l = (1/m) Δ_l H_{l−1}ᵀ,  ∇b_l = the row-mean of Δ_l
    where δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l and a_l = W_l h_{l−1} + b_l.
    """
    m = h_prev.shape[1]
    a = W @ h_prev + b[:, None]              # a_l = W_l h_{l−1} + b_l
    delta = (1 - np.tanh(a) ** 2) * grad_h   # BP2: δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l
    grad_W = delta @ h_prev.T / m            # BP3: ∇W_l = (1/m) Δ_l H_{l−1}ᵀ
    grad_b = delta.mean(axis=1)              # BP4: ∇b_l = the row-mean of Δ_l
    grad_h_prev = grad_h + W.T @ delta       # identity path + branch: ∂J/∂h_l + W_lᵀ δ^(l)
    return grad_h_prev, grad_W, grad_b


def cases(rng, shapes=((1, 1), (3, 4), (5, 2), (2, 6))):  # (n, m)
    return [Case("residual_block", {"W": rng.normal(size=(n, n)), "b": rng.normal(size=n),
                                    "h_prev": rng.normal(size=(n, m)),
                                    "grad_h": rng.normal(size=(n, m))}, m)
            for n, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((12, 20), (7, 3)))


def upstream_sum(W, b, h_prev, grad_h):
    """Σ ∂J/∂h_l ⊙ h_l, h_l = h_{l−1} + tanh(W h_{l−1} + b): its gradient in h_{l−1} is the
    per-sample ∂J/∂h_{l−1}; divided by m, its gradients in W and b are ∇W and ∇b."""
    return np.sum(grad_h * (h_prev + np.tanh(W @ h_prev + b[:, None])))


def upstream_mean(W, b, h_prev, grad_h):
    return upstream_sum(W, b, h_prev, grad_h) / h_prev.shape[1]


# graded without the reference: gradients of the block's output weighted by ∂J/∂h_l
DERIVATIVES = {"residual_block": {"grad_h_prev": Gradient("h_prev", upstream_sum),
                                  "grad_W": Gradient("W", upstream_mean),
                                  "grad_b": Gradient("b", upstream_mean)}}
UPSTREAM = {"residual_block": "grad_h"}


def reference(case):
    W, b, h_prev, grad_h = case.inputs.values()
    block = Residual(W.shape[0], activation="tanh", rng=0)
    block.W[...], block.b[...] = W, b
    block.forward(h_prev)
    grad_h_prev = block.backward(grad_h)
    return grad_h_prev, block.grad_W, block.grad_b


def wrong_block(case, skip=True, branch=True, transpose=True, phi_prime=True):
    W, b, h_prev, grad_h = case.inputs.values()
    m = h_prev.shape[1]
    a = W @ h_prev + b[:, None]
    delta = ((1 - np.tanh(a) ** 2) if phi_prime else 1) * grad_h
    through_branch = (W.T if transpose else W) @ delta
    grad_h_prev = (grad_h if skip else 0) + (through_branch if branch else 0)
    return grad_h_prev, delta @ h_prev.T / m, delta.mean(axis=1)


MISTAKES = [
    ("your ∂J/∂h_{l−1} misses the identity path: add ∂J/∂h_l itself (the skip connection) "
     "to the branch's W_lᵀ δ^(l).",
     lambda case: wrong_block(case, skip=False)),
    ("your ∂J/∂h_{l−1} misses the branch: it is ∂J/∂h_l + W_lᵀ δ^(l), not ∂J/∂h_l alone.",
     lambda case: wrong_block(case, branch=False)),
    ("you used W_l where the backward pass needs W_lᵀ: ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l).",
     lambda case: wrong_block(case, transpose=False)),
    ("you left out φ'(a_l): δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l, with φ'(a) = 1 − tanh²(a).",
     lambda case: wrong_block(case, phi_prime=False)),
]
