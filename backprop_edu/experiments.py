"""The experiments of the gradient-flow lab, as plain functions returning plain data.

    vanishing_experiment(depth=12, width=64, ...)   ‖δ^(l)‖ and ‖∇W_l‖ at every layer, for each
                                                     activation × initialisation (× residual, dtype)
    modes_experiment(max_params=20000, ...)          the full gradient by forward mode (n JVPs)
                                                     and by reverse mode (one backward), timed,
                                                     and the multiply-adds each needs

Both return dicts of lists and floats (JSON-ready: json.dump works on them as
they are), which ``plots.py`` draws and the CLI prints. From a notebook:

    from backprop_edu.experiments import vanishing_experiment
    from backprop_edu.plots import plot_vanishing
    result = vanishing_experiment(depth=12, activations=["sigmoid", "relu"], inits=["normal", "he"])
    plot_vanishing(result, "vanishing.png")

Why gradients vanish or explode is BP2, applied once per layer on the way down:

    δ^(l) = φ'(a_l) ⊙ (W_{l+1}ᵀ δ^(l+1))
          = φ'(a_l) ⊙ W_{l+1}ᵀ (φ'(a_{l+1}) ⊙ W_{l+2}ᵀ ( ... φ'(a_{L−1}) ⊙ W_Lᵀ δ^(L)))

δ^(1) is δ^(L) multiplied by L − 1 factors "W_{l+1}ᵀ then φ'(a_l)". If each
factor shrinks a vector by about the same ratio r, ‖δ^(1)‖ ≈ r^(L−1) ‖δ^(L)‖:
r < 1 vanishes, r > 1 explodes, geometrically in the depth. For n units with
weights of standard deviation s, r ≈ √n · s · rms(φ'(a)). Sigmoid has
φ' ≤ 1/4, so with weights that keep a_l unsaturated (s ≈ 1/√n) r ≈ 1/4 or
less; Xavier (tanh) and He (relu) choose s so that r ≈ 1. A residual block
adds an identity path, ∂J/∂h_{l−1} = ∂J/∂h_l + W_lᵀ δ^(l), on which nothing is
multiplied.

The experiments reuse the layers' own backward pass (BP1–BP4) for every number
here; only ``forward_mode.py`` computes a derivative another way.

What is left out: statistics over many seeds (one seed, one batch per run), and
convolutional or recurrent networks.
"""

import time

import numpy as np

from backprop_edu.activations import ACTIVATIONS
from backprop_edu.forward_mode import (count_parameters, gradient_by_forward_mode,
                                       gradient_by_reverse_mode)
from backprop_edu.init import INITS, NORMAL_STD
from backprop_edu.builder import build_network
from backprop_edu.layers import Dense, check_dtype
from backprop_edu.network import Network
from backprop_edu.optim import SGD

GAUSSIAN_FEATURES = 10  # inputs x ~ N(0, I) in this many dimensions ...
GAUSSIAN_CLASSES = 10   # ... labelled by a random linear teacher into this many classes


# -- the data and the network -------------------------------------------------

