"""check(): grade an exercise from a Jupyter notebook, with the function a cell defines.

    from backprop_edu.exercises import check
    check("bp2", bp2)              # after a cell with `def bp2(W_next, delta_next, a): ...`
    check("jvp_vjp", jvp, vjp)     # an exercise of two functions takes both

It returns a CheckResult: ``result.passed`` is True or False, and the result shows the
message `backprop-edu exercises check` prints (as HTML in a notebook, as text elsewhere).

What is sent: the function's source (inspect.getsource; a notebook keeps every cell's
source) and the module-level names it uses: modules (as imports), plain values (numbers,
strings, numpy arrays, lists, tuples and dicts of them) and other functions defined in
the notebook (their source, and the names they use in turn). Anything else (a network,
an object, a variable of an enclosing function) gets a one-line answer asking the
student to keep the function self-contained.

Where it is judged: not here. The kernel is the student's process, and anything in it
can be patched: numpy, the package's comparisons, the exercise's reference. So this
module builds the source and shows the answer, and decides nothing. A fresh grader
process (``python -I``: no PYTHONPATH, no user site, no current folder; the package's
files as they are on disk) draws the cases, runs the source in the same sandbox as
`backprop-edu exercises check` (a third, limited process), computes the references and
compares, and sends back the verdict as JSON. A student can still fake their own screen;
a teacher's grade comes from running the grader on the handed-in work.

What is left out: the grading itself (backprop_edu.grader).
"""

import ast
import dis
import html
import inspect
import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np

from backprop_edu.grader.check import DEFAULT_SEED, GraderError, Verdict
from backprop_edu.grader.sandbox import MEMORY_LIMIT_MB, TIME_LIMIT, check_source

GRADER_MARGIN = 60.0  # seconds the grader process may take beyond the sandbox's time limit
MAX_VALUE_ENTRIES = 100_000  # a larger array is data, not part of a function
LOADS = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS", "STORE_GLOBAL"}
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# What the grader process runs: this module, from the same copy of the package as the kernel's.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from backprop_edu.exercises.notebook import serve; serve()")


class NotSelfContained(Exception):
    """The function cannot be sent as source: the message says why and what to do."""


class CheckResult:
    """What check() returns: ``passed`` (True or False), ``status``, ``message``, the whole
    ``verdict`` (grader.check.Verdict), and the feedback as text or HTML."""

    def __init__(self, verdict):
        self.verdict = verdict
        self.passed = verdict.passed
        self.status = verdict.status
        self.message = verdict.message

    def as_dict(self):
        return self.verdict.as_dict()

    def text(self):
        return self.verdict.text()

    __str__ = text
    __repr__ = text

    def _repr_html_(self):
        """The same lines as the text, in a box: green when passed, red otherwise."""
        colour = "#2e7d32" if self.passed else "#c62828"
        first, *rest = self.text().splitlines()
        body = "\n".join(f"<b>{html.escape(line)}</b>" if line.strip().startswith("Diagnosis:")
                         else html.escape(line) for line in rest)
        return (f'<div style="border-left: 6px solid {colour}; padding: 0.3em 0.8em; '
                f'font-family: monospace; white-space: pre-wrap">'
                f'<b style="color: {colour}">{html.escape(first)}</b>'
                + (f"\n{body}" if body else "") + "</div>")


def check(name, *functions, seed=DEFAULT_SEED, time_limit=TIME_LIMIT,
          memory_limit_mb=MEMORY_LIMIT_MB):
    """Grade ``functions`` (defined in a notebook) as exercise ``name`` -> a CheckResult.

    The functions are matched to the exercise's by name, else in order: check("bp2", my_bp2)
    grades my_bp2 as bp2. The source is graded in a separate grader process, as
    `backprop-edu exercises check` grades a file (same cases for the same seed). Raises
    GraderError when the grader cannot work on this machine (the sandbox cannot start).
    """
    from backprop_edu.exercises import get_exercise  # the package imports this module
    exercise = get_exercise(name)
    try:
        source = submission_source(exercise, functions)
    except NotSelfContained as problem:
        return CheckResult(Verdict(exercise.NAME, "source", str(problem)))
    return CheckResult(grade_apart(exercise.NAME, source, seed, time_limit, memory_limit_mb))


