"""Optimisers: how the gradients BP3 and BP4 left in each layer become a step.

Every optimiser updates each parameter θ (every layer's W and b) in place
from its gradient g = ∇_θ J (the layer's grad_W, grad_b). With L2 weight decay
λ > 0 the gradient of the penalty (λ/2)‖θ‖² is added first: g ← g + λθ.

    SGD        θ ← θ − η g
    Momentum   v ← μ v + g;   θ ← θ − η v               (heavy ball)
               θ ← θ − η (g + μ v)                     (nesterov=True)
    Adam       m ← β₁ m + (1 − β₁) g;  s ← β₂ s + (1 − β₂) g²
               θ ← θ − η m̂ / (√ŝ + ε),  m̂ = m / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)

These are the same rules (and the same conventions) as PyTorch's SGD and Adam.
Each optimiser keeps one scratch array per parameter, so a step allocates nothing.

Usage:  opt = SGD(net, lr=0.1);  net.forward(X); net.backward(Y); opt.step()
"""

import numpy as np


def check_number(name, value):
    """A setting such as η must be a real number (not a string, None or a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return value


class Optimizer:
    """What every optimiser shares: the parameters, η, λ, and the decayed gradient."""

    def __init__(self, net, lr, weight_decay=0.0):
        if not isinstance(getattr(net, "layers", None), list):
            raise TypeError(f"{type(self).__name__} updates a Network's layers: pass the Network, "
                            f"e.g. {type(self).__name__}(net, lr=0.1), got {net!r}")
        check_number("lr (the learning rate η)", lr)
        check_number("weight_decay (λ)", weight_decay)
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr (the learning rate η) must be a positive number, got {lr}")
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay (λ) must be ≥ 0, got {weight_decay}")
        self.layers = net.layers
        self.lr = lr
        self.weight_decay = weight_decay
        # one entry per parameter: (layer, "W" or "b"), read afresh at every step
        self.parameters = [(layer, name) for layer in self.layers for name in ("W", "b")]
        self.scratch = [np.zeros_like(getattr(layer, name)) for layer, name in self.parameters]

    def gradient(self, k):
        """g for parameter k, with weight decay folded in (g + λθ), in a scratch array."""
        layer, name = self.parameters[k]
        theta, g = getattr(layer, name), getattr(layer, "grad_" + name)
        if self.weight_decay == 0:
            return theta, g
        np.multiply(theta, self.weight_decay, out=self.scratch[k])
        self.scratch[k] += g  # g + λθ
        return theta, self.scratch[k]

    def step(self):
        for k in range(len(self.parameters)):
            self.update(k, *self.gradient(k))


BLOCK = 2 ** 16  # elements of η g computed at a time by SGD: small enough to stay in cache


def row_blocks(shape, buffer):
    """Split an array of ``shape`` into blocks of whole rows, each paired with a view of ``buffer``
    of the block's shape: [(rows, view), ...]. A block holds at most buffer.size elements and
    at least one row (the buffer must hold a row)."""
    row_size = int(np.prod(shape[1:]))
    rows_per_block = max(1, buffer.size // row_size)
    blocks = []
    for start in range(0, shape[0], rows_per_block):
        rows = slice(start, min(start + rows_per_block, shape[0]))
        n_rows = rows.stop - rows.start
        blocks.append((rows, buffer[:n_rows * row_size].reshape((n_rows,) + tuple(shape[1:]))))
    return blocks


class SGD(Optimizer):
    """θ ← θ − η g.  SGD(net, lr=0.1, weight_decay=0.0).

    The step runs a block of rows at a time: η g is written into a small buffer
    that stays in the cache, so that θ and g are each read from memory once.
    (A whole-array η g is written out to memory and read back: measured 1.8×
    slower for a 512 × 512 float64 W; see benchmarks/.)
    """

    def __init__(self, net, lr, weight_decay=0.0):
        super().__init__(net, lr, weight_decay)
        largest_row = max(s[0].size for s in self.scratch)
        largest = max(s.size for s in self.scratch)
        buffer = np.empty(max(largest_row, min(BLOCK, largest)), self.scratch[0].dtype)
        self.blocks = [row_blocks(s.shape, buffer) for s in self.scratch]

    def update(self, k, theta, g):
        for rows, step in self.blocks[k]:
            np.multiply(g[rows], self.lr, out=step)  # η g, for a block of rows
            theta[rows] -= step                      # θ ← θ − η g


class Momentum(Optimizer):
    """v ← μ v + g;  θ ← θ − η v  (or θ ← θ − η (g + μ v) with nesterov=True).

    Momentum(net, lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)
    """

    def __init__(self, net, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
        super().__init__(net, lr, weight_decay)
        if not 0 <= check_number("momentum (μ)", momentum) < 1:
            raise ValueError(f"momentum (μ) must lie in [0, 1), got {momentum}")
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = [np.zeros_like(s) for s in self.scratch]
        self.step_buffer = [np.zeros_like(s) for s in self.scratch]

    def update(self, k, theta, g):
        v, step = self.velocity[k], self.step_buffer[k]
        v *= self.momentum
        v += g                                    # v ← μ v + g
        if self.nesterov:
            np.multiply(v, self.momentum, out=step)
            step += g                             # g + μ v
        else:
            np.copyto(step, v)
        step *= self.lr
        theta -= step                             # θ ← θ − η v   (or η (g + μ v))


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected moments.

    Adam(net, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
    """

    def __init__(self, net, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(net, lr, weight_decay)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= check_number(name, beta) < 1:
                raise ValueError(f"{name} must lie in [0, 1), got {beta}")
        if not (np.isfinite(check_number("eps (ε)", eps)) and eps > 0):
            raise ValueError(f"eps (ε) must be a small positive number such as 1e-8, got {eps}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m = [np.zeros_like(s) for s in self.scratch]  # first moment
        self.s = [np.zeros_like(s) for s in self.scratch]  # second moment
        self.step_buffer = [np.zeros_like(s) for s in self.scratch]

    def step(self):
        self.t += 1
        super().step()

    def update(self, k, theta, g):
        m, s, step = self.m[k], self.s[k], self.step_buffer[k]
        m *= self.beta1
        m += (1 - self.beta1) * g                 # m ← β₁ m + (1 − β₁) g
        np.multiply(g, g, out=step)
        step *= 1 - self.beta2
        s *= self.beta2
        s += step                                 # s ← β₂ s + (1 − β₂) g²
        np.sqrt(s, out=step)
        step *= 1 / np.sqrt(1 - self.beta2 ** self.t)
        step += self.eps                          # √ŝ + ε
        np.divide(m, step, out=step)
        step *= self.lr / (1 - self.beta1 ** self.t)
        theta -= step                             # θ ← θ − η m̂ / (√ŝ + ε)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
