"""What a training pass keeps in memory: measured with tracemalloc on a real pass, beside the
count the equations predict.

    result = memory_experiment([64, 256, 256, 256, 10], batch_size=128)
    result["training"]["per_layer"][1]     # {"arrays": ["h_1", "a_2"], "predicted_bytes": ...,
                                           #  "measured_bytes": ...}

Three regimes, each a real pass through the same layers:

    training       net.forward(X): every layer keeps what its backward needs
    inference      net.forward(X, training=False): no layer keeps anything
    checkpointed   Network(..., checkpoint_every=k): the input of every k-th layer, and
                   the values of the top segment (checkpoint.py)

What the equations predict. Backward needs, in layer l, h_{l−1} (BP3: ∇W_l = (1/m) Δ_l
H_{l−1}ᵀ) and a_l (BP2: φ'(a_l)); a Dense layer also keeps h_l = φ(a_l), from which φ'
is cheaper (σ' = h(1 − h)). So a Dense layer holds three arrays of m columns:

    h_{l−1} (n_in × m),  a_l (n_out × m),  h_l (n_out × m):  (n_in + 2 n_out)·m entries

and bytes = entries × itemsize (8 for float64, 4 for float32, 2 for float16). That is
``holds_bytes`` of every layer. But h_l of layer l and h_{l−1} of layer l + 1 are the same
array, and an identity layer's h_l is its a_l: adding up what every layer holds counts
arrays twice. The per-layer counts below count each array once, at the highest layer
that holds it, which is where the memory is given back when the layers let go of
their values from the first to the last:

    Dense layer l      h_{l−1} and a_l, and h_L at the top     (h_0 is your X: 0 bytes)
    Residual block l   h_{l−1}, a_l and its branch φ(a_l)
    checkpointed       below the top segment only each segment's input h_{l−1}
    inference          nothing; the output h_L is held by the network (``output``)

Measured: the current memory tracemalloc traces is read, the layers let go of their
values one by one from the first (``forget()``, and the checkpoint of the layer's
segment), and what each release gives back is that layer's measured count. Peaks are
tracemalloc's peak during a whole training step (forward and backward) of a fresh copy
of the network. The measured numbers include numpy's array headers (about 100 bytes
per array), which the prediction leaves out.

What is left out: the optimiser's state (Adam keeps two more arrays the size of the
parameters), Python's own objects beyond numpy's arrays, and memory that is allocated
outside tracemalloc's view (numpy hands arrays under 1 KiB from a cache of its own).
"""

import copy
import gc
import math
import tracemalloc

import numpy as np

from backprop_edu.builder import build_network
from backprop_edu.checkpoint import let_go, segment_starts
from backprop_edu.errors import ParameterError
from backprop_edu.layers import Dense, check_dtype
from backprop_edu.network import Network
from backprop_edu.residual import Residual

REGIMES = ("training", "inference", "checkpointed")
MAX_BYTES = 2**30            # a training step larger than 1 GiB is refused up front
MAX_MULTIPLY_ADDS = 5 * 10**11  # all the passes of the experiment: about a minute on a laptop


# -- the prediction: which arrays each layer holds, counted once ---------------------

def held_arrays(layer, l, m):
    """{key: (name, entries)} of what layer l (1-based) holds after a training pass, or
    None for a layer whose arrays the equations here do not describe (a layer of your own).
    The key names the array itself: an identity layer's a_l and h_l share one key."""
    if isinstance(layer, Residual):   # h_l = h_{l−1} + φ(a_l): its output is held above it
        return {f"h_{l - 1}": (f"h_{l - 1}", layer.n_in * m),
                f"a_{l}": (f"a_{l}", layer.n_out * m),
                f"phi_{l}": (f"φ(a_{l})", layer.n_out * m)}
    if isinstance(layer, Dense):
        held = {f"h_{l - 1}": (f"h_{l - 1}", layer.n_in * m)}
        if layer.activation.name == "identity":   # φ(a) = a: h_l is a_l, one array
            held[f"h_{l}"] = (f"a_{l}", layer.n_out * m)
        else:
            held[f"a_{l}"] = (f"a_{l}", layer.n_out * m)
            held[f"h_{l}"] = (f"h_{l}", layer.n_out * m)
        return held
    return None


