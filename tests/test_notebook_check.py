"""check() from a notebook: the function's source, and what it uses, graded in a grader process.

The functions graded here are defined at the top level of this file, as a notebook cell
defines them (inspect.getsource reads both). One test runs check() in a real Jupyter
kernel (ipykernel, through nbclient), with numpy and the grader patched in that kernel.
"""

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import backprop_edu.exercises.bp2 as bp2_exercise
import backprop_edu.grader.check as grader_check
import backprop_edu.grader.sandbox as sandbox
from backprop_edu.exercises import CheckResult, check, get_exercise
from backprop_edu.exercises.notebook import literal, submission_source
from backprop_edu.grader.check import Verdict

ONE = 1.0
NAN_AND_INF = np.array([[np.nan, np.inf], [-np.inf, 2.5]])


def bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2) * (W_next.T @ delta_next)


def wrong_bp2(W_next, delta_next, a):
    return (1 - np.tanh(a) ** 2) @ (W_next.T @ delta_next)


def no_phi_prime(W_next, delta_next, a):
    return W_next.T @ delta_next


def phi_prime(a):
    return ONE - np.tanh(a) ** 2


def my_bp2(W_next, delta_next, a):
    """Named otherwise, with a helper function and a constant of the notebook."""
    return phi_prime(a) * (W_next.T @ delta_next)


def jvp(W1, b1, W2, b2, x, v):
    return W2 @ ((1 - np.tanh(W1 @ x + b1) ** 2) * (W1 @ v))


def vjp(W1, b1, W2, b2, x, u):
    return W1.T @ ((1 - np.tanh(W1 @ x + b1) ** 2) * (W2.T @ u))


def test_a_right_function_passes_and_a_wrong_one_gets_the_clis_feedback():
    right = check("bp2", bp2)
    assert isinstance(right, CheckResult) and right.passed is True
    assert str(right) == repr(right) == "bp2: PASS — bp2 agrees with the reference on all 5 cases."
    wrong = check("bp2", wrong_bp2)
    assert wrong.passed is False and wrong.status == "error"
    assert wrong.verdict.detail["diagnosis"].startswith("⊙ is `*`, not `@`")
    assert wrong.text().splitlines()[-1].startswith("  0 of 5 cases passed (case 1 is not counted")
    html = wrong._repr_html_()
    assert "⊙ is `*`, not `@`" in html and "#c62828" in html and "<b>  Diagnosis:" in html
    assert "#2e7d32" in right._repr_html_()


def test_patching_numpy_and_the_grader_in_this_process_changes_no_verdict(monkeypatch):
    """The kernel is the student's: whatever it patches, the verdict is decided elsewhere."""
    always = lambda *args, **kwargs: True  # noqa: E731
    monkeypatch.setattr(np, "isclose", lambda *args, **kwargs: np.ones(np.shape(args[0]), bool))
    monkeypatch.setattr(np, "allclose", always)
    monkeypatch.setattr(np, "array_equal", always)
    monkeypatch.setattr(np, "tanh", lambda a: a)  # the right answer's own tanh, here
    monkeypatch.setattr(grader_check, "close", always)
    monkeypatch.setattr(bp2_exercise, "reference", lambda case: (case.inputs["a"],))
    wrong = check("bp2", no_phi_prime)
    assert not wrong.passed and "you left out φ'(a_l)" in wrong.text()
    for module in (grader_check, sandbox):
        monkeypatch.setattr(module, "grade", lambda exercise, cases, answers: Verdict(
            exercise.NAME, "pass", "patched", len(cases), len(cases)))
    assert not check("bp2", no_phi_prime).passed
    assert check("bp2", bp2).passed


def test_the_module_level_names_a_function_uses_go_with_it():
    source = submission_source(get_exercise("bp2"), [my_bp2])
    assert "ONE = 1.0" in source and "def phi_prime(a):" in source
    assert "import numpy as np" in source
    assert source.index("def phi_prime") < source.index("def my_bp2") and "bp2 = my_bp2" in source
    assert check("bp2", my_bp2).passed
    assert check("jvp_vjp", vjp, jvp).passed  # matched by name, whatever the order
    namespace = {}
    exec(f"value = {literal(NAN_AND_INF)}", namespace)  # arrays travel exactly, nan and inf too
    np.testing.assert_array_equal(namespace["value"], NAN_AND_INF)
    value = {"k": (1, [2.5, float("nan")], None), "z": np.float32(3)}
    exec(f"value = {literal(value)}", namespace)
    assert namespace["value"]["z"].dtype == np.float32 and np.isnan(namespace["value"]["k"][1][1])


class Network:
    pass


net = Network()


def uses_an_object(W_next, delta_next, a):
    return net


