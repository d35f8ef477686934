"""The exercises: every skeleton fails, every solution passes, typical mistakes get their diagnosis;
the references the package does not provide agree with finite differences; the sandbox holds.

Grading is tested in-process (check_functions) wherever possible; the sandbox tests
spawn one Python process each.
"""

import ast
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from backprop_edu.exercises import EXERCISES, get_exercise, hints
from backprop_edu.exercises.exercise import skeleton_source, solution_source
from backprop_edu.grader import confine
from backprop_edu.grader.check import check_functions, make_cases
from backprop_edu.grader.sandbox import check_file
from conftest import write


def functions_of(source, exercise):
    """Run a file's source and pick the exercise's functions out of it."""
    namespace = {}
    exec(compile(source, "<student>", "exec"), namespace)
    return {name: namespace[name] for name in exercise.FUNCTIONS}


def tanh_prime(a):
    return 1 - np.tanh(a) ** 2


def sigma(a):
    return 1 / (1 + np.exp(-a))


def test_there_are_at_least_ten_exercises_each_with_hints_and_cases():
    assert len(EXERCISES) >= 10
    for name, exercise in EXERCISES.items():
        assert exercise.NAME == name
        assert len(exercise.HINTS) >= 2
        cases = make_cases(exercise)
        assert len(cases) >= 4
        shapes = {tuple(np.shape(v) for v in case.inputs.values()) for case in cases}
        assert len(shapes) >= 3, f"{name}: cases should come in several shapes"


def test_cases_are_the_same_for_the_same_seed_and_differ_for_another():
    exercise = get_exercise("bp2")
    first, again, other = make_cases(exercise, 0), make_cases(exercise, 0), make_cases(exercise, 1)
    assert np.array_equal(first[1].inputs["a"], again[1].inputs["a"])
    assert not np.array_equal(first[1].inputs["a"], other[1].inputs["a"])


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_solution_file_passes(name):
    exercise = EXERCISES[name]
    verdict = check_functions(exercise, functions_of(solution_source(exercise), exercise))
    assert verdict.passed, verdict.text()
    assert verdict.cases_passed == verdict.cases == len(make_cases(exercise))


@pytest.mark.parametrize("name", list(EXERCISES))
def test_skeleton_as_shipped_fails_and_says_it_is_not_written(name):
    exercise = EXERCISES[name]
    source = skeleton_source(exercise)
    assert "TODO" in source and "NotImplementedError" in source
    for function in exercise.FUNCTIONS:
        assert f"def {function}(" in source
    verdict = check_functions(exercise, functions_of(source, exercise))
    assert not verdict.passed
    assert verdict.status == "error"
    assert "not written yet" in verdict.message
    assert verdict.cases_passed == 0


def solution_statements(exercise):
    """Every assigned or returned expression of the teacher's solution, without spaces."""
    found = set()
    for function in exercise.FUNCTIONS:
        tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(exercise, function))))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.Return)) and node.value and \
                    not all(isinstance(part, ast.Name) for part in getattr(
                        node.value, "elts", [node.value])):  # not `original`, `W, b`
                found.add(ast.unparse(node.value).replace(" ", ""))
    return {code for code in found if len(code) >= 6}


def as_code(text):
    return text.replace(" ", "").replace("−", "-").replace("²", "**2")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_last_hint_is_not_the_solution(name):
    exercise = EXERCISES[name]
    last = as_code(exercise.HINTS[-1])
    assert "return" not in last
    statements = solution_statements(exercise)
    assert statements
    for code in statements:
        assert code not in last, f"{name}'s last hint writes `{code}` of the solution"
    every_hint = as_code(" ".join(exercise.HINTS))
    assert not all(code in every_hint for code in statements), f"{name}'s hints are its solution"


