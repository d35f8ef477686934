"""Exercises from a teacher's own folder: modules like the shipped ones, kept outside the package.

    exercises = load_folder("~/course/exercises")   # {name: module}, the shipped ones too
    exercise = find_exercise("bp2", "~/course/exercises")

Every ``*.py`` file of the folder (not starting with ``_``) is one exercise module, in
the format exercise.py describes; docs/exercises.md has a worked example. An exercise
of the folder replaces the shipped one of the same NAME (so a teacher can keep harder
hidden cases, more diagnoses, or a reference of their own for bp2), and adds to them
otherwise. Nothing of the folder is copied anywhere: the grader runs the modules in
the teacher's process only, and the student's sandbox never sees them.

What is left out: the modules' contents (exercise.py), running them (backprop_edu.grader).
"""

import importlib.util
import os

from backprop_edu.exercises import EXERCISES

REQUIRED = ("NAME", "SUMMARY", "FUNCTIONS", "OUTPUTS", "cases")


def load_module(path):
    """Import one exercise file under a name of its own, and check that it is an exercise."""
    name = "backprop_edu_course_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 -- a teacher's module: say which and why
        raise ValueError(f"cannot load the exercise {path}: {type(error).__name__}: "
                         f"{error}") from None
    missing = [attribute for attribute in REQUIRED if not hasattr(module, attribute)]
    if missing:
        raise ValueError(f"{path} is not an exercise module: it lacks {', '.join(missing)} "
                         f"(see docs/exercises.md, 'Writing an exercise')")
    derivatives = getattr(module, "DERIVATIVES", {})
    unanswered = [function for function in module.FUNCTIONS
                  if set(derivatives.get(function, {})) != set(module.OUTPUTS[function])]
    if unanswered and not hasattr(module, "reference"):
        raise ValueError(f"{path}: {', '.join(unanswered)} has neither DERIVATIVES for every "
                         f"output nor a reference(case): the grader cannot know the answer")
    for attribute, default in (("MINUTES", 0), ("GIVEN", []), ("HINTS", []), ("MISTAKES", [])):
        if not hasattr(module, attribute):
            setattr(module, attribute, default)
    return module


def load_folder(directory=None):
    """The shipped exercises, with those of ``directory`` (if any) replacing or added."""
    exercises = dict(EXERCISES)
    if directory is None:
        return exercises
    directory = os.path.expanduser(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"exercise folder {directory} does not exist: give a folder of "
                         f"exercise modules (*.py)")
    for filename in sorted(os.listdir(directory)):
        if filename.endswith(".py") and not filename.startswith(("_", ".")):
            module = load_module(os.path.join(directory, filename))
            exercises[module.NAME] = module
    return exercises


def find_exercise(name, directory=None):
    """The exercise called ``name`` (the folder's first); a ValueError listing the known ones."""
    exercises = load_folder(directory)
    if name not in exercises:
        raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(exercises)} "
                         f"(see `backprop-edu exercises list`)")
    return exercises[name]
