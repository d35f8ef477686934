"""Judging a student's answers: compare them with the reference, and say what went wrong.

The verdict is computed here, in the grader's process, from the references
this process computed itself; the student's code only ever supplies numbers
(sandbox.py fetches them from a separate process). For a wrong answer the
verdict names the first failing case, its inputs' shapes, the output that is
wrong, the worst entries (expected versus got) and, where one fits, a
diagnosis: the answer equals one of the exercise's predictable mistakes
(a missing φ', W instead of Wᵀ, ...), or the right answer transposed,
reshaped, negated or scaled by m.

Where the answer is a derivative, the exercise declares it (DERIVATIVES) and the
expected value is that derivative of the forward function, computed by
derivatives.py; the exercise's reference() serves the others. The cases come from
the exercise's cases(rng); a grading run (grading=True) adds its hidden_cases(rng),
larger, and for an exercise with an upstream gradient (UPSTREAM) two more that test
that the answer is linear in it. The seed decides them all: DEFAULT_SEED, 0, is the
practice seed every student has; a teacher grades with a secret one.

What is left out: running the student's code (sandbox.py, harness.py).
"""

from collections import Counter

import numpy as np

from backprop_edu.grader.derivatives import expected_outputs
from backprop_edu.grader.harness import call_student

DEFAULT_SEED = 0  # practice: students check with it, so a teacher never grades with it
TOLERANCE = (1e-6, 1e-9)  # (rtol, atol) of np.isclose, unless an exercise sets its own
SHOWN_ENTRIES = 3


class Verdict:
    """The outcome of a check: passed or not, a status word, a message, and the details.

    status: pass, wrong (a wrong answer), error (the function raised or returned
    something unusable), syntax, load, missing (no such function), timeout,
    memory, crashed (the process died).
    """

    def __init__(self, exercise, status, message, cases=0, cases_passed=0, detail=None):
        self.exercise = exercise
        self.status = status
        self.message = message
        self.cases = cases
        self.cases_passed = cases_passed
        self.detail = detail or {}

    @property
    def passed(self):
        return self.status == "pass"

    def as_dict(self):
        return {"exercise": self.exercise, "passed": self.passed, "status": self.status,
                "message": self.message, "cases": self.cases,
                "cases_passed": self.cases_passed, **self.detail}

    def text(self):
        """What `backprop-edu exercises check` prints."""
        word = "PASS" if self.passed else "FAIL"
        lines = [f"{self.exercise}: {word} — {self.message}"]
        detail = self.detail
        if "case" in detail:
            lines.append(f"  case {detail['case']} of {self.cases}: "
                         f"{detail['function']}({detail['inputs']})")
        if "expected_shape" in detail:
            lines.append(f"  {detail['output']}: expected shape {tuple(detail['expected_shape'])}, "
                         f"got {tuple(detail['got_shape'])}")
        if detail.get("entries"):
            lines.append(f"  {detail['output']}: {detail['wrong_entries']} of "
                         f"{detail['total_entries']} entries wrong; the largest differences:")
            for entry in detail["entries"]:
                index = ", ".join(str(i) for i in entry["index"])
                expected, got = distinct(entry["expected"], entry["got"])
                lines.append(f"    [{index}]  expected {expected}   got {got}")
        if detail.get("diagnosis"):
            lines.append(f"  Diagnosis: {detail['diagnosis']}")
        if self.cases and not self.passed and self.status in ("wrong", "error"):
            lines.append(f"  {self.cases_passed} of {self.cases} cases passed"
                         f"{uncounted(detail.get('passed_1x1_cases'))}.")
        return "\n".join(lines)


def uncounted(numbers):
    """' (case 1 is not counted: ...)': why a passing 1×1 case is left out of the count."""
    if not numbers:
        return ""
    which = (f"case {numbers[0]} is" if len(numbers) == 1 else
             f"cases {', '.join(str(n) for n in numbers)} are")
    return (f" ({which} not counted: its arrays are 1×1, where many wrong formulas give the "
            f"right number, e.g. a @ b = a * b and Wᵀ = W)")


def as_number(value):
    """A float for JSON; nan and ±inf as the strings "nan", "inf", "-inf" (JSON has no nan)."""
    value = float(value)
    return value if np.isfinite(value) else str(value)


def distinct(expected, got):
    """Both numbers with 6 significant digits, or as many more as it takes to tell them apart."""
    if isinstance(got, str):
        return f"{expected: .6g}", f" {got}"
    for digits in range(6, 18):
        shown = f"{expected: .{digits}g}", f"{got: .{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return shown