# One typical wrong solution per exercise, and the words its diagnosis must contain.
WRONG = {
    "bp1_mse": ({"bp1_mse": lambda y_hat, y: y - y_hat}, "wrong sign"),
    "bp1_softmax": ({"bp1_softmax": lambda a, labels: (
        np.exp(a - a.max(axis=1, keepdims=True)) / np.exp(a - a.max(axis=1, keepdims=True))
        .sum(axis=1, keepdims=True) - np.eye(a.shape[0])[labels].T)}, "normalises the rows"),
    "sigmoid_prime": ({"sigmoid_prime": lambda a: a * (1 - a)}, "σ(a)(1 − σ(a))"),
    "tanh_prime": ({"tanh_prime": lambda a: 1 - a ** 2}, "square tanh(a), not a"),
    "bp2": ({"bp2": lambda W_next, delta_next, a: W_next.T @ delta_next}, "left out φ'"),
    "bp3_bp4": ({"bp3_bp4": lambda delta, h: (delta @ h.T, delta.mean(axis=1))},
                "forgot the 1/m"),
    "backward_2layer": ({"backward_2layer": lambda W1, b1, W2, b2, X, Y: (
        lambda h1, m: (lambda d2: (
            (W2.T @ d2) @ X.T / m, (W2.T @ d2).mean(axis=1), d2 @ h1.T / m, d2.mean(axis=1)))(
            W2 @ h1 + b2[:, None] - Y))(sigma(W1 @ X + b1[:, None]), X.shape[1])},
        "miss φ'"),
    "gradient_check": ({"numerical_gradient": lambda W, X, Y, eps: np.array([
        (lambda Wp: (0.5 * np.sum((np.tanh(Wp @ X) - Y) ** 2) - 0.5 * np.sum(
            (np.tanh(W @ X) - Y) ** 2)) / X.shape[1] / eps)(W + eps * (np.arange(W.size) == k)
                                                               .reshape(W.shape))
        for k in range(W.size)]).reshape(W.shape)}, "one-sided difference"),
    "tied_autoencoder": ({"tied_autoencoder": lambda W, b, c, X: (
        lambda h, m: (lambda d_out: (
            (h * (1 - h) * (W @ d_out)) @ X.T / m, (h * (1 - h) * (W @ d_out)).mean(axis=1),
            d_out.mean(axis=1)))(W.T @ h + c[:, None] - X))(sigma(W @ X + b[:, None]),
                                                           X.shape[1])},
        "only the encoder's contribution"),
    "max_pool": ({"max_pool_backward": lambda x, grad_out, size: np.repeat(
        grad_out / size, size, axis=0)}, "as average pooling does"),
    "avg_pool": ({"avg_pool_backward": lambda x, grad_out, size: np.tile(
        grad_out / size, (size, 1))}, "interleaved"),
    "residual_block": ({"residual_block": lambda W, b, h, g: (
        W.T @ (tanh_prime(W @ h + b[:, None]) * g),
        (tanh_prime(W @ h + b[:, None]) * g) @ h.T / h.shape[1],
        (tanh_prime(W @ h + b[:, None]) * g).mean(axis=1))}, "misses the identity path"),
    "jvp_vjp": ({"jvp": lambda W1, b1, W2, b2, x, v: W2 @ W1 @ v,
                 "vjp": lambda W1, b1, W2, b2, x, u: W1.T @ (tanh_prime(W1 @ x + b1) * (W2.T @ u))},
                "left out φ'"),
}


def test_every_exercise_has_a_typical_wrong_solution_here():
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_typical_wrong_solution_fails_with_its_diagnosis(name):
    functions, words = WRONG[name]
    verdict = check_functions(EXERCISES[name], functions)
    assert not verdict.passed
    assert verdict.status == "wrong"
    assert words in (verdict.detail.get("diagnosis") or ""), verdict.text()


def test_a_wrong_answer_names_case_output_and_entries_expected_versus_got():
    exercise = get_exercise("bp2")
    verdict = check_functions(exercise, {"bp2": lambda W, d, a: tanh_prime(a) * (W.T @ d) + 0.5})
    detail = verdict.as_dict()
    assert detail["case"] == 1 and detail["output"] == "delta"
    assert detail["failed_cases"] == [1, 2, 3, 4, 5]
    entry = detail["entries"][0]
    case = make_cases(exercise)[0]
    expected = tanh_prime(case.inputs["a"]) * (case.inputs["W_next"].T @ case.inputs["delta_next"])
    assert entry["expected"] == pytest.approx(expected[tuple(entry["index"])])
    assert entry["got"] == pytest.approx(entry["expected"] + 0.5)
    assert "expected" in verdict.text() and "got" in verdict.text()


