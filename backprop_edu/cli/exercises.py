"""`backprop-edu exercises`: list, start, check, hint, solution, and grade (a teacher's).

The exercises live in backprop_edu.exercises (a teacher's own folder through
--exercises, backprop_edu/exercises/folder.py), the grader and its sandbox in
backprop_edu.grader; this module only parses options and prints.
"""

import csv
import io
import os
import sys
import time
import types

import click

from backprop_edu.cli.options import (SEED, FiniteFloatRange, distinct_outputs, json_option,
                                      output_path, print_or_write, write_json)
from backprop_edu.exercises.exercise import skeleton_source, solution_source
from backprop_edu.exercises.folder import find_exercise, load_folder
from backprop_edu.exercises.hints import hint as next_hint, reset as reset_hints
from backprop_edu.exercises.policy import course_policy
from backprop_edu.files import atomic_file
from backprop_edu.grader.check import DEFAULT_SEED, GraderError
from backprop_edu.grader.sandbox import MEMORY_LIMIT_MB, TIME_LIMIT, check_file

DEFAULT_HINT_STATE = os.path.join(click.get_app_dir("backprop-edu"), "hints.json")
RECORD_FIELDS = ("student", "exercise", "passed", "cases_passed", "cases_total",
                 "first_failure", "seconds")

exercises_option = click.option(
    "--exercises", "folder", default=None, envvar="BACKPROP_EDU_EXERCISES", metavar="DIR",
    type=click.Path(exists=True, file_okay=False),
    help="A folder of exercise modules of your own, beside (or instead of) the shipped ones "
         "(env: BACKPROP_EDU_EXERCISES). [default: none]")


def exercise_named(name, folder):
    """The exercise NAME (of --exercises DIR first): an unknown name is a usage error (2)."""
    try:
        return find_exercise(name, folder)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'NAME'") from None


def time_limit_option(command):
    return click.option("--time-limit", default=TIME_LIMIT, show_default=True,
                        type=FiniteFloatRange(min=1),
                        help="Seconds the student's code may run.")(command)


def memory_limit_option(command):
    return click.option("--memory-limit", default=MEMORY_LIMIT_MB, show_default=True,
                        type=click.IntRange(min=256),
                        help="Megabytes of memory it may use.")(command)


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
@exercises_option
def list_exercises(folder):
    """Every exercise: its name, minutes in class, and what the student writes."""
    known = load_folder(folder)
    width = max(len(name) for name in known)
    for name, exercise in known.items():
        click.echo(f"{name:<{width}}  {exercise.MINUTES:>3} min  {exercise.SUMMARY}")


@exercises.command("start")
@click.argument("name")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, default=False,
              help="Overwrite DIRECTORY/NAME.py if it exists (default: refuse).")
@exercises_option
def start(name, directory, force, folder):
    """Write DIRECTORY/NAME.py: the function's signature, the maths, and a TODO.

    DIRECTORY defaults to the current one and is created if missing.
    """
    exercise = exercise_named(name, folder)
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
@time_limit_option
@memory_limit_option
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=SEED,
              help="Seed of the random cases (the same seed, the same cases; 0 is the "
                   "practice seed).")
@exercises_option
@click.pass_context
def check(ctx, name, file, json_output, time_limit, memory_limit, seed, folder):
    """Check FILE: run its functions on random cases and compare with the right answers.

    The file runs in a sandbox (a separate process, its own namespaces, a time and
    a memory limit); the verdict is decided outside it. Exit code 0 on pass, 1 on
    fail. This is practice: to grade a class, see `backprop-edu exercises grade`.

    \b
      backprop-edu exercises check bp2 work/bp2.py
      backprop-edu exercises check bp2 work/bp2.py --json -
    """
    distinct_outputs(file=file, json=json_output)
    exercise = exercise_named(name, folder)
    try:
        verdict = check_file(exercise, file, seed=seed, time_limit=time_limit,
                             memory_limit_mb=memory_limit)
    except GraderError as error:
        click.echo(f"Error: grader error: {error}", err=True)
        ctx.exit(3)
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
@exercises_option
def hint(name, number, reset, state_file, folder):
    """One hint at a time: each call shows the next, up to the last.

    Progress is remembered per exercise in a small JSON file (--state-file);
    --number K shows hint K, --reset starts over. A course may turn the last
    hint off (BACKPROP_EDU_POLICY=no-last-hint, or a policy.json).
    """
    exercise = exercise_named(name, folder)
    policy = course_policy(folder)
    if not policy["last_hint"] and len(exercise.HINTS) > 1:  # the course keeps the last one
        exercise = types.SimpleNamespace(NAME=exercise.NAME, HINTS=exercise.HINTS[:-1])
    if reset:
        reset_hints(exercise, state_file)
    k, total, text = next_hint(exercise, state_file, number)
    click.echo(f"Hint {k} of {total} for {name}:")
    click.echo(click.wrap_text(text, width=88, initial_indent="  ", subsequent_indent="  "))
    if k == total and policy["solution"]:
        click.echo(f"That was the last hint; `backprop-edu exercises solution {name}` "
                   f"shows a full solution.")
    elif k == total:
        click.echo("That was the last hint for this course.")


