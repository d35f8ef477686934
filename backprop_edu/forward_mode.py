"""Forward-mode differentiation of a network: Jacobian-vector products, for comparison with backprop.

Backpropagation is *reverse mode*: one backward pass gives the derivative of
the scalar loss J with respect to every parameter at once. Forward mode goes
the other way. Pick a direction θ̇ in parameter space (a tangent Ẇ_l, ḃ_l for
every layer) and push it *forward* with the chain rule, alongside the values:

    ḣ_0 = ẋ                                   (0 when only the parameters move)
    ȧ_l = Ẇ_l h_{l−1} + W_l ḣ_{l−1} + ḃ_l       (product rule on a_l = W_l h_{l−1} + b_l)
    ḣ_l = φ'(a_l) ⊙ ȧ_l                         (chain rule on h_l = φ(a_l))
    ḣ_l = ḣ_{l−1} + φ'(a_l) ⊙ ȧ_l               (a Residual block: h_l = h_{l−1} + φ(a_l))
    J̇   = (1/m) Σ_i ⟨∂J_i/∂h_L, ḣ_L,i⟩          (the loss's own derivative, BP1's δ^(L))

J̇ is the directional derivative ⟨∇_θ J, θ̇⟩: a Jacobian-vector product (JVP).
It costs about one extra forward pass, and it gives *one number*. To get the
whole gradient ∇_θ J of n parameters, forward mode needs n JVPs, one along
each basis direction e_k (the k-th parameter set to 1, all others 0); reverse
mode needs one backward pass. That factor n is why neural networks are trained
with backpropagation, and ``backprop-edu modes`` measures it.

``gradient_by_forward_mode`` pushes many basis directions at once (a leading
axis of K tangents, so numpy does the K JVPs in one product), and starts each
direction at the layer its parameter lives in, since the tangents of the
layers below are zero. Both are constant-factor savings: the cost still grows
like n forward passes.

This module computes derivatives itself (φ' and the chain rule above) on
purpose: it is the independent route to the same gradient that the layers'
BP1–BP4 compute. It reads the forward pass the layers cached (h_{l−1}, a_l, h_l);
it never calls backward.

What is left out: forward mode through the training loop (optimisers), and
second derivatives (forward-over-reverse Hessian-vector products).
"""

import numpy as np

from backprop_edu import checks
from backprop_edu.residual import Residual

CHUNK = 256  # basis directions pushed together by gradient_by_forward_mode


def count_parameters(net):
    """n: the number of scalars in every W_l and b_l of ``net``."""
    return sum(layer.W.size + layer.b.size for layer in net.layers)


def output_gradient(net, Y):
    """J and ∇_{h_L} J_i (n_out × m, one column per sample) of the last forward pass.

    This is the loss's derivative with respect to its own input, the network's
    output (the loss's half of BP1); the layers' chain is not involved.
    """
    return net.loss_gradient(Y)


def phi_primes(net):
    """φ'(a_l) for every layer, from the forward pass the layers cached."""
    primes = []
    for layer in net.layers:
        primes.append(layer.activation.phi_prime(layer.a, layer.h))  # φ'(a_l)
    return primes


def push_tangent(layer, phi_prime, h_prev_dot, a_dot):
    """ḣ_l from ȧ_l (K × n_out × m) and ḣ_{l−1}: the chain rule through φ (and the identity path)."""
    h_dot = phi_prime * a_dot                   # ḣ_l = φ'(a_l) ⊙ ȧ_l
    if isinstance(layer, Residual) and h_prev_dot is not None:
        h_dot += h_prev_dot                     # ḣ_l = ḣ_{l−1} + φ'(a_l) ⊙ ȧ_l
    return h_dot