def test_a_transposed_answer_is_called_a_transpose():
    verdict = check_functions(get_exercise("bp2"),
                              {"bp2": lambda W, d, a: (tanh_prime(a) * (W.T @ d)).T})
    assert verdict.detail["expected_shape"] != verdict.detail["got_shape"]
    assert "transposed" in verdict.detail["diagnosis"]


def test_W_instead_of_its_transpose_is_named_from_the_error_it_raises():
    verdict = check_functions(get_exercise("bp2"),
                              {"bp2": lambda W, d, a: tanh_prime(a) * (W @ d)})
    assert verdict.status == "error" and "raised ValueError: matmul" in verdict.message
    assert "W_{l+1}ᵀ" in verdict.detail["diagnosis"]
    assert verdict.detail["inputs"].startswith("W_next 2×3")  # the first case it fails
    assert verdict.detail["failed_cases"] == [2, 3, 4, 5]  # the square one as a wrong number


def test_a_bias_gradient_of_the_wrong_shape_is_named():
    verdict = check_functions(get_exercise("bp3_bp4"), {"bp3_bp4": lambda d, h: (
        d @ h.T / d.shape[1], d.mean(axis=1, keepdims=True))})
    assert verdict.detail["output"] == "grad_b"
    assert "return shape (2,), not (2, 1)" in verdict.detail["diagnosis"]


def test_delta_divided_by_m_is_told_the_1_over_m_belongs_in_bp3_bp4():
    verdict = check_functions(get_exercise("bp1_mse"),
                              {"bp1_mse": lambda y_hat, y: (y_hat - y) / y.shape[1]})
    assert "1/m enters only in BP3/BP4" in verdict.detail["diagnosis"]


def test_naive_softmax_overflows_and_is_told_to_subtract_the_max():
    def naive(a, labels):
        e = np.exp(a)
        delta = e / e.sum(axis=0)
        delta[labels, np.arange(a.shape[1])] -= 1
        return delta

    with np.errstate(all="ignore"):
        verdict = check_functions(get_exercise("bp1_softmax"), {"bp1_softmax": naive})
    assert verdict.cases_passed == verdict.cases - 1  # only the case with large logits fails
    assert "subtract the max" in verdict.detail["diagnosis"]


def test_wrong_return_types_get_a_clear_message():
    exercise = get_exercise("bp3_bp4")
    assert "forget the `return`" in check_functions(exercise, {"bp3_bp4": lambda d, h: None}).message
    message = check_functions(exercise, {"bp3_bp4": lambda d, h: d @ h.T}).message
    assert "expected a tuple of 2 arrays (grad_W, grad_b)" in message
    message = check_functions(get_exercise("bp2"), {"bp2": lambda W, d, a: "delta"}).message
    assert "expected a numpy array of numbers" in message


def test_an_exception_is_reported_with_its_type_and_message():
    def broken(W, d, a):
        raise ZeroDivisionError("oops")
    verdict = check_functions(get_exercise("bp2"), {"bp2": broken})
    assert verdict.status == "error"
    assert "raised ZeroDivisionError: oops" in verdict.message


def test_student_code_cannot_change_the_inputs_the_reference_sees():
    def vandal(W, d, a):
        W[...] = 0
        a[...] = 0
        return np.zeros_like(a)
    verdict = check_functions(get_exercise("bp2"), {"bp2": vandal})
    assert not verdict.passed


# The references the package does not provide, against central differences.

