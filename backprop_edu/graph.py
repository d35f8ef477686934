"""The computational graph of a small network, one sample: every quantity, its value, its gradient.

    net = example_network()                        # the textbook's 2-2-1 network
    graph = computational_graph(net, x=(2, -1), y=1)
    graph["nodes"]    # x, W_1, b_1, a_1, h_1, W_2, b_2, a_2, y_hat, J: value and ∂J/∂(node)
    graph["edges"]    # forward (what a node is computed from) and backward (the gradient
                      # it sends back, named after its equation: BP1..BP4 or the hand-down)

Backpropagation is first taught as messages on a graph: values flow forward, gradients
flow back, and where a value is used twice its gradients add. This module builds that
graph for a Network of Dense, Residual and TiedDense layers, as plain data (dicts, lists,
JSON numbers), ready for ``json.dump`` and for ``plots.plot_graph``.

Nothing here computes a gradient. It runs ``net.forward`` and ``net.backward`` once and
reads every number back from the package: a_l, h_l, δ^(l), grad_W, grad_b, grad_h_prev
from the layers, ∇_ŷ J from ``net.loss_gradient``, the sum over a shared parameter's uses
from ``Network.parameters()[k].grad``, and the two parts of a residual block's hand-down
from ``grad_h_prev_parts``. A node whose gradient is such a sum keeps its parts.

A zero in δ^(l) (and so in that row of ∇W_l and entry of ∇b_l) that comes from
φ′(a_l) = 0, a ReLU unit that is off, is marked ("zero_from_phi_prime").

Three small networks to draw: ``example_network`` (backprop_edu.example's 2-2-1),
``tied_network`` (a tied autoencoder: W used by the encoder and, transposed, by the
decoder) and ``residual_network`` (a residual block between the example's two layers).

What is left out: drawing (plots.plot_graph), and networks too large to read on a
page (more than MAX_UNITS units in a layer, more than MAX_LAYERS layers).
"""

import numpy as np

from backprop_edu.example import X_EXAMPLE, Y_EXAMPLE, example_network, exact_value, json_number
from backprop_edu.layers import Dense
from backprop_edu.network import Network
from backprop_edu.residual import Residual
from backprop_edu.tied import TiedDense

MAX_UNITS = 8    # widest layer drawn: an 8 × 8 W is still readable on a node
MAX_LAYERS = 6   # deepest network drawn
DRAWN_LAYERS = (Dense, Residual, TiedDense)
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUPERSCRIPTS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def sub(l):
    """3 -> '₃'."""
    return str(l).translate(SUBSCRIPTS)


def delta_symbol(l):
    """3 -> 'δ⁽³⁾'."""
    return "δ" + f"({l})".translate(SUPERSCRIPTS)


# -- the three small networks -------------------------------------------------------

def tied_network(activation="relu"):
    """A tied autoencoder x -> h1 = φ(W1 x + b1) -> x̂ = W1ᵀ h1 + b2, loss ½‖x̂ − x‖².

    W1 and b1 are the worked example's; the decoder (TiedDense) uses W1 itself, transposed,
    and b2 = (0, 1/2). Its target is its input x.
    """
    net = example_network(activation)
    encoder = net.layers[0]
    decoder = TiedDense.transposing(encoder, activation="identity")
    decoder.b[...] = (0.0, 0.5)
    return Network([encoder, decoder], loss="half_mse")


def residual_network(activation="relu"):
    """The worked example's two layers with a residual block between them:
    h1 = φ(W1 x + b1), h2 = h1 + φ(W2 h1 + b2), ŷ = W3 h2 + b3.

    W1, b1 and W3, b3 are the example's (its W1, b1, W2, b2); the block has
    W2 = [[1/2, 1], [−1, 1]], b2 = 0: with x = (2, −1) both paths into h1 carry a gradient.
    """
    example = example_network(activation)
    hidden, output = example.layers
    block = Residual(2, activation=activation, rng=0)
    block.W[...] = ((0.5, 1.0), (-1.0, 1.0))
    block.b[...] = 0.0
    return Network([hidden, block, output], loss="half_mse")


# -- checking what can be drawn -----------------------------------------------------

