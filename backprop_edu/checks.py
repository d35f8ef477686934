"""What a Network checks before it computes: its layers, its output layer, and the data it is given.

Every check raises one ValueError or TypeError whose message says what was wrong,
what was expected and how to fix it, naming the Python parameter (X, Y, layers, ...).
None of this is maths: network.py calls these functions so that its own lines
can stay the passes.

    layers(layers)                 a list of objects that follow the layer protocol, widths chained
    common_dtype(layers)           the one floating-point dtype of every layer and parameter
    output_layer(layer, loss)      the output layer suits the loss (no clipped logits)
    parameter_specs / parameters   a replaced W or b keeps its shape and dtype
    inputs(net, X), targets(net, Y, m)
                                   X and Y as the layers want them: one column per sample
"""

import numpy as np

from backprop_edu.residual import Residual

PROTOCOL = ("n_in", "n_out", "params", "forward", "backward", "config")

# Output activations that bound h_L from at least one side: softmax on them cannot
# give a confident answer (e.g. ReLU makes every negative logit 0).
CLIPPING = ("relu", "softplus", "sigmoid", "tanh")


def layers(layers):
    """The layers as a list, each following the protocol, each n_in equal to the n_out below."""
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of layers, e.g. Network([Dense(2, 1)]), "
                        f"got {layers!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("a Network needs at least one layer")
    for i, layer in enumerate(layers):
        missing = [name for name in PROTOCOL if not hasattr(layer, name)]
        if missing:
            raise TypeError(f"layer {i + 1} is {layer!r}, which does not follow the layer "
                            f"protocol: it has no {', '.join(missing)} (see docs/layers.md)")
        if layer.n_in is None:  # a layer whose width follows from the layer below (pooling)
            if i == 0:
                raise ValueError(f"layer 1 is {layer!r}: the first layer needs its n_in")
            layer.bind(layers[i - 1].n_out)
    first_place = {}
    for i, layer in enumerate(layers):
        first = first_place.setdefault(id(layer), i)
        if first != i:
            raise ValueError(f"layer {i + 1} is layer {first + 1} again: a layer keeps the values "
                             "of one place in the pass; to share weights, give a second layer "
                             "the same array (second.W = first.W)")
    for lower, upper in zip(layers, layers[1:]):
        if upper.n_in != lower.n_out:
            raise ValueError(
                f"layer widths do not chain: {lower!r} gives {lower.n_out} outputs "
                f"but the next layer {upper!r} expects n_in={upper.n_in}")
    return layers


def common_dtype(layers):
    """The dtype every layer computes in (float64 for a network of parameterless layers)."""
    dtypes = {np.dtype(getattr(layer, name).dtype) for layer in layers for name in layer.params}
    dtypes |= {np.dtype(layer.dtype) for layer in layers if hasattr(layer, "dtype")}
    if len(dtypes) > 1:
        raise TypeError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}: "
                        "create every layer with the same dtype=")
    return dtypes.pop() if dtypes else np.dtype(np.float64)


def output_layer(layer, loss):
    """Refuse an output layer that would silently spoil the loss (docs/equations.md, BP1)."""
    activation = getattr(getattr(layer, "activation", None), "name", None)
    if loss.name == "softmax_cross_entropy" and activation in CLIPPING:
        raise ValueError(
            f"the output layer {layer!r} would clip the logits that softmax_cross_entropy "
            "turns into probabilities: create it with activation=\"identity\" (softmax is "
            "part of the loss)")
    if loss.output_activation is not None and activation is not None and (
            activation != loss.output_activation or isinstance(layer, Residual)):
        raise ValueError(
            f"{loss.name} reads the output as probabilities, but the output layer is "
            f"{layer!r}: create it as a Dense layer with "
            f"activation=\"{loss.output_activation}\"")


def shared_arrays(layers):
    """A parameter used by two layers must be the same array; a view of another layer's
    parameter (such as W.T) would be updated twice and its gradients never added."""
    by_owner = {}  # the array that owns the memory -> the parameters that are views of it
    for l, layer in enumerate(layers, start=1):
        for name in layer.params:
            theta = getattr(layer, name)
            owner = theta
            while isinstance(owner.base, np.ndarray):
                owner = owner.base
            for other, other_name in by_owner.setdefault(id(owner), []):
                if theta is not other and np.may_share_memory(theta, other):
                    raise ValueError(f"layer {l}'s {name} is a view of {other_name} (e.g. its "
                                     "transpose): to share a parameter, give both layers the "
                                     "same array, and let the layer transpose it in forward")
            by_owner[id(owner)].append((theta, f"{name}_{l}"))


def parameter_specs(layers):
    """(layer, name, shape, dtype) of every parameter, as the network was built."""
    return [(layer, name, getattr(layer, name).shape, getattr(layer, name).dtype)
            for layer in layers for name in layer.params]