def central_difference(f, x, eps=1e-6):
    """∂(scalar f)/∂x by central differences, entry by entry."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = f()
        x[index] = original - eps
        minus = f()
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("name, forward", [("max_pool", "max_pool"), ("avg_pool", "avg_pool")])
def test_pooling_references_match_finite_differences(name, forward):
    exercise = get_exercise(name)
    pool = getattr(exercise, forward)
    for case in make_cases(exercise, seed=3):
        x, grad_out, size = (np.array(v, copy=True) if isinstance(v, np.ndarray) else v
                             for v in case.inputs.values())
        numeric = central_difference(lambda: float(np.sum(grad_out * pool(x, size))), x)
        (analytic,) = exercise.reference(case)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_jvp_reference_matches_finite_differences_and_pairs_with_vjp():
    exercise = get_exercise("jvp_vjp")
    cases = make_cases(exercise, seed=4)
    for jvp_case, vjp_case in zip(cases[0::2], cases[1::2]):
        W1, b1, W2, b2, x, v = jvp_case.inputs.values()
        u = vjp_case.inputs["u"]

        def f(point):
            return W2 @ np.tanh(W1 @ point + b1) + b2

        eps = 1e-6
        numeric = (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
        (Jv,) = exercise.reference(jvp_case)
        (JTu,) = exercise.reference(vjp_case)
        np.testing.assert_allclose(Jv, numeric, rtol=1e-6, atol=1e-8)
        assert u @ Jv == pytest.approx(JTu @ v)  # uᵀ(J v) = (Jᵀ u)ᵀ v


def test_tied_autoencoder_reference_matches_finite_differences():
    exercise = get_exercise("tied_autoencoder")
    for case in make_cases(exercise, seed=5):
        W, b, c, X = (np.array(v, copy=True) for v in case.inputs.values())

        def J():
            x_hat = W.T @ sigma(W @ X + b[:, None]) + c[:, None]
            return 0.5 * np.sum((x_hat - X) ** 2) / X.shape[1]

        grad_W, grad_b, grad_c = exercise.reference(case)
        np.testing.assert_allclose(grad_W, central_difference(J, W), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(grad_b, central_difference(J, b), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(grad_c, central_difference(J, c), rtol=1e-5, atol=1e-8)


def test_hints_come_one_at_a_time_and_are_remembered(tmp_path):
    exercise, state = get_exercise("bp2"), tmp_path / "hints.json"
    assert hints.hint(exercise, state)[:2] == (1, 3)
    assert hints.hint(exercise, state)[:2] == (2, 3)
    assert hints.hint(exercise, state, number=1)[0] == 1
    assert hints.hint(exercise, state)[0] == 3
    assert hints.hint(exercise, state)[0] == 3  # the last one repeats
    assert hints.hint(get_exercise("bp1_mse"), state)[0] == 1  # progress is per exercise
    hints.reset(exercise, state)
    assert hints.hint(exercise, state)[0] == 1
    with pytest.raises(ValueError, match="hints 1 to 3"):
        hints.hint(exercise, state, number=4)


# The sandbox: one separate process per check.

def test_sandbox_passes_the_solution_and_fails_the_skeleton(tmp_path):
    exercise = get_exercise("bp2")
    assert check_file(exercise, write(tmp_path, "s.py", solution_source(exercise))).passed
    verdict = check_file(exercise, write(tmp_path, "k.py", skeleton_source(exercise)))
    assert verdict.status == "error" and "not written yet" in verdict.message


def test_sandbox_printing_PASS_and_returning_garbage_fails(tmp_path):
    path = write(tmp_path, "p.py", "import numpy as np\nprint('bp2: PASS')\n"
                 "def bp2(W, d, a):\n    print('PASS')\n    return np.ones_like(a)\n")
    verdict = check_file(get_exercise("bp2"), path)
    assert not verdict.passed and verdict.status == "wrong"
    assert "PASS" not in verdict.text()


def test_sandbox_has_no_backprop_edu_to_import_or_patch(tmp_path):
    path = write(tmp_path, "m.py", (
        "import numpy as np\nimport backprop_edu.layers\nimport backprop_edu.exercises.bp2 as ex\n"
        "backprop_edu.layers.Dense.backward = lambda self, g, propagate=True: g\n"
        "def bp2(W, d, a):\n    return np.zeros_like(a)\n"))
    verdict = check_file(get_exercise("bp2"), path)
    assert verdict.status == "load" and "No module named 'backprop_edu'" in verdict.message
    # and this process's package is untouched
    assert check_functions(get_exercise("bp2"), {"bp2": get_exercise("bp2").bp2}).passed


def test_sandbox_survives_sys_exit_and_os_exit(tmp_path):
    verdict = check_file(get_exercise("bp2"), write(tmp_path, "e.py", "import sys\nsys.exit(0)\n"))
    assert verdict.status == "load" and "sys.exit" in verdict.message and "line 2" in verdict.message
    verdict = check_file(get_exercise("bp2"), write(
        tmp_path, "o.py", "import os\ndef bp2(W, d, a):\n    os._exit(0)\n"))
    assert verdict.status == "crashed" and "os._exit" in verdict.message


def test_sandbox_stops_an_endless_loop_at_the_time_limit(tmp_path):
    path = write(tmp_path, "l.py", "def bp2(W, d, a):\n    while True:\n        pass\n")
    verdict = check_file(get_exercise("bp2"), path, time_limit=1.5)
    assert verdict.status == "timeout"
    assert "time limit" in verdict.message and "1.5 s" in verdict.message


def test_sandbox_stops_a_memory_hog_at_the_memory_limit(tmp_path):
    path = write(tmp_path, "h.py", "import numpy as np\ndef bp2(W, d, a):\n"
                 "    return np.ones((40000, 40000))\n")
    verdict = check_file(get_exercise("bp2"), path, memory_limit_mb=512)
    assert verdict.status == "memory" and "memory limit" in verdict.message


def test_sandbox_reports_a_syntax_error_with_its_line(tmp_path):
    path = write(tmp_path, "x.py", "import numpy as np\n\ndef bp2(W, d, a)\n    return W\n")
    verdict = check_file(get_exercise("bp2"), path)
    assert verdict.status == "syntax"
    assert "line 3" in verdict.message and verdict.detail["line"] == 3


def test_sandbox_reports_an_exception_with_its_line_and_a_missing_function(tmp_path):
    path = write(tmp_path, "r.py", "import numpy as np\n\ndef bp2(W, d, a):\n    return W @ d @ a\n")
    verdict = check_file(get_exercise("bp2"), path)
    assert verdict.status == "error"
    assert "raised ValueError" in verdict.message and "line 4" in verdict.message
    verdict = check_file(get_exercise("bp2"), write(tmp_path, "n.py", "def my_bp2(W, d, a):\n"
                                                                      "    return W\n"))
    assert verdict.status == "missing" and "no function named bp2 (it defines my_bp2)" in verdict.message


def test_sandbox_a_forged_report_cannot_pass(tmp_path):
    """The file writes the harness's report and answers itself, claiming a pass, and exits."""
    forge = ("import json, os, sys, numpy as np\n"
             "out = sys.argv[3]\n"
             "for i in range(5):\n"
             "    np.save(os.path.join(out, f'case{i}.0.npy'), np.array(['PASS']))\n"
             "json.dump({REPORT}, open(os.path.join(out, 'report.json'), 'w'))\n"
             "os._exit(0)\n")
    path = write(tmp_path, "f.py", forge.replace(
        "{REPORT}", "{'load_error': {'kind': 'pass', 'message': 'PASS'}, 'cases': []}"))
    verdict = check_file(get_exercise("bp2"), path)
    assert not verdict.passed and verdict.status == "load"
    path = write(tmp_path, "g.py", forge.replace(
        "{REPORT}", "{'load_error': None, 'cases': [{'error': None}] * 5}"))
    verdict = check_file(get_exercise("bp2"), path)
    assert not verdict.passed and "not an array of real numbers" in verdict.message