def make_closure():
    scale = 2.0

    def bp2(W_next, delta_next, a):
        return scale * a
    return bp2


@pytest.mark.parametrize("functions, words", [
    ((uses_an_object,), "uses_an_object uses net, a Network defined outside it"),
    ((make_closure(),), "bp2 is defined inside another function"),
    ((lambda W_next, delta_next, a: a,), "bp2 is a lambda: define it with def bp2(...)"),
    ((bp2, bp2), "bp2 grades 1 function (bp2), and check() was given 2: call check('bp2', bp2)"),
    ((np.tanh,), "check() needs the Python function bp2 you wrote"),
])
def test_what_cannot_be_sent_is_said_in_one_line(functions, words):
    result = check("bp2", *functions)
    assert not result.passed and result.status == "source"
    assert words in result.message and "\n" not in result.text()


def test_an_unknown_exercise_is_a_value_error():
    with pytest.raises(ValueError, match="unknown exercise 'bp9'"):
        check("bp9", bp2)


def test_a_function_typed_in_python_c_has_no_source_and_is_told_so_in_one_line():
    script = ("from backprop_edu.exercises import check\n"
              "def bp2(W_next, delta_next, a):\n    return a\n"
              "result = check('bp2', bp2)\nprint(result.passed)\nprint(result)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stderr == ""
    passed, line = out.stdout.splitlines()
    assert passed == "False"
    assert line.startswith("bp2: FAIL — check() cannot read the source of bp2: a function "
                           "typed at the Python prompt or given to python -c has none")


KERNEL_CELLS = [
    "import numpy as np\nfrom backprop_edu.exercises import check",
    "def bp2(W_next, delta_next, a):\n    return (1 - np.tanh(a) ** 2) @ (W_next.T @ delta_next)",
    "check('bp2', bp2)",
    "def bp2(W_next, delta_next, a):\n    return W_next.T @ delta_next  # no φ'",
    # the student patches numpy and the grader in the kernel, then checks again
    textwrap.dedent("""\
        import backprop_edu.grader.check as g, backprop_edu.grader.sandbox as s
        import backprop_edu.exercises.bp2 as ex
        np.isclose = lambda *args, **kwargs: np.ones(np.shape(args[0]), bool)
        np.allclose = lambda *args, **kwargs: True
        g.close = lambda *args: True
        g.grade = s.grade = lambda exercise, cases, answers: g.Verdict('bp2', 'pass', 'ok', 5, 5)
        ex.reference = lambda case: (case.inputs['a'] * 0,)
        print(check('bp2', bp2).passed)"""),
    "SHIFT = 1.0\n\ndef bp2(W_next, delta_next, a):\n"
    "    return (SHIFT - np.tanh(a) ** 2) * (W_next.T @ delta_next)",
    "print(check('bp2', bp2).passed)",
    # the teachers' page: a function kept in a file, so that it can be collected and graded
    "%%writefile bp2_file.py\nimport numpy as np\n\n\ndef bp2(W_next, delta_next, a):\n"
    "    return (1 - np.tanh(a) ** 2) * (W_next.T @ delta_next)",
    "%run bp2_file.py\nprint(check('bp2', bp2).passed)",
]


def test_check_in_a_jupyter_kernel_shows_html_and_ignores_what_the_kernel_patched(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)
                                               for source in KERNEL_CELLS])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = notebook.cells[2].outputs[0]["data"]
    assert "⊙ is `*`, not `@`" in shown["text/plain"] and "bp2: FAIL" in shown["text/plain"]
    assert shown["text/html"].startswith("<div") and "Diagnosis:" in shown["text/html"]
    assert notebook.cells[4].outputs[0]["text"] == "False\n"  # patched kernel, wrong bp2
    assert notebook.cells[6].outputs[0]["text"] == "True\n"   # a right bp2 and its constant
    assert notebook.cells[8].outputs[0]["text"] == "True\n"   # written to a file, then %run
    assert (tmp_path / "bp2_file.py").exists()


def test_the_one_line_answer_shown_in_the_students_page_is_the_real_one(tmp_path):
    page = (Path(__file__).resolve().parent.parent / "docs" / "exercises.md").read_text()
    shown = next(block for block in re.findall(r"^```text\n(.*?)^```", page, re.S | re.M)
                 if "uses net" in block)
    path = tmp_path / "notebook_cells.py"
    path.write_text("class Network:\n    pass\n\n\nnet = Network()\n\n\n"
                    "def bp2(W_next, delta_next, a):\n    return net\n")
    spec = importlib.util.spec_from_file_location("notebook_cells", path)
    cells = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cells)
    assert check("bp2", cells.bp2).text() == shown.rstrip("\n")
