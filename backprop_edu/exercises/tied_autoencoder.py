"""Exercise tied_autoencoder: one weight matrix used twice, and its gradient is the sum of both uses.

The autoencoder encodes with W and decodes with its transpose:

    h = σ(W x + b)        (encoder, W is k × n)
    x̂ = Wᵀ h + c          (decoder, the same W, transposed)
    J = (1/m) Σ_i ½‖x̂_i − x_i‖²

Teaches: the multivariable chain rule adds the contributions of every path
from W to J: ∇W J = (encoder's BP3) + (decoder's BP3)ᵀ. Forgetting one of the
two is the classic bug of weight tying (and of RNNs, which reuse W at every
step). The package has no tied layer; the reference runs two Dense layers of
the package, one holding W and one holding Wᵀ, and adds their gradients (it
is tested against finite differences).
"""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient, dense_with
from backprop_edu.network import Network

NAME = "tied_autoencoder"
SUMMARY = "Gradient accumulation: a tied autoencoder x̂ = Wᵀσ(Wx + b) + c uses W twice"
MINUTES = 25
FUNCTIONS = ["tied_autoencoder"]
OUTPUTS = {"tied_autoencoder": ["grad_W", "grad_b", "grad_c"]}
GIVEN = []
HINTS = [
    "Treat it as two layers: an encoder with weights W and φ = σ, and a linear decoder with "
    "weights V = Wᵀ. Backpropagate as usual: BP1 at the output, BP3 for V, BP2 into h, BP3 "
    "for W.",
    "The decoder's BP3 gives ∇V = (1/m) Δ_out Hᵀ, of shape n × k; W's shape is k × n. "
    "V = Wᵀ, so this use of W contributes ∇Vᵀ.",
    "W is used twice, so its gradient is the sum of both uses: grad_W = (encoder's BP3) + "
    "(decoder's BP3)ᵀ. BP2 through the decoder multiplies by Vᵀ = W.",
]


def tied_autoencoder(W, b, c, X):
    """∇W J, ∇b J, ∇c J for the tied autoencoder

        h = σ(W x + b),   x̂ = Wᵀ h + c,   J = (1/m) Σ_i ½‖x̂_i − x_i‖²

    W: (k, n), b: (k,), c: (n,); X: the inputs, shape (n, m): one column per sample.
    returns (grad_W, grad_b, grad_c) with the shapes of W, b, c.

    W appears twice (encoder W, decoder Wᵀ): its gradient is the sum of both uses.
    """
    m = X.shape[1]
    h = 1 / (1 + np.exp(-(W @ X + b[:, None])))   # encoder: h = σ(W x + b)
    x_hat = W.T @ h + c[:, None]                   # decoder: x̂ = Wᵀ h + c
    delta_out = x_hat - X                          # BP1: δ_out = x̂ − x
    delta_h = h * (1 - h) * (W @ delta_out)        # BP2 through the decoder: (Wᵀ)ᵀ δ_out = W δ_out
    grad_decoder = (delta_out @ h.T / m).T         # BP3 for the decoder's Wᵀ, in W's shape
    grad_encoder = delta_h @ X.T / m               # BP3 for the encoder's W
    grad_W = grad_encoder + grad_decoder           # one W, two uses: the gradients add
    return grad_W, delta_h.mean(axis=1), delta_out.mean(axis=1)  # BP4 for b and for c


def cases(rng, shapes=((1, 1, 1), (4, 3, 5), (3, 3, 4), (5, 2, 6))):  # (n, k, m)
    return [Case("tied_autoencoder", {"W": rng.normal(size=(k, n)), "b": rng.normal(size=k),
                                      "c": rng.normal(size=n), "X": rng.normal(size=(n, m))}, m)
            for n, k, m in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((12, 6, 20),))


def reconstruction_loss(W, b, c, X):
    """J = (1/m) Σ_i ½‖x̂_i − x_i‖² with x̂ = Wᵀ σ(W x + b) + c: the forward pass alone."""
    x_hat = W.T @ (1 / (1 + np.exp(-(W @ X + b[:, None])))) + c[:, None]
    return 0.5 * np.sum((x_hat - X) ** 2) / X.shape[1]


# graded without the reference: the gradients of the forward pass's loss (both uses of W)
DERIVATIVES = {"tied_autoencoder": {name: Gradient(of, reconstruction_loss) for name, of in (
    ("grad_W", "W"), ("grad_b", "b"), ("grad_c", "c"))}}


def reference(case):
    """An encoder Dense(W) and a decoder Dense(Wᵀ) of the package; W's gradient is the sum."""
    W, b, c, X = case.inputs.values()
    encoder, decoder = dense_with(W, b, "sigmoid"), dense_with(W.T, c, "identity")
    net = Network([encoder, decoder], "half_mse")
    net.forward(X.T)
    net.backward(X.T)                                  # the target is the input itself
    grad_W = encoder.grad_W + decoder.grad_W.T         # the sum over both uses of W
    return grad_W, encoder.grad_b, decoder.grad_b


def uses(case, phi_prime=True, back_through=None):
    """The two contributions to ∇W, and ∇b, ∇c, as the solution computes them (or without
    σ', or with BP2 through the decoder by back_through(W) instead of W)."""
    W, b, c, X = case.inputs.values()
    m = X.shape[1]
    h = 1 / (1 + np.exp(-(W @ X + b[:, None])))
    delta_out = W.T @ h + c[:, None] - X
    back = (W if back_through is None else back_through(W)) @ delta_out
    delta_h = (h * (1 - h) if phi_prime else 1) * back
    return delta_h @ X.T / m, (delta_out @ h.T / m).T, delta_h.mean(axis=1), delta_out.mean(axis=1)


def both(parts):
    """(grad_W, grad_b, grad_c) from the two uses, added, and ∇b, ∇c."""
    encoder, decoder, grad_b, grad_c = parts
    return encoder + decoder, grad_b, grad_c


def only(case, which):
    encoder, decoder, grad_b, grad_c = uses(case)
    return ({"encoder": encoder, "decoder": decoder}[which], grad_b, grad_c)


MISTAKES = [
    ("your grad_W has only the encoder's contribution: W is used twice, so add the decoder's "
     "BP3 (transposed back to W's shape).",
     lambda case: only(case, "encoder")),
    ("your grad_W has only the decoder's contribution: W is used twice, so add the encoder's "
     "BP3, (1/m) Δ_h Xᵀ.",
     lambda case: only(case, "decoder")),
    ("you added the decoder's BP3 without transposing it: the decoder uses Wᵀ, so its gradient "
     "is (1/m) H Δ_outᵀ in W's shape.",
     lambda case: (uses(case)[0] + uses(case)[1].T, *uses(case)[2:])),
    ("your δ_h misses σ': BP2 through the decoder is δ_h = σ'(a) ⊙ (W δ_out), with "
     "σ'(a) = h(1 − h).",
     lambda case: both(uses(case, phi_prime=False))),
    ("BP2 through the decoder multiplies by the transpose of the decoder's weights: the "
     "decoder's weights are Wᵀ, so that is (Wᵀ)ᵀ = W, not Wᵀ.",
     lambda case: both(uses(case, back_through=lambda W: W.T))),
]