def gaussian_batch(batch_size, seed=0, n_features=GAUSSIAN_FEATURES, n_classes=GAUSSIAN_CLASSES):
    """X ~ N(0, I) (batch_size × n_features) and labels y = argmax(X T) of a random teacher T."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch_size, n_features))
    teacher = rng.standard_normal((n_features, n_classes))
    return X, (X @ teacher).argmax(axis=1), n_classes


def dataset_batch(name, batch_size, seed=0):
    """batch_size samples (a seeded random choice) of a classification dataset known by name
    (backprop_edu.datasets: digits, iris, xor, moons, circles, spirals, each feature
    standardised; mnist, fashion-mnist from their train part, pixels in [0, 1] as in training);
    or Gaussian inputs for name="gaussian". Returns (X, y, n_classes)."""
    if name == "gaussian":
        return gaussian_batch(batch_size, seed)
    from backprop_edu import datasets

    if name not in datasets.BY_NAME:
        raise ValueError(f"unknown data {name!r}: expected gaussian or a data set known by name "
                         f"({', '.join(datasets.BY_NAME)})")
    dataset = datasets.load(name, dtype=np.float32)  # (float32: MNIST's 60,000 rows are large)
    order = np.random.default_rng(seed).permutation(len(dataset.X))[:batch_size]
    X, y = np.asarray(dataset.X[order], dtype=np.float64), np.asarray(dataset.y[order])
    if name not in datasets.SCALED:
        X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)  # standardise each feature
    return X, y, len(dataset.classes)


# -- measuring the gradient flow ----------------------------------------------

def _finite_or_none(values):
    """Floats for JSON: inf and nan (an overflowed run) become None."""
    return [float(v) if np.isfinite(v) else None for v in values]


def gradient_flow(net):
    """Per layer l = 1..L, from the gradients the last backward pass left in the layers:

    delta_norm[l]            mean over the batch of the per-sample norm ‖δ_i^(l)‖
    grad_W_norm[l]           ‖∇W_l‖ (Frobenius)
    grad_W_zero_fraction[l]  the fraction of entries of ∇W_l that are exactly 0

    Norms are taken in float64, so a float16 gradient's norm cannot overflow.
    """
    delta_norm, grad_W_norm, zero_fraction = [], [], []
    for layer in net.layers:
        delta = layer.delta.astype(np.float64)             # columns = samples
        delta_norm.append(np.linalg.norm(delta, axis=0).mean())
        grad_W_norm.append(np.linalg.norm(layer.grad_W.astype(np.float64)))
        zero_fraction.append(float(np.mean(layer.grad_W == 0)))
    return {"delta_norm": _finite_or_none(delta_norm),
            "grad_W_norm": _finite_or_none(grad_W_norm),
            "grad_W_zero_fraction": zero_fraction}


def measure(net, X, y):
    """One forward and one backward pass; the loss J and the gradient flow of every layer."""
    net.forward(X)
    J = net.backward(y)
    return {"loss": float(J) if np.isfinite(J) else None, **gradient_flow(net)}


def train_steps(net, X, y, steps, lr):
    """``steps`` plain SGD steps on the batch (X, y): forward, backward (BP1–BP4), θ ← θ − η ∇θ."""
    optimizer = SGD(net, lr=lr)
    for _ in range(steps):
        net.forward(X)
        net.backward(y)
        optimizer.step()


def _split(names, known, what):
    """A list of names from a list or a comma-separated string, each checked against ``known``."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    names = list(names)
    if not names:
        raise ValueError(f"give at least one {what}: one of {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {what} {name!r}: expected one of {', '.join(known)}")
    return names


