"""Gradient checking: compare backprop's gradients with finite differences.

For a parameter θ (one entry of some W_l or b_l) the central difference

    ∂J/∂θ ≈ (J(θ + ε) − J(θ − ε)) / 2ε

has error O(ε²), and needs nothing but the forward pass. If BP1–BP4 are right,
it agrees with grad_W and grad_b to many digits. The relative error of one
entry is |g_bp − g_fd| / max(|g_bp| + |g_fd|, floor), and each layer reports
the largest one for each of its parameters. In float64, < 1e-7 is typical;
> 1e-4 means a bug (unless an input sits exactly on ReLU's kink, where no
derivative exists).

Every parameter of every layer is checked (any layer that follows the layer
protocol; a parameter shared by two layers once, against the sum of their
gradients). Every entry is checked on small parameters; on large ones a seeded
random subset (``max_entries`` per parameter) keeps the check fast.
"""

from typing import NamedTuple

import numpy as np


class LayerCheck(NamedTuple):
    """The result for one layer: its index l, the shape of its first parameter, and per
    parameter name the max relative error and the number of entries checked."""

    layer: int
    shape: tuple
    errors: dict
    checked: dict

    @property
    def max_error_W(self):
        return self.errors.get("W")

    @property
    def max_error_b(self):
        return self.errors.get("b")

    @property
    def checked_W(self):
        return self.checked.get("W", 0)

    @property
    def checked_b(self):
        return self.checked.get("b", 0)


class GradcheckResult:
    """Per-layer max relative errors; prints as a table. ``ok(tol)`` says if all are below tol."""

    def __init__(self, rows, eps):
        self.rows = rows
        self.eps = eps

    @property
    def max_error(self):
        return max(error for row in self.rows for error in row.errors.values())

    def ok(self, tol=1e-6):
        return self.max_error < tol

    def __str__(self):
        names = list(dict.fromkeys(name for row in self.rows for name in row.errors))
        lines = ["  ".join([f"{'layer':>5}", f"{'shape':>10}"]
                           + [f"{'max rel err ' + name:>13}" for name in names]
                           + [f"{'checked':>9}"])]
        for row in self.rows:
            shape = "×".join(map(str, row.shape))
            cells = [f"{row.errors[name]:>13.2e}" if name in row.errors else f"{'—':>13}"
                     for name in names]
            lines.append("  ".join([f"{row.layer:>5}", f"{shape:>10}"] + cells
                                   + [f"{sum(row.checked.values()):>9}"]))
        lines.append(f"max relative error {self.max_error:.2e} (central differences, ε = {self.eps:g})")
        return "\n".join(lines)

    __repr__ = __str__


def relative_error(g_bp, g_fd, floor=1e-10):
    """|g_bp − g_fd| / max(|g_bp| + |g_fd|, floor), entry by entry."""
    return np.abs(g_bp - g_fd) / np.maximum(np.abs(g_bp) + np.abs(g_fd), floor)


def finite_difference(net, X, Y, theta, index, eps):
    """(J(θ + ε) − J(θ − ε)) / 2ε for the entry ``index`` of the array ``theta``.

    J is computed by training passes, as backward's J is (a dropout layer must
    then have its mask fixed).
    """
    original = theta[index]
    theta[index] = original + eps
    J_plus = net.compute_loss(X, Y, training=True)
    theta[index] = original - eps
    J_minus = net.compute_loss(X, Y, training=True)
    theta[index] = original
    return (J_plus - J_minus) / (2 * eps)


def gradcheck(net, X, Y, eps=None, max_entries=200, seed=0):
    """Check every parameter's gradient (grad_W, grad_b, ...) against central differences.

    eps: the step ε (default 1e-5 in float64, 1e-2 in float32/float16): small enough
    that the O(ε²) truncation error is tiny, large enough that rounding in J
    (about 1e-16·|J| / ε) stays below it.
    max_entries: how many entries of each parameter to check at most (a seeded
    random subset beyond that).
    """
    if eps is None:
        eps = 1e-5 if net.dtype == np.float64 else 1e-2
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not 0 < eps < 1:
        raise ValueError(f"eps (the step ε) must be a small positive number such as 1e-5, "
                         f"got {eps!r}")
    if isinstance(max_entries, bool) or not isinstance(max_entries, (int, np.integer)) \
            or max_entries < 1:
        raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
    net.forward(X)
    net.backward(Y)
    parameters = net.parameters()
    backprop = [parameter.grad.copy() for parameter in parameters]  # BP1–BP4's ∇θ J
    rng = np.random.default_rng(seed)
    rows = {}
    for parameter, g_bp in zip(parameters, backprop):
        theta = parameter.value
        flat = np.arange(theta.size)
        if theta.size > max_entries:
            flat = np.sort(rng.choice(theta.size, size=max_entries, replace=False))
        indices = [np.unravel_index(i, theta.shape) for i in flat]
        g_fd = np.array([finite_difference(net, X, Y, theta, i, eps) for i in indices])
        g_bp_checked = np.array([g_bp[i] for i in indices], dtype=np.float64)
        error = float(relative_error(g_bp_checked, g_fd).max())
        layer, name = parameter.places[0]
        l = net.layers.index(layer) + 1
        row = rows.setdefault(l, LayerCheck(l, theta.shape, {}, {}))
        row.errors[name], row.checked[name] = error, len(indices)
    return GradcheckResult([rows[l] for l in sorted(rows)], eps)