def describe_inputs(case):
    """'W 3×4, b (3,), eps = 0.001': what a case is made of, for messages."""
    parts = []
    for name, value in case.inputs.items():
        if isinstance(value, np.ndarray) and value.ndim == 1:
            parts.append(f"{name} ({value.shape[0]},)")
        elif isinstance(value, np.ndarray) and value.ndim > 1:
            parts.append(f"{name} {'×'.join(str(n) for n in value.shape)}")
        else:
            shown = f"{value:g}" if isinstance(value, float) else repr(value)
            parts.append(f"{name} = {shown}")
    return ", ".join(parts)


class GraderError(Exception):
    """The grader cannot work (the sandbox cannot start, an exercise's reference fails):
    the teacher's problem, never the submission's."""


def make_cases(exercise, seed=DEFAULT_SEED, grading=False):
    """The exercise's random cases, the same for the same seed; with ``grading``, its hidden
    cases too, and two that check linearity in the upstream gradient (UPSTREAM)."""
    rng = np.random.default_rng(seed)
    try:
        cases = list(exercise.cases(rng))
        if grading:
            cases += list(getattr(exercise, "hidden_cases", lambda rng: [])(rng))
            cases += linearity_cases(exercise, cases, rng)
    except Exception as error:  # noqa: BLE001 -- the exercise's code, not the student's
        raise GraderError(f"exercise {exercise.NAME}: its cases could not be drawn "
                          f"({type(error).__name__}: {error})") from None
    return cases


def linearity_cases(exercise, cases, rng):
    """For the last case with an upstream gradient g: the same inputs with a fresh r, and
    with 2g − 3r. A backward pass is linear in g, so its answers must be too."""
    upstream = getattr(exercise, "UPSTREAM", {})
    for case in reversed(cases):
        name = upstream.get(case.function)
        if name is None:
            continue
        g = case.inputs[name]
        r = rng.normal(size=np.shape(g))
        return [case._replace(inputs={**case.inputs, name: r}),
                case._replace(inputs={**case.inputs, name: 2 * g - 3 * r})]
    return []


def expected_answer(exercise, case, got=None):
    """The right answer for a case: the derivatives the exercise declares, else its reference.
    Where a derivative has a kink within the step, ``got`` is accepted if it lies between
    the one-sided differences (check.py compares it with itself there)."""
    try:
        derived = expected_outputs(exercise, case)
        if derived is None:
            return tuple(np.asarray(e, dtype=np.float64) for e in exercise.reference(case))
    except Exception as error:  # noqa: BLE001 -- the exercise's code, not the student's
        raise GraderError(f"exercise {exercise.NAME}: its expected answer for "
                          f"{case.function} failed ({type(error).__name__}: {error})") from None
    rtol, atol = tolerance(exercise)
    expected = []
    for j, (value, low, high) in enumerate(derived):
        value = np.asarray(value, dtype=np.float64)
        g = got[j] if got is not None and j < len(got) else None
        if g is not None and g.shape == value.shape and np.any(low != high):
            slack = atol + rtol * np.abs(value)
            between = (g >= low - slack) & (g <= high + slack) & (low != high)
            value = np.where(between, g, value)
        expected.append(value)
    return tuple(expected)


def tolerance(exercise):
    return getattr(exercise, "TOLERANCE", TOLERANCE)


def close(got, expected, exercise):
    rtol, atol = tolerance(exercise)
    return (got.shape == expected.shape
            and bool(np.all(np.isclose(got, expected, rtol=rtol, atol=atol))))


def factor_diagnosis(got, expected, m):
    """If got = c · expected for a constant c ≠ 1, say what c means (−1, m, 1/m, 2, ...)."""
    scale = float(np.vdot(expected, expected))
    if expected.size < 2 or scale == 0 or not np.all(np.isfinite(got)):
        return None  # one number is always a multiple of another: that says nothing
    c = float(np.vdot(expected, got)) / scale
    if not np.allclose(got, c * expected, rtol=1e-6, atol=1e-9) or np.isclose(c, 1) \
            or np.isclose(c, 0):
        return None
    if np.isclose(c, -1):
        return ("your answer is the right one with the wrong sign: check the order of a "
                "subtraction (ŷ − y, not y − ŷ) or a stray minus.")
    if m and m > 1 and np.isclose(c, m):
        return (f"your answer is m = {m} times too large: you forgot the 1/m of the mean over "
                f"the batch (BP3/BP4: ∇W = (1/m) Δ Hᵀ, ∇b = the row-mean of Δ).")
    if m and m > 1 and np.isclose(c, 1 / m):
        return (f"your answer is m = {m} times too small: one 1/m too many. The 1/m of the "
                f"mean enters once, in BP3/BP4; δ keeps one column per sample.")
    if np.isclose(c, 2) or np.isclose(c, 0.5):
        return (f"your answer is {c:g} × the right one: a factor 2 is off (a ½ that should "
                f"cancel a 2? a division by 2 too many or too few?).")
    return f"your answer is {c:.4g} × the right one: some constant factor is wrong."


