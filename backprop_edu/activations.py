"""Activation functions φ and their derivatives φ', each pair side by side.

A hidden layer computes h_l = φ(a_l) in the forward pass; BP2 needs φ'(a_l) in
the backward pass. Every activation here is a pair of functions:

    phi(a, out)            -> φ(a), written into ``out``
    phi_prime(a, h, out)   -> φ'(a), written into ``out``

``phi_prime`` receives both a = a_l and h = φ(a_l), the two things the forward
pass cached, so it never recomputes what is already known: σ'(a) = h(1 − h),
tanh'(a) = 1 − h². Every function writes into ``out`` (an array of a's shape
and dtype) so that the training loop allocates nothing per step.

What is left out: activations with parameters of their own (PReLU, ...), and
softmax, which lives with the cross-entropy loss in ``losses.py``.
"""

from typing import Callable, NamedTuple

import numpy as np


class Activation(NamedTuple):
    """An activation: its name, φ and φ'."""

    name: str
    phi: Callable
    phi_prime: Callable


def identity(a, out):
    """φ(a) = a."""
    np.copyto(out, a)
    return out


def identity_prime(a, h, out):
    """φ'(a) = 1."""
    out.fill(1)
    return out


def relu(a, out):
    """φ(a) = max(a, 0).

    Written as out = 0, then out = max(a, out): numpy (2.x) runs the maximum of two
    arrays in SIMD but the maximum of an array and the scalar 0 element by element,
    so the zero-fill plus the array maximum is 1.6× (float64) to 2.4× (float32)
    faster, and about 1.5 % of an epoch (benchmarks/). NaN still propagates.
    """
    out.fill(0)
    return np.maximum(a, out, out=out)  # max(a, 0)


def relu_prime(a, h, out):
    """φ'(a) = 1 if a > 0 else 0.

    ReLU has no derivative at a = 0; we use the subgradient 0 there (as PyTorch
    does), so φ'(0) = 0.
    """
    return np.greater(a, 0, out=out)


LEAKY_SLOPE = 0.01  # the slope of leaky ReLU for a < 0


def leaky_relu(a, out):
    """φ(a) = a if a > 0 else 0.01·a."""
    np.multiply(a, LEAKY_SLOPE, out=out)
    return np.maximum(a, out, out=out)  # max(a, 0.01·a) picks the right branch


def leaky_relu_prime(a, h, out):
    """φ'(a) = 1 if a > 0 else 0.01 (the subgradient 0.01 at a = 0)."""
    np.greater(a, 0, out=out)  # 1 where a > 0, else 0
    out *= 1 - LEAKY_SLOPE
    out += LEAKY_SLOPE
    return out


def sigmoid(a, out):
    """φ(a) = σ(a) = 1 / (1 + e^(−a)).

    Computed as exp(−log(1 + e^(−a))) with numpy's logaddexp, which never
    overflows: σ(−1e4) is 0 and σ(1e4) is 1, with no warnings.
    """
    np.negative(a, out=out)
    np.logaddexp(0, out, out=out)  # log(1 + e^(−a)), stable for any a
    np.negative(out, out=out)
    return np.exp(out, out=out)


def sigmoid_prime(a, h, out):
    """φ'(a) = σ(a)(1 − σ(a)) = h(1 − h), from the cached h."""
    np.subtract(1, h, out=out)
    out *= h
    return out


def tanh(a, out):
    """φ(a) = tanh(a)."""
    return np.tanh(a, out=out)


def tanh_prime(a, h, out):
    """φ'(a) = 1 − tanh²(a) = 1 − h², from the cached h."""
    np.multiply(h, h, out=out)
    return np.subtract(1, out, out=out)


def softplus(a, out):
    """φ(a) = log(1 + e^a), via logaddexp(0, a): finite for any a."""
    return np.logaddexp(0, a, out=out)


def softplus_prime(a, h, out):
    """φ'(a) = e^a / (1 + e^a) = σ(a)."""
    return sigmoid(a, out)


ACTIVATIONS = {
    "identity": Activation("identity", identity, identity_prime),
    "relu": Activation("relu", relu, relu_prime),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_prime),
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "tanh": Activation("tanh", tanh, tanh_prime),
    "softplus": Activation("softplus", softplus, softplus_prime),
}


def get_activation(name):
    """The Activation called ``name``; a ValueError listing the known ones otherwise."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]