def submission_source(exercise, functions):
    """The file the grader runs: imports, plain values, helper functions, then the student's
    functions, each named as the exercise names it."""
    wanted = exercise.FUNCTIONS
    call = f"check({exercise.NAME!r}, {', '.join(wanted)})"
    if len(functions) != len(wanted):
        raise NotSelfContained(
            f"{exercise.NAME} grades {len(wanted)} function{'s' if len(wanted) > 1 else ''} "
            f"({', '.join(wanted)}), and check() was given {len(functions)}: call {call}")
    names = [getattr(function, "__name__", None) for function in functions]
    if sorted(names) != sorted(wanted):
        names = list(wanted)  # not named as the exercise names them: matched in order
    parts = {"imports": [], "values": [], "functions": {}}
    for function, name in zip(functions, names):
        add_function(function, name, parts, function)
    aliases = [f"{name} = {function.__name__}" for function, name in zip(functions, names)
               if function.__name__ != name]
    header = [f'"""{exercise.NAME}, from a notebook: {call}"""']
    return "\n\n".join(["\n".join(header + sorted(set(parts["imports"])))]
                       + parts["values"] + list(parts["functions"].values())
                       + (["\n".join(aliases)] if aliases else [])) + "\n"


def function_source(function, name):
    """The source of a function defined with `def` at the top level of a cell or a file."""
    if not isinstance(function, types.FunctionType):
        raise NotSelfContained(
            f"check() needs the Python function {name} you wrote (def {name}(...): ...), "
            f"not {type(function).__name__} {function!r:.60}")
    if function.__name__ == "<lambda>":
        raise NotSelfContained(f"{name} is a lambda: define it with def {name}(...): in a cell, "
                               f"so that check() can send its source")
    if function.__closure__ or "<locals>" in function.__qualname__:
        raise NotSelfContained(
            f"{function.__name__} is defined inside another function and uses its variables: "
            f"define it at the top level of a cell, so that it is self-contained")
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        raise NotSelfContained(
            f"check() cannot read the source of {function.__name__}: a function typed at the "
            f"Python prompt or given to python -c has none; define it in a notebook cell (or "
            f"in a file, and run `backprop-edu exercises check`)") from None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is None or len(tree.body) != 1 or not isinstance(
            tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) \
            or tree.body[0].name != function.__name__:
        raise NotSelfContained(f"check() could not find `def {function.__name__}` alone in its "
                               f"source: define it with def, at the top level of a cell")
    return source


def used_names(source):
    """The global names a piece of source reads: its decorators and defaults, and its body."""
    found, codes = [], [compile(source, "<notebook>", "exec")]
    while codes:
        code = codes.pop()
        for instruction in dis.get_instructions(code):
            if instruction.opname in LOADS and instruction.argval not in found:
                found.append(instruction.argval)
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return found


def add_function(function, name, parts, root):
    """Add a function's source to parts (the exercise calls it ``name``), after whatever
    it uses."""
    key = getattr(function, "__name__", name)
    if key in parts["functions"]:
        return
    source = function_source(function, name)
    parts["functions"][key] = None  # reserved: a function that calls itself ends here
    for used in used_names(source):
        if used == function.__name__:
            continue
        if used not in function.__globals__:
            continue  # a builtin, or a name the student never defined (the grader says so)
        add_global(used, function.__globals__[used], parts, function, root)
    del parts["functions"][key]
    parts["functions"][key] = source.rstrip("\n")


