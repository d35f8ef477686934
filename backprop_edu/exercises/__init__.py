"""Exercises that check themselves: the student writes a function, the grader runs it.

Each exercise is one module (exercise.py says what it holds); EXERCISES maps
names to modules, in the order a course would take them. The grader, which runs
a student's file and judges it, is the package beside this one, backprop_edu.grader.

    from backprop_edu.exercises import get_exercise
    from backprop_edu.grader.sandbox import check_file
    verdict = check_file(get_exercise("bp2"), "work/bp2.py")
    print(verdict.text())

From a notebook, check (notebook.py) grades a function a cell defines, in the same sandbox:

    from backprop_edu.exercises import check
    check("bp2", bp2)
"""

from backprop_edu.exercises import (avg_pool, backward_2layer, bp1_mse, bp1_softmax, bp2,
                                    bp3_bp4, gradient_check, jvp_vjp, max_pool,
                                    residual_block, sigmoid_prime, tanh_prime, tied_autoencoder)
from backprop_edu.exercises.notebook import CheckResult, check  # noqa: F401 -- the public API

EXERCISES = {module.NAME: module for module in (
    bp1_mse, bp1_softmax, sigmoid_prime, tanh_prime, bp2, bp3_bp4, backward_2layer,
    gradient_check, tied_autoencoder, max_pool, avg_pool, residual_block, jvp_vjp)}


def get_exercise(name):
    """The exercise called ``name``; a ValueError listing the known ones otherwise."""
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(EXERCISES)} "
                         f"(see `backprop-edu exercises list`)")
    return EXERCISES[name]
