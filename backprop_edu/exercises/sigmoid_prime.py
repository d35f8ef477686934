"""Exercise sigmoid_prime: the derivative of the logistic sigmoid, σ'(a) = σ(a)(1 − σ(a)).

Teaches: φ' of the most classic activation, written from φ itself (the
package computes it from the cached h = σ(a)); that it is at most 1/4, which
is where vanishing gradients start; and a stable σ for large |a|.
Graded against activations.sigmoid_prime of the package.
"""

import numpy as np

from backprop_edu.activations import sigmoid, sigmoid_prime as package_sigmoid_prime
from backprop_edu.exercises.exercise import Case, Gradient

NAME = "sigmoid_prime"
SUMMARY = "φ' for the sigmoid: σ'(a) = σ(a)(1 − σ(a)), entry by entry"
MINUTES = 5
FUNCTIONS = ["sigmoid_prime"]
OUTPUTS = {"sigmoid_prime": ["phi_prime"]}
GIVEN = []
HINTS = [
    "First compute h = σ(a) = 1 / (1 + e^(−a)) for every entry (np.exp works elementwise).",
    "Differentiate 1 / (1 + e^(−a)): you get e^(−a) / (1 + e^(−a))², which is σ(a)(1 − σ(a)).",
    "Check your formula at two points before you run it: σ'(0) = 1/4 (σ(0) = 1/2), and for a "
    "large a, σ(a) ≈ 1 so σ'(a) ≈ 0. Does your expression give both, with σ computed once?",
]


def sigmoid_prime(a):
    """σ'(a) = σ(a)(1 − σ(a)), entry by entry, where σ(a) = 1 / (1 + e^(−a)).

    a:      any array, e.g. a layer's pre-activation a_l, shape (n, m)
    returns σ'(a), the same shape

    Some entries are large (|a| ≈ 40): the answer there is tiny but not nan.
    """
    h = np.exp(-np.logaddexp(0, -a))  # σ(a) = 1 / (1 + e^(−a)), without overflow
    return h * (1 - h)                # σ'(a) = σ(a)(1 − σ(a))


def cases(rng, shapes=((1, 1, 1.0), (3, 4, 1.0), (5, 2, 3.0), (2, 6, 40.0))):  # (n, m, scale)
    return [Case("sigmoid_prime", {"a": scale * rng.normal(size=(n, m))}, m)
            for n, m, scale in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((16, 20, 2.0), (6, 10, 40.0)))


# graded without the reference: σ' entry by entry is ∂/∂a of Σ σ(a)
DERIVATIVES = {"sigmoid_prime": {"phi_prime": Gradient("a", lambda a:
                                                       np.sum(1 / (1 + np.exp(-a))))}}


def reference(case):
    a = case.inputs["a"]
    return (package_sigmoid_prime(a, sigmoid(a)),)


def sigma(a):
    return 1 / (1 + np.exp(-a))


MISTAKES = [
    ("you returned σ(a) itself, not its derivative σ(a)(1 − σ(a)).",
     lambda case: (sigma(case.inputs["a"]),)),
    ("you computed a(1 − a): the formula is σ(a)(1 − σ(a)), with h = σ(a), not a.",
     lambda case: (case.inputs["a"] * (1 - case.inputs["a"]),)),
    ("you computed σ(a)(1 + σ(a)): the derivative is σ(a)(1 − σ(a)).",
     lambda case: (sigma(case.inputs["a"]) * (1 + sigma(case.inputs["a"])),)),
    ("you computed 1 − σ(a)², tanh's pattern: the sigmoid's derivative is σ(a)(1 − σ(a)).",
     lambda case: (1 - sigma(case.inputs["a"]) ** 2,)),
]