def check_drawable(net):
    """A ValueError (one line) unless every layer is Dense, Residual or TiedDense, has at most
    MAX_UNITS units in and out, and there are at most MAX_LAYERS layers."""
    if len(net.layers) > MAX_LAYERS:
        raise ValueError(f"the network has {len(net.layers)} layers; the graph draws at most "
                         f"{MAX_LAYERS} layers of at most {MAX_UNITS} units each")
    for l, layer in enumerate(net.layers, start=1):
        if type(layer) not in DRAWN_LAYERS:
            raise ValueError(f"layer {l} is {layer!r}; the graph draws Dense, Residual and "
                             "TiedDense layers only")
        widest = max(layer.n_in, layer.n_out)
        if widest > MAX_UNITS:
            raise ValueError(f"layer {l} has {widest} units; the graph draws layers of at most "
                             f"{MAX_UNITS} units (inputs and outputs), so that every number "
                             "fits on its node")


# -- the graph --------------------------------------------------------------------------

def computational_graph(net, x=X_EXAMPLE, y=Y_EXAMPLE):
    """The graph of ``net`` on one sample: {"nodes": [...], "edges": [...], ...}, JSON-ready.

    x: the input (n_in numbers); y: the target as the loss wants it (n_out numbers, or a
    class index for softmax_cross_entropy). Runs one training pass and one backward pass
    (with ∂J/∂x), and reads every value and gradient back from the network.

    A node: {"id", "label", "kind", "layer", "shape", "value", "grad", "grad_symbol",
    "grad_source", "parts", "zero_from_phi_prime", "value_exact", "grad_exact"}; "parts" is
    None, or the list of contributions whose sum is "grad" ({"via", "equation", "grad",
    "source"}); "zero_from_phi_prime" is None or booleans shaped like "grad".
    An edge: {"from", "to", "direction": "forward" | "backward", "equation", "formula"}.
    """
    check_drawable(net)
    X = np.asarray(x, dtype=np.float64).reshape(1, -1)
    if X.shape[1] != net.n_in:
        raise ValueError(f"x has {X.shape[1]} values, but the network has {net.n_in} inputs")
    Y = np.asarray(y).reshape(1, -1) if net.loss.name != "softmax_cross_entropy" \
        else np.asarray(y).reshape(1)
    target = np.asarray(Y, dtype=np.float64).ravel()  # a class index, or n_out numbers
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
        net.forward(X)
        J = net.backward(Y, input_gradient=True)
        _, grad_y_hat = net.loss_gradient(Y)   # ∇_ŷ J, what the loss hands to the output layer
        builder = GraphBuilder(net)
        builder.build(X, grad_y_hat, J)
    if not all(finite(node[field]) for node in builder.nodes for field in ("value", "grad")):
        raise ValueError(f"with x = {json_number(X[0])} the numbers overflow float64: choose x "
                         "and y of a moderate size (say between -1e6 and 1e6)")
    return {"network": repr(net), "loss": net.loss.name,
            "x": json_number(X[0]), "y": json_number(target if target.size > 1 else target[0]),
            "J": json_number(J), "nodes": builder.nodes, "edges": builder.edges,
            "sums": [node["id"] for node in builder.nodes if node["parts"]]}


def finite(value):
    """No null (inf or nan, as json_number writes them) anywhere in a JSON number or list."""
    if isinstance(value, list):
        return all(finite(entry) for entry in value)
    return value is not None


def column(array):
    """The one column of an (n, 1) array (one sample) as a vector."""
    return np.asarray(array)[:, 0]


LOSS_FORMULAS = {"half_mse": "J = ½‖ŷ − y‖²", "softmax_cross_entropy": "J = −log softmax(ŷ)_y",
                 "binary_cross_entropy": "J = −y·log ŷ − (1 − y)·log(1 − ŷ)"}