def jvp(net, X, Y, W_dots, b_dots, x_dot=None):
    """The loss J and its directional derivative J̇ = ⟨∇J, θ̇⟩ along the tangent θ̇ = (Ẇ_l, ḃ_l).

    net:     a Network.
    X, Y:    a batch, as for net.forward / net.backward (rows = samples).
    W_dots:  one tangent per layer, shaped like W_l (n_out × n_in), or K tangents
             at once, K × n_out × n_in; None for a layer that does not move.
    b_dots:  likewise for the biases (n_out, or K × n_out).
    x_dot:   optional tangent of the input, shaped like X.

    Returns (J, J_dot): J_dot is a float, or an array of K floats.
    """
    single = all(W is None or np.ndim(W) == 2 for W in W_dots)
    H = checks.inputs(net, X)
    net.forward_columns(H)
    J, error = output_gradient(net, Y)
    m = H.shape[1]
    primes = phi_primes(net)

    h_dot = None if x_dot is None else np.asarray(x_dot, dtype=net.dtype).T[None]  # ḣ_0 = ẋ
    for layer, phi_prime, W_dot, b_dot in zip(net.layers, primes, W_dots, b_dots):
        a_dot = 0
        if W_dot is not None:
            W_dot = np.asarray(W_dot, dtype=net.dtype).reshape((-1,) + layer.W.shape)
            a_dot = a_dot + W_dot @ layer.h_prev      # Ẇ_l h_{l−1}
        if h_dot is not None:
            a_dot = a_dot + layer.W @ h_dot            # + W_l ḣ_{l−1}
        if b_dot is not None:
            b_dot = np.asarray(b_dot, dtype=net.dtype).reshape(-1, layer.n_out, 1)
            a_dot = a_dot + b_dot                      # + ḃ_l
        if np.isscalar(a_dot):                         # nothing moves yet: ȧ_l = 0, ḣ_l = 0
            continue
        h_dot = push_tangent(layer, phi_prime, h_dot, a_dot)

    if h_dot is None:
        J_dot = np.zeros(1)
    else:
        J_dot = np.einsum("kim,im->k", h_dot, error) / m  # J̇ = (1/m) Σ_i ⟨∂J_i/∂h_L, ḣ_L,i⟩
    return J, float(J_dot[0]) if single else J_dot


def gradient_by_forward_mode(net, X, Y, chunk=CHUNK):
    """∇_θ J for every parameter, by n JVPs: one along each basis direction e_k.

    Returns (J, grads) with grads a list of (grad_W, grad_b) per layer, shaped
    like (W_l, b_l): the same numbers backprop leaves in layer.grad_W, grad_b.

    The directions of layer l are pushed ``chunk`` at a time (a leading axis of
    K tangents). A direction that moves only W_l or b_l has zero tangent below
    layer l, so its push starts at layer l with

        ȧ_l = Ẇ_l h_{l−1} + ḃ_l,   Ẇ_l = e_i e_jᵀ  ⇒  ȧ_l = e_i (row j of H_{l−1}),  ḃ_l = e_i ⇒ ȧ_l = e_i 1ᵀ

    and goes up through layers l+1, ..., L as in ``jvp``.
    """
    H = checks.inputs(net, X)
    net.forward_columns(H)
    J, error = output_gradient(net, Y)
    m = H.shape[1]
    primes = phi_primes(net)
    layers = net.layers

    grads = []
    for l, layer in enumerate(layers):
        n_out, n_in = layer.W.shape
        n_l = n_out * n_in + n_out           # directions in this layer: every W_ij, then every b_i
        J_dot = np.empty(n_l)
        for start in range(0, n_l, chunk):
            k = np.arange(start, min(start + chunk, n_l))   # the basis directions e_k of this chunk
            is_W = k < n_out * n_in
            row = np.where(is_W, k // n_in, k - n_out * n_in)   # i: the unit the parameter feeds
            col = k % n_in                                       # j: its input (W entries only)
            # ȧ_l for every direction at once: row i of each tangent is h_{l−1}[j] (W_ij) or 1 (b_i)
            a_dot = np.zeros((len(k), n_out, m), dtype=net.dtype)
            a_dot[np.arange(len(k)), row] = np.where(is_W[:, None], layer.h_prev[col], 1)
            h_dot = push_tangent(layer, primes[l], None, a_dot)  # ḣ_{l−1} = 0 for these directions
            for upper, phi_prime in zip(layers[l + 1:], primes[l + 1:]):
                a_dot = upper.W @ h_dot                          # ȧ = W ḣ_{below}  (Ẇ = 0, ḃ = 0 up here)
                h_dot = push_tangent(upper, phi_prime, h_dot, a_dot)
            J_dot[k] = np.einsum("kim,im->k", h_dot, error) / m  # J̇ = ⟨∇J, e_k⟩ = ∂J/∂θ_k
        grads.append((J_dot[:n_out * n_in].reshape(n_out, n_in), J_dot[n_out * n_in:].copy()))
    return J, grads


def gradient_by_reverse_mode(net, X, Y):
    """∇_θ J by backpropagation: one forward and one backward pass (the layers' BP1–BP4).

    Returns (J, grads) in the same form as gradient_by_forward_mode (copies).
    """
    net.forward(X)
    J = net.backward(Y)
    return J, [(layer.grad_W.copy(), layer.grad_b.copy()) for layer in net.layers]
