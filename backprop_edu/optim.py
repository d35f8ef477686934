"""Optimisers: how the gradients BP3 and BP4 left in each layer become a step.

Every optimiser updates each parameter θ (every layer's W and b, or whatever a
layer lists in ``params``) in place from its gradient g = ∇_θ J: its rule gives
the step Δθ, and θ ← θ − Δθ. With L2 weight decay λ > 0 the gradient of the
penalty (λ/2)‖θ‖² is added first: g ← g + λθ.

    SGD        θ ← θ − η g
    Momentum   v ← μ v + g;   θ ← θ − η v               (heavy ball)
               θ ← θ − η (g + μ v)                     (nesterov=True)
    Adam       m ← β₁ m + (1 − β₁) g;  s ← β₂ s + (1 − β₂) g²
               θ ← θ − η m̂ / (√ŝ + ε),  m̂ = m / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)

These are the same rules (and the same conventions) as PyTorch's SGD and Adam.
A parameter shared by two layers (tied weights) is one parameter: its gradient
is the sum of theirs (Network.parameters), and it is stepped once. The steps of
the last update stay in ``last_steps`` (one per parameter) until the next, so
that the training loop can report ‖ΔW_l‖ / ‖W_l‖ without copying W.

Usage:  opt = SGD(net, lr=0.1);  net.forward(X); net.backward(Y); opt.step()
"""

import numpy as np


def check_number(name, value):
    """A setting such as η must be a real number (not a string, None or a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return value


class Optimizer:
    """What every optimiser shares: the parameters, η, λ, and the step over every parameter."""

    def __init__(self, net, lr, weight_decay=0.0):
        if not hasattr(net, "parameters") or not hasattr(net, "layers"):
            raise TypeError(f"{type(self).__name__} updates a Network's parameters: pass the "
                            f"Network, e.g. {type(self).__name__}(net, lr=0.1), got {net!r}")
        check_number("lr (the learning rate η)", lr)
        check_number("weight_decay (λ)", weight_decay)
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr (the learning rate η) must be a positive number, got {lr}")
        if not np.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay (λ) must be ≥ 0, got {weight_decay}")
        self.lr = float(lr)  # a Python float keeps float32 arithmetic in float32
        self.weight_decay = float(weight_decay)
        self.parameters = net.parameters()  # each parameter once, a shared one too

    def step(self):
        """One update of every parameter, from the gradients of the last backward pass."""
        self.last_steps = []
        for k, parameter in enumerate(self.parameters):
            theta, g = parameter.value, parameter.grad
            if self.weight_decay:
                g = g + self.weight_decay * theta  # g ← g + λθ
            step = self.update(k, g)               # Δθ, by the optimiser's rule
            theta -= step                          # θ ← θ − Δθ
            self.last_steps.append(step)

    def zeros(self):
        """One array of zeros per parameter, shaped like it: an optimiser's state."""
        return [np.zeros_like(parameter.value) for parameter in self.parameters]


class SGD(Optimizer):
    """θ ← θ − η g.  SGD(net, lr=0.1, weight_decay=0.0)."""

    def update(self, k, g):
        return self.lr * g                        # Δθ = η g:  θ ← θ − η g


class Momentum(Optimizer):
    """v ← μ v + g;  θ ← θ − η v  (or θ ← θ − η (g + μ v) with nesterov=True).

    Momentum(net, lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)
    """

    def __init__(self, net, lr, momentum=0.9, nesterov=False, weight_decay=0.0):
        super().__init__(net, lr, weight_decay)
        if not 0 <= check_number("momentum (μ)", momentum) < 1:
            raise ValueError(f"momentum (μ) must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.velocity = self.zeros()

    def update(self, k, g):
        v = self.velocity[k]
        v[...] = self.momentum * v + g            # v ← μ v + g
        if self.nesterov:
            return self.lr * (g + self.momentum * v)  # Δθ = η (g + μ v)
        return self.lr * v                        # Δθ = η v:  θ ← θ − η v


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
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0
        self.m = self.zeros()  # first moment
        self.s = self.zeros()  # second moment

    def step(self):
        self.t += 1
        super().step()

    def update(self, k, g):
        m, s, t = self.m[k], self.s[k], self.t
        m[...] = self.beta1 * m + (1 - self.beta1) * g        # m ← β₁ m + (1 − β₁) g
        s[...] = self.beta2 * s + (1 - self.beta2) * g * g    # s ← β₂ s + (1 − β₂) g²
        m_hat = m / (1 - self.beta1 ** t)                     # m̂ = m / (1 − β₁ᵗ)
        s_hat = s / (1 - self.beta2 ** t)                     # ŝ = s / (1 − β₂ᵗ)
        return self.lr * m_hat / (np.sqrt(s_hat) + self.eps)  # Δθ = η m̂ / (√ŝ + ε)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
