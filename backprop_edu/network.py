"""A network: layers in order, and a loss. It orders the passes; the layers do the maths.

    net = Network([Dense(2, 2, activation="relu"),
                   Dense(2, 1, activation="identity")], loss="half_mse")
    Y_hat = net.forward(X)     # X: (m, n_in), one row per sample -> (m, n_out)
    J = net.backward(Y)        # BP1 from the loss, then BP2..BP4 layer by layer

Data crosses this boundary as rows = samples, as numpy users expect; inside,
the batch is columns (H_0 = Xᵀ), so that every layer's code is the equation.
The conversion happens here and nowhere else.

backward() runs the chain of the four equations from the top down:

    δ^(L) = ∇_{a_L} J                       BP1 (the loss)
    for l = L, ..., 1:
        δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l           BP2 (layer l)
        ∇W_l, ∇b_l                           BP3, BP4 (layer l)
        ∂J/∂h_{l−1} = W_lᵀ δ^(l)             handed down to layer l − 1

A network is saved to, and loaded from, one .npz file (architecture as JSON
plus one array per parameter); nothing is pickled.
"""

import json
import os
import zipfile

import numpy as np

from backprop_edu.files import atomic_file
from backprop_edu.layers import Dense
from backprop_edu.losses import get_loss
from backprop_edu.residual import Residual

FILE_FORMAT = "backprop-edu network, version 1"


def as_array(name, values, expected):
    """``values`` as a numpy array; a ValueError saying what was expected if numpy cannot."""
    try:
        return np.asarray(values)
    except ValueError:  # e.g. rows of different lengths
        raise ValueError(f"{name} is not an array: expected {expected}, every row of the same "
                         "length") from None


def check_finite(name, A, what):
    """Refuse NaN and ±inf: they would flow silently into J and every gradient."""
    if A.dtype.kind == "f" and not (np.isfinite(A.min()) and np.isfinite(A.max())):
        row = int(np.argwhere(~np.isfinite(A))[0][0])
        raise ValueError(f"{name} has NaN or infinite values (the first in {name}[{row}]): "
                         f"expected finite numbers; drop or fill those {what}")


def check_distributions(Y):
    """Rows of Y for cross-entropy must be probability distributions (one-hot: a single 1)."""
    tol = np.sqrt(np.finfo(Y.dtype if Y.dtype.kind == "f" else np.float64).eps)
    totals = Y.sum(axis=1)
    bad = (Y.min(axis=1) < 0) | (np.abs(totals - 1) > tol)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"Y[{i}] is {Y[i].tolist()}, summing to {totals[i]:g}: cross-entropy expects "
            "one-hot rows (or probabilities ≥ 0 summing to 1), or integer labels of shape (m,)")


