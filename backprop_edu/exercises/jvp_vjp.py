"""Exercise jvp_vjp: forward mode (a Jacobian-vector product) versus reverse mode (a vector-Jacobian product).

For the network f(x) = W_2 tanh(W_1 x + b_1) + b_2, with Jacobian J_f(x):

    forward mode   jvp: J_f(x) v    push a tangent v *forward* with the values:
                   ȧ_1 = W_1 v,  ḣ_1 = φ'(a_1) ⊙ ȧ_1,  ẏ = W_2 ḣ_1
    reverse mode   vjp: J_f(x)ᵀ u   pull a cotangent u *backward*, as backprop does:
                   δ_2 = u,  δ_1 = φ'(a_1) ⊙ (W_2ᵀ δ_2),  x̄ = W_1ᵀ δ_1

Teaches: both cost about one pass; JVP gives one column of the Jacobian (one
input direction) per pass, VJP one row (one output). A loss has one output
and millions of inputs: one reverse pass gives the whole gradient, which is
why backprop is reverse mode. The reverse reference is the package's
Dense.backward; the package has no forward mode, so the JVP reference is
written below as equations and tested against finite differences.
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Directional, Gradient, dense_with

NAME = "jvp_vjp"
SUMMARY = "Forward mode versus reverse mode: J v by a tangent pass, Jᵀu by a backward pass"
MINUTES = 30
FUNCTIONS = ["jvp", "vjp"]
OUTPUTS = {"jvp": ["Jv"], "vjp": ["JTu"]}
GIVEN = []
HINTS = [
    "Both start with the forward pass: a1 = W1 @ x + b1, h1 = tanh(a1). Both need "
    "φ'(a1) = 1 − tanh(a1)².",
    "jvp pushes v forward through the same steps, with each step's derivative: "
    "W1 @ v, then ⊙ φ'(a1), then W2 @ (...). Biases are constants: they have no tangent.",
    "vjp runs the same three steps in the reverse order, each one transposed (a product by "
    "W becomes a product by Wᵀ; an elementwise product stays elementwise). Check the pair: "
    "for any u and v, u · jvp(…, v) must equal vjp(…, u) · v.",
]


def jvp(W1, b1, W2, b2, x, v):
    """Forward mode: J_f(x) v, for f(x) = W_2 tanh(W_1 x + b_1) + b_2.

    W1 (n_1, n_0), b1 (n_1,), W2 (n_2, n_1), b2 (n_2,)
    x: the input, shape (n_0,);  v: a direction in input space, shape (n_0,)
    returns J_f(x) v, shape (n_2,): how fast f(x + t v) moves at t = 0

    Push the tangent forward beside the values: ȧ_1 = W_1 v, ḣ_1 = φ'(a_1) ⊙ ȧ_1,
    ẏ = W_2 ḣ_1, with φ'(a) = 1 − tanh²(a).
    """
    a1 = W1 @ x + b1                          # a_1 = W_1 x + b_1
    a1_dot = W1 @ v                           # ȧ_1 = W_1 v (b_1 is constant)
    h1_dot = (1 - np.tanh(a1) ** 2) * a1_dot  # ḣ_1 = φ'(a_1) ⊙ ȧ_1
    return W2 @ h1_dot                        # ẏ = W_2 ḣ_1 = J_f(x) v


def vjp(W1, b1, W2, b2, x, u):
    """Reverse mode: J_f(x)ᵀ u (that is, uᵀ J_f(x)), for f(x) = W_2 tanh(W_1 x + b_1) + b_2.

    W1 (n_1, n_0), b1 (n_1,), W2 (n_2, n_1), b2 (n_2,)
    x: the input, shape (n_0,);  u: a weighting of the outputs, shape (n_2,)
    returns J_f(x)ᵀ u, shape (n_0,): the gradient of u · f(x) with respect to x

    Pull u backward as backprop does: δ_2 = u, δ_1 = φ'(a_1) ⊙ (W_2ᵀ δ_2),
    x̄ = W_1ᵀ δ_1, with φ'(a) = 1 − tanh²(a).
    """
    a1 = W1 @ x + b1                                # forward: a_1 = W_1 x + b_1
    delta1 = (1 - np.tanh(a1) ** 2) * (W2.T @ u)    # BP2: δ_1 = φ'(a_1) ⊙ (W_2ᵀ δ_2), δ_2 = u
    return W1.T @ delta1                            # x̄ = W_1ᵀ δ_1 = J_f(x)ᵀ u


def cases(rng, shapes=((1, 1, 1), (3, 4, 2), (2, 5, 4), (4, 4, 4))):  # (n_0, n_1, n_2)
    result = []
    for n0, n1, n2 in shapes:
        weights = {"W1": rng.normal(size=(n1, n0)), "b1": rng.normal(size=n1),
                   "W2": rng.normal(size=(n2, n1)), "b2": rng.normal(size=n2),
                   "x": rng.normal(size=n0)}
        result.append(Case("jvp", {**weights, "v": rng.normal(size=n0)}))
        result.append(Case("vjp", {**weights, "u": rng.normal(size=n2)}))
    return result


def hidden_cases(rng):
    return cases(rng, shapes=((10, 20, 6),))


def network(W1, b1, W2, b2, x):
    """f(x) = W_2 tanh(W_1 x + b_1) + b_2: the forward pass alone."""
    return W2 @ np.tanh(W1 @ x + b1) + b2


# graded without the references: J v is f's derivative along v; Jᵀu is the gradient of u · f
DERIVATIVES = {
    "jvp": {"Jv": Directional("x", "v", lambda W1, b1, W2, b2, x, v:
                              network(W1, b1, W2, b2, x))},
    "vjp": {"JTu": Gradient("x", lambda W1, b1, W2, b2, x, u: u @ network(W1, b1, W2, b2, x))}}
UPSTREAM = {"vjp": "u"}


def reference(case):
    """jvp: the equations above. vjp: the package's Dense.backward, layer 2 then layer 1."""
    if case.function == "jvp":
        return (jvp(*case.inputs.values()),)
    W1, b1, W2, b2, x, u = case.inputs.values()
    hidden, output = dense_with(W1, b1, "tanh"), dense_with(W2, b2, "identity")
    output.forward(hidden.forward(x[:, None]))   # one sample: a column
    grad_h1 = output.backward(u[:, None])        # W_2ᵀ δ_2, with δ_2 = u
    return (hidden.backward(grad_h1)[:, 0],)     # W_1ᵀ δ_1, with δ_1 = φ'(a_1) ⊙ W_2ᵀ δ_2


def wrong(case, phi_prime=True, transposed=False, bias=False):
    W1, b1, W2, b2, x, w = case.inputs.values()
    d = (1 - np.tanh(W1 @ x + b1) ** 2) if phi_prime else 1
    if case.function == "jvp":
        if transposed:
            return (W1.T @ (d * (W2.T @ w)),)
        return (W2 @ (d * (W1 @ w + (b1 if bias else 0))) + (b2 if bias else 0),)
    if transposed:
        return (W2 @ (d * (W1 @ w)),)
    return (W1.T @ (d * (W2.T @ w)),)


MISTAKES = [
    ("you left out φ'(a_1): the tangent (or the error) is multiplied elementwise by "
     "φ'(a_1) = 1 − tanh²(a_1) on its way through the tanh layer.",
     lambda case: wrong(case, phi_prime=False)),
    ("you went the other way: jvp pushes v forward through W_1 then W_2 (J v); vjp pulls u "
     "backward through W_2ᵀ then W_1ᵀ (Jᵀ u).",
     lambda case: wrong(case, transposed=True)),
    ("your tangent picked up the biases: they are constants, so d(W x + b) = W dx.",
     lambda case: wrong(case, bias=True)),
]