def parameters(specs):
    """A parameter may be replaced (layer.W = ...), but must keep its shape and dtype."""
    for layer, name, shape, dtype in specs:
        theta = getattr(layer, name)
        if not (isinstance(theta, np.ndarray) and theta.shape == shape and theta.dtype == dtype):
            got = (f"shape {theta.shape} and dtype {theta.dtype}"
                   if isinstance(theta, np.ndarray) else f"a {type(theta).__name__}")
            raise ValueError(f"{layer!r}: {name} must be an array of shape {shape} and dtype "
                             f"{dtype}, got {got}; set it in place: layer.{name}[...] = values")


def as_array(name, values, expected):
    """``values`` as a numpy array; a ValueError saying what was expected if numpy cannot."""
    try:
        return np.asarray(values)
    except ValueError:  # e.g. rows of different lengths
        raise ValueError(f"{name} is not an array: expected {expected}, every row of the same "
                         "length") from None


def finite(name, A, what):
    """Refuse NaN and ±inf: they would flow silently into J and every gradient."""
    if A.dtype.kind == "f" and not (np.isfinite(A.min()) and np.isfinite(A.max())):
        row = int(np.argwhere(~np.isfinite(A))[0][0])
        raise ValueError(f"{name} has NaN or infinite values (the first in {name}[{row}]): "
                         f"expected finite numbers; drop or fill those {what}")


def distributions(Y):
    """Rows of Y for cross-entropy must be probability distributions (one-hot: a single 1)."""
    tol = np.sqrt(np.finfo(Y.dtype if Y.dtype.kind == "f" else np.float64).eps)
    totals = Y.sum(axis=1)
    bad = (Y.min(axis=1) < 0) | (np.abs(totals - 1) > tol)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"Y[{i}] is {Y[i].tolist()}, summing to {totals[i]:g}: cross-entropy expects "
            "one-hot rows (or probabilities ≥ 0 summing to 1), or integer labels of shape (m,)")


def probabilities(Y, loss_name):
    """Targets of binary cross-entropy lie in [0, 1]."""
    if Y.min() < 0 or Y.max() > 1:
        i = int(np.argwhere((Y < 0) | (Y > 1))[0][0])
        raise ValueError(f"Y[{i}] is {Y[i].tolist()}: {loss_name} expects targets in [0, 1] "
                         "(e.g. 0/1 labels, or one-hot rows)")


def inputs(net, X):
    """Check X (m × n_in, rows = samples) and turn it into H_0 = Xᵀ, in the network's dtype."""
    X = as_array("X", X, "a 2-D array of numbers, samples × features")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got an array of dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (samples × features), got shape {X.shape}; "
            "for a single sample use X.reshape(1, -1)")
    if X.shape[1] != net.n_in:
        raise ValueError(
            f"X has {X.shape[1]} features per sample but the first layer expects "
            f"n_in={net.n_in}")
    if X.shape[0] == 0:
        raise ValueError("X has no samples (0 rows)")
    finite("X", X, "samples")
    return X.astype(net.dtype, copy=False).T  # H_0: one column per sample (a view)


def labels(net, Y, m):
    """Integer class labels for a classification loss, one per sample, each in 0..n_out−1."""
    name, n_out = net.loss.name, net.n_out
    if Y.dtype.kind == "f":
        whole = np.isfinite(Y) & (Y == np.round(Y))
        if not whole.all():
            i = int(np.argmin(whole))
            raise ValueError(f"labels for {name} must be whole numbers 0..{n_out - 1}, "
                             f"got Y[{i}] = {Y[i]}")
        Y = Y.astype(np.int64)
    if Y.dtype.kind not in "iu":
        raise TypeError(f"labels for {name} must be integers 0..{n_out - 1}, got dtype {Y.dtype}")
    if Y.shape[0] != m:
        raise ValueError(f"Y has {Y.shape[0]} labels but the forward pass had {m} samples")
    if Y.min() < 0 or Y.max() >= n_out:
        raise ValueError(f"labels must lie in 0..{n_out - 1} (the network has {n_out} outputs), "
                         f"got labels from {Y.min()} to {Y.max()}")
    return Y


def targets(net, Y, m):
    """Check Y against the last forward pass's m samples and put it in columns."""
    Y = as_array("Y", Y, "an array of numbers")
    if net.loss.classification and Y.ndim == 1:
        return labels(net, Y, m)
    if Y.dtype.kind not in "biuf":
        raise TypeError(f"Y must hold numbers, got an array of dtype {Y.dtype}")
    given = Y.shape
    if Y.ndim == 1 and net.n_out == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape != (m, net.n_out):
        what = "integer labels of shape (m,) or one-hot rows" if net.loss.classification \
            else "targets"
        raise ValueError(
            f"Y has shape {given} but the network needs {what} of shape "
            f"({m}, {net.n_out}) for the {m} samples of the forward pass")
    finite("Y", Y, "targets")
    if net.loss.classification:
        distributions(Y)
    if net.loss.output_activation == "sigmoid":
        probabilities(Y, net.loss.name)
    return Y.astype(net.dtype, copy=False).T