def vanishing_experiment(depth=12, width=64, activations=("sigmoid", "tanh", "relu"),
                         inits=("normal", "xavier", "he"), residual=False, dtype="float64",
                         data="gaussian", batch_size=64, seed=0, steps=0, lr=0.1,
                         std=NORMAL_STD):
    """‖δ^(l)‖ and ‖∇W_l‖ at every layer l = 1..L of freshly initialised networks.

    One network per activation × init (each: ``depth`` hidden layers of
    ``width`` units and a linear output layer, L = depth + 1 layers), all on the
    same batch of ``batch_size`` samples of ``data`` ("gaussian" or a shipped
    dataset). ``std`` is the standard deviation of the "normal" init (default
    0.1, as everywhere in the package: the "small random numbers" rule, under
    which sigmoid's signal vanishes; std=1 makes tanh and relu explode instead).
    With residual=True every configuration is run twice, without and
    with residual blocks. With dtype float16 or float32 each configuration is
    also run in float64 from the same initial weights (key "float64"), so the
    gradient entries that underflowed to exactly 0 can be compared. With
    steps > 0 the measurement is repeated after ``steps`` SGD steps (rate lr)
    on the batch (key "trained").

    Returns {"settings": {...}, "configs": [{"activation", "init", "residual",
    "dtype", "loss", "delta_norm", "grad_W_norm", "grad_W_zero_fraction",
    "delta_ratio", "grad_W_ratio", ["float64"], ["trained"]}, ...]}. Lists run
    over l = 1..L; the ratios are layer 1's value over layer L's (None where a
    run overflowed to inf or nan); "trained" has its own ratios.
    """
    activations = _split(activations, [a for a in ACTIVATIONS if a != "identity"], "activation")
    inits = _split(inits, INITS, "init")
    dtype = str(check_dtype(dtype))
    for name, value, minimum in (("depth", depth, 1), ("width", width, 1),
                                 ("batch_size", batch_size, 1), ("steps", steps, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    X, y, n_classes = dataset_batch(data, batch_size, seed)

    configs = []
    for activation in activations:
        for init in inits:
            for is_residual in ((False, True) if residual else (False,)):
                def run(run_dtype):
                    # depth hidden layers of ``width`` units, a linear output layer
                    net = build_network([X.shape[1]] + [width] * depth + [n_classes],
                                        activation, init=init, residual=is_residual,
                                        dtype=run_dtype, rng=seed,
                                        std=std if init == "normal" else None)
                    at_init = measure(net, X, y)
                    if steps:
                        train_steps(net, X, y, steps, lr)
                        at_init["trained"] = {"steps": steps, **measure(net, X, y)}
                    return at_init

                with np.errstate(all="ignore"):  # exploding runs overflow on purpose
                    config = {"activation": activation, "init": init, "residual": is_residual,
                              "dtype": dtype, **run(dtype)}
                    if dtype != "float64":
                        config["float64"] = run("float64")
                for measured in (config, config.get("trained")):
                    if measured is not None:
                        measured["delta_ratio"] = _ratio(measured["delta_norm"])
                        measured["grad_W_ratio"] = _ratio(measured["grad_W_norm"])
                configs.append(config)
    settings = {"depth": depth, "width": width, "layers": depth + 1, "data": data,
                "n_features": X.shape[1], "n_classes": n_classes, "batch_size": batch_size,
                "seed": seed, "steps": steps, "lr": lr, "normal_std": std, "dtype": dtype,
                "loss": "softmax_cross_entropy"}
    return {"settings": settings, "configs": configs}


def _ratio(values):
    """values[0] / values[-1]: the first layer's over the last's (None if either is missing or 0)."""
    first, last = values[0], values[-1]
    if first is None or last is None or last == 0:
        return None
    return first / last


def config_label(config):
    """'sigmoid / normal', 'relu / he + residual': how a configuration is named in tables and legends."""
    label = f"{config['activation']} / {config['init']}"
    return label + " + residual" if config["residual"] else label


# -- forward mode against reverse mode ----------------------------------------

def _best_time(function, min_total=0.05, max_repeats=50):
    """The fastest of several runs of function() (seconds), repeating until min_total has passed."""
    times = []
    while len(times) < max_repeats and (not times or sum(times) < min_total):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def widths_for(max_params, n_in, n_out, points=6, min_params=100):
    """Hidden widths w whose networks n_in → w → w → n_out have roughly geometrically growing
    parameter counts, from about min_params to at most max_params."""
    def count(w):
        return n_in * w + w + w * w + w + w * n_out + n_out  # W_1, b_1, W_2, b_2, W_3, b_3

    targets = np.geomspace(min(min_params, max_params), max_params, points)
    widths = []
    for target in targets:
        w = 1
        while count(w + 1) <= target:
            w += 1
        if count(w) <= max_params and w not in widths:
            widths.append(w)
    return widths, [count(w) for w in widths]


def multiply_adds(net, m):
    """The multiply-adds of the matrix products each mode runs for the full gradient, batch m.

    With P_l = n_l × n_{l−1} the weights of layer l and P = Σ_l P_l:

    reverse   m P (forward, W_l h_{l−1}) + m P (BP3, Δ_l H_{l−1}ᵀ)
              + m (P − P_1) (the hand-down W_lᵀ δ^(l), not below layer 1)      = m (3P − P_1)
    forward   m P (the forward pass), then for each of layer l's P_l + n_l directions
              the push W_u ḣ through every layer u above it (m P_u each) and
              J̇ = ⟨∇_{h_L} J, ḣ_L⟩ (m n_L)
                                              = m P + Σ_l (P_l + n_l) m (Σ_{u>l} P_u + n_L)

    The count does not depend on the machine, so it shows the factor n that the
    times (which jump on a shared machine) only approximate. Returns (forward, reverse).
    """
    P = [layer.W.size for layer in net.layers]
    n_L = net.layers[-1].n_out
    reverse = m * (3 * sum(P) - P[0])
    forward = m * sum(P) + sum((P[l] + layer.n_out) * m * (sum(P[l + 1:]) + n_L)
                               for l, layer in enumerate(net.layers))
    return forward, reverse


def modes_experiment(max_params=20000, batch_size=16, seed=0, points=6, n_in=10, n_out=10,
                     activation="tanh"):
    """The full gradient ∇_θ J of networks n_in → w → w → n_out (growing w), both ways.

    For each network: forward mode (n JVPs, one per parameter, in
    forward_mode.gradient_by_forward_mode) and reverse mode (one forward and one
    backward pass), each timed (the best of a few runs), and the largest
    absolute difference between the two gradients.

    Returns {"settings": {...}, "rows": [{"n_params", "width", "forward_seconds",
    "reverse_seconds", "ratio", "forward_multiply_adds", "reverse_multiply_adds",
    "max_abs_difference"}, ...]}; width is w, the units of each of the two hidden
    layers; ratio is forward_seconds / reverse_seconds; the multiply-adds are the
    count of ``multiply_adds``, which does not depend on the machine.
    """
    if isinstance(max_params, bool) or not isinstance(max_params, (int, np.integer)):
        raise ValueError(f"max_params must be a whole number, got {max_params!r}")
    smallest = n_in + 1 + 1 + 1 + n_out + n_out  # w = 1
    if max_params < smallest:
        raise ValueError(f"max_params must be at least {smallest} (the smallest network "
                         f"{n_in} → 1 → 1 → {n_out}), got {max_params}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    X, y, _ = gaussian_batch(batch_size, seed, n_features=n_in, n_classes=n_out)
    widths, _ = widths_for(max_params, n_in, n_out, points)
    rows = []
    for width in widths:
        net = Network([Dense(n_in, width, activation=activation, rng=seed),
                       Dense(width, width, activation=activation, rng=seed + 1),
                       Dense(width, n_out, activation="identity", rng=seed + 2)],
                      loss="softmax_cross_entropy")
        _, forward_grads = gradient_by_forward_mode(net, X, y)
        _, reverse_grads = gradient_by_reverse_mode(net, X, y)
        difference = max(max(np.abs(gW_f - gW_r).max(), np.abs(gb_f - gb_r).max())
                         for (gW_f, gb_f), (gW_r, gb_r) in zip(forward_grads, reverse_grads))
        forward_seconds = _best_time(lambda: gradient_by_forward_mode(net, X, y), max_repeats=3)
        reverse_seconds = _best_time(lambda: gradient_by_reverse_mode(net, X, y))
        forward_madds, reverse_madds = multiply_adds(net, batch_size)
        rows.append({"n_params": count_parameters(net), "width": width,
                     "forward_seconds": forward_seconds, "reverse_seconds": reverse_seconds,
                     "ratio": forward_seconds / reverse_seconds,
                     "forward_multiply_adds": forward_madds,
                     "reverse_multiply_adds": reverse_madds,
                     "max_abs_difference": float(difference)})
    settings = {"max_params": max_params, "batch_size": batch_size, "seed": seed,
                "n_in": n_in, "n_out": n_out, "activation": activation,
                "architecture": f"{n_in} → w → w → {n_out}", "loss": "softmax_cross_entropy"}
    return {"settings": settings, "rows": rows}
