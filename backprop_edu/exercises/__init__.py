"""Exercises that check themselves: the student writes a function, the grader runs it.

Each exercise is one module (see exercise.py for what it holds); EXERCISES maps
names to modules, in the order a course would take them.

    from backprop_edu.exercises import EXERCISES, check_file
    verdict = check_file(EXERCISES["bp2"], "work/bp2.py")
    print(verdict.text())
"""

from backprop_edu.exercises import bp2

EXERCISES = {module.NAME: module for module in (bp2,)}


def get_exercise(name):
    """The exercise called ``name``; a ValueError listing the known ones otherwise."""
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(EXERCISES)} "
                         f"(see `backprop-edu exercises list`)")
    return EXERCISES[name]
