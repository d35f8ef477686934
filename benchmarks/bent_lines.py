"""The speed tricks issue 9 took out of the core, put back one at a time, for measurement only.

Up to commit b799cab the core bent some of its lines for speed. Issue 9 wrote
them back as their equations. Each class or function here puts ONE of the old
lines back into today's package, so that bench_epoch.py (``--only bent``) can
time today's epoch with and without it, side by side:

    relu_fill_max   φ(a) = max(a, 0) as "h = zeros, then h = max(a, h)": numpy 2.4
                    runs the maximum of two arrays in SIMD, of an array and 0 not
    out_buffers     every array of the pass (a, h, δ, ∇W, ∇b, ∂J/∂h_{l−1}) allocated
                    once per batch size and written in place with out=
    mean_delta      the 1/m of BP3 applied to Δ_l (n_out × m) instead of to
                    Δ_l H_{l−1}ᵀ (n_out × n_in, 4× larger at m = 128, n_in = 512)
    ones_bp4        BP4 as the matrix-vector product Δ_l 1 / m, with a kept column of ones
    tiled_sgd       θ ← θ − η g a block of rows at a time (≤ 65,536 entries), η g going
                    through one small buffer that stays in the cache

Nothing here is used by the package: the core keeps the plain lines
(backprop_edu/layers.py, optim.py), and benchmarks/README.md says what each
of these bought.
"""

import numpy as np

from backprop_edu import SGD, Dense


def relu_fill_max(a):
    """φ(a) = max(a, 0) written as a zero-filled array, then the maximum of two arrays."""
    h = np.zeros_like(a)
    return np.maximum(a, h, out=h)


class BufferedDense(Dense):
    """Dense whose pass writes into arrays allocated once per batch size (out=).

    The lines are today's (ReLU′ as a > 0, ∇W = Δ H_{l−1}ᵀ / m, ∇b = the row mean of Δ);
    only the allocation differs. Its arrays are overwritten by the next pass.
    """

    batch = None

    def allocate(self, m):
        shape = (self.n_out, m)
        self.a_out, self.h_out = np.empty(shape, self.dtype), np.empty(shape, self.dtype)
        self.delta_out = np.empty(shape, self.dtype)
        self.grad_W_out = np.empty_like(self.W)
        self.grad_b_out = np.empty_like(self.b)
        self.grad_h_prev_out = np.empty((self.n_in, m), self.dtype)
        self.batch = m

    def forward(self, h_prev, training=True):
        if h_prev.shape[1] != self.batch:
            self.allocate(h_prev.shape[1])
        a, h = self.a_out, self.h_out
        np.matmul(self.W, h_prev, out=a)
        a += self.b[:, None]
        if self.activation.name == "relu":
            np.maximum(a, 0, out=h)
        else:
            np.copyto(h, self.activation.phi(a))
        self.h_prev, self.a, self.h = h_prev, a, h
        return h

    def backward(self, grad_h, input_gradient=True):
        delta = self.delta_out
        if self.activation.name == "relu":
            np.greater(self.a, 0, out=delta)
            delta *= grad_h
        elif self.activation.name == "identity":
            np.copyto(delta, grad_h)
        else:
            np.multiply(self.activation.phi_prime(self.a, self.h), grad_h, out=delta)
        return self.backward_from_delta(delta, input_gradient)

    def backward_from_delta(self, delta, input_gradient=True):
        m = delta.shape[1]
        self.delta = delta
        self.grad_W = np.matmul(delta, self.h_prev.T, out=self.grad_W_out)
        self.grad_W /= m
        self.grad_b = np.mean(delta, axis=1, out=self.grad_b_out)
        if not input_gradient:
            self.grad_h_prev = None
            return None
        self.grad_h_prev = np.matmul(self.W.T, delta, out=self.grad_h_prev_out)
        return self.grad_h_prev


class MeanDeltaDense(Dense):
    """Dense with the 1/m of BP3 applied once to Δ_l, the old ``mean_delta``."""

    def backward_from_delta(self, delta, input_gradient=True):
        m = delta.shape[1]
        self.delta = delta
        mean_delta = delta * (1 / m)                 # (1/m) Δ_l, n_out × m
        self.grad_W = mean_delta @ self.h_prev.T     # ∇W_l = ((1/m) Δ_l) H_{l−1}ᵀ
        self.grad_b = delta.mean(axis=1)
        self.grad_h_prev = self.W.T @ delta if input_gradient else None
        return self.grad_h_prev


class OnesDense(Dense):
    """Dense with BP4 as the product Δ_l 1 / m, the column of m ones kept between passes."""

    ones = np.ones(0)

    def backward_from_delta(self, delta, input_gradient=True):
        m = delta.shape[1]
        if self.ones.shape != (m,) or self.ones.dtype != delta.dtype:
            self.ones = np.ones(m, delta.dtype)
        self.delta = delta
        self.grad_W = delta @ self.h_prev.T / m
        self.grad_b = delta @ self.ones / m          # ∇b_l = (1/m) Δ_l 1
        self.grad_h_prev = self.W.T @ delta if input_gradient else None
        return self.grad_h_prev


BLOCK = 2 ** 16  # entries of η g per block, as at b799cab


class TiledSGD(SGD):
    """θ ← θ − η g a block of rows at a time, η g through one buffer of ≤ BLOCK entries."""

    def __init__(self, net, lr, weight_decay=0.0):
        super().__init__(net, lr, weight_decay)
        shapes = [parameter.value.shape for parameter in self.parameters]
        row = max(int(np.prod(s[1:])) for s in shapes)
        size = max(row, min(BLOCK, max(int(np.prod(s)) for s in shapes)))
        self.buffer = np.empty(size, self.parameters[0].value.dtype)
        self.blocks = [self.row_blocks(s) for s in shapes]

    def row_blocks(self, shape):
        row = int(np.prod(shape[1:]))
        per_block = max(1, self.buffer.size // row)
        blocks = []
        for start in range(0, shape[0], per_block):
            rows = slice(start, min(start + per_block, shape[0]))
            n = rows.stop - rows.start
            blocks.append((rows, self.buffer[:n * row].reshape((n,) + tuple(shape[1:]))))
        return blocks

    def step(self):
        for k, parameter in enumerate(self.parameters):
            theta, g = parameter.value, parameter.grad
            for rows, step in self.blocks[k]:
                np.multiply(g[rows], self.lr, out=step)  # η g, for a block of rows
                theta[rows] -= step                      # θ ← θ − η g
