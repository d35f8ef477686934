"""A network: layers in order, and a loss. It orders the passes; the layers do the maths.

    net = Network([Dense(2, 2, activation="relu"),
                   Dense(2, 1, activation="identity")], loss="half_mse")
    Y_hat = net.forward(X)     # X: (m, n_in), one row per sample -> (m, n_out)
    J = net.backward(Y)        # BP1 at the output layer, then BP2..BP4 layer by layer

Data crosses this boundary as rows = samples, as numpy users expect; inside,
the batch is columns (H_0 = Xᵀ), so that every layer's code is the equation.
The conversion happens here and nowhere else.

backward() runs the chain of the four equations from the top down:

    ∇_{h_L} J                                the loss
    for l = L, ..., 1:
        δ^(l) = φ'(a_l) ⊙ ∂J/∂h_l           BP1 (l = L), BP2 (layer l)
        ∇W_l, ∇b_l                           BP3, BP4 (layer l)
        ∂J/∂h_{l−1} = W_lᵀ δ^(l)             handed down to layer l − 1

A layer is anything that follows the layer protocol (layers.py, docs/layers.md).
A parameter used by two layers (the same array: tied weights) is one parameter,
and its gradient is the sum of the two layers' gradients (``parameters``).
Checking the input and saving live in checks.py and saving.py; gradient
checkpointing (keep fewer values, recompute them in backward) in checkpoint.py.
"""

from typing import NamedTuple

from backprop_edu import checks, saving
from backprop_edu.checkpoint import Checkpoints
from backprop_edu.layers import Dense
from backprop_edu.losses import get_loss


class Parameter(NamedTuple):
    """One parameter θ of a network, and every place that uses it."""

    name: str      # "W_2": layer 2's W (for a shared parameter, its first place)
    places: list   # [(layer, "W"), ...]: one place, or more for a shared (tied) parameter

    @property
    def value(self):
        """θ, the array an optimiser updates in place."""
        layer, name = self.places[0]
        return getattr(layer, name)

    @property
    def grad(self):
        """∇_θ J. Where θ is used in several places, the chain rule adds their gradients."""
        grads = [getattr(layer, "grad_" + name) for layer, name in self.places]
        return grads[0] if len(grads) == 1 else sum(grads)


