"""Gradient clipping by global norm: the usual remedy for exploding gradients.

After backward, before the optimiser's step, with g the gradient of every parameter
of the network taken together:

    ‖g‖ = √(Σ_θ ‖∇_θ J‖²)                     the global norm, every parameter θ once
    if ‖g‖ > C:   ∇_θ J ← (C / ‖g‖) ∇_θ J      for every θ, by the same factor

Every gradient is scaled by the same factor, so the step keeps its direction and
only its length is capped: with SGD no step moves the parameters further than ηC.
A parameter shared by several layers (a recurrent W) is one θ: its gradient is the
sum over its places (Network.parameters), counted once in ‖g‖, and scaling every
place's gradient by the same factor scales that sum.

    parameters = net.parameters()
    net.forward(X); net.backward(Y)
    norm = clip_grad_norm(parameters, max_norm=1.0)   # the norm before clipping
    optimizer.step()

The same rule as PyTorch's torch.nn.utils.clip_grad_norm_ (without its tiny ε).
What is left out: clipping each entry (clip by value), per-layer norms.
"""

import math
import numbers

import numpy as np


def check_max_norm(max_norm):
    """C must be a positive finite number."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"clip_norm (the largest gradient norm C) must be a number, "
                        f"got {max_norm!r}")
    if not (math.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"clip_norm (the largest gradient norm C) must be a positive finite "
                         f"number such as 1.0, got {max_norm}")
    return float(max_norm)


def global_norm(parameters):
    """‖g‖ = √(Σ_θ ‖∇_θ J‖²) over ``parameters`` (Network.parameters()), each once."""
    squares = 0.0
    for parameter in parameters:
        g = parameter.grad                       # for a shared θ, the sum over its places
        squares += float(np.vdot(g, g))          # ‖∇_θ J‖²
    return math.sqrt(squares)


def clip_grad_norm(parameters, max_norm):
    """Scale every gradient by C / ‖g‖ when the global norm ‖g‖ exceeds C = max_norm.

    parameters: Network.parameters(). Replaces each layer's grad_θ by a scaled copy (a new
    array: a gradient read before stays as it was). Returns ‖g‖ before clipping.
    """
    max_norm = check_max_norm(max_norm)
    norm = global_norm(parameters)
    if norm > max_norm and math.isfinite(norm):
        scale = max_norm / norm
        for parameter in parameters:
            for layer, name in parameter.places:   # every place of a shared θ, same factor
                grad = getattr(layer, "grad_" + name)
                setattr(layer, "grad_" + name, scale * grad)   # ∇_θ J ← (C / ‖g‖) ∇_θ J
    return norm