def predicted_counts(layers, m, regime, every=None):
    """Per layer, the arrays counted there (each array once, at the highest layer holding
    it; h_0, your X, never) and their entries; then the output's. Returns
    (per_layer [(names, entries) or None], output (names, entries))."""
    L = len(layers)
    starts = segment_starts(L, every) if regime == "checkpointed" else [0]
    top = starts[-1]
    holders = [{f"h_{L}": (f"h_{L}", layers[-1].n_out * m)}]  # the network's output, net.output
    for l, layer in enumerate(layers, start=1):
        if regime == "inference":
            held = {}
        elif regime == "checkpointed" and l - 1 < top:       # below the top segment
            held = ({f"h_{l - 1}": (f"h_{l - 1}", layer.n_in * m)}
                    if l - 1 in starts else {})               # a segment's input: a checkpoint
        else:
            held = held_arrays(layer, l, m)
        holders.append(held)
    last_holder = {}
    for i, held in enumerate(holders):
        for key in held or {}:
            last_holder[key] = i
    counts = []
    for i, held in enumerate(holders):
        if held is None:
            counts.append(None)
            continue
        mine = [held[key] for key in held if last_holder[key] == i and key != "h_0"]
        counts.append(([name for name, _ in mine], sum(entries for _, entries in mine)))
    return counts[1:], counts[0]


def forward_values_peak(layers, m, every=None):
    """Entries of forward values held at most at once during a training step (None if a
    layer's are unknown): every layer's in a plain step (none are let go before the step
    ends); with checkpointing, the checkpoints, the top segment's values and those of the
    segment whose backward runs (the one above has let go of its values by then)."""
    L = len(layers)
    starts = segment_starts(L, every if every is not None else L)
    ends = starts[1:] + [L]
    held = [held_arrays(layer, l, m) for l, layer in enumerate(layers, start=1)]
    if any(h is None for h in held):
        return None

    def total(holding):  # the distinct arrays held by the output, the checkpoints, ``holding``
        arrays = {f"h_{L}": layers[-1].n_out * m}
        arrays.update({f"h_{s}": layers[s].n_in * m for s in starts})
        for l in holding:
            arrays.update({key: entries for key, (_, entries) in held[l].items()})
        arrays.pop("h_0")  # your X
        return sum(arrays.values())

    top = range(starts[-1], L)
    return max(total([*top, *range(start, end)]) for start, end in zip(starts, ends))


# -- the measurement -------------------------------------------------------------------

def traced():
    """The memory tracemalloc traces now, in bytes."""
    return tracemalloc.get_traced_memory()[0]


def given_back(release):
    """Bytes given back by calling release()."""
    before = traced()
    release()
    return before - traced()


def measured_counts(net, H0, training):
    """A real pass, then each layer lets go of its values, first to last: what each gives back.

    Returns (per_layer [bytes or None for a layer without forget()], output bytes,
    kept_bytes: everything the pass left held)."""
    base = traced()
    net.forward_columns(H0, training)
    kept = traced() - base

    def release_output():
        net.output = None

    output = given_back(release_output)
    per_layer = []
    for l, layer in enumerate(net.layers):
        def release_layer():
            let_go(layer)
            if net.checkpoints is not None:
                net.checkpoints.inputs.pop(l, None)

        per_layer.append(given_back(release_layer) if hasattr(layer, "forget") else None)
    return per_layer, output, kept


def step_memory(net, H0, Y, training=True):
    """Peak memory of one step on a fresh copy of ``net`` (forward and, when training, backward):
    (kept after the forward pass, peak during the step, held after the step), in bytes."""
    net = copy.deepcopy(net)
    base = traced()
    tracemalloc.reset_peak()
    net.forward_columns(H0, training)
    kept = traced() - base
    if training:
        net.backward(Y)
    peak = tracemalloc.get_traced_memory()[1] - base
    return kept, peak, traced() - base


