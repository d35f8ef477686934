"""The textbook's worked example: one sample through a 2-2-1 network, every quantity named.

The classic hand calculation (a ReLU hidden layer, a linear output, loss ½(ŷ − y)²):

    x = (2, −1),  y = 1
    W1 = [[1, −1], [1/2, 2]],  b1 = (0, −1)       hidden layer, φ = ReLU
    W2 = [[1, −2]],            b2 = 1/2           output layer, linear

    forward   a1 = W1 x + b1 = (3, −2)     h1 = φ(a1) = (3, 0)
              ŷ = a2 = W2 h1 + b2 = 7/2    L = ½(ŷ − y)² = 25/8
    backward  δ⁽²⁾ = ŷ − y = 5/2                          BP1
              ∂L/∂W2 = δ⁽²⁾ h1ᵀ = [[15/2, 0]]             BP3
              ∂L/∂b2 = δ⁽²⁾ = 5/2                         BP4
              ∂L/∂h1 = W2ᵀ δ⁽²⁾ = (5/2, −5)
              δ⁽¹⁾ = φ'(a1) ⊙ ∂L/∂h1 = (1, 0) ⊙ (5/2, −5) = (5/2, 0)   BP2
              ∂L/∂W1 = δ⁽¹⁾ xᵀ = [[5, −5/2], [0, 0]]       BP3
              ∂L/∂b1 = δ⁽¹⁾ = (5/2, 0)                    BP4

Nothing here computes a gradient: the example is run through the real Network
and Dense (the parameters set in place), and every number is read back from
the layers (layer.a, layer.h, layer.delta, layer.grad_W, ...). So the hand
calculation checks the code, and the code checks the hand calculation.
φ'(a1) is the activation's own φ', called on what the forward pass cached.

``random_example(seed)`` draws other small integer weights and inputs for the same
network (the drill of `backprop-edu example --quiz --random SEED`).

What is left out: printing (the `backprop-edu example` command does that), and
other architectures: the network is always 2-2-1; x, y, the parameters and the
hidden activation may change.
"""

from fractions import Fraction
from typing import NamedTuple

import numpy as np

from backprop_edu.activations import get_activation
from backprop_edu.layers import Dense
from backprop_edu.network import Network

# The textbook's numbers.
X_EXAMPLE = (2.0, -1.0)
Y_EXAMPLE = 1.0
W1 = ((1.0, -1.0), (0.5, 2.0))
b1 = (0.0, -1.0)
W2 = ((1.0, -2.0),)  # the row vector w2ᵀ: the output layer's W is 1 × 2
b2 = (0.5,)


class Step(NamedTuple):
    """One named quantity of the example.

    key:      a plain name for data (e.g. "grad_W1")
    symbol:   the textbook's name (e.g. "∂L/∂W1")
    equation: "forward", "loss", "BP1".."BP4", "chain" (∂L/∂h = Wᵀδ) or "φ'"
    formula:  how it is computed, in the textbook's notation
    value:    the number(s), as read from the network
    source:   where the code keeps it (e.g. "net.layers[0].grad_W")
    """

    key: str
    symbol: str
    equation: str
    formula: str
    value: object
    source: str


class Example(NamedTuple):
    """The worked example after one forward and one backward pass."""

    network: Network
    X: np.ndarray        # (1, 2): one sample, as a row
    Y: np.ndarray        # (1, 1)
    activation: str
    forward: list        # Steps of the forward pass (a1, h1, ŷ, L)
    backward: list       # Steps of the backward pass (δ⁽²⁾ ... ∂L/∂b1)

    @property
    def steps(self):
        return self.forward + self.backward

    def value(self, key):
        """The value of the step called ``key`` (e.g. example.value("delta1"))."""
        for step in self.steps:
            if step.key == key:
                return step.value
        raise KeyError(f"no step {key!r}: the steps are {', '.join(s.key for s in self.steps)}")


TEXTBOOK = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def example_network(activation="relu", parameters=None):
    """The 2-2-1 network of the example, with the textbook's W1, b1, W2, b2 set in place
    (or those of ``parameters``, a dict with the same four keys)."""
    parameters = TEXTBOOK if parameters is None else parameters
    hidden = Dense(2, 2, activation=activation, rng=0)
    output = Dense(2, 1, activation="identity", rng=0)
    hidden.W[...] = parameters["W1"]
    hidden.b[...] = parameters["b1"]
    output.W[...] = parameters["W2"]
    output.b[...] = parameters["b2"]
    return Network([hidden, output], loss="half_mse")


