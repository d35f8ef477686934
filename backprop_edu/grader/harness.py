"""The child side of the sandbox: load a student's file, call its functions, save the answers.

sandbox.py copies this file into the sandbox, and jail.py runs it there:

    python -I -S harness.py SITE INPUTS OUT STUDENT_FILE

SITE is a folder holding numpy alone (the only thing added to sys.path: the
sandbox has no backprop_edu, and this file needs none). It reads the cases from
INPUTS/spec.json and INPUTS/case{i}.{name}.npy, calls the student's functions,
and writes what they returned to OUT/case{i}.{j}.npy (plain numeric arrays, no
pickles) and what went wrong, case by case, to OUT/report.json. Nothing is
decided here: the grader compares the answers with values it computed itself,
after reading each file's header first. Whatever the student's code does in this
process (print "PASS", call sys.exit, write the answer files itself) cannot
change the verdict.

It imports only numpy and the standard library. The same conversion of a
returned value into arrays (``as_outputs``) serves the in-process checks of
the tests, so both paths judge a return value alike.

What is left out: limits on time and memory (the parent sets them) and any
comparison with the right answer.
"""

import errno
import json
import os
import sys
import traceback

if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])  # SITE: numpy, and nothing else
import numpy as np  # noqa: E402


OUT_OF_MEMORY = "ran out of memory"
MAX_ANSWER_BYTES = 32 * 2**20  # all the answers together; the exercises' answers are tiny


class BadAnswer(Exception):
    """A returned value that is not what the exercise asks for (None, a string, a wrong tuple)."""


def as_array(value, name):
    """A returned value as a numeric numpy array; BadAnswer with a clear reason otherwise.

    A list or a Python number is refused even when its numbers are right: the exercise asks
    for a numpy array (so that its shape is part of the answer)."""
    if value is None:
        raise BadAnswer(f"returned None for {name}: did you forget the `return`?")
    if isinstance(value, (list, tuple, int, float)):
        raise BadAnswer(f"returned a {type(value).__name__} for {name}, expected a numpy array: "
                        f"keep the result of the numpy operations, or wrap it in np.array(...)")
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 -- whatever the object's __array__ raises
        raise BadAnswer(f"returned a {type(value).__name__} for {name} that is not an array "
                        f"of numbers ({text_of(error)})") from None
    if array.dtype.kind not in "biuf":
        raise BadAnswer(f"returned a {type(value).__name__} for {name}, expected a numpy "
                        f"array of numbers (got dtype {array.dtype})")
    return array


def as_outputs(value, names):
    """What a student's function returned -> a tuple of arrays, one per expected output."""
    if value is None:
        raise BadAnswer("returned None: did you forget the `return`?")
    if len(names) == 1:
        return (as_array(value, names[0]),)
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"a {type(value).__name__}" + (f" of length {len(value)}"
                                              if isinstance(value, (tuple, list)) else "")
        raise BadAnswer(f"returned {got}, expected a tuple of {len(names)} arrays "
                        f"({', '.join(names)})")
    return tuple(as_array(item, name) for item, name in zip(value, names))


def where_in(filename, tb):
    """'line 12: return W @ delta': the last line of the student's file in a traceback."""
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    if not frame.line:
        return f" (line {frame.lineno})"
    return f" (line {frame.lineno}: {frame.line.strip()})"


def text_of(error):
    """str(error), or "" when the exception's own __str__ fails."""
    try:
        return str(error)
    except BaseException:  # noqa: BLE001 -- a student's exception class may do anything
        return ""


def describe_error(error, filename):
    """One line: what was raised, its message, and where in the student's file."""
    if isinstance(error, NotImplementedError):
        return ("is not written yet: it raises NotImplementedError; replace the TODO and "
                "the `raise` with your code")
    if isinstance(error, SystemExit):
        return ("called sys.exit() or exit(): return the answer instead of exiting"
                + where_in(filename, error.__traceback__))
    if isinstance(error, MemoryError):
        return OUT_OF_MEMORY + " (MemoryError) under the grader's memory limit"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return ("wrote more than the grader's file-size limit (printing in an endless loop?)"
                + where_in(filename, error.__traceback__))
    message = text_of(error)[:300]
    return (f"raised {type(error).__name__}: {message}" if message else
            f"raised {type(error).__name__}") + where_in(filename, error.__traceback__)


