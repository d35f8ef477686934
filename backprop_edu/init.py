"""Initial weights: how W_l is drawn before training starts.

    normal   W_ij ~ N(0, (gain·std)²)                    std = 0.1 by default
    xavier   W_ij ~ N(0, gain² · 2 / (n_in + n_out))     Glorot & Bengio (2010)
    he       W_ij ~ N(0, gain² · 2 / n_in)               He et al. (2015)

Why it matters is BP2: δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1)). Each layer
multiplies the error signal by W_{l+1}ᵀ and by φ'. Xavier keeps the variance of
a linear/tanh signal constant from layer to layer, He does the same for ReLU
(which zeroes half of it). ``gain`` scales any scheme up or down, so that an
experiment can make gradients vanish (gain < 1) or explode (gain > 1) on purpose.

Biases start at zero. Every function takes an explicit numpy.random.Generator:
the same seed gives bit-identical weights.

What is left out: uniform variants, orthogonal and LSUV initialisation.
"""

import numpy as np

INITS = ("normal", "xavier", "he")

# The "small random numbers" of early practice: N(0, 0.1²) whatever the width. With
# n inputs the pre-activation's std is about 0.1·√n, so the scale of the signal
# depends on the width: the reason xavier and he exist.
NORMAL_STD = 0.1


def normal(n_out, n_in, rng, std=NORMAL_STD, gain=1.0):
    """W of shape (n_out, n_in) with entries ~ N(0, (gain·std)²)."""
    return (gain * std) * rng.standard_normal((n_out, n_in))


def xavier(n_out, n_in, rng, gain=1.0):
    """Glorot: std = gain · sqrt(2 / (n_in + n_out))."""
    return normal(n_out, n_in, rng, std=np.sqrt(2.0 / (n_in + n_out)), gain=gain)


def he(n_out, n_in, rng, gain=1.0):
    """He: std = gain · sqrt(2 / n_in)."""
    return normal(n_out, n_in, rng, std=np.sqrt(2.0 / n_in), gain=gain)


def default_init(activation):
    """The scheme that suits ``activation``: he for the ReLU family, xavier otherwise."""
    return "he" if activation in ("relu", "leaky_relu") else "xavier"


def initial_weights(name, n_out, n_in, rng, gain=1.0, std=None):
    """Draw W (n_out × n_in, float64) with the scheme called ``name``."""
    if name not in INITS:
        raise ValueError(f"unknown init {name!r}: expected one of {', '.join(INITS)}")
    if not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be a positive number, got {gain!r}")
    if name == "normal":
        std = NORMAL_STD if std is None else std
        if not np.isfinite(std) or std <= 0:
            raise ValueError(f"std must be a positive number, got {std!r}")
        return normal(n_out, n_in, rng, std=std, gain=gain)
    if std is not None:
        raise ValueError(f"std is set by the {name} scheme; pass std only with init='normal'")
    if name == "xavier":
        return xavier(n_out, n_in, rng, gain=gain)
    return he(n_out, n_in, rng, gain=gain)