def shape_diagnosis(got, expected, exercise, name=""):
    """Why the shape is wrong, when the numbers say so."""
    if got.shape == expected.shape[::-1] and got.ndim == 2:
        if close(got.T, expected, exercise):
            return ("the numbers are right but transposed: the batch is columns (n × m, one "
                    "column per sample); return the transpose.")
        return ("your shape is the transpose of the expected one: check the order of a "
                "product (δ hᵀ, not h δᵀ) and that the batch is columns, one per sample.")
    if got.size == expected.size and close(got.reshape(expected.shape), expected, exercise):
        how = ""
        if expected.ndim < got.ndim:
            how = (" (a bias gradient is 1-D: np.mean(delta, axis=1), without keepdims)"
                   if name.startswith("grad_b") else " (an extra axis: keepdims? [:, None]?)")
        return (f"the numbers are right but the shape is not: return shape {expected.shape}, "
                f"not {got.shape}{how}.")
    return None


def swap_diagnosis(exercise, case, j, got, expected_all):
    """When output j holds what another output should be: the outputs are out of order."""
    names = exercise.OUTPUTS[case.function]
    for k, other in enumerate(expected_all):
        if k != j and not close(expected_all[j], other, exercise) and close(got, other, exercise):
            return (f"your {names[j]} is what {names[k]} should be: return the outputs in the "
                    f"order ({', '.join(names)}).")
    return None


def error_diagnosis(exercise, case, error):
    """The diagnosis of a mistake that raises, on this case, the very error the student's code
    raised (the same type and message: numpy's messages name the shapes), or None.

    `φ' @ (Wᵀ δ)` where BP2 has `φ' * (Wᵀ δ)` fails this way on every case that is not 1×1."""
    said = " ".join(str(error).split())
    for diagnosis, mistake in exercise.MISTAKES:
        try:
            with np.errstate(all="ignore"):
                mistake(case)
        except Exception as raised:  # noqa: BLE001 -- the error is what we compare
            text = " ".join(f"raised {type(raised).__name__}: {str(raised)[:300]}".split())
            if text in said:
                return diagnosis
    return None


def with_error_diagnosis(exercise, cases, failure):
    """A failure whose function raised, with the diagnosis of the mistake that raises alike."""
    status, message, detail = failure
    if status != "error" or detail.get("diagnosis"):
        return failure
    diagnosis = error_diagnosis(exercise, cases[detail["case"] - 1], message)
    return (status, message, {**detail, "diagnosis": diagnosis}) if diagnosis else failure


def one_by_one(case):
    """True for a case whose arrays all have a single entry: there a @ b = a * b, Wᵀ = W,
    a mean is the number itself, and a wrong formula often gives the right number."""
    arrays = [value for value in case.inputs.values() if isinstance(value, np.ndarray)]
    return bool(arrays) and all(array.size == 1 for array in arrays)


def diagnose(exercise, case, j, got, expected, expected_all=()):
    """The first diagnosis that fits output j of a wrong answer, or None."""
    for diagnosis, mistake in exercise.MISTAKES:
        try:
            with np.errstate(all="ignore"):
                wrong = tuple(np.asarray(w, dtype=np.float64) for w in mistake(case))
        except Exception:  # noqa: BLE001 -- a mistake that cannot happen for these shapes
            continue
        if j < len(wrong) and not close(wrong[j], expected, exercise) \
                and close(got, wrong[j], exercise):
            return diagnosis
    swapped = swap_diagnosis(exercise, case, j, got, expected_all) if expected_all else None
    if swapped:
        return swapped
    if got.shape != expected.shape:
        return shape_diagnosis(got, expected, exercise, exercise.OUTPUTS[case.function][j])
    if not np.any(got) and np.any(expected):
        return "your answer is all zeros: is a placeholder (np.zeros_like?) still returned?"
    if not np.all(np.isfinite(got)):
        return ("your answer has nan or inf entries: an overflow (exp of a large number? "
                "subtract the max first) or a division by zero.")
    return factor_diagnosis(got, expected, case.m)