class Network:
    """Layers applied in order, and a loss (half_mse or softmax_cross_entropy).

    Network([Dense(64, 32), Dense(32, 10, activation="identity")],
            loss="softmax_cross_entropy") classifies 64 features into 10 classes.
    ``metadata`` is a JSON-serialisable dict saved with the network (e.g. the
    feature scaling a CLI applied before training).
    """

    def __init__(self, layers, loss="half_mse", metadata=None):
        if isinstance(layers, Dense) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of layers, e.g. Network([Dense(2, 1)]), "
                            f"got {layers!r}")
        layers = list(layers)
        if not layers:
            raise ValueError("a Network needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError(f"layer {i + 1} is {layer!r}: expected a Dense or Residual layer")
        for lower, upper in zip(layers, layers[1:]):
            if upper.n_in != lower.n_out:
                raise ValueError(
                    f"layer widths do not chain: {lower!r} gives {lower.n_out} outputs "
                    f"but the next layer {upper!r} expects n_in={upper.n_in}")
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) > 1:
            raise TypeError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}: "
                            "create every layer with the same dtype=")
        self.layers = layers
        self.loss = get_loss(loss)
        self.dtype = layers[0].dtype
        self.metadata = dict(metadata or {})
        self.output = None    # H_L of the last forward pass, (n_out, m)
        self._delta_L = None  # the loss's δ^(L), (n_out, m), reused from batch to batch

    @property
    def n_in(self):
        return self.layers[0].n_in

    @property
    def n_out(self):
        return self.layers[-1].n_out

    def __repr__(self):
        inner = ",\n ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}],\n loss={self.loss.name!r})"

    # -- forward ---------------------------------------------------------------

    def _inputs(self, X):
        """Check X (m × n_in, rows = samples) and turn it into H_0 = Xᵀ, in the network's dtype."""
        X = as_array("X", X, "a 2-D array of numbers, samples × features")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold numbers, got an array of dtype {X.dtype}")
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-D (samples × features), got shape {X.shape}; "
                "for a single sample use X.reshape(1, -1)")
        if X.shape[1] != self.n_in:
            raise ValueError(
                f"X has {X.shape[1]} features per sample but the first layer expects "
                f"n_in={self.n_in}")
        if X.shape[0] == 0:
            raise ValueError("X has no samples (0 rows)")
        check_finite("X", X, "samples")
        return X.astype(self.dtype, copy=False).T  # H_0: one column per sample (a view)

    def forward_columns(self, H):
        """H_0 (n_in × m) -> H_L (n_out × m), through every layer. Returns the last layer's buffer."""
        for layer in self.layers:
            H = layer.forward(H)
        self.output = H
        return H

    def forward(self, X):
        """X (m × n_in) -> Ŷ (m × n_out): the network's output for every sample (a new array)."""
        return self.forward_columns(self._inputs(X)).T.copy()

    # -- loss and backward -----------------------------------------------------

    def _targets(self, Y, m):
        """Check Y against the last forward pass's m samples and put it in columns."""
        Y = as_array("Y", Y, "an array of numbers")
        if self.loss.classification and Y.ndim == 1:
            if Y.dtype.kind == "f":
                whole = np.isfinite(Y) & (Y == np.round(Y))
                if not whole.all():
                    i = int(np.argmin(whole))
                    raise ValueError(
                        f"labels for {self.loss.name} must be whole numbers 0..{self.n_out - 1}, "
                        f"got Y[{i}] = {Y[i]}")
                Y = Y.astype(np.int64)
            if Y.dtype.kind not in "iu":
                raise TypeError(
                    f"labels for {self.loss.name} must be integers 0..{self.n_out - 1}, "
                    f"got dtype {Y.dtype}")
            if Y.shape[0] != m:
                raise ValueError(f"Y has {Y.shape[0]} labels but the forward pass had {m} samples")
            if Y.min() < 0 or Y.max() >= self.n_out:
                raise ValueError(
                    f"labels must lie in 0..{self.n_out - 1} (the network has {self.n_out} "
                    f"outputs), got labels from {Y.min()} to {Y.max()}")
            return Y
        if Y.dtype.kind not in "biuf":
            raise TypeError(f"Y must hold numbers, got an array of dtype {Y.dtype}")
        given = Y.shape
        if Y.ndim == 1 and self.n_out == 1:
            Y = Y.reshape(-1, 1)
        if Y.shape != (m, self.n_out):
            what = "integer labels of shape (m,) or one-hot rows" if self.loss.classification \
                else "targets"
            raise ValueError(
                f"Y has shape {given} but the network needs {what} of shape "
                f"({m}, {self.n_out}) for the {m} samples of the forward pass")
        check_finite("Y", Y, "targets")
        if self.loss.classification:
            check_distributions(Y)
        return Y.astype(self.dtype, copy=False).T

    def _loss_and_delta(self, Y):
        """J of the last forward pass, with δ^(L) = ∇_{a_L} J written into self._delta_L (BP1)."""
        output = self.output
        if output is None:
            raise ValueError("backward() called before forward(): run net.forward(X) first")
        m = output.shape[1]
        targets = self._targets(Y, m)
        if self._delta_L is None or self._delta_L.shape != output.shape:
            self._delta_L = np.empty_like(output)
        return self.loss.value_and_delta(output, targets, self._delta_L)  # BP1

    def output_error(self, Y):
        """BP1 on the last forward pass: (J, δ^(L)), with δ^(L) = ∇_{a_L} J_i one column per sample.

        δ^(L) is the network's reused buffer, overwritten by the next pass.
        """
        J = self._loss_and_delta(Y)
        return J, self._delta_L

    def backward(self, Y):
        """BP1 from the loss, then BP2, BP3, BP4 in every layer, top down. Returns the mean loss J."""
        J = self._loss_and_delta(Y)
        grad = self._delta_L  # ∂J/∂h_L: the output layer is linear, so this is δ^(L)
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, propagate=i > 0)  # ∂J/∂h_{l−1} = W_lᵀ δ^(l)
        return J

    def compute_loss(self, X, Y):
        """The mean loss J on (X, Y), without computing gradients."""
        self.forward_columns(self._inputs(X))
        return self._loss_and_delta(Y)

    def predict(self, X):
        """Class labels (argmax of the output) for a classification loss, else the outputs."""
        Y_hat = self.forward(X)
        return Y_hat.argmax(axis=1) if self.loss.classification else Y_hat

    # -- save and load ---------------------------------------------------------

    def save(self, path):
        """Write architecture, parameters and metadata to one .npz file, atomically."""
        architecture = {"format": FILE_FORMAT, "loss": self.loss.name, "dtype": str(self.dtype),
                        "layers": [layer.config() for layer in self.layers],
                        "metadata": self.metadata}
        arrays = {"architecture": np.array(json.dumps(architecture))}
        for l, layer in enumerate(self.layers, start=1):
            arrays[f"W_{l}"], arrays[f"b_{l}"] = layer.W, layer.b
        with atomic_file(path, "wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path):
        """Rebuild a network saved by save(); identical parameters, identical predictions."""
        not_a_network = f"{path} is not a saved backprop-edu network"
        expected = "expected the .npz file written by Network.save(path)"
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {path} ({expected})")
        if os.path.isdir(path):
            raise ValueError(f"{path} is a directory: {expected}")
        if not zipfile.is_zipfile(path):  # text, empty, truncated, .npy, ...
            raise ValueError(f"{not_a_network}: it is not an .npz (zip) archive; {expected}")
        try:
            with open(path, "rb") as f:
                data = np.load(f, allow_pickle=False)
                if not hasattr(data, "files"):
                    raise ValueError("it holds a single array, not an .npz archive")
                with data:
                    arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
            raise ValueError(f"{not_a_network} ({error}); {expected}") from None
        try:
            architecture = json.loads(str(arrays["architecture"]))
            if not isinstance(architecture, dict) or architecture.get("format") != FILE_FORMAT:
                raise ValueError(f"its architecture is not in the format {FILE_FORMAT!r}")
            layers = []
            for l, config in enumerate(architecture["layers"], start=1):
                kinds = {"Dense": Dense, "Residual": Residual}
                if config.get("type") not in kinds:
                    raise ValueError(f"layer {l} has the unknown type {config.get('type')!r}")
                kind = kinds[config["type"]]
                args = (config["n_in"],) if kind is Residual else (config["n_in"], config["n_out"])
                layer = kind(*args, activation=config["activation"], init=config["init"],
                             rng=0, dtype=architecture["dtype"])
                W, b = arrays[f"W_{l}"], arrays[f"b_{l}"]
                if W.shape != layer.W.shape or b.shape != layer.b.shape:
                    raise ValueError(f"layer {l} parameters have the wrong shape")
                layer.W[...] = W
                layer.b[...] = b
                layers.append(layer)
            return cls(layers, loss=architecture["loss"], metadata=architecture.get("metadata"))
        except KeyError as error:
            raise ValueError(f"{not_a_network}: it has no {error} entry; {expected}") from None
        except (ValueError, TypeError, AttributeError) as error:  # JSONDecodeError is a ValueError
            raise ValueError(f"{not_a_network} ({error}); {expected}") from None
