"""The right answer without a reference: derivatives of the forward function, computed here.

An exercise whose answers are derivatives says so in DERIVATIVES (exercise.py):

    DERIVATIVES = {"bp2": {"delta": Gradient("a", lambda W_next, delta_next, a:
                                             np.sum(delta_next * (W_next @ np.tanh(a))))}}

Gradient(of, f): the output is ∂f/∂(input ``of``), f a scalar function of the case's
inputs (by name). Directional(of, direction, f): the output is d/dt f(inputs with
``of`` + t · ``direction``) at t = 0, a Jacobian-vector product.

For an analytic f (tanh, σ, exp, products: analytic=True, the default) the derivative
is taken by the complex step, ∂f/∂x_k = Im f(x + i h e_k) / h with h = 1e-30: no
difference of nearby numbers, so it is exact to the last digit. For f with kinks (ReLU,
max) it is the central difference (f(x + h e_k) − f(x − h e_k)) / 2h, h = 1e-4, exact for
a piecewise-linear f unless a kink lies within h of x_k; there the one-sided differences
disagree, and any answer between them is accepted (a subgradient).

One entry at a time: a loop over the entries of one input, which is what a derivative
by differences is (the cases are small; the grader, not the student, pays for it).

What is left out: which exercises declare DERIVATIVES (the exercise modules, and
docs/teachers.md for the list); comparing with the student's answer (check.py).
"""

import numpy as np

COMPLEX_STEP = 1e-30
CENTRAL_STEP = 1e-4


def derivative(spec, inputs):
    """The output ``spec`` describes, for these inputs -> (value, low, high): low and high
    bound what is accepted where f has a kink within the step (both equal value elsewhere)."""
    at = getattr(spec, "at", None)
    x = np.asarray(at(**inputs) if at is not None else inputs[spec.of], dtype=np.float64)
    direction = getattr(spec, "direction", None)
    analytic = getattr(spec, "analytic", True)

    def f(point):
        return spec.f(**{**inputs, spec.of: point})

    if direction is not None:  # a directional derivative: one step along the direction
        v = np.asarray(inputs[direction], dtype=np.float64)
        if analytic:
            value = np.imag(f(x + 1j * COMPLEX_STEP * v)) / COMPLEX_STEP
            return value, value, value
        plus, minus, here = f(x + CENTRAL_STEP * v), f(x - CENTRAL_STEP * v), f(x)
        return one_sided(plus, minus, here)
    if analytic:
        gradient = np.zeros(x.shape)
        for k in np.ndindex(x.shape):  # ∂f/∂x_k = Im f(x + i h e_k) / h
            step = x.astype(np.complex128)
            step[k] += 1j * COMPLEX_STEP
            gradient[k] = np.imag(f(step)) / COMPLEX_STEP
        return gradient, gradient, gradient
    plus, minus = np.zeros(x.shape), np.zeros(x.shape)
    here = f(x)
    for k in np.ndindex(x.shape):
        step = x.copy()
        step[k] += CENTRAL_STEP
        plus[k] = f(step)
        step[k] = x[k] - CENTRAL_STEP
        minus[k] = f(step)
    return one_sided(plus, minus, here)


def one_sided(plus, minus, here):
    """Central difference, and the range of the one-sided ones where they disagree."""
    right = (np.asarray(plus) - here) / CENTRAL_STEP
    left = (here - np.asarray(minus)) / CENTRAL_STEP
    central = (right + left) / 2
    smooth = np.isclose(left, right, rtol=1e-7, atol=1e-7)
    low = np.where(smooth, central, np.minimum(left, right))
    high = np.where(smooth, central, np.maximum(left, right))
    return central, low, high


def expected_outputs(exercise, case):
    """The exercise's DERIVATIVES for this case's function -> ((value, low, high), ...) in the
    order of OUTPUTS, or None when the exercise has none for it (its reference decides)."""
    specs = getattr(exercise, "DERIVATIVES", {}).get(case.function)
    if not specs:
        return None
    with np.errstate(all="ignore"):
        return tuple(derivative(specs[name], dict(case.inputs))
                     for name in exercise.OUTPUTS[case.function])