def test_a_list_of_the_right_numbers_is_refused_with_how_to_fix_it():
    verdict = check_functions(get_exercise("bp1_mse"), {"bp1_mse": lambda y_hat, y:
                                                         (y_hat - y).tolist()})
    assert verdict.status == "error"
    assert "returned a list for delta, expected a numpy array" in verdict.message
    assert "np.array(...)" in verdict.message


@pytest.mark.parametrize("name, functions, diagnosis", [
    ("bp3_bp4", {"bp3_bp4": lambda d, h: (d.mean(axis=1), d @ h.T / d.shape[1])},
     "your grad_W is what grad_b should be: return the outputs in the order (grad_W, grad_b)"),
    ("bp2", {"bp2": lambda W, d, a: tanh_prime(a).T @ (W.T @ d)},
     "⊙ is `*`, not `@`"),
    ("bp2", {"bp2": lambda W, d, a: sigma(a) * (1 - sigma(a)) * (W.T @ d)},
     "the sigmoid's derivative"),
    ("bp3_bp4", {"bp3_bp4": lambda d, h: (d @ h.T / d.shape[0], d.sum(axis=1) / d.shape[0])},
     "you divided by the number of rows, delta.shape[0]"),
])
def test_more_common_mistakes_are_named(name, functions, diagnosis):
    verdict = check_functions(get_exercise(name), functions)
    assert not verdict.passed and diagnosis in verdict.detail["diagnosis"]