@exercises.command("solution")
@click.argument("name")
@exercises_option
def solution(name, folder):
    """Print the teacher's complete solution file for NAME to stdout.

    A course may turn this off (BACKPROP_EDU_POLICY=no-solution, or a policy.json
    in the exercise folder or /etc/backprop-edu; see docs/teachers.md).

    \b
      backprop-edu exercises solution bp2 > s.py
      backprop-edu exercises check bp2 s.py         passes
    """
    exercise = exercise_named(name, folder)
    if not course_policy(folder)["solution"]:
        raise click.ClickException(f"solutions are turned off for this course: ask your "
                                   f"teacher about {name}")
    click.echo(solution_source(exercise), nl=False)


def secret_seed(seed, seed_file):
    """The grading seed: --seed, else --seed-file, else BACKPROP_EDU_SEED; never 0."""
    if seed is not None and seed_file is not None:
        raise click.BadParameter("give --seed or --seed-file, not both",
                                 param_hint="'--seed-file'")
    where = "--seed"
    if seed_file is not None:
        where = "--seed-file"
        with open(seed_file, encoding="utf-8") as file:
            text = file.read(200).strip()
        seed = parse_seed(text, f"{seed_file} holds {text[:20]!r}", where)
    elif seed is None and os.environ.get("BACKPROP_EDU_SEED"):
        where = "BACKPROP_EDU_SEED"
        seed = parse_seed(os.environ["BACKPROP_EDU_SEED"].strip(), "BACKPROP_EDU_SEED", where)
    if seed is None:
        raise click.UsageError("grading needs a secret seed: --seed-file PATH (a file holding "
                               "a number only you can read), BACKPROP_EDU_SEED, or --seed N")
    if seed == 0:
        raise click.BadParameter("0 is the practice seed, which every student has: choose a "
                                 "secret one (e.g. python3 -c 'import secrets; "
                                 "print(secrets.randbits(64))')", param_hint=f"'{where}'")
    return seed


def parse_seed(text, what, where):
    if not text.isdigit():
        raise click.BadParameter(f"{what}: a seed is a whole number, 0 or more",
                                 param_hint=f"'{where}'")
    return int(text)


def find_submissions(directory, name):
    """SUBMISSIONS_DIR -> [(student, path of the file to grade, or a reason it has none)].

    One .py file per student (alice.py), or one folder per student (alice/NAME.py, or the
    folder's only .py file). Links are not followed: a submission is its own files."""
    found = []
    for entry in sorted(os.listdir(directory)):
        path = os.path.join(directory, entry)
        if entry.startswith((".", "__")):
            continue
        student = entry[:-3] if entry.endswith(".py") else entry
        if os.path.islink(path):
            found.append((student, None, "the submission is a symbolic link, not a file"))
        elif os.path.isfile(path) and entry.endswith(".py"):
            found.append((student, path, None))
        elif os.path.isdir(path):
            found.append((student, *file_in_folder(path, name)))
    return found


def file_in_folder(folder, name):
    """(path, None) of the file to grade in a student's folder, or (None, why there is none)."""
    wanted = os.path.join(folder, f"{name}.py")
    if os.path.lexists(wanted):
        return (wanted, None) if not os.path.islink(wanted) else \
            (None, f"{name}.py is a symbolic link, not a file")
    sources = [entry for entry in os.listdir(folder) if entry.endswith(".py")]
    if len(sources) == 1 and not os.path.islink(os.path.join(folder, sources[0])):
        return os.path.join(folder, sources[0]), None
    return None, f"the folder has no {name}.py" + (
        f" (it has {', '.join(sorted(sources))})" if sources else "")


def first_failure(verdict):
    """One line: what is wrong, in which case, and the diagnosis if there is one."""
    line = verdict.text().splitlines()[0].split(" — ", 1)[-1]
    detail = getattr(verdict, "detail", {})
    if "case" in detail:
        line += f" (case {detail['case']} of {verdict.cases})"
    if detail.get("diagnosis"):
        line += f"; {detail['diagnosis']}"
    return line


def record(student, exercise, verdict, seconds):
    return {"student": student, "exercise": exercise.NAME, "passed": verdict.passed,
            "cases_passed": verdict.cases_passed, "cases_total": verdict.cases,
            "first_failure": "" if verdict.passed else first_failure(verdict),
            "seconds": round(seconds, 2)}


