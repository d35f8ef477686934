"""`backprop-edu example`: the textbook's worked example, every step printed and named.

The numbers come from backprop_edu.example, which runs the real Network; this
module only parses options and prints (or writes them as JSON: --json PATH, or
--json - instead of the text). With --quiz it asks for each quantity first
(backprop_edu.quiz reads and judges the answers; here they are only asked and told).
"""

import sys

import click

from backprop_edu.activations import ACTIVATIONS
from backprop_edu.cli.check import gradcheck_data
from backprop_edu.cli.options import (SEED, json_option, parse_number, parse_numbers,
                                      print_or_write)
from backprop_edu.example import (as_data, format_value, on_kink, random_example,
                                  worked_example)
from backprop_edu.gradcheck import gradcheck
from backprop_edu.quiz import FORMAT, AnswerError, Verdict, describe_shape, parse_answer, questions


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
@click.option("--quiz", is_flag=True, default=False,
              help="Ask for each quantity (a1, h1, ŷ, J, ∂J/∂ŷ, ∇W2, ∇b2, ∂J/∂h1, δ⁽¹⁾, ∇W1, "
                   "∇b1) before showing it, and score the answers. [default: off]")
@click.option("--random", "seed", type=SEED, default=None, metavar="SEED",
              help="Draw other small integer x, y and weights from SEED (a drill: a new "
                   "example for each seed). [default: the textbook's numbers]")
@click.pass_context
def example(ctx, x_text, y_text, activation, json_output, check, quiz, seed):
    """Walk through the textbook's worked example: a 2-2-1 network, one sample.

    \b
    x = (2, -1), y = 1, W1 = [[1, -1], [1/2, 2]], b1 = (0, -1),
    W2 = [[1, -2]], b2 = 1/2, hidden layer φ = ReLU, linear output,
    loss L = ½(ŷ − y)².

    It runs through the real Network and prints the forward pass (a1, h1, ŷ, L)
    and the backward pass (BP1, BP3/BP4 for layer 2, ∂L/∂h1 = W2ᵀ δ⁽²⁾,
    φ'(a1) and BP2, BP3/BP4 for layer 1), each line named after its equation.
    Numbers are exact fractions where the float is one (25/8), else decimals.

    With --quiz it asks for each quantity in turn instead: type a number (5/2),
    a vector [3, -2] or a matrix [[5, -5/2], [0, 0]]; a wrong answer gets the right
    value, the equation and the likely mistake. The score is printed as k/11; the exit
    code is 0 when every question was answered, 1 when the input ended early.

    \b
    Try:  backprop-edu example --activation sigmoid
          backprop-edu example --x 1,1 --check     (a1 lands on ReLU's kink)
          backprop-edu example --quiz
          backprop-edu example --quiz --random 7   (other numbers: a drill)
    """
    given = [f"--{name}" for name in ("x", "y") if
             ctx.get_parameter_source(f"{name}_text") == click.core.ParameterSource.COMMANDLINE]
    if seed is not None and given:
        raise click.UsageError(f"--random draws x and y itself; leave out {' and '.join(given)}")
    if quiz and (json_output or check):
        raise click.UsageError("--quiz asks the questions one by one; it does not combine with "
                               "--json or --check (run those without --quiz)")
    if seed is not None:
        result = random_example(seed, activation)  # a ValueError names a wrong activation
    else:
        x = parse_numbers(x_text, "--x", 2, "the network has 2 inputs", "2,-1")
        y = parse_number(y_text, "--y")
        result = worked_example(x, y, activation)
    if quiz:
        ctx.exit(run_quiz(result))
    kinks = on_kink(result)
    report = gradcheck(result.network, result.X, result.Y) if check else None

    data = as_data(result)
    if report is not None:
        data["gradcheck"] = {**gradcheck_data(report), "kinks": kinks}
    print_or_write(example_text(result, kinks, report), data, json_output)


def header_lines(result):
    """The network and its numbers, as the example and the quiz print them."""
    hidden, output = result.network.layers
    return [f"The worked example: a 2-2-1 network, hidden φ = {result.activation}, "
            "linear output, L = ½(ŷ − y)²",
            f"  x  = {format_value(result.X[0])}    y  = {format_value(result.Y[0, 0])}",
            f"  W1 = {format_value(hidden.W)}    b1 = {format_value(hidden.b)}",
            f"  W2 = {format_value(output.W)}    b2 = {format_value(output.b[0])}"]


# -- the quiz ------------------------------------------------------------------------

def read_answer(prompt):
    """One line the student typed, or None at the end of the input. An answer that came
    through a pipe is echoed, so that the transcript reads as a dialogue."""
    try:
        line = input(prompt)
    except EOFError:
        click.echo()
        return None
    if not sys.stdin.isatty():
        click.echo(line)
    return line


def run_quiz(result):
    """Ask the eleven questions of ``result``; print the score. Returns the exit code:
    0 when all were answered, 1 when the input ended early, 130 on Ctrl-C."""
    asked = questions(result)
    click.echo("\n".join(header_lines(result)))
    click.echo(f"\nCompute each quantity by hand and type it: {FORMAT}.\n"
               "Integers exactly, other numbers to 3 significant digits; ? shows the answer. "
               "(For one sample, J = L.)")
    score, answered = 0, 0
    try:
        for n, question in enumerate(asked, start=1):
            click.echo(f"\n{n}/{len(asked)}  {question.symbol} = ?   "
                       f"({describe_shape(question.value)})")
            verdict = ask(question)
            if verdict is None:
                click.echo(f"input ended after {answered} of {len(asked)} questions: "
                           f"score {score}/{len(asked)}")
                return 1
            answered += 1
            score += verdict.right
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted after {answered} of {len(asked)} questions: "
                   f"score {score}/{len(asked)}")
        return 130
    click.echo(f"\nscore: {score}/{len(asked)}")
    return 0


def ask(question):
    """Read answers until one can be judged; print the verdict. None at the end of the input."""
    right_value = format_value(question.value if question.value.ndim else float(question.value))
    while True:
        text = read_answer("> ")
        if text is None:
            return None
        if text.strip() == "?":
            click.echo(f"  {question.symbol} = {right_value}\n  the equation: {question.equation}")
            return Verdict(False)
        try:
            answer = parse_answer(text)
        except AnswerError as error:
            click.echo(f"  {error}")
            continue
        problem = question.shape_error(answer)
        if problem:
            click.echo(f"  {problem}")
            continue
        verdict = question.check(answer)
        if verdict.right:
            click.echo(f"  right: {question.symbol} = {right_value}")
        else:
            click.echo(f"  not quite: {question.symbol} = {right_value}\n"
                       f"  the equation: {question.equation}")
            if verdict.mistake:
                click.echo(f"  likely mistake: {verdict.mistake}")
        return verdict


def example_text(result, kinks, report):
    """What example prints: the numbers, both passes step by step, the kinks, the check."""
    lines = [*header_lines(result),
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