def test_a_finite_difference_divided_by_2_then_times_eps_is_named():
    exercise = get_exercise("gradient_check")

    def precedence(W, X, Y, eps):  # `/ 2 * eps`: the classic precedence slip
        grad = np.zeros_like(W)
        for index in np.ndindex(W.shape):
            original = W[index]
            W[index] = original + eps
            plus = exercise.loss(W, X, Y)
            W[index] = original - eps
            minus = exercise.loss(W, X, Y)
            W[index] = original
            grad[index] = (plus - minus) / 2 * eps
        return grad
    verdict = check_functions(exercise, {"numerical_gradient": precedence})
    assert "write `/ (2 * eps)`" in verdict.detail["diagnosis"]


def test_a_pass_of_two_functions_reads_as_english():
    exercise = get_exercise("jvp_vjp")
    verdict = check_functions(exercise, {"jvp": exercise.jvp, "vjp": exercise.vjp})
    assert verdict.message == "jvp and vjp agree with the reference on all 8 cases."


def test_sandbox_a_submission_cannot_signal_the_grader_or_leave_its_group(tmp_path):
    """Run in a separate grader process: if the filter failed, only that process would die."""
    path = write(tmp_path, "k.py", (
        "import os, signal\n"
        "def bp2(W, d, a):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
        "    return a\n"))
    script = ("import json, sys\nfrom backprop_edu.exercises import get_exercise\n"
              "from backprop_edu.grader.sandbox import check_file\n"
              "print(json.dumps(check_file(get_exercise('bp2'), sys.argv[1]).as_dict()))\n")
    result = subprocess.run([sys.executable, "-c", script, path], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # the grader survived
    verdict = json.loads(result.stdout)
    assert not verdict["passed"]
    if confine.supported():
        assert "raised PermissionError" in verdict["message"]
        setsid = write(tmp_path, "s.py", "import os\nos.setsid()\n")
        assert "PermissionError" in check_file(get_exercise("bp2"), setsid).message


def test_sandbox_a_process_killed_at_once_is_a_crash_not_a_timeout(tmp_path):
    path = write(tmp_path, "q.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    verdict = check_file(get_exercise("bp2"), path)
    assert verdict.status == "crashed" and "SIGKILL" in verdict.message


def test_sandbox_odd_errors_and_answers_never_crash_the_grader(tmp_path):
    exercise = get_exercise("bp2")
    surrogate = check_file(exercise, write(tmp_path, "u.py", (
        "def bp2(W, d, a):\n    raise ValueError('\\ud800 half a character')\n")))
    assert "half a character" in surrogate.message
    surrogate.message.encode("utf-8")  # printable
    no_str = check_file(exercise, write(tmp_path, "e.py", (
        "class Odd(Exception):\n    def __str__(self):\n        raise RuntimeError\n"
        "def bp2(W, d, a):\n    raise Odd()\n")))
    assert no_str.status == "error" and "raised Odd (line 5" in no_str.message
    huge = check_file(exercise, write(tmp_path, "h.py", (
        "import numpy as np\ndef bp2(W, d, a):\n    return np.zeros((4000, 4000))\n")))
    assert huge.status == "error" and "far larger than the exercise asks for" in huge.message
    null = write(tmp_path, "n.py", "")
    Path(null).write_bytes(b"def bp2(W, d, a):\n    return a\x00\n")
    verdict = check_file(exercise, null)
    assert verdict.status == "syntax" and "None" not in verdict.message