def csv_text(records):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def gradescope_results(verdict, seconds):
    """Gradescope's results.json: one test (the exercise), 1 point on a pass."""
    score = 1.0 if verdict.passed else 0.0
    return {"score": score, "execution_time": round(seconds, 2), "output": verdict.text(),
            "visibility": "visible", "stdout_visibility": "hidden",
            "tests": [{"name": verdict.exercise, "score": score, "max_score": 1.0,
                       "status": "passed" if verdict.passed else "failed",
                       "output": verdict.text()}]}


@exercises.command("grade")
@click.argument("name")
@click.argument("submissions", type=click.Path(exists=True))
@click.option("--seed", default=None, type=SEED,
              help="The secret seed of the grading cases (visible to other users in the "
                   "process list: prefer --seed-file).")
@click.option("--seed-file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A file holding the secret seed (env: BACKPROP_EDU_SEED holds it instead).")
@click.option("--csv", "csv_output", default=None, callback=output_path, metavar="PATH",
              help="Write one line per student: " + ",".join(RECORD_FIELDS) + ".")
@json_option("the same records, one per student")
@click.option("--gradescope", default=None, callback=output_path, metavar="PATH",
              help="Grade SUBMISSIONS as one submission (a file, or a folder) and write "
                   "Gradescope's results.json to PATH.")
@time_limit_option
@memory_limit_option
@exercises_option
@click.pass_context
def grade(ctx, name, submissions, seed, seed_file, csv_output, json_output, gradescope,
          time_limit, memory_limit, folder):
    """Grade every submission in SUBMISSIONS for exercise NAME, with a secret seed.

    One .py file per student (alice.py), or one folder per student (alice/NAME.py).
    The grading cases depend on the seed and include larger hidden ones; each
    submission runs in the sandbox. Exit code 0 when all passed, 1 when some
    failed, 2 for a usage error, 3 when the grader itself failed.

    \b
      backprop-edu exercises grade bp2 submissions/ --seed-file ~/.bp2-seed --csv grades.csv
      backprop-edu exercises grade bp2 /autograder/submission --seed-file seed \\
          --gradescope /autograder/results/results.json
    """
    distinct_outputs(csv=csv_output, json=json_output, gradescope=gradescope)
    exercise = exercise_named(name, folder)
    seed = secret_seed(seed, seed_file)
    if gradescope:
        students = [("submission", *((submissions, None) if os.path.isfile(submissions)
                                     else file_in_folder(submissions, name)))]
    elif os.path.isdir(submissions):
        students = find_submissions(submissions, name)
        if not students:
            raise click.BadParameter(f"{submissions} holds no submission (a .py file or a "
                                     f"folder per student)", param_hint="'SUBMISSIONS'")
    else:
        raise click.BadParameter(f"{submissions} is a file: give the folder of submissions "
                                 f"(or --gradescope PATH for one)", param_hint="'SUBMISSIONS'")
    records, verdicts, sandbox = [], [], None
    try:
        with click.progressbar(students, label=f"grading {name}", file=sys.stderr,
                               item_show_func=lambda s: s and s[0]) as bar:
            for student, path, missing in bar:
                start = time.monotonic()
                if missing:
                    verdict = types.SimpleNamespace(passed=False, cases=0, cases_passed=0,
                                                    exercise=exercise.NAME,
                                                    text=lambda why=missing: f"FAIL — {why}")
                else:
                    verdict = check_file(exercise, path, seed=seed, time_limit=time_limit,
                                         memory_limit_mb=memory_limit, grading=True)
                    sandbox = sandbox or verdict.detail
                records.append(record(student, exercise, verdict, time.monotonic() - start))
                verdicts.append(verdict)
    except GraderError as error:
        click.echo(f"Error: grader error: {error}", err=True)
        ctx.exit(3)
    except Exception as error:  # noqa: BLE001 -- a broken grader is exit 3, never a traceback
        if os.environ.get("BACKPROP_EDU_DEBUG"):
            raise
        click.echo(f"Error: grader error: {type(error).__name__}: {error}", err=True)
        ctx.exit(3)
    if sandbox:
        click.echo(f"sandbox: {sandbox.get('isolation')}: "
                   f"{'; '.join(sandbox.get('protections', []))}", err=True)
    if gradescope:
        write_json(gradescope_results(verdicts[0], records[0]["seconds"]), gradescope)
    if csv_output:
        with atomic_file(csv_output, encoding="utf-8", newline="") as file:
            file.write(csv_text(records))
    passed = sum(r["passed"] for r in records)
    text = "\n".join(f"{r['student']}: {'PASS' if r['passed'] else 'FAIL — ' + r['first_failure']}"
                     for r in records) + f"\n{passed} of {len(records)} passed."
    print_or_write(text, records, json_output)
    for path in (csv_output, gradescope):
        if path:
            click.echo(f"wrote {path}", err=json_output == "-")
    ctx.exit(0 if passed == len(records) else 1)
