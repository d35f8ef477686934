"""Exercise bp3_bp4: the gradients of a layer's weights and biases for a mini-batch.

Teaches: BP3 ∇W_l = (1/m) Δ_l H_{l−1}ᵀ is a sum of one outer product per
sample, done by one matrix product; BP4 ∇b_l is the row-mean of Δ_l; the 1/m
of the mean loss enters here and only here. Graded against Dense.backward.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient, dense_with

NAME = "bp3_bp4"
SUMMARY = "BP3 and BP4 for a batch: ∇W = (1/m) Δ Hᵀ and ∇b = the row-mean of Δ"
MINUTES = 10
FUNCTIONS = ["bp3_bp4"]
OUTPUTS = {"bp3_bp4": ["grad_W", "grad_b"]}
GIVEN = []
HINTS = [
    "Shapes first: grad_W must have W's shape (n_out, n_in). delta is (n_out, m) and h_prev "
    "is (n_in, m): which product of the two has shape (n_out, n_in)?",
    "For one sample ∇W = δ hᵀ, an outer product. delta @ h_prev.T sums these outer products "
    "over the m samples; the loss is a mean, so divide by m. Same for b: average over axis=1.",
    "Check with one sample (m = 1): then the product of the two is the outer product δ hᵀ, "
    "W's shape. With m samples the same product sums m outer products, and J is a mean, so "
    "one step remains. For b: which axis of delta holds the samples?",
]


def bp3_bp4(delta, h_prev):
    """BP3 ∇_{W_l} J = (1/m) Δ_l H_{l−1}ᵀ and BP4 ∇_{b_l} J = (1/m) Σ_i δ_i^(l).

    delta:  Δ_l, the layer's error, shape (n_out, m): one column δ_i per sample
    h_prev: H_{l−1}, the layer's input, shape (n_in, m)
    returns (grad_W, grad_b) with shapes (n_out, n_in) and (n_out,)

    J is the mean loss over the batch, hence the 1/m.
    """
    m = delta.shape[1]
    grad_W = delta @ h_prev.T / m   # BP3: ∇W_l = (1/m) Δ_l H_{l−1}ᵀ
    grad_b = delta.mean(axis=1)     # BP4: ∇b_l = the row-mean of Δ_l
    return grad_W, grad_b


def cases(rng, shapes=((1, 1, 1), (2, 3, 4), (3, 3, 5), (4, 2, 6), (2, 5, 1))):  # n_out n_in m
    return [Case("bp3_bp4", {"delta": rng.normal(size=(n_out, m)),
                             "h_prev": rng.normal(size=(n_in, m))}, m)
            for n_out, n_in, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((12, 9, 40), (5, 16, 7)))


def layer_objective(delta, h_prev, W, b):
    """(1/m) Σ Δ ⊙ (W H + b): the pre-activations weighted by their errors, whose gradients in W
    and b are BP3 and BP4 (at any W and b: the objective is linear in them)."""
    return np.sum(delta * (W @ h_prev + b[:, None])) / delta.shape[1]


def zero_W(delta, h_prev):
    return np.zeros((delta.shape[0], h_prev.shape[0]))


def zero_b(delta, h_prev):
    return np.zeros(delta.shape[0])


# graded without the reference: ∇W and ∇b of the layer's objective, at W = 0 and b = 0
DERIVATIVES = {"bp3_bp4": {
    "grad_W": Gradient("W", lambda delta, h_prev, W:
                       layer_objective(delta, h_prev, W, zero_b(delta, h_prev)), at=zero_W),
    "grad_b": Gradient("b", lambda delta, h_prev, b:
                       layer_objective(delta, h_prev, zero_W(delta, h_prev), b), at=zero_b)}}
UPSTREAM = {"bp3_bp4": "delta"}


def reference(case):
    """Dense.backward with an identity φ: then δ^(l) is exactly the ∂J/∂h_l it is given."""
    delta, h_prev = case.inputs.values()
    layer = dense_with(np.zeros((delta.shape[0], h_prev.shape[0])), np.zeros(delta.shape[0]),
                       "identity")
    layer.forward(h_prev)
    layer.backward(delta)
    return layer.grad_W, layer.grad_b


MISTAKES = [
    ("you computed H δᵀ: BP3 is Δ_l H_{l−1}ᵀ (the error on the left; grad_W has W's shape).",
     lambda case: (case.inputs["h_prev"] @ case.inputs["delta"].T / case.m,
                   case.inputs["delta"].mean(axis=1))),
    ("you computed Δᵀ H: BP3 is Δ_l H_{l−1}ᵀ, the error on the left and the transpose on "
     "the layer's input (grad_W has W's shape, n_out × n_in).",
     lambda case: (case.inputs["delta"].T @ case.inputs["h_prev"] / case.m,
                   case.inputs["delta"].mean(axis=1))),
    ("you averaged the bias gradient over the wrong axis: ∇b has one entry per unit, the mean "
     "over the samples (axis=1).",
     lambda case: (case.inputs["delta"] @ case.inputs["h_prev"].T / case.m,
                   case.inputs["delta"].mean(axis=0))),
    ("you divided by the number of rows, delta.shape[0] (the units): m is the number of "
     "columns, delta.shape[1] (the samples).",
     lambda case: (case.inputs["delta"] @ case.inputs["h_prev"].T / case.inputs["delta"].shape[0],
                   case.inputs["delta"].sum(axis=1) / case.inputs["delta"].shape[0])),
]