class Network:
    """Layers applied in order, and a loss (half_mse, softmax_cross_entropy or binary_cross_entropy).

    Network([Dense(64, 32), Dense(32, 10, activation="identity")],
            loss="softmax_cross_entropy") classifies 64 features into 10 classes.
    ``metadata`` is a JSON-serialisable dict saved with the network (e.g. the
    feature scaling a CLI applied before training).
    ``checkpoint_every=k`` makes a training pass keep the input of every k-th layer
    only and recompute the rest during backward (checkpoint.py); the same gradients,
    less memory, more forward work.
    """

    def __init__(self, layers, loss="half_mse", metadata=None, checkpoint_every=None):
        self.layers = checks.layers(layers)
        self.loss = get_loss(loss)
        checks.output_layer(self.layers[-1], self.loss)
        self.dtype = checks.common_dtype(self.layers)
        self.metadata = dict(metadata or {})
        checks.shared_arrays(self.layers)
        self.specs = checks.parameter_specs(self.layers)
        # sigmoid + binary cross-entropy: BP1 collapses to δ^(L) = ŷ − y (losses.py)
        self.bp1_collapses = self.loss.collapsed is not None and isinstance(self.layers[-1], Dense)
        self.output = None     # h_L of the last forward pass, (n_out, m)
        self.training = False  # was the last forward pass a training pass?
        self.grad_X = None     # ∂J/∂X after backward(Y, input_gradient=True)
        self.checkpoints = (None if checkpoint_every is None  # gradient checkpointing
                            else Checkpoints(self.layers, checkpoint_every))

    @property
    def n_in(self):
        return self.layers[0].n_in

    @property
    def n_out(self):
        return self.layers[-1].n_out

    def __repr__(self):
        inner = ",\n ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}],\n loss={self.loss.name!r})"

    def parameters(self):
        """Every parameter once, in layer order: [Parameter(name, places), ...]."""
        found = {}
        for l, layer in enumerate(self.layers, start=1):
            for name in layer.params:
                theta = getattr(layer, name)
                found.setdefault(id(theta), Parameter(f"{name}_{l}", [])).places.append((layer, name))
        return list(found.values())

    # -- forward ---------------------------------------------------------------

    def forward_columns(self, H, training=True):
        """H_0 (n_in × m) -> H_L (n_out × m), through every layer.

        A training pass (the default) keeps what backward needs; an inference pass
        (training=False: predict, compute_loss) keeps nothing.
        """
        checks.parameters(self.specs)
        if self.checkpoints is not None:  # keep every k-th layer's input only (checkpoint.py)
            H = self.checkpoints.forward(H, training)
        else:
            for layer in self.layers:
                H = layer.forward(H, training=training)
        self.output, self.training = H, training
        return H

    def forward(self, X, training=True):
        """X (m × n_in) -> Ŷ (m × n_out): the network's output for every sample (a new array)."""
        return self.forward_columns(checks.inputs(self, X), training).T.copy()

    # -- loss and backward -----------------------------------------------------

    def backward(self, Y, input_gradient=False):
        """BP1 at the output layer, then BP2, BP3, BP4 in every layer, top down. Returns the mean loss J.

        input_gradient=True also fills ``grad_X``: ∂J/∂X, shape (m, n_in), rows = samples.
        Row i is (1/m) ∂J_i/∂x_i, since J is the mean of the m samples' losses.
        """
        if not self.training:
            raise ValueError("backward() needs a training pass first: run net.forward(X) "
                             "(predict and compute_loss keep nothing for backward)")
        L, m = len(self.layers), self.output.shape[1]
        Y = checks.targets(self, Y, m)
        output = self.layers[-1]
        if self.bp1_collapses:
            J, delta_L = self.loss.collapsed(output.a, output.h, Y)  # BP1, collapsed: δ^(L) = ŷ − y
            grad = output.backward_from_delta(delta_L, input_gradient or L > 1)
            below = L - 1
        else:
            J, grad = self.loss.value_and_grad(self.output, Y)  # ∇_{h_L} J, one column per sample
            below = L
        for l in range(below - 1, -1, -1):
            if self.checkpoints is not None:  # recompute layer l's segment if needed
                self.checkpoints.before_backward(l)
            # BP1 (output layer) or BP2, then BP3, BP4; hands down ∂J/∂h_{l−1}
            grad = self.layers[l].backward(grad, input_gradient=l > 0 or input_gradient)
        self.grad_X = grad.T / m if input_gradient else None  # ∂J/∂X = (1/m) ∂J_i/∂x_i per row
        return J

    def output_error(self, Y):
        """BP1 on the last forward pass: (J, δ^(L)), δ^(L) = ∇_{a_L} J one column per sample.

        Runs backward (so every layer's gradients are filled too) and returns the
        output layer's delta: φ'_L(a_L) ⊙ ∇_{h_L} J, for any output activation.
        """
        J = self.backward(Y)
        return J, self.layers[-1].delta

    def loss_gradient(self, Y):
        """(J, ∇_{h_L} J) of the last forward pass: the loss's half of BP1, one column per sample."""
        return self.loss.value_and_grad(self.output, checks.targets(self, Y, self.output.shape[1]))

    def compute_loss(self, X, Y, training=False):
        """The mean loss J on (X, Y), without computing gradients (an inference pass by default)."""
        H = self.forward_columns(checks.inputs(self, X), training)
        Y = checks.targets(self, Y, H.shape[1])
        if training and self.bp1_collapses:  # J from a_L, exactly as backward computes it
            return self.loss.collapsed(self.layers[-1].a, H, Y)[0]
        return self.loss.value_and_grad(H, Y)[0]

    def predict(self, X):
        """Class labels (argmax of the output) for a classification loss, else the outputs."""
        Y_hat = self.forward(X, training=False)
        return Y_hat.argmax(axis=1) if self.loss.classification else Y_hat

    # -- save and load (saving.py) -----------------------------------------------

    def save(self, path):
        """Write architecture, parameters and metadata to one .npz file, atomically.

        As numpy's savez, adds ".npz" to a path without it; returns the path written.
        """
        return saving.save(self, path)

    @classmethod
    def load(cls, path, layers=None):
        """Rebuild a network saved by save(): identical parameters, identical predictions.

        ``layers`` maps the type names of layers from outside the package to their
        classes, e.g. Network.load("model.npz", layers={"Scale": Scale}).
        """
        built, loss, metadata = saving.load(path, layers)
        return cls(built, loss=loss, metadata=metadata)
