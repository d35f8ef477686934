"""`backprop-edu exercises`: list, start, check, hint, solution.

The exercises live in backprop_edu.exercises, the grader and its sandbox in
backprop_edu.grader; this module only parses options and prints.
"""

import os

import click

from backprop_edu.cli.options import (SEED, FiniteFloatRange, distinct_outputs, json_option,
                                      print_or_write)
from backprop_edu.exercises import EXERCISES, get_exercise
from backprop_edu.exercises.exercise import skeleton_source, solution_source
from backprop_edu.exercises.hints import hint as next_hint, reset as reset_hints
from backprop_edu.files import atomic_file
from backprop_edu.grader.check import DEFAULT_SEED
from backprop_edu.grader.sandbox import MEMORY_LIMIT_MB, TIME_LIMIT, check_file

DEFAULT_HINT_STATE = os.path.join(click.get_app_dir("backprop-edu"), "hints.json")


@click.group("exercises")
def exercises():
    """Exercises that check themselves: write a piece of backprop, get told where it is wrong.

    \b
      backprop-edu exercises list                     every exercise, one line each
      backprop-edu exercises start bp2 ./work         write ./work/bp2.py: signature, maths, TODO
      backprop-edu exercises check bp2 ./work/bp2.py  grade it against the package
      backprop-edu exercises hint bp2                 the next hint
      backprop-edu exercises solution bp2             the teacher's solution, on stdout

    The notation is the project's: the batch is columns (n × m), δ has one
    column per sample, and the 1/m of the mean loss is in BP3/BP4 only.
    """


@exercises.command("list")
def list_exercises():
    """Every exercise: its name, minutes in class, and what the student writes."""
    width = max(len(name) for name in EXERCISES)
    for name, exercise in EXERCISES.items():
        click.echo(f"{name:<{width}}  {exercise.MINUTES:>3} min  {exercise.SUMMARY}")


@exercises.command("start")
@click.argument("name")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, default=False,
              help="Overwrite DIRECTORY/NAME.py if it exists (default: refuse).")
def start(name, directory, force):
    """Write DIRECTORY/NAME.py: the function's signature, the maths, and a TODO.

    DIRECTORY defaults to the current one and is created if missing.
    """
    exercise = get_exercise(name)
    path = os.path.join(directory, f"{name}.py")
    if os.path.exists(path) and not force:
        raise click.ClickException(
            f"{path} already exists (your work?): not overwriting it; use --force to "
            f"start over, or choose another directory")
    os.makedirs(directory, exist_ok=True)
    with atomic_file(path, encoding="utf-8") as file:
        file.write(skeleton_source(exercise))
    click.echo(f"wrote {path}: write {', '.join(exercise.FUNCTIONS)} there, then run\n"
               f"  backprop-edu exercises check {name} {path}")


@exercises.command("check")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@json_option("the verdict (passed, status, message, case, entries, ...)")
@click.option("--time-limit", default=TIME_LIMIT, show_default=True,
              type=FiniteFloatRange(min=1), help="Seconds the student's code may run.")
@click.option("--memory-limit", default=MEMORY_LIMIT_MB, show_default=True,
              type=click.IntRange(min=256), help="Megabytes of memory it may use.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=SEED,
              help="Seed of the random cases (the same seed, the same cases).")
@click.pass_context
def check(ctx, name, file, json_output, time_limit, memory_limit, seed):
    """Grade FILE: run its functions on random cases and compare with the package.

    The file runs in a separate Python process with a time and a memory limit;
    the verdict is decided outside it. Exit code 0 on pass, 1 on fail, so a
    teacher can grade a folder:

    \b
      for f in submissions/*/bp2.py; do
          backprop-edu exercises check bp2 "$f" > "${f%.py}.txt" && echo "$f pass"
      done
    """
    distinct_outputs(file=file, json=json_output)
    exercise = get_exercise(name)
    verdict = check_file(exercise, file, seed=seed, time_limit=time_limit,
                         memory_limit_mb=memory_limit)
    print_or_write(verdict.text(), {**verdict.as_dict(), "file": file}, json_output)
    ctx.exit(0 if verdict.passed else 1)


@exercises.command("hint")
@click.argument("name")
@click.option("--number", "-n", type=click.IntRange(min=1), default=None,
              help="Show hint K (default: the next one you have not seen).")
@click.option("--reset", is_flag=True, default=False,
              help="Forget the hints seen for NAME, and show the first again.")
@click.option("--state-file", default=DEFAULT_HINT_STATE, show_default=True,
              envvar="BACKPROP_EDU_HINTS", type=click.Path(dir_okay=False),
              help="Where the hints seen so far are remembered (env: BACKPROP_EDU_HINTS).")
def hint(name, number, reset, state_file):
    """One hint at a time: each call shows the next, up to the last.

    Progress is remembered per exercise in a small JSON file (--state-file);
    --number K shows hint K, --reset starts over.
    """
    exercise = get_exercise(name)
    if reset:
        reset_hints(exercise, state_file)
    k, total, text = next_hint(exercise, state_file, number)
    click.echo(f"Hint {k} of {total} for {name}:")
    click.echo(click.wrap_text(text, width=88, initial_indent="  ", subsequent_indent="  "))
    if k == total:
        click.echo(f"That was the last hint; `backprop-edu exercises solution {name}` "
                   f"shows a full solution.")


@exercises.command("solution")
@click.argument("name")
def solution(name):
    """Print the teacher's complete solution file for NAME to stdout.

    \b
      backprop-edu exercises solution bp2 > s.py
      backprop-edu exercises check bp2 s.py         passes
    """
    click.echo(solution_source(get_exercise(name)), nl=False)
