"""`backprop-edu gradcheck`: check BP1–BP4 of a network against finite differences, per layer.

The command builds a network from --layers (as `train` does), draws a seeded
batch of Gaussian inputs and targets, and prints gradcheck's table: for every
layer the largest relative error between backprop's ∇W_l, ∇b_l and central
differences (J(θ + ε) − J(θ − ε)) / 2ε. It exits 1 when an error exceeds --tol,
so it can guard a student's own layer in a script; --json writes the table as data.
"""

import click
import numpy as np

from backprop_edu.activations import ACTIVATIONS
from backprop_edu.cli.options import (SEED, FiniteFloatRange, json_option,
                                      parse_layers_with_pooling, print_or_write)
from backprop_edu.gradcheck import gradcheck as check_gradients
from backprop_edu.losses import LOSSES
from backprop_edu import build_network


@click.command(name="gradcheck")
@click.option("--layers", "widths", default="4,8,8,3", show_default=True,
              callback=parse_layers_with_pooling,
              help="Every width, input to output, e.g. 4,8,8,3; maxpoolK or avgpoolK between "
                   "two widths pools windows of K units, e.g. 4,8,maxpool2,3.")
@click.option("--activation", type=click.Choice(list(ACTIVATIONS)), default="tanh",
              show_default=True, help="φ of the hidden layers (the output layer is linear).")
@click.option("--loss", type=click.Choice(list(LOSSES)), default="softmax_cross_entropy",
              show_default=True, help="The loss J whose gradient is checked.")
@click.option("--residual", is_flag=True, default=False,
              help="Make every square hidden layer a residual block h + φ(W h + b).")
@click.option("--samples", type=click.IntRange(min=1), default=8, show_default=True,
              help="Size m of the random batch.")
@click.option("--eps", type=FiniteFloatRange(min=0, min_open=True), default=1e-5,
              show_default=True, help="The finite-difference step ε.")
@click.option("--max-entries", type=click.IntRange(min=1), default=200, show_default=True,
              help="Entries of each W and b checked at most (a seeded subset beyond).")
@click.option("--tol", type=FiniteFloatRange(min=0, min_open=True), default=1e-6,
              show_default=True, help="Exit 1 when a relative error exceeds this.")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seeds the weights, the biases and the batch.")
@json_option("the table")
def gradcheck(widths, activation, loss, residual, samples, eps, max_entries, tol, seed,
              json_output):
    """Check every layer's gradients against central finite differences (float64).

    \b
    Example:
      backprop-edu gradcheck --layers 4,16,16,3 --activation sigmoid
      backprop-edu gradcheck --layers 4,8,8,1 --loss half_mse --residual
      backprop-edu gradcheck --layers 4,12,maxpool3,8,avgpool2,3
    """
    if loss == "softmax_cross_entropy" and widths[-1] < 2:
        raise click.BadParameter("softmax_cross_entropy needs at least 2 outputs",
                                 param_hint="'--layers'")
    rng = np.random.default_rng(seed)
    try:
        net = build_network(widths, activation=activation, loss=loss, residual=residual, rng=rng)
    except ValueError as error:  # e.g. a pooling window that does not divide the width below
        raise click.BadParameter(str(error), param_hint="'--layers'") from None
    for layer in net.layers:  # random biases keep ReLU's kink away from exact zeros
        if "b" in layer.params:
            layer.b[...] = 0.1 * rng.standard_normal(layer.n_out)
    X = rng.standard_normal((samples, widths[0]))
    if loss == "softmax_cross_entropy":
        Y = rng.integers(0, widths[-1], size=samples)
    else:
        Y = rng.standard_normal((samples, widths[-1]))
    result = check_gradients(net, X, Y, eps=eps, max_entries=max_entries, seed=seed)
    data = {"network": repr(net), "samples": samples, "tol": tol, "ok": result.ok(tol),
            **gradcheck_data(result)}
    print_or_write(f"{net!r}\non a batch of {samples} Gaussian samples\n\n{result}", data,
                   json_output)
    if not result.ok(tol):
        click.echo(f"FAIL: an error exceeds --tol {tol:g}", err=True)
        click.get_current_context().exit(1)
    if json_output != "-":
        click.echo(f"OK: every error is below --tol {tol:g}")


def gradcheck_data(result):
    """A GradcheckResult as JSON data: ε, the largest error, and each layer's errors."""
    return {"eps": result.eps, "max_error": result.max_error,
            "layers": [{"layer": row.layer, "shape": list(row.shape),
                        "max_error_W": row.max_error_W, "max_error_b": row.max_error_b}
                       for row in result.rows]}