class GraphBuilder:
    """Walks the network bottom up, adding a node per quantity and the edges between them."""

    def __init__(self, net):
        self.net = net
        self.nodes, self.edges = [], []
        self.parameters = {id(p.value): (k, p) for k, p in enumerate(net.parameters())}
        self.drawn_parameters = set()

    # -- adding nodes and edges

    def node(self, id, label, formula, kind, layer, value, grad, grad_symbol, grad_source,
             parts=None, zero=None):
        """Add a node; ``parts``: [{"via", "equation", "grad", "source", "zero"}, ...]."""
        value = np.asarray(value, dtype=np.float64)
        one = value.shape == (1,)  # a single unit: a number, as the example writes ŷ = 7/2

        def shown(array):
            array = np.asarray(array)
            return array[0] if one else array

        def marks(zero):
            return shown(zero).tolist() if zero is not None and np.any(zero) else None

        self.nodes.append({
            "id": id, "label": label, "formula": formula, "kind": kind, "layer": layer,
            "shape": list(value.shape), "value": json_number(shown(value)),
            "grad": json_number(shown(grad)), "grad_symbol": grad_symbol,
            "grad_source": grad_source, "value_exact": exact_value(shown(value)),
            "grad_exact": exact_value(shown(np.asarray(grad, dtype=np.float64))),
            "zero_from_phi_prime": marks(zero),
            "parts": [{"via": part["via"], "equation": part["equation"],
                       "grad": json_number(shown(part["grad"])), "source": part["source"],
                       "zero_from_phi_prime": marks(part.get("zero"))}
                      for part in parts] if parts else None})
        return id

    def edge(self, source, target, direction, equation, formula):
        self.edges.append({"from": source, "to": target, "direction": direction,
                           "equation": equation, "formula": formula})

    def label_of(self, layer, name):
        """'W₁': the label of the node of ``layer``'s parameter ``name`` (a shared one's first)."""
        _, parameter = self.parameters[id(getattr(layer, name))]
        return name + sub(parameter.name.rsplit("_", 1)[1])

    def mark(self, layer, name):
        """Entries of grad_<name> of ``layer`` (of δ for name "delta") that are 0 because
        φ′(a_l) = 0: the entry of a unit that is off in δ and ∇b, its row of ∇W (its
        column for a transposed use, TiedDense)."""
        off = column(layer.activation.phi_prime(layer.a, layer.h)) == 0
        grad = column(layer.delta) if name == "delta" else getattr(layer, "grad_" + name)
        if name == "W":
            off = off[None, :] if isinstance(layer, TiedDense) else off[:, None]
        return np.broadcast_to(off, grad.shape) & (grad == 0)

    # -- the walk

    def build(self, X, grad_y_hat, J):
        net, L = self.net, len(self.net.layers)
        below = self.node("x", "x", "x = h₀ (the input)", "input", 0, X[0],
                          column(net.layers[0].grad_h_prev), "∂J/∂x",
                          "net.layers[0].grad_h_prev", self.hand_down_parts(0))
        for l, layer in enumerate(net.layers, start=1):
            below = self.layer(l, layer, below, grad_y_hat if l == L else None)
        self.node("J", "J", LOSS_FORMULAS[net.loss.name], "loss", None, np.asarray(J),
                  np.asarray(1.0), "∂J/∂J", "1")
        self.edge(below, "J", "forward", "loss", LOSS_FORMULAS[net.loss.name])
        self.edge("J", below, "backward", "loss", "∇ŷJ: the loss's gradient")

    def hand_down_parts(self, l):
        """The two parts of ∂J/∂h_l when layer l + 1 is a residual block: its identity path
        and its branch (Residual.grad_h_prev_parts); None otherwise."""
        if l >= len(self.net.layers) or not isinstance(self.net.layers[l], Residual):
            return None
        parts = self.net.layers[l].grad_h_prev_parts
        after = "y_hat" if l + 1 == len(self.net.layers) else f"h_{l + 1}"
        return [{"via": after, "equation": "identity", "grad": column(parts["identity"]),
                 "source": f"net.layers[{l}].grad_h_prev_parts['identity']"},
                {"via": f"a_{l + 1}", "equation": "hand-down", "grad": column(parts["branch"]),
                 "source": f"net.layers[{l}].grad_h_prev_parts['branch']"}]

    def layer(self, l, layer, below, grad_y_hat):
        """The nodes of layer l above ``below`` (the id of h_{l−1}); returns the id of h_l."""
        net, top = self.net, l == len(self.net.layers)
        s, before, i, delta = sub(l), f"h{sub(l - 1)}", l - 1, delta_symbol(l)
        phi = layer.activation.name
        transposed = isinstance(layer, TiedDense)
        W, b = self.label_of(layer, "W"), self.label_of(layer, "b")
        uses_W = W + "ᵀ" if transposed else W

        a = self.node(f"a_{l}", f"a{s}", f"a{s} = {uses_W} {before} + {b}", "pre-activation",
                      l, column(layer.a), column(layer.delta), delta, f"net.layers[{i}].delta",
                      zero=self.mark(layer, "delta"))
        self.edge(below, a, "forward", "forward", f"a{s} = {uses_W} {before} + {b}")
        for name in layer.params:
            self.parameter(l, layer, name, a)
        hand_down = f"{W} {delta}" if transposed else f"{W}ᵀ {delta}"  # (Wᵀ)ᵀ = W
        self.edge(a, below, "backward", "hand-down", f"∂J/∂{before} = {hand_down}")

        if top:  # the output h_L = ŷ: its gradient is the loss's
            out_id, out_label, out_kind, grad_out = "y_hat", "ŷ", "output", "∂J/∂ŷ"
            out_value, out_grad = column(net.output), column(grad_y_hat)
            out_source, out_parts = "net.loss_gradient(Y)", None
        else:    # h_l: its gradient is what layer l + 1 hands down
            out_id, out_label, out_kind, grad_out = f"h_{l}", f"h{s}", "activation", f"∂J/∂h{s}"
            out_value, out_grad = column(net.layers[l].h_prev), column(net.layers[l].grad_h_prev)
            out_source, out_parts = f"net.layers[{l}].grad_h_prev", self.hand_down_parts(l)
        bp = ("BP1", f"{delta} = φ′(a{s}) ⊙ ∂J/∂ŷ") if top else \
            ("BP2", f"{delta} = φ′(a{s}) ⊙ ∂J/∂h{s}")

        if not isinstance(layer, Residual):
            formula = f"ŷ = h{s} = {phi}(a{s})" if top else f"h{s} = {phi}(a{s})"
            h = self.node(out_id, out_label, formula, out_kind, l, out_value, out_grad,
                          grad_out, out_source, out_parts)
            self.edge(a, h, "forward", "forward", formula)
            self.edge(h, a, "backward", *bp)
            return h

        # a residual block: h_l = h_{l−1} + φ(a_l), the branch φ(a_l) as a node of its own
        branch = f"φ(a{s})"
        f = self.node(f"phi_{l}", branch, f"{branch} = {phi}(a{s})", "branch", l,
                      column(layer.h), column(layer.grad_h_prev_parts["identity"]), grad_out,
                      f"net.layers[{i}].grad_h_prev_parts['identity']")
        self.edge(a, f, "forward", "forward", f"{branch} = {phi}(a{s})")
        self.edge(f, a, "backward", *bp)
        formula = f"{out_label} = {before} + {branch}"
        h = self.node(out_id, out_label, formula, out_kind, l, out_value, out_grad, grad_out,
                      out_source, out_parts)
        self.edge(f, h, "forward", "forward", formula)
        self.edge(h, f, "backward", "copy", f"∂J/∂{branch} = {grad_out}")
        self.edge(below, h, "forward", "identity", formula)
        self.edge(h, below, "backward", "identity", f"∂J/∂{before} gets {grad_out} (identity)")
        return h

    def parameter(self, l, layer, name, a):
        """The node of parameter ``name`` of layer l (once, for a shared one) and its edges."""
        k, parameter = self.parameters[id(getattr(layer, name))]
        node_id, label, s, delta = parameter.name, self.label_of(layer, name), sub(l), \
            delta_symbol(l)
        shared = len(parameter.places) > 1
        adds = "+=" if shared else "="
        if name == "W" and isinstance(layer, TiedDense):
            equation, formula = "BP3", f"∇{label} {adds} h{sub(l - 1)} {delta}ᵀ (used as {label}ᵀ)"
        elif name == "W":
            equation, formula = "BP3", f"∇{label} {adds} {delta} h{sub(l - 1)}ᵀ"
        else:
            equation, formula = "BP4", f"∇{label} {adds} {delta}"
        self.edge(node_id, a, "forward", "forward", f"a{s} uses {label}")
        self.edge(a, node_id, "backward", equation, formula)
        if node_id in self.drawn_parameters:
            return
        self.drawn_parameters.add(node_id)
        parts, mark = None, self.mark(layer, name)
        if shared:  # one array, several uses: the gradients add (Parameter.grad is their sum)
            parts = []
            for place_layer, place_name in parameter.places:
                j = self.net.layers.index(place_layer)
                parts.append({"via": f"a_{j + 1}", "equation": equation,
                              "grad": getattr(place_layer, "grad_" + place_name),
                              "source": f"net.layers[{j}].grad_{place_name}",
                              "zero": self.mark(place_layer, place_name)})
            mark = np.logical_and.reduce([part["zero"] for part in parts])
        uses = " and ".join(f"a{sub(self.net.layers.index(place[0]) + 1)}"
                            for place in parameter.places)
        formula = f"{label} (used by {uses})" if shared else label
        self.node(node_id, label, formula, "parameter", l, parameter.value, parameter.grad,
                  f"∇{label}", f"net.parameters()[{k}].grad", parts, mark)
