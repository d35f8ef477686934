"""Exercise bp2: send the error down one layer, δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1)).

Teaches: the transpose (the error flows back through W_{l+1}ᵀ, not W_{l+1}),
the elementwise product with φ' (the textbook's D_φ is never built), and
that δ keeps one column per sample. The hidden layer's φ is tanh.
Graded against Dense.backward of the package.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient, dense_with

NAME = "bp2"
SUMMARY = "BP2: the error of a tanh hidden layer, δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1))"
MINUTES = 15
FUNCTIONS = ["bp2"]
OUTPUTS = {"bp2": ["delta"]}
GIVEN = []
HINTS = [
    "Shapes first: W_next is n_{l+1} × n_l and delta_next is n_{l+1} × m; the answer is "
    "n_l × m, like a. Which product of W_next and delta_next has that shape?",
    "W_nextᵀ δ^(l+1) sends the error back through the weights (np.transpose, or W_next.T). "
    "Then multiply elementwise (*, not @) by φ'(a_l).",
    "φ' is the derivative of tanh, taken at a_l: square tanh(a_l), not a_l, and subtract "
    "from 1. Check one number by hand: at a = 0, φ'(0) = 1, so δ there equals W_nextᵀ δ^(l+1).",
]


def bp2(W_next, delta_next, a):
    """δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1)), for a hidden layer with φ = tanh.

    W_next:     W_{l+1}, the weights of the layer above, shape (n_{l+1}, n_l)
    delta_next: δ^(l+1), its error, shape (n_{l+1}, m): one column per sample
    a:          a_l, this layer's pre-activation, shape (n_l, m)
    returns     δ^(l), shape (n_l, m)

    φ'(a) = 1 − tanh²(a); ⊙ is the elementwise product (numpy's *).
    """
    phi_prime = 1 - np.tanh(a) ** 2                # φ'(a_l) for tanh
    return phi_prime * (W_next.T @ delta_next)     # BP2: δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1))


def cases(rng, shapes=((1, 1, 1), (3, 2, 5), (4, 4, 3), (2, 5, 7), (6, 3, 1))):
    """(n_l, n_{l+1}, m) of several shapes, square W among them (where W and Wᵀ both fit)."""
    return [Case("bp2", {"W_next": rng.normal(size=(n_next, n)),
                         "delta_next": rng.normal(size=(n_next, m)),
                         "a": rng.normal(size=(n, m))}, m)
            for n, n_next, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((20, 12, 30), (16, 16, 9)))


# graded without the reference: δ^(l) = ∂/∂a_l of Σ δ^(l+1) ⊙ (W_{l+1} tanh(a_l)), which is
# what sends δ^(l+1) down; BP2 is linear in δ^(l+1)
DERIVATIVES = {"bp2": {"delta": Gradient("a", lambda W_next, delta_next, a:
                                         np.sum(delta_next * (W_next @ np.tanh(a))))}}
UPSTREAM = {"bp2": "delta_next"}


def reference(case):
    """The package's BP2: W_{l+1}ᵀ δ^(l+1) from the upper Dense layer, ⊙ φ' in the tanh layer."""
    W_next, delta_next, a = case.inputs.values()
    n_next, n = W_next.shape
    upper = dense_with(W_next, np.zeros(n_next), "identity")  # δ^(l+1) comes in as is
    upper.forward(np.zeros((n, a.shape[1])))
    grad_h = upper.backward(delta_next)                        # W_{l+1}ᵀ δ^(l+1)
    layer = dense_with(np.eye(n), np.zeros(n), "tanh")         # a_l = I a + 0 = a
    layer.forward(a)
    layer.backward(grad_h)
    return (layer.delta,)


def tanh_prime(a):
    return 1 - np.tanh(a) ** 2


def sigmoid_prime(a):
    h = 1 / (1 + np.exp(-a))
    return h * (1 - h)


def back(case):
    """W_{l+1}ᵀ δ^(l+1), right in every mistake below but the transpose's."""
    return case.inputs["W_next"].T @ case.inputs["delta_next"]


def times(phi_prime):
    """The answer with the right W_{l+1}ᵀ δ^(l+1), multiplied elementwise by a wrong φ'."""
    return lambda case: (phi_prime(case.inputs["a"]) * back(case),)


ELEMENTWISE_NOT_MATMUL = ("⊙ is `*`, not `@`: you multiplied φ'(a_l) and W_{l+1}ᵀ δ^(l+1) "
                          "with @, a matrix product. BP2's ⊙ is the elementwise product, "
                          "numpy's *: entry (j, i) of δ is φ'(a_l)[j, i] · "
                          "(W_{l+1}ᵀ δ^(l+1))[j, i].")

MISTAKES = [
    (ELEMENTWISE_NOT_MATMUL,  # raises (numpy's gufunc error) on every case but the 1×1 one
     lambda case: (tanh_prime(case.inputs["a"]) @ back(case),)),
    (ELEMENTWISE_NOT_MATMUL,  # the same with np.dot, whose error says "not aligned"
     lambda case: (np.dot(tanh_prime(case.inputs["a"]), back(case)),)),
    (ELEMENTWISE_NOT_MATMUL,  # a transpose to make @ fit gives a square matrix, m × m
     lambda case: (tanh_prime(case.inputs["a"]).T @ back(case),)),
    (ELEMENTWISE_NOT_MATMUL,  # ... or n_l × n_l
     lambda case: (back(case) @ tanh_prime(case.inputs["a"]).T,)),
    ("you left out φ'(a_l): BP2 multiplies W_{l+1}ᵀ δ^(l+1) elementwise by "
     "φ'(a_l) = 1 − tanh²(a_l).",
     lambda case: (back(case),)),
    ("you multiplied by φ(a_l) = tanh(a_l), not by its derivative φ'(a_l) = 1 − tanh²(a_l).",
     times(np.tanh)),
    ("you computed φ' from a_l itself, 1 − a_l²: the derivative of tanh is 1 − tanh²(a_l), "
     "so apply tanh first, then square.",
     times(lambda a: 1 - a ** 2)),
    ("you computed 1 − tanh(a_l), without the square: φ'(a_l) = 1 − tanh²(a_l) = "
     "1 − tanh(a_l)**2.",
     times(lambda a: 1 - np.tanh(a))),
    ("you squared inside the tanh, 1 − tanh(a_l²): φ'(a_l) = 1 − (tanh a_l)², "
     "np.tanh(a) ** 2.",
     times(lambda a: 1 - np.tanh(a ** 2))),
    ("you computed (1 − tanh(a_l))²: the square belongs to tanh alone, "
     "φ'(a_l) = 1 − tanh²(a_l).",
     times(lambda a: (1 - np.tanh(a)) ** 2)),
    ("you used W_{l+1} where BP2 needs its transpose W_{l+1}ᵀ (the error flows backwards).",
     lambda case: (tanh_prime(case.inputs["a"])
                   * (case.inputs["W_next"] @ case.inputs["delta_next"]),)),
    ("you used the sigmoid's derivative σ(a)(1 − σ(a)): this hidden layer is tanh, "
     "φ'(a) = 1 − tanh²(a).",
     times(sigmoid_prime)),
    ("you divided by m: δ keeps one column per sample; the 1/m enters only in BP3/BP4.",
     lambda case: (tanh_prime(case.inputs["a"]) * back(case) / case.m,)),
]
