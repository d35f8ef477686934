"""Exercise bp1_mse: the output error for half MSE, δ^(L) = ŷ − y.

Teaches: BP1 is the gradient of the per-sample loss with respect to the
output's pre-activation; for J_i = ½‖ŷ_i − y_i‖² with a linear output the ½
cancels the 2 and δ^(L) = ŷ − y, one column per sample, with no 1/m.
Graded against losses.half_mse of the package.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient
from backprop_edu.losses import half_mse

NAME = "bp1_mse"
SUMMARY = "BP1 for half MSE: the output error δ^(L) = ŷ − y of a linear output layer"
MINUTES = 5
FUNCTIONS = ["bp1_mse"]
OUTPUTS = {"bp1_mse": ["delta"]}
GIVEN = []
HINTS = [
    "Differentiate ½(ŷ − y)² with respect to ŷ, one entry at a time. The output layer is "
    "linear, so ∂J/∂a_L = ∂J/∂ŷ.",
    "The ½ cancels the 2 of the square. Keep one column per sample: no sum, no 1/m here "
    "(the 1/m of the batch mean enters in BP3/BP4).",
    "Check one entry by hand: ŷ = 3 and y = 1 give J = ½(3 − 1)² = 2; move ŷ to 3.001 and J "
    "grows by about 0.002, so ∂J/∂ŷ = 2 there. Which expression in ŷ and y gives that 2, for "
    "every entry at once?",
]


def bp1_mse(y_hat, y):
    """δ^(L) = ∇_{a_L} J_i for J_i = ½‖ŷ_i − y_i‖² and a linear output (ŷ = a_L).

    y_hat: ŷ, the network's output, shape (n_out, m): one column per sample
    y:     the targets, shape (n_out, m)
    returns δ^(L), shape (n_out, m): the error of each sample, one column each
    """
    return y_hat - y  # BP1: δ^(L) = ŷ − y


def cases(rng, shapes=((1, 1), (1, 4), (3, 5), (4, 2), (2, 8))):  # (n_out, m)
    return [Case("bp1_mse", {"y_hat": rng.normal(size=(n, m)), "y": rng.normal(size=(n, m))}, m)
            for n, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((10, 64), (7, 33)))


# graded without the reference: δ^(L) = ∂/∂ŷ of Σ_i ½‖ŷ_i − y_i‖² (no 1/m: per sample)
DERIVATIVES = {"bp1_mse": {"delta": Gradient("y_hat", lambda y_hat, y:
                                             0.5 * np.sum((y_hat - y) ** 2))}}


def reference(case):
    y_hat, y = case.inputs.values()
    J, grad_h = half_mse(y_hat, y)  # ∇_{h_L} J = δ^(L) for a linear output layer (BP1)
    return (grad_h,)


MISTAKES = [
    ("you returned the loss ½(ŷ − y)² of each entry, not its derivative ŷ − y.",
     lambda case: (0.5 * (case.inputs["y_hat"] - case.inputs["y"]) ** 2,)),
    ("you returned the derivative of (ŷ − y)² without the ½: for ½‖ŷ − y‖² the ½ cancels the 2.",
     lambda case: (2 * (case.inputs["y_hat"] - case.inputs["y"]),)),
    ("you divided by m: δ^(L) keeps one column per sample; the 1/m enters only in BP3/BP4.",
     lambda case: ((case.inputs["y_hat"] - case.inputs["y"]) / case.m,)),
    ("you averaged over the batch: δ^(L) keeps one column per sample, shape (n_out, m); "
     "the mean over the samples happens later, in BP3/BP4.",
     lambda case: ((case.inputs["y_hat"] - case.inputs["y"]).mean(axis=1),)),
    ("you summed over the batch: δ^(L) keeps one column per sample, shape (n_out, m); "
     "the samples are combined later, in BP3/BP4.",
     lambda case: ((case.inputs["y_hat"] - case.inputs["y"]).sum(axis=1),)),
]
