"""Activation functions φ and their derivatives φ', each pair side by side.

A layer computes h_l = φ(a_l) in the forward pass; BP2 needs φ'(a_l) in the
backward pass. Every activation here is a pair of functions:

    phi(a)            -> φ(a)
    phi_prime(a, h)   -> φ'(a)

``phi_prime`` receives both a = a_l and h = φ(a_l), the two things the forward
pass kept, so it never recomputes what is already known: σ'(a) = h(1 − h),
tanh'(a) = 1 − h². Both return a new array of a's shape and dtype.

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


def identity(a):
    """φ(a) = a."""
    return a


def identity_prime(a, h):
    """φ'(a) = 1."""
    return np.ones_like(a)


def relu(a):
    """φ(a) = max(a, 0)."""
    return np.maximum(a, 0)


def relu_prime(a, h):
    """φ'(a) = 1 if a > 0 else 0.

    ReLU has no derivative at a = 0; we use the subgradient 0 there (as PyTorch
    does), so φ'(0) = 0.
    """
    return (a > 0).astype(a.dtype)


LEAKY_SLOPE = 0.01  # the slope of leaky ReLU for a < 0


def leaky_relu(a):
    """φ(a) = a if a > 0 else 0.01·a."""
    return np.where(a > 0, a, LEAKY_SLOPE * a)


def leaky_relu_prime(a, h):
    """φ'(a) = 1 if a > 0 else 0.01 (the subgradient 0.01 at a = 0)."""
    return np.where(a > 0, 1, LEAKY_SLOPE).astype(a.dtype)


def sigmoid(a):
    """φ(a) = σ(a) = 1 / (1 + e^(−a)).

    Computed as e^(−log(1 + e^(−a))) with numpy's logaddexp, which never
    overflows: σ(−1e4) is 0 and σ(1e4) is 1, with no warnings.
    """
    return np.exp(-np.logaddexp(0, -a))


def sigmoid_prime(a, h):
    """φ'(a) = σ(a)(1 − σ(a)) = h(1 − h), from the kept h."""
    return h * (1 - h)


def tanh(a):
    """φ(a) = tanh(a)."""
    return np.tanh(a)


def tanh_prime(a, h):
    """φ'(a) = 1 − tanh²(a) = 1 − h², from the kept h."""
    return 1 - h * h


def softplus(a):
    """φ(a) = log(1 + e^a), via logaddexp(0, a): finite for any a."""
    return np.logaddexp(0, a)


def softplus_prime(a, h):
    """φ'(a) = e^a / (1 + e^a) = σ(a)."""
    return sigmoid(a)


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