def column(array):
    """The single column of an (n, 1) array as a vector, or a number when n = 1."""
    vector = np.array(array[:, 0], dtype=np.float64)
    return float(vector[0]) if vector.size == 1 else vector


def worked_example(x=X_EXAMPLE, y=Y_EXAMPLE, activation="relu", parameters=None):
    """Run the example through the real network and return every named quantity.

    x: two numbers (the input), y: one number (the target), activation: the
    hidden layer's φ (any of the package's activations), parameters: W1, b1, W2,
    b2 as a dict (None: the textbook's). Returns an Example.
    """
    phi = get_activation(activation).name
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size != 2:
        raise ValueError(f"x must have 2 values (the network has 2 inputs), got {x.size}")
    y = float(y)
    if not (np.all(np.isfinite(x)) and np.isfinite(y)):
        raise ValueError("x and y must be finite numbers")
    net = example_network(phi, parameters)
    hidden, output = net.layers
    X, Y = x.reshape(1, 2), np.array([[y]])

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
        y_hat = float(net.forward(X)[0, 0])
        L = net.backward(Y)  # J = the mean over one sample = L

    # φ'(a1): the activation's own derivative, on the a1 and h1 the forward pass cached
    phi_prime = hidden.activation.phi_prime(hidden.a, hidden.h)

    forward = [
        Step("a1", "a1", "forward", "W1 x + b1", column(hidden.a), "net.layers[0].a"),
        Step("h1", "h1", "forward", f"φ(a1) = {phi}(a1)", column(hidden.h), "net.layers[0].h"),
        Step("y_hat", "ŷ", "forward", "a2 = W2 h1 + b2", y_hat, "net.forward(X)"),
        Step("L", "L", "loss", "½(ŷ − y)²", L, "net.backward(Y)"),
    ]
    backward = [
        Step("delta2", "δ⁽²⁾", "BP1", "∂L/∂a2 = ŷ − y", column(output.delta),
             "net.layers[1].delta"),
        Step("grad_W2", "∂L/∂W2", "BP3", "δ⁽²⁾ h1ᵀ", output.grad_W.copy(),
             "net.layers[1].grad_W"),
        Step("grad_b2", "∂L/∂b2", "BP4", "δ⁽²⁾", float(output.grad_b[0]),
             "net.layers[1].grad_b"),
        Step("grad_h1", "∂L/∂h1", "chain", "W2ᵀ δ⁽²⁾", column(output.grad_h_prev),
             "net.layers[1].grad_h_prev"),
        Step("phi_prime_a1", "φ'(a1)", "φ'", f"{phi}'(a1)", column(phi_prime),
             "net.layers[0].activation.phi_prime"),
        Step("delta1", "δ⁽¹⁾", "BP2", "φ'(a1) ⊙ W2ᵀ δ⁽²⁾", column(hidden.delta),
             "net.layers[0].delta"),
        Step("grad_W1", "∂L/∂W1", "BP3", "δ⁽¹⁾ xᵀ", hidden.grad_W.copy(),
             "net.layers[0].grad_W"),
        Step("grad_b1", "∂L/∂b1", "BP4", "δ⁽¹⁾", hidden.grad_b.copy(),
             "net.layers[0].grad_b"),
    ]
    example = Example(net, X, Y, phi, forward, backward)
    if not all(np.all(np.isfinite(step.value)) for step in example.steps):
        raise ValueError(f"with x = ({x[0]:g}, {x[1]:g}) and y = {y:g} the numbers overflow "
                         f"float64 (L = {L:g}): choose x and y between -1e100 and 1e100")
    return example


