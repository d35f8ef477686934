"""What an exercise is made of, and the few helpers the exercise modules share.

An exercise is one module of this package. It holds:

    NAME, SUMMARY, MINUTES   its name, one line saying what the student writes, minutes in class
    FUNCTIONS                the functions the student writes. Each is defined in the module
                             as the teacher's solution; its docstring holds the maths, and the
                             skeleton a student starts from is that signature and docstring
                             with a TODO instead of the body
    OUTPUTS                  {function name: the names of what it returns, in order}
    GIVEN                    helper functions handed to the student ready-made (often empty)
    HINTS                    hints, from a nudge to the last step (never the solution itself)
    cases(rng)               seeded random inputs of several shapes: a list of Case
    reference(case)          the right answer, a tuple of arrays, computed by the package's own
                             layers (Dense, Residual, the losses) wherever the package has them
    MISTAKES                 [(diagnosis, function(case) -> the answer a typical wrong
                             solution gives)], so that the checker can say *which* mistake a
                             wrong answer looks like (a mistake that makes no sense for a
                             case's shapes may simply raise; it is then skipped)

and, for grading (each optional):

    hidden_cases(rng)        larger cases, drawn after cases(rng) from the same generator,
                             used only when a teacher grades (with a secret seed)
    DERIVATIVES              {function: {output: Gradient(...) or Directional(...)}}: the
                             outputs that are derivatives of a forward function. The grader
                             then computes the right answer itself (complex step, or central
                             differences where analytic=False) instead of calling reference()
    UPSTREAM                 {function: the input that is the upstream gradient}: the answer
                             must be linear in it, and a grading run checks that it is
    TOLERANCE                (rtol, atol) of the comparison, if not (1e-6, 1e-9)

An exercise that declares DERIVATIVES for every function needs no reference(); a
teacher's own exercise folder (docs/exercises.md) may leave it out.

The arrays follow the project's notation: the batch is columns (a layer's
activations are n × m, one column per sample), δ has one column per sample,
and the 1/m of the mean loss appears in BP3/BP4 only.

What is left out: anything about running the student's code or judging its
answers (the backprop_edu.grader package).
"""

import ast
import inspect
from typing import Callable, NamedTuple, Optional

from backprop_edu.layers import Dense


class Gradient(NamedTuple):
    """An output that is ∂f/∂(input ``of``), f a scalar function of the case's inputs, called
    with them by name. analytic=False for f with kinks (ReLU, max): central differences then
    replace the complex step, so f must also take complex numbers when analytic is True.
    When ``of`` is not an input (a layer's W, for BP3), ``at`` gives the point: a function
    of the inputs (by name) returning the array to differentiate at."""

    of: str
    f: Callable
    analytic: bool = True
    at: Optional[Callable] = None


class Directional(NamedTuple):
    """An output that is d/dt f(inputs with ``of`` + t·``direction``) at t = 0, f a function
    of the case's inputs (by name) with an array value: a Jacobian-vector product."""

    of: str
    direction: str
    f: Callable
    analytic: bool = True


class Case(NamedTuple):
    """One set of inputs for one of the student's functions.

    function: the name of the function to call; inputs: its arguments, in order
    (numpy arrays or plain numbers); m: the batch size, if the case has one
    (the checker uses it to recognise a forgotten 1/m).
    """

    function: str
    inputs: dict
    m: Optional[int] = None


def dense_with(W, b, activation):
    """A Dense layer of the package holding exactly these weights and biases."""
    n_out, n_in = W.shape
    layer = Dense(n_in, n_out, activation=activation, rng=0)
    layer.W[...] = W
    layer.b[...] = b
    return layer


def header(exercise, what):
    """The docstring that opens a skeleton or a solution file."""
    return (f'"""Exercise {exercise.NAME} — {exercise.SUMMARY}\n\n'
            f"{what}\n"
            f"Check it with:   backprop-edu exercises check {exercise.NAME} THIS_FILE.py\n"
            f"Stuck?           backprop-edu exercises hint {exercise.NAME}\n"
            f'"""\n\nimport numpy as np\n')


def skeleton_body(function, outputs):
    """A function's source cut after its docstring, with a TODO where the body was."""
    source = inspect.getsource(function)
    tree = ast.parse(source)
    docstring_end = tree.body[0].body[0].end_lineno  # the docstring is the first statement
    lines = source.splitlines()[:docstring_end]
    returned = ", ".join(outputs)
    lines += [f"    # TODO: compute {returned} as the docstring says, and return "
              f"{'them' if len(outputs) > 1 else 'it'}.",
              f'    raise NotImplementedError("TODO: write {function.__name__}")']
    return "\n".join(lines) + "\n"


def skeleton_source(exercise):
    """The file a student starts from: the signatures, the maths, and a TODO in each body."""
    parts = [header(exercise, "Write the function(s) below: replace each TODO with your code.")]
    parts += [inspect.getsource(helper) for helper in exercise.GIVEN]
    parts += [skeleton_body(getattr(exercise, name), exercise.OUTPUTS[name])
              for name in exercise.FUNCTIONS]
    return "\n\n".join(parts)


def solution_source(exercise):
    """A complete solution file: the teacher's functions, exactly as the package tests them."""
    parts = [header(exercise, "The teacher's reference solution.")]
    parts += [inspect.getsource(helper) for helper in exercise.GIVEN]
    parts += [inspect.getsource(getattr(exercise, name)) for name in exercise.FUNCTIONS]
    return "\n\n".join(parts)