# -- the experiment --------------------------------------------------------------------

def multiply_adds(layers):
    """Per layer, the multiply-adds of W_l h_{l−1} for one sample (n_out·n_in; 0 without W)."""
    return [layer.n_in * layer.n_out if "W" in layer.params else 0 for layer in layers]


def check_size(widths, batch_size, itemsize):
    """Refuse, before allocating anything, sizes that would fill a laptop's memory or take
    more than a minute."""
    pairs = list(zip(widths[:-1], widths[1:]))
    parameters = sum(n_in * n_out + n_out for n_in, n_out in pairs)
    activations = batch_size * sum(2 * n_in + 4 * n_out for n_in, n_out in pairs)
    step_bytes = itemsize * (4 * parameters + activations)  # W, ∇W, copies; a, h, δ, ∂J/∂h, ...
    layers = ",".join(map(str, widths))
    if step_bytes > MAX_BYTES:
        raise ParameterError("batch_size", "a training step of layers {layers} with "
                             "batch_size={batch_size} would hold about {gib:.1f} GiB; this "
                             "experiment measures at most {most} GiB: use a smaller batch_size "
                             "or narrower layers", layers=layers, batch_size=batch_size,
                             gib=step_bytes / 2**30, most=MAX_BYTES // 2**30)
    passes = len(pairs) + 6
    work = 3 * batch_size * sum(n_in * n_out for n_in, n_out in pairs) * passes
    if work > MAX_MULTIPLY_ADDS:
        raise ParameterError("batch_size", "layers {layers} with batch_size={batch_size} would "
                             "take about {work:.1e} multiply-adds over the {passes} passes of "
                             "this experiment (at most {most:.0e}): use fewer or narrower layers "
                             "or a smaller batch_size", layers=layers, batch_size=batch_size,
                             work=work, passes=passes, most=MAX_MULTIPLY_ADDS)


def sqrt_choice(depth):
    """The k that balances L/k checkpoints against segments of k layers: √L, rounded."""
    return max(1, min(depth, round(math.sqrt(depth))))


def memory_experiment(widths, batch_size=128, dtype="float64", activation="relu",
                      checkpoint_every=None, seed=0):
    """Memory kept per layer in the three regimes, and peak memory against recomputation.

    widths: input to output, e.g. [64, 256, 256, 10] (a network of L = len(widths) − 1
    layers: ``activation`` in the hidden layers, a linear output, softmax cross-entropy).
    checkpoint_every: k of the checkpointed regime (default √L, rounded).

    Returns {"settings", "layers": [{"layer", "type", "n_in", "n_out", "activation",
    "holds_bytes"}], "training" / "inference" / "checkpointed": {"per_layer":
    [{"arrays", "predicted_bytes", "measured_bytes"}], "output": {...},
    "kept_predicted_bytes", "kept_measured_bytes", "peak_bytes", "after_step_bytes",
    "recomputed_layers", "extra_forward_fraction"}, "sweep": [one row per k = 1..L:
    {"k", "segments", "recomputed_layers", "extra_forward_fraction",
    "kept_predicted_bytes", "kept_measured_bytes", "peak_bytes", "sqrt_choice"}]}.
    extra_forward_fraction is the recomputed multiply-adds over one forward pass's.
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least an input and an output width, each ≥ 1, "
                         f"got {widths}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ParameterError("batch_size", "batch_size must be a whole number ≥ 1, got "
                             "{batch_size!r}", batch_size=batch_size)
    dtype = check_dtype(dtype)
    check_size(widths, batch_size, dtype.itemsize)
    depth = len(widths) - 1
    k = sqrt_choice(depth) if checkpoint_every is None else checkpoint_every
    net = build_network(widths, activation, dtype=dtype, rng=seed)
    Network(net.layers, net.loss, checkpoint_every=k)  # refuses a k outside 1..L at once
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch_size, widths[0])).astype(dtype)
    Y = rng.integers(0, widths[-1], batch_size)
    H0 = X.T                                       # one column per sample, as in the network
    itemsize, m = dtype.itemsize, batch_size
    work = multiply_adds(net.layers)

    def checkpointed(every):
        return Network(copy.deepcopy(net.layers), net.loss, checkpoint_every=every)

    started = not tracemalloc.is_tracing()
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()  # memory is given back when the last reference goes, never in between
    if started:
        tracemalloc.start()
    try:
        result = {"settings": {"layers": widths, "depth": depth, "batch_size": batch_size,
                               "dtype": str(dtype), "itemsize": itemsize,
                               "activation": activation, "checkpoint_every": k,
                               "sqrt_choice": sqrt_choice(depth), "seed": seed},
                  "layers": [{"layer": l, "type": type(layer).__name__, "n_in": layer.n_in,
                              "n_out": layer.n_out, "activation": layer.activation.name,
                              "holds_bytes": (layer.n_in + 2 * layer.n_out) * m * itemsize}
                             for l, layer in enumerate(net.layers, start=1)]}
        for regime in REGIMES:
            every = k if regime == "checkpointed" else None
            measured_net = checkpointed(k) if every else copy.deepcopy(net)
            training = regime != "inference"
            per_layer, output, kept = measured_counts(measured_net, H0, training)
            predicted, predicted_output = predicted_counts(net.layers, m, regime, every)
            _, peak, after = step_memory(measured_net, H0, Y, training)
            recomputed = measured_net.checkpoints.recomputed_layers() if every else 0
            values = forward_values_peak(net.layers, m, every) if training else 0
            result[regime] = {
                "per_layer": [_row(p, b, itemsize) for p, b in zip(predicted, per_layer)],
                "output": _row(predicted_output, output, itemsize),
                "kept_predicted_bytes": _total(predicted + [predicted_output], itemsize),
                "kept_measured_bytes": kept, "peak_bytes": peak, "after_step_bytes": after,
                "forward_values_peak_bytes": None if values is None else values * itemsize,
                "recomputed_layers": recomputed,
                "extra_forward_fraction": sum(work[:recomputed]) / sum(work)}
            if every:
                result[regime]["checkpoint_every"] = k
        result["sweep"] = []
        for every in range(1, depth + 1):
            swept = checkpointed(every)
            kept, peak, _ = step_memory(swept, H0, Y)
            predicted, predicted_output = predicted_counts(net.layers, m, "checkpointed", every)
            recomputed = swept.checkpoints.recomputed_layers()
            values = forward_values_peak(net.layers, m, every)
            result["sweep"].append({
                "k": every, "segments": len(segment_starts(depth, every)),
                "recomputed_layers": recomputed,
                "extra_forward_fraction": sum(work[:recomputed]) / sum(work),
                "kept_predicted_bytes": _total(predicted + [predicted_output], itemsize),
                "kept_measured_bytes": kept, "peak_bytes": peak,
                "forward_values_peak_bytes": None if values is None else values * itemsize,
                "sqrt_choice": every == sqrt_choice(depth)})
    finally:
        if started:
            tracemalloc.stop()
        if collecting:
            gc.enable()
    return result


def _row(predicted, measured, itemsize):
    """One layer's count: the arrays it names, predicted bytes, measured bytes (None: unknown)."""
    names, entries = predicted if predicted is not None else (None, None)
    return {"arrays": names, "predicted_bytes": None if entries is None else entries * itemsize,
            "measured_bytes": measured}


def _total(counts, itemsize):
    """The predicted bytes of every count (None if a layer's are unknown)."""
    if any(count is None for count in counts):
        return None
    return sum(entries for _, entries in counts) * itemsize


def format_bytes(count):
    """1536 -> '1.5 KiB': bytes in the largest binary unit that keeps the number ≥ 1."""
    if count is None:
        return "—"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
