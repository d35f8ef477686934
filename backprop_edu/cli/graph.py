"""`backprop-edu graph`: the computational graph of a small network, with BP1..BP4 on its edges.

The graph (every node's value and gradient) comes from backprop_edu.graph, which runs
the real network once; the figure from backprop_edu.graph_figure. This module picks the
network (the worked example, --tied, --residual or --model), parses x and y, prints the
nodes, and writes the figure (-o) and the numbers (--json).
"""

import click

from backprop_edu.activations import ACTIVATIONS, get_activation
from backprop_edu.cli.options import (distinct_outputs, figure_path, json_option, parse_number,
                                      parse_numbers, print_or_write, wrote_figure)
from backprop_edu.example import format_value


@click.command("graph")
@click.option("--x", "x_text", default=None, metavar="X1,X2,...",
              help="The input x: one number per input, e.g. 2,-1 or 0.5,1/3. "
                   "[default: 2,-1, the worked example's]")
@click.option("--y", "y_text", default=None, metavar="Y",
              help="The target y: one number per output (a class index for a classifier "
                   "--model). [default: 1; 0 for a --model; --tied: x itself]")
@click.option("--activation", default="relu", show_default=True,
              help=f"The hidden layers' φ: {', '.join(ACTIVATIONS)}.")
@click.option("--tied", is_flag=True, default=False,
              help="Draw a tied autoencoder: one W used by the encoder and, transposed, by the "
                   "decoder; its gradient is the sum of both uses. [default: off]")
@click.option("--residual", is_flag=True, default=False,
              help="Put a residual block between the example's two layers: two paths into "
                   "one node, whose gradients add. [default: off]")
@click.option("--model", default=None, type=click.Path(dir_okay=False), metavar="PATH",
              help="Draw a saved network (train --save, Network.save) with its own weights; "
                   "at most 8 units in every layer and 6 layers. x is fed to it as it is. "
                   "[default: none]")
@click.option("-o", "--output", default=None, callback=figure_path, metavar="PATH",
              help="Figure to write (.png, .svg, .pdf). [default: none]")
