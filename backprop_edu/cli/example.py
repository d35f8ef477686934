"""`backprop-edu example`: the textbook's worked example, every step printed and named.

The numbers come from backprop_edu.example, which runs the real Network; this
module only parses options and prints (or writes them as JSON: --json PATH, or
--json - instead of the text).
"""

from fractions import Fraction

import click

from backprop_edu.activations import ACTIVATIONS
from backprop_edu.cli.check import gradcheck_data
from backprop_edu.cli.options import json_option, print_or_write
from backprop_edu.example import as_data, format_value, on_kink, worked_example
from backprop_edu.gradcheck import gradcheck


def parse_number(text, option):
    """'2', '-1', '0.5', '1/2' or '1e-3' -> a float; a one-line error otherwise."""
    try:
        return float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise click.ClickException(
            f"{option} {text!r} is not a finite number: write e.g. 2, -1, 0.5 or 1/2") from None


def parse_x(text):
    """'2,-1' -> (2.0, -1.0): exactly two numbers, the network's two inputs."""
    parts = text.split(",")
    if len(parts) != 2:
        raise click.ClickException(
            f"--x needs 2 comma-separated numbers (the network has 2 inputs), "
            f"got {len(parts)}: {text!r}; e.g. --x 2,-1")
    return tuple(parse_number(part, "--x value") for part in parts)


def step_lines(title, steps):
    """The title, then one line per step: its equation (BP1..BP4), formula and value."""
    lines = [title]
    for step in steps:
        label = step.equation if step.equation.startswith("BP") else ""  # BP1..BP4
        left = f"{step.symbol} = {step.formula}"
        lines.append(f"  {label:<4}  {left:<28} = {format_value(step.value)}")
    return lines


@click.command("example")
@click.option("--x", "x_text", default="2,-1", show_default=True, metavar="X1,X2",
              help="The input x: two numbers, e.g. 2,-1 or 0.5,1/3.")
@click.option("--y", "y_text", default="1", show_default=True, metavar="Y",
              help="The target y: one number.")
@click.option("--activation", default="relu", show_default=True,
              help=f"The hidden layer's φ: {', '.join(ACTIVATIONS)}.")
@json_option("the same quantities")
@click.option("--check", is_flag=True, default=False,
              help="Also compare backprop's gradients with finite differences "
                   "(gradcheck). [default: off]")
def example(x_text, y_text, activation, json_output, check):
    """Walk through the textbook's worked example: a 2-2-1 network, one sample.

    \b
    x = (2, -1), y = 1, W1 = [[1, -1], [1/2, 2]], b1 = (0, -1),
    W2 = [[1, -2]], b2 = 1/2, hidden layer φ = ReLU, linear output,
    loss L = ½(ŷ − y)².

    It runs through the real Network and prints the forward pass (a1, h1, ŷ, L)
    and the backward pass (BP1, BP3/BP4 for layer 2, ∂L/∂h1 = W2ᵀ δ⁽²⁾,
    φ'(a1) and BP2, BP3/BP4 for layer 1), each line named after its equation.
    Numbers are exact fractions where the float is one (25/8), else decimals.

    \b
    Try:  backprop-edu example --activation sigmoid
          backprop-edu example --x 1,1 --check     (a1 lands on ReLU's kink)
    """
    x = parse_x(x_text)
    y = parse_number(y_text, "--y")
    result = worked_example(x, y, activation)  # a ValueError names a wrong activation
    kinks = on_kink(result)
    report = gradcheck(result.network, result.X, result.Y) if check else None

    data = as_data(result)
    if report is not None:
        data["gradcheck"] = {**gradcheck_data(report), "kinks": kinks}
    print_or_write(example_text(result, kinks, report), data, json_output)


def example_text(result, kinks, report):
    """What example prints: the numbers, both passes step by step, the kinks, the check."""
    hidden, output = result.network.layers
    lines = [f"The worked example: a 2-2-1 network, hidden φ = {result.activation}, "
             "linear output, L = ½(ŷ − y)²",
             f"  x  = {format_value(result.X[0])}    y  = {format_value(result.Y[0, 0])}",
             f"  W1 = {format_value(hidden.W)}    b1 = {format_value(hidden.b)}",
             f"  W2 = {format_value(output.W)}    b2 = {format_value(output.b[0])}",
             "", *step_lines("Forward pass", result.forward),
             "", *step_lines("Backward pass", result.backward)]
    for i in kinks:
        subgradient = format_value(result.value("phi_prime_a1")[i])
        lines.append(f"\nnote: a1_{i + 1} = 0 sits on {result.activation}'s kink, where φ' does "
                     f"not exist; the code uses the subgradient φ'(0) = {subgradient}")
    if report is not None:
        lines += ["\nFinite-difference check (gradcheck)", str(report)]
        if report.ok(1e-6):
            lines.append("backprop and finite differences agree")
        elif kinks:
            lines.append("they disagree at the kink: there the central difference averages "
                         "the slopes on both sides, while backprop uses φ'(0)")
        else:
            lines.append("they DISAGREE: a bug in a backward pass?")
    return "\n".join(lines)