def load_student(filename):
    """Run the student's file -> (its namespace, None) or (None, an error dict)."""
    try:
        with open(filename, encoding="utf-8") as file:
            source = file.read()
        code = compile(source, filename, "exec")
    except SyntaxError as error:
        if error.lineno is None:  # e.g. null bytes: no line to point at
            return None, {"kind": "syntax", "message": f"your file is not Python source: "
                                                       f"{error.msg}"}
        text = (error.text or "").strip()
        return None, {"kind": "syntax", "line": error.lineno,
                      "message": f"syntax error on line {error.lineno}: {error.msg}"
                                 + (f": {text}" if text else "")}
    except UnicodeDecodeError as error:
        return None, {"kind": "load", "message": f"cannot read the file as UTF-8 text ({error}): "
                                                 f"save it with the UTF-8 encoding"}
    except (OSError, ValueError) as error:
        return None, {"kind": "load", "message": f"cannot read the file: {error}"}
    namespace = {"__name__": "student_solution", "__file__": filename}
    try:
        exec(code, namespace)
    except BaseException as error:  # noqa: BLE001 -- a student's file may raise anything
        kind = "memory" if isinstance(error, MemoryError) else "load"
        return None, {"kind": kind,
                      "message": "your file, while loading, " + describe_error(error, filename)}
    return namespace, None


def call_student(function, inputs, names, filename):
    """Call one student function on one case -> (tuple of arrays, None) or (None, message)."""
    try:
        value = function(*inputs)
        return as_outputs(value, names), None
    except BadAnswer as error:
        return None, str(error)
    except BaseException as error:  # noqa: BLE001 -- including SystemExit and MemoryError
        return None, describe_error(error, filename)


def main(inputs_dir, out, filename):
    with open(os.path.join(inputs_dir, "spec.json"), encoding="utf-8") as file:
        spec = json.load(file)
    inputs = {name[:-4]: np.load(os.path.join(inputs_dir, name), allow_pickle=False)
              for name in os.listdir(inputs_dir) if name.endswith(".npy")}
    namespace, load_error = load_student(filename)
    report = {"load_error": load_error, "cases": []}
    answer_bytes = 0
    if namespace is not None:
        for i, case in enumerate(spec["cases"]):
            function = namespace.get(case["function"])
            if not callable(function):
                defined = sorted(name for name, value in namespace.items()
                                 if callable(value) and not name.startswith("_")
                                 and getattr(value, "__module__", None) == "student_solution")
                report["load_error"] = {
                    "kind": "missing",
                    "message": f"the file defines no function named {case['function']}"
                               + (f" (it defines {', '.join(defined)})" if defined else "")}
                break
            args = [inputs[f"case{i}.{name}"] for name in case["inputs"]]
            args = [arg.item() if arg.ndim == 0 else arg for arg in args]  # numbers as numbers
            answer, error = call_student(function, args, case["outputs"], filename)
            if answer is not None:
                answer_bytes += sum(array.nbytes for array in answer)
                if answer_bytes > MAX_ANSWER_BYTES:
                    shapes = ", ".join(str(array.shape) for array in answer)
                    answer, error = None, (f"returned arrays of shape {shapes}: far larger than "
                                           f"the exercise asks for (read the shapes in the "
                                           f"docstring)")
            report["cases"].append({"error": error})
            if answer is not None:
                for j, array in enumerate(answer):
                    np.save(os.path.join(out, f"case{i}.{j}.npy"), array, allow_pickle=False)
    temporary = os.path.join(out, "report.json.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(report, file)
    os.replace(temporary, os.path.join(out, "report.json"))


if __name__ == "__main__":
    main(sys.argv[2], sys.argv[3], sys.argv[4])
    sys.stdout.flush()
    os._exit(0)  # skip whatever exit handlers the student's code registered
