"""Exercise gradient_check: a finite-difference gradient, the way gradcheck tests backprop.

Teaches: the central difference (J(θ + ε) − J(θ − ε)) / 2ε, one parameter
entry at a time, needs nothing but the loss; perturb one entry, put it back,
move on. (One loop over the entries of W is the point here; it is why a
gradient check is slow and backprop is not.) Graded against
gradcheck.finite_difference of the package, on a one-layer tanh network.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, dense_with
from backprop_edu.gradcheck import finite_difference
from backprop_edu.network import Network

NAME = "gradient_check"
SUMMARY = "A finite-difference gradient: (J(W + ε) − J(W − ε)) / 2ε, one entry of W at a time"
MINUTES = 15
FUNCTIONS = ["numerical_gradient"]
OUTPUTS = {"numerical_gradient": ["grad_W"]}
HINTS = [
    "Loop over every entry (i, j) of W (np.ndindex(W.shape) gives them all). For each one, "
    "compute the loss with W[i, j] a little larger and a little smaller.",
    "Central difference: (loss(W + ε e_ij) − loss(W − ε e_ij)) / (2ε). Divide by 2ε, "
    "not ε: the two points are 2ε apart.",
    "Put W[i, j] back to its original value after each entry (or work on a copy), or every "
    "later entry is measured at the wrong point.",
]


def loss(W, X, Y):
    """J(W) = (1/m) Σ_i ½‖tanh(W x_i) − y_i‖²: a one-layer tanh network, no bias (given)."""
    m = X.shape[1]
    return 0.5 * np.sum((np.tanh(W @ X) - Y) ** 2) / m


GIVEN = [loss]


def numerical_gradient(W, X, Y, eps):
    """∂J/∂W_ij ≈ (J(W + ε e_ij) − J(W − ε e_ij)) / 2ε for every entry, J = loss(W, X, Y).

    W:   the weights, shape (n_out, n_in)
    X:   the inputs, shape (n_in, m); Y: the targets, shape (n_out, m)
    eps: the step ε, a float
    returns the finite-difference gradient, W's shape

    e_ij is the matrix with a 1 at (i, j) and 0 elsewhere: change one entry at a time.
    """
    grad = np.zeros_like(W)
    for index in np.ndindex(W.shape):             # one entry θ = W_ij at a time
        original = W[index]
        W[index] = original + eps
        loss_plus = loss(W, X, Y)                 # J(θ + ε)
        W[index] = original - eps
        loss_minus = loss(W, X, Y)                # J(θ − ε)
        W[index] = original                       # put θ back
        grad[index] = (loss_plus - loss_minus) / (2 * eps)  # central difference
    return grad


def cases(rng, shapes=((1, 1, 1, 1e-4), (2, 3, 4, 1e-3), (3, 3, 5, 1e-4), (4, 2, 6, 1e-2))):
    # shapes: (n_out, n_in, m, ε)
    return [Case("numerical_gradient", {"W": rng.normal(size=(n_out, n_in)),
                                        "X": rng.normal(size=(n_in, m)),
                                        "Y": rng.normal(size=(n_out, m)), "eps": eps}, m)
            for n_out, n_in, m, eps in shapes]


def hidden_cases(rng):
    """Graded against reference(): the answer is itself a finite difference, by definition."""
    return cases(rng, shapes=((6, 5, 20, 1e-3),))


def reference(case):
    """gradcheck.finite_difference on a Network holding the same one tanh layer."""
    W, X, Y, eps = case.inputs.values()
    net = Network([dense_with(W, np.zeros(W.shape[0]), "tanh")], "half_mse")
    theta = net.layers[0].W
    grad = np.array([finite_difference(net, X.T, Y.T, theta, index, eps)
                     for index in np.ndindex(W.shape)])
    return (grad.reshape(W.shape),)


def one_sided(case, restore=True):
    W, X, Y, eps = case.inputs.values()
    W = W.copy()
    grad = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        original = W[index]
        W[index] = original + eps
        grad[index] = (loss(W, X, Y) - loss(case.inputs["W"], X, Y)) / eps
        if restore:
            W[index] = original
    return (grad,)


def not_restored(case):
    W, X, Y, eps = case.inputs.values()
    W = W.copy()
    grad = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        W[index] += eps
        loss_plus = loss(W, X, Y)
        W[index] -= 2 * eps
        grad[index] = (loss_plus - loss(W, X, Y)) / (2 * eps)  # W[index] stays at θ − ε
    return (grad,)


def times_eps(case):
    """(J(θ + ε) − J(θ − ε)) / 2 * ε: the precedence bug, which multiplies by ε/2."""
    W, X, Y, eps = case.inputs.values()
    return (numerical_gradient(W.copy(), X, Y, eps) * (2 * eps) * eps / 2,)


def backprop_gradient(case):
    """The exact gradient by BP1–BP3: (1/m) (φ'(a) ⊙ (ŷ − y)) Xᵀ, which is not what is asked."""
    W, X, Y, eps = case.inputs.values()
    h = np.tanh(W @ X)
    return (((1 - h ** 2) * (h - Y)) @ X.T / X.shape[1],)


MISTAKES = [
    ("you returned the exact (backprop) gradient: it differs from the central difference by "
     "O(ε²). This exercise asks for the finite-difference estimate, computed from loss() alone.",
     backprop_gradient),
    ("you used a one-sided difference (J(θ + ε) − J(θ)) / ε: its error is O(ε); the central "
     "difference (J(θ + ε) − J(θ − ε)) / 2ε has error O(ε²).",
     one_sided),
    ("you did not put each entry back after perturbing it, so later entries are measured at "
     "a shifted W: restore W[i, j] (or perturb a copy).",
     not_restored),
    ("you multiplied by ε instead of dividing by 2ε: in Python `/ 2 * eps` is (… / 2) * eps; "
     "write `/ (2 * eps)`.",
     times_eps),
]
