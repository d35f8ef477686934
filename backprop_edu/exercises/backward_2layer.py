"""Exercise backward_2layer: the whole backward pass of a two-layer network.

Teaches: the four equations chained, BP1 → BP3/BP4 of the output layer →
BP2 → BP3/BP4 of the hidden layer, after a forward pass that keeps a_1 and
h_1. The network: a_1 = W_1 X + b_1, h_1 = σ(a_1), ŷ = W_2 h_1 + b_2, and the
mean half-MSE loss. Graded against Network.backward of the package.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient, dense_with
from backprop_edu.network import Network

NAME = "backward_2layer"
SUMMARY = "The whole backward pass of a 2-layer net (sigmoid hidden, linear out, half MSE)"
MINUTES = 25
FUNCTIONS = ["backward_2layer"]
OUTPUTS = {"backward_2layer": ["grad_W1", "grad_b1", "grad_W2", "grad_b2"]}
GIVEN = []
HINTS = [
    "Do the forward pass first and keep what the backward pass needs: a1 = W1 @ X + b1[:, None], "
    "h1 = σ(a1), y_hat = W2 @ h1 + b2[:, None]. The batch is columns: X is (n_0, m).",
    "Backward, top down: delta2 = y_hat − Y (BP1); grad_W2 = delta2 @ h1.T / m (BP3); "
    "grad_b2 = delta2.mean(axis=1) (BP4).",
    "BP2 brings the error down to the hidden layer: back through W2, transposed, then "
    "elementwise by σ'(a1), which the h1 you kept gives without another exp (σ' = σ(1 − σ)). "
    "Then BP3 and BP4 as for layer 2, with X as the layer's input.",
]


def backward_2layer(W1, b1, W2, b2, X, Y):
    """∇W_1, ∇b_1, ∇W_2, ∇b_2 of J = (1/m) Σ_i ½‖ŷ_i − y_i‖² for the network

        a_1 = W_1 X + b_1,   h_1 = σ(a_1),   ŷ = W_2 h_1 + b_2     (σ(a) = 1 / (1 + e^(−a)))

    W1 (n_1, n_0), b1 (n_1,), W2 (n_2, n_1), b2 (n_2,)
    X:  the inputs, shape (n_0, m): one column per sample
    Y:  the targets, shape (n_2, m)
    returns (grad_W1, grad_b1, grad_W2, grad_b2), each with its parameter's shape

    BP1 δ^(2) = ŷ − y;  BP2 δ^(1) = σ'(a_1) ⊙ (W_2ᵀ δ^(2));
    BP3 ∇W_l = (1/m) Δ_l H_{l−1}ᵀ;  BP4 ∇b_l = the row-mean of Δ_l.
    """
    m = X.shape[1]
    a1 = W1 @ X + b1[:, None]               # a_1 = W_1 x + b_1
    h1 = 1 / (1 + np.exp(-a1))              # h_1 = σ(a_1)
    y_hat = W2 @ h1 + b2[:, None]           # ŷ = a_2 = W_2 h_1 + b_2 (linear output)
    delta2 = y_hat - Y                      # BP1: δ^(2) = ŷ − y
    grad_W2 = delta2 @ h1.T / m             # BP3: ∇W_2 = (1/m) Δ_2 H_1ᵀ
    grad_b2 = delta2.mean(axis=1)           # BP4: ∇b_2 = the row-mean of Δ_2
    delta1 = h1 * (1 - h1) * (W2.T @ delta2)  # BP2: δ^(1) = σ'(a_1) ⊙ (W_2ᵀ δ^(2))
    grad_W1 = delta1 @ X.T / m              # BP3: ∇W_1 = (1/m) Δ_1 Xᵀ
    grad_b1 = delta1.mean(axis=1)           # BP4: ∇b_1 = the row-mean of Δ_1
    return grad_W1, grad_b1, grad_W2, grad_b2


def cases(rng, shapes=((1, 1, 1, 1), (2, 3, 1, 4), (3, 3, 3, 5), (4, 5, 2, 3), (2, 2, 2, 1))):
    # shapes: (n0, n1, n2, m)
    return [Case("backward_2layer", {"W1": rng.normal(size=(n1, n0)), "b1": rng.normal(size=n1),
                                     "W2": rng.normal(size=(n2, n1)), "b2": rng.normal(size=n2),
                                     "X": rng.normal(size=(n0, m)), "Y": rng.normal(size=(n2, m))},
                 m)
            for n0, n1, n2, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((8, 12, 4, 32), (5, 3, 6, 17)))


def mean_loss(W1, b1, W2, b2, X, Y):
    """J = (1/m) Σ_i ½‖ŷ_i − y_i‖², ŷ = W_2 σ(W_1 X + b_1) + b_2: the forward pass alone."""
    y_hat = W2 @ (1 / (1 + np.exp(-(W1 @ X + b1[:, None])))) + b2[:, None]
    return 0.5 * np.sum((y_hat - Y) ** 2) / X.shape[1]


# graded without the reference: the four gradients of the forward pass's mean loss
DERIVATIVES = {"backward_2layer": {name: Gradient(of, mean_loss) for name, of in (
    ("grad_W1", "W1"), ("grad_b1", "b1"), ("grad_W2", "W2"), ("grad_b2", "b2"))}}


def reference(case):
    W1, b1, W2, b2, X, Y = case.inputs.values()
    net = Network([dense_with(W1, b1, "sigmoid"), dense_with(W2, b2, "identity")], "half_mse")
    net.forward(X.T)   # the Network takes rows = samples
    net.backward(Y.T)
    hidden, output = net.layers
    return hidden.grad_W, hidden.grad_b, output.grad_W, output.grad_b


def wrong_backward(case, phi_prime=None, transpose=True, bias=True):
    """The backward pass with one deliberate mistake, for the diagnoses (phi_prime(h1, a1)
    replaces σ'(a1))."""
    W1, b1, W2, b2, X, Y = case.inputs.values()
    m = X.shape[1]
    a1 = W1 @ X + (b1[:, None] if bias else 0)
    h1 = 1 / (1 + np.exp(-a1))
    delta2 = W2 @ h1 + b2[:, None] - Y
    back = (W2.T if transpose else W2) @ delta2
    delta1 = (h1 * (1 - h1) if phi_prime is None else phi_prime(h1, a1)) * back
    return delta1 @ X.T / m, delta1.mean(axis=1), delta2 @ h1.T / m, delta2.mean(axis=1)


MISTAKES = [
    ("your hidden layer's gradients miss φ': BP2 is δ^(1) = σ'(a_1) ⊙ (W_2ᵀ δ^(2)), "
     "with σ'(a_1) = h_1(1 − h_1).",
     lambda case: wrong_backward(case, phi_prime=lambda h1, a1: 1)),
    ("in BP2 you multiplied by σ(a_1) = h_1, not by σ'(a_1) = h_1(1 − h_1).",
     lambda case: wrong_backward(case, phi_prime=lambda h1, a1: h1)),
    ("in BP2 you computed σ' from a_1 itself, a_1(1 − a_1): σ'(a_1) = h_1(1 − h_1), with "
     "h_1 = σ(a_1).",
     lambda case: wrong_backward(case, phi_prime=lambda h1, a1: a1 * (1 - a1))),
    ("in BP2 you used tanh's derivative 1 − h_1²: this hidden layer is a sigmoid, "
     "σ'(a_1) = h_1(1 − h_1).",
     lambda case: wrong_backward(case, phi_prime=lambda h1, a1: 1 - h1 ** 2)),
    ("in BP2 you used W_2 where it needs W_2ᵀ (the error flows backwards through the weights).",
     lambda case: wrong_backward(case, transpose=False)),
    ("your forward pass forgot the bias: a_1 = W_1 x + b_1.",
     lambda case: wrong_backward(case, bias=False)),
]