@json_option("every node's value and gradient")
@click.pass_context
def graph(ctx, x_text, y_text, activation, tied, residual, model, output, json_output):
    """Draw the computational graph: every quantity, its value and its gradient ∂J/∂(node).

    One node per quantity (x, W_l, b_l, a_l, h_l, ŷ, J), for one sample. Values flow
    forward (grey arrows); gradients flow back (red arrows), each labelled with the
    equation it carries: BP1 into a_L, BP2 into a_l, BP3 into W_l, BP4 into b_l, and
    the hand-down W_lᵀ δ^(l) into h_{l−1}. A zero that comes from φ′(a) = 0 (a ReLU unit
    that is off) is marked 0*. Where a value is used twice (--tied, --residual), its
    gradient is the sum of the two paths: the node shows both parts and the sum.

    Every number is the package's own (net.forward, net.backward), as printed here.

    \b
    Examples:
      backprop-edu graph -o graph.png                 the worked example (2-2-1, ReLU)
      backprop-edu graph --tied -o tied.png           one W used twice: ∇W adds
      backprop-edu graph --residual -o residual.png   two paths into h1
      backprop-edu graph --json graph.json            the numbers, for a script
      backprop-edu graph --model model.npz --x 0.5,-1 -o model.svg
    """
    from backprop_edu.graph import (check_drawable, computational_graph, example_network,
                                    residual_network, tied_network)

    explicit = {name for name in ("activation", "y_text")
                if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
    if tied and residual:
        raise click.UsageError("--tied and --residual draw two different networks: give one")
    if model and (tied or residual):
        raise click.UsageError("--model draws the saved network as it is: leave out "
                               f"{'--tied' if tied else '--residual'}")
    if model and "activation" in explicit:
        raise click.UsageError("--model draws the saved network with its own activations: "
                               "leave out --activation")
    if tied and "y_text" in explicit:
        raise click.UsageError("the tied autoencoder's target is its input x: leave out --y")
    distinct_outputs(model=model, output=output, json=json_output)
    get_activation(activation)  # an unknown name: one line, before any work

    if model:
        net, kind = load_network(model), f"the network saved in {model}"
        check_drawable(net)  # too wide or too deep: one line, before asking for --x
    elif tied:
        net, kind = tied_network(activation), f"a tied autoencoder (φ = {activation})"
    elif residual:
        net, kind = residual_network(activation), f"the worked example with a residual block " \
                                                   f"(φ = {activation})"
    else:
        net, kind = example_network(activation), f"the worked example (2-2-1, φ = {activation})"
    x = (2.0, -1.0) if x_text is None and net.n_in == 2 else parse_x(x_text, net.n_in)
    y = x if tied else parse_y(y_text, net, model is not None)
    data = computational_graph(net, x, y)

    if output:
        from backprop_edu.graph_figure import plot_graph

        plot_graph(data, output)
    print_or_write(graph_text(data, kind), data, json_output)
    if output:
        wrote_figure(output, json_output)


def load_network(path):
    """A network saved by Network.save (or train --save); a one-line error otherwise."""
    from backprop_edu.network import Network

    return Network.load(path)  # a ValueError or FileNotFoundError says what the file is not


def parse_x(text, n_in):
    """--x: n_in numbers. With no --x, a network without 2 inputs needs one."""
    if text is None:
        raise click.UsageError(f"the network has {n_in} inputs: give --x with {n_in} "
                               f"comma-separated numbers, e.g. --x {','.join(['0'] * n_in)}")
    return parse_numbers(text, "--x", n_in, f"the network has {n_in} inputs",
                         ",".join(["1"] * n_in))


def parse_y(text, net, from_model):
    """--y as the network's loss wants it: a class index for softmax_cross_entropy, else one
    number per output. Without --y: 1 for the built-in networks, 0 (or class 0) for a model."""
    n_out, loss = net.n_out, net.loss.name
    if loss == "softmax_cross_entropy":
        if text is None:
            return 0
        label = parse_number(text, "--y")
        if label != int(label) or not 0 <= label < n_out:
            raise click.ClickException(f"--y {text!r} must be a class index, an integer from 0 "
                                       f"to {n_out - 1} (the network has {n_out} classes)")
        return int(label)
    if text is None:
        return (0.0 if from_model else 1.0,) * n_out
    return parse_numbers(text, "--y", n_out, f"the network has {n_out} output"
                         f"{'s' if n_out != 1 else ''}", ",".join(["1"] * n_out))


def graph_text(data, kind):
    """What graph prints: one line per node, its value and gradient (and a sum's parts)."""
    labels = {node["id"]: node["label"] for node in data["nodes"]}
    width = max(len(format_value(node["value"])) for node in data["nodes"])
    lines = [f"The computational graph of {kind}, one sample:",
             f"  x = {format_value(data['x'])}, y = {format_value(data['y'])}, "
             f"J = {format_value(data['J'])}",
             f"  {'node':<6} {'value':<{width}}  gradient"]
    for node in data["nodes"]:
        lines.append(f"  {node['label']:<6} {format_value(node['value']):<{width}}  "
                     f"{node['grad_symbol']} = "
                     f"{format_value(node['grad'], node['zero_from_phi_prime'])}")
        for part in node["parts"] or []:
            lines.append(f"  {'':<6} {'':<{width}}    from {labels[part['via']]}: "
                         f"{format_value(part['grad'], part['zero_from_phi_prime'])}")
        if node["parts"]:
            lines.append(f"  {'':<6} {'':<{width}}    (the gradients of {len(node['parts'])} "
                         "paths add)")
    if any(node["zero_from_phi_prime"] for node in data["nodes"]):
        lines.append("0*: a zero that comes from φ′(a) = 0 (a ReLU unit that is off)")
    return "\n".join(lines)