def random_example(seed, activation="relu", low=-2, high=2):
    """The same 2-2-1 network with small integer x, y, W1, b1, W2, b2 drawn from ``seed``.

    Every entry is an integer in [low, high]. A draw is kept only when it teaches
    something: x and W2 have no zero entry (no gradient is 0 for a trivial reason),
    no a1_i sits on a kink (a1_i = 0), some hidden unit is on (a1_i > 0, for relu and
    leaky_relu) and ŷ ≠ y (else every gradient is 0). The same seed gives the same example.
    """
    rng = np.random.default_rng(seed)

    def draw(*shape):
        return rng.integers(low, high + 1, size=shape).astype(np.float64)

    for _ in range(1000):
        x, y = draw(2), float(draw(1)[0])
        parameters = {"W1": draw(2, 2), "b1": draw(2), "W2": draw(1, 2), "b2": draw(1)}
        if not (np.all(x != 0) and np.all(parameters["W2"] != 0)):
            continue
        example = worked_example(x, y, activation, parameters)
        if on_kink(example) or example.value("y_hat") == y:
            continue
        if example.activation in ("relu", "leaky_relu") and \
                not np.any(np.asarray(example.value("a1")) > 0):
            continue
        return example
    raise ValueError(f"no usable example among 1000 draws with entries in [{low}, {high}]")


def on_kink(example):
    """Indices i where a1_i = 0 exactly and φ has a kink there (relu, leaky_relu).

    There φ'(a1_i) is a subgradient convention (0 for ReLU), while a central
    difference averages the slopes on both sides: gradcheck disagrees, rightly.
    """
    if example.activation not in ("relu", "leaky_relu"):
        return []
    return [int(i) for i in np.flatnonzero(np.asarray(example.value("a1")) == 0)]


# -- numbers as a student writes them ------------------------------------------

def exact(number, max_denominator=1000, digits=6):
    """A number as the shortest exact fraction when there is one, else a decimal.

    25/8 is printed as "25/8" (3.125 is exactly 25/8); 0.7310585786300049 (σ(1))
    has no small fraction that gives back the same float, so it stays a decimal,
    with ``digits`` significant digits.
    """
    number = float(number) + 0.0  # + 0.0 turns IEEE's −0 (0 × −5) into 0
    if not np.isfinite(number):
        return str(number)
    if abs(number) >= 1e9:  # 1e20 is an exact integer too, but nobody writes it out
        return f"{number:.{digits}g}"
    fraction = Fraction(number).limit_denominator(max_denominator)
    if float(fraction) == number:
        return str(fraction)
    return f"{number:.{digits}g}"


def exact_value(value):
    """exact() applied to a number, or to every entry of a vector or matrix (nested lists)."""
    if isinstance(value, np.ndarray) and value.ndim:
        return [exact_value(entry) for entry in value]
    return exact(value)


def format_value(value, marks=None):
    """A number, a vector (a, b) or a matrix [[a, b], [c, d]], with exact() entries; an entry
    whose ``marks`` entry (booleans shaped like value) is true gets a * (e.g. 0* for a zero
    that comes from φ′ = 0)."""
    value = np.asarray(value, dtype=np.float64)
    marks = np.zeros(value.shape, bool) if marks is None else np.asarray(marks, dtype=bool)
    if value.ndim == 2:
        return "[" + ", ".join(format_value(row, row_marks)[1:-1].join("[]")
                               for row, row_marks in zip(value, marks)) + "]"
    if value.ndim == 1:
        return "(" + ", ".join(format_value(v, m) for v, m in zip(value, marks)) + ")"
    return exact(value) + ("*" if marks else "")


def json_number(value):
    """A number, or every entry of a vector or matrix (nested lists), as JSON numbers:
    no −0 (0 × −5 is 0), and null for inf or nan."""
    if isinstance(value, np.ndarray) and value.ndim:
        return [json_number(entry) for entry in value]
    value = float(value) + 0.0
    return value if np.isfinite(value) else None


def as_data(example):
    """The example as JSON-ready data: inputs, parameters and every step, as numbers and as text."""
    number = json_number

    def step(s):
        return {"key": s.key, "symbol": s.symbol, "equation": s.equation, "formula": s.formula,
                "value": number(s.value), "exact": exact_value(s.value), "source": s.source}

    hidden, output = example.network.layers
    return {
        "network": "2-2-1: hidden Dense(2, 2), output Dense(2, 1, identity), loss ½(ŷ − y)²",
        "activation": example.activation,
        "x": number(example.X[0]),
        "y": float(example.Y[0, 0]),
        "parameters": {"W1": number(hidden.W), "b1": number(hidden.b),
                       "W2": number(output.W), "b2": number(output.b)},
        "forward": [step(s) for s in example.forward],
        "backward": [step(s) for s in example.backward],
    }