def add_global(name, value, parts, user, root):
    """One module-level name a function uses: as an import, a value or another function."""
    if isinstance(value, types.ModuleType):
        parts["imports"].append(f"import {value.__name__}" if value.__name__ == name
                                else f"import {value.__name__} as {name}")
        return
    if isinstance(value, types.FunctionType) and (
            value.__globals__ is root.__globals__
            or getattr(value, "__module__", "").startswith("backprop_edu.")):
        add_function(value, value.__name__, parts, root)  # the notebook's own, or a given one
        if value.__name__ != name:
            parts["values"].append(f"{name} = {value.__name__}")
        return
    module = getattr(value, "__module__", None)
    own = getattr(value, "__name__", None)
    if module and own and not isinstance(value, type) and not module.startswith("__") and \
            getattr(sys.modules.get(module), own, None) is value:
        parts["imports"].append(f"from {module} import {own}" + (f" as {name}" if own != name
                                                                  else ""))
        return
    try:
        parts["values"].append(f"{name} = {literal(value)}")
    except ValueError:
        raise NotSelfContained(
            f"{user.__name__} uses {name}, a {type(value).__name__} defined outside it: "
            f"check() sends only your function's source, the modules it imports, plain values "
            f"(numbers, strings, numpy arrays) and other functions of the notebook. Make "
            f"{name} inside {user.__name__}, so that it is self-contained") from None


def literal(value, depth=0):
    """Python source that rebuilds a plain value exactly; ValueError for anything else."""
    if depth > 20:
        raise ValueError("nested too deeply")
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc" \
            and value.size <= MAX_VALUE_ENTRIES:
        array = np.ascontiguousarray(value)
        rebuilt = (f"__import__('numpy').frombuffer(bytes.fromhex('{array.tobytes().hex()}'), "
                   f"dtype={array.dtype.str!r}).reshape({array.shape!r})")
        return f"{rebuilt}.copy()" if isinstance(value, np.ndarray) else f"{rebuilt}[()]"
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return repr(value)
    if isinstance(value, (float, complex)):
        return repr(value) if np.isfinite(value) else f"{type(value).__name__}({str(value)!r})"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [literal(item, depth + 1) for item in value]
        if isinstance(value, list):
            return f"[{', '.join(items)}]"
        if isinstance(value, tuple):
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        return f"{type(value).__name__}([{', '.join(items)}])"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k, depth + 1)}: {literal(v, depth + 1)}"
                               for k, v in value.items()) + "}"
    raise ValueError(f"not a plain value: {type(value).__name__}")


def grade_apart(name, source, seed, time_limit, memory_limit_mb):
    """Grade ``source`` in a fresh grader process -> the Verdict it sends back; GraderError
    when the grader cannot work there (as sandbox.check_file raises it)."""
    request = json.dumps({"exercise": name, "source": source, "seed": seed,
                          "time_limit": time_limit, "memory_limit_mb": memory_limit_mb})
    command = [sys.executable, "-I", "-c", BOOT, PACKAGE_ROOT]
    try:
        result = subprocess.run(command, input=request, capture_output=True, text=True,
                                encoding="utf-8", timeout=time_limit + GRADER_MARGIN)
    except subprocess.TimeoutExpired:
        return Verdict(name, "crashed", f"the grader process did not answer within "
                                        f"{time_limit + GRADER_MARGIN:g} s")
    except OSError as error:
        return Verdict(name, "crashed", f"the grader process could not start: {error}")
    try:
        answer = json.loads(result.stdout)
        if "grader_error" in answer:  # the sandbox cannot run here: not the student's fault
            raise GraderError(answer["grader_error"])
        detail = {key: value for key, value in answer.items() if key not in (
            "exercise", "passed", "status", "message", "cases", "cases_passed")}
        return Verdict(answer["exercise"], answer["status"], answer["message"],
                       answer["cases"], answer["cases_passed"], detail)
    except (ValueError, KeyError, TypeError, AttributeError):
        said = " ".join(result.stderr.split())[-300:]
        return Verdict(name, "crashed", f"the grader process ended with exit code "
                                        f"{result.returncode} and no verdict: {said}")


def serve():
    """The grader process: a request on stdin, the verdict as JSON on stdout (or, when the
    grader itself cannot work, {"grader_error": why})."""
    from backprop_edu.exercises import get_exercise
    request = json.load(sys.stdin)
    exercise = get_exercise(request["exercise"])
    try:
        verdict = check_source(exercise, request["source"], seed=request["seed"],
                               time_limit=request["time_limit"],
                               memory_limit_mb=request["memory_limit_mb"])
    except GraderError as error:
        json.dump({"grader_error": str(error)}, sys.stdout)
        return
    json.dump(verdict.as_dict(), sys.stdout)