def compare(exercise, case, expected, got):
    """None if the answer is right; else a dict saying which output and entries are wrong."""
    names = exercise.OUTPUTS[case.function]
    for j, (name, e, g) in enumerate(zip(names, expected, got)):
        if g.dtype.kind != "f":
            return (f"{name} has the dtype {g.dtype}", {
                "output": name, "diagnosis": f"the answer is real numbers: return a float "
                                             f"array (yours is {g.dtype}), as numpy's "
                                             f"operations on the float inputs give"})
        g = g.astype(np.float64)
        if close(g, e, exercise):
            continue
        detail = {"output": name, "diagnosis": diagnose(exercise, case, j, g, e, expected)}
        if g.shape != e.shape:
            detail.update(expected_shape=list(e.shape), got_shape=list(g.shape))
            message = f"{name} has the wrong shape"
        else:
            rtol, atol = tolerance(exercise)
            wrong = ~np.isclose(g, e, rtol=rtol, atol=atol)
            difference = np.where(wrong, np.abs(np.nan_to_num(g - e, nan=np.inf)), -1)
            order = np.argsort(difference, axis=None)[::-1][:min(SHOWN_ENTRIES, int(wrong.sum()))]
            detail.update(
                wrong_entries=int(wrong.sum()), total_entries=int(e.size),
                entries=[{"index": [int(i) for i in np.unravel_index(k, e.shape)],
                          "expected": float(e.flat[k]), "got": as_number(g.flat[k])}
                         for k in order])
            message = f"{name} is wrong"
        return message, detail
    return None


def grade(exercise, cases, answers):
    """A Verdict from the cases and the student's answers: (outputs, error) per case.

    Of several failing cases it reports the first one with the diagnosis that fits the most
    of them (on a 1×1 case only when no other has one: it tells the fewest mistakes apart),
    else the first one whose function raised, else the first one. A case that raised is
    diagnosed too, when one of the exercise's mistakes raises the same error on it. A wrong
    answer's passing 1×1 cases are not counted as passed (detail["passed_1x1_cases"] lists
    them).
    """
    failures = []
    for i, (case, (got, error)) in enumerate(zip(cases, answers), start=1):
        where = {"case": i, "function": case.function, "inputs": describe_inputs(case)}
        if error is not None:
            failures.append(("error", f"{case.function} {error}", where))
            continue
        expected = expected_answer(exercise, case, got)
        wrong = compare(exercise, case, expected, got)
        if wrong is not None:
            message, detail = wrong
            if len(exercise.FUNCTIONS) > 1:
                message = f"{case.function}: {message}"
            failures.append(("wrong", message, {**where, **detail}))
    failures = [with_error_diagnosis(exercise, cases, failure) for failure in failures]
    passed = len(cases) - len(failures)
    if not failures:
        functions = " and ".join(exercise.FUNCTIONS)
        agree = "agrees" if len(exercise.FUNCTIONS) == 1 else "agree"
        return Verdict(exercise.NAME, "pass",
                       f"{functions} {agree} with the reference on all {len(cases)} cases.",
                       len(cases), passed)
    diagnosed = [f for f in failures if f[2].get("diagnosis")]
    fits = Counter(f[2]["diagnosis"] for f in diagnosed)
    shown = min(diagnosed, default=None, key=lambda f: (
        -fits[f[2]["diagnosis"]], one_by_one(cases[f[2]["case"] - 1]), f[2]["case"])) \
        or next((f for f in failures if f[0] == "error"), failures[0])
    status, message, detail = shown
    failed = [f[2]["case"] for f in failures]
    # A wrong answer that passes a 1×1 case passes it by luck: that case does not count.
    lucky = [i for i, case in enumerate(cases, start=1) if i not in failed and one_by_one(case)]
    detail = {**detail, "failed_cases": failed, **({"passed_1x1_cases": lucky} if lucky else {})}
    return Verdict(exercise.NAME, status, message, len(cases), passed - len(lucky), detail)


def check_functions(exercise, functions, seed=DEFAULT_SEED, grading=False):
    """Grade Python functions in this process ({name: function}): for tests and teachers
    who trust the code. Students' files go through sandbox.check_file instead."""
    cases = make_cases(exercise, seed, grading)
    answers = []
    for case in cases:
        inputs = [np.array(value, copy=True) if isinstance(value, np.ndarray) else value
                  for value in case.inputs.values()]
        answers.append(call_student(functions[case.function], inputs,
                                    exercise.OUTPUTS[case.function], "<in-process>"))
    return grade(exercise, cases, answers)
