"""Exercise tanh_prime: the derivative of tanh, tanh'(a) = 1 − tanh²(a).

Teaches: φ' written from φ (the package computes it from the cached
h = tanh(a)); it is at most 1, reached at a = 0, and vanishes for large |a|.
Graded against activations.tanh_prime of the package.
"""

import numpy as np

from backprop_edu.activations import tanh, tanh_prime as package_tanh_prime
from backprop_edu.exercises.exercise import Case, Gradient

NAME = "tanh_prime"
SUMMARY = "φ' for tanh: tanh'(a) = 1 − tanh²(a), entry by entry"
MINUTES = 5
FUNCTIONS = ["tanh_prime"]
OUTPUTS = {"tanh_prime": ["phi_prime"]}
GIVEN = []
HINTS = [
    "tanh = sinh / cosh; differentiate the quotient, or remember that tanh' = 1 − tanh².",
    "Write the derivative with h = tanh(a), the value the forward pass keeps: then "
    "square h, not a.",
    "Check your formula at two points before you run it: tanh'(0) = 1, and for a large a, "
    "tanh(a) ≈ 1 so tanh'(a) ≈ 0. Does your expression give both?",
]


def tanh_prime(a):
    """tanh'(a) = 1 − tanh²(a), entry by entry.

    a:      any array, e.g. a layer's pre-activation a_l, shape (n, m)
    returns tanh'(a), the same shape
    """
    h = np.tanh(a)     # h = φ(a)
    return 1 - h ** 2  # φ'(a) = 1 − tanh²(a)


def cases(rng, shapes=((1, 1, 1.0), (3, 4, 1.0), (5, 2, 3.0), (2, 6, 10.0))):  # (n, m, scale)
    return [Case("tanh_prime", {"a": scale * rng.normal(size=(n, m))}, m)
            for n, m, scale in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((16, 20, 2.0), (6, 10, 10.0)))


# graded without the reference: tanh' entry by entry is ∂/∂a of Σ tanh(a)
DERIVATIVES = {"tanh_prime": {"phi_prime": Gradient("a", lambda a: np.sum(np.tanh(a)))}}


def reference(case):
    a = case.inputs["a"]
    return (package_tanh_prime(a, tanh(a)),)


MISTAKES = [
    ("you computed 1 − a²: square tanh(a), not a.",
     lambda case: (1 - case.inputs["a"] ** 2,)),
    ("you returned tanh(a) itself, not its derivative 1 − tanh²(a).",
     lambda case: (np.tanh(case.inputs["a"]),)),
    ("you computed 1 − tanh(a): the derivative is 1 − tanh(a)², with a square.",
     lambda case: (1 - np.tanh(case.inputs["a"]),)),
    ("you squared inside the tanh, 1 − tanh(a²): the derivative is 1 − (tanh a)².",
     lambda case: (1 - np.tanh(case.inputs["a"] ** 2),)),
    ("you computed sech(a) = 1/cosh(a): the derivative is sech²(a) = 1 − tanh²(a), squared.",
     lambda case: (1 / np.cosh(case.inputs["a"]),)),
]
