"""A teacher grades a class with `exercises grade` and a secret seed: honest, wrong and cheating
submissions, the teacher's secrets around, a local server listening.

Every probe is written so that it would PASS if what it tries worked (it returns the right
answer only then), and leaks what it found into its error message: a FAIL and no secret in
the grader's output, files or sockets is the proof that it did not work.
"""

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sysconfig
from pathlib import Path

import numpy as np

import backprop_edu
from backprop_edu.exercises import get_exercise
from backprop_edu.exercises.exercise import solution_source
from backprop_edu.grader import sandbox
from backprop_edu.grader.check import make_cases
from backprop_edu.grader.sandbox import check_file
from conftest import installed_command, write

RIGHT = "(1 - np.tanh(a) ** 2) * (W_next.T @ delta_next)"
PACKAGE = Path(backprop_edu.__file__).parent
SITE_PACKAGES = Path(np.__file__).parent.parent
STDLIB = Path(sysconfig.get_path("stdlib"))
PLANTED = [SITE_PACKAGES / "zz_backprop_edu_probe.pth", STDLIB / "zz_backprop_edu_probe.py",
           PACKAGE / "zz_backprop_edu_probe.py"]


def probe(*attempts):
    """A bp2 that tries each attempt in turn (each sets ``found`` to a string when what it tries
    works) and, if one worked, fails with LEAK and what it found in its message, which the
    grader's output would then show."""
    lines = ["import numpy as np, os, sys", "def bp2(W_next, delta_next, a):", "    found = None"]
    for attempt in attempts:
        lines += ["    if not found:", "        try:"]
        lines += ["            " + line for line in attempt.strip().splitlines()]
        lines += ["        except Exception:", "            pass"]
    lines += ["    if not found:", "        return np.zeros_like(a)",
              "    raise ValueError('LEAK ' + str(found))"]
    return "\n".join(lines) + "\n"


def lookup_table_cheat():
    """Answers for every practice case (seed 0: what `check --json` shows), zeros otherwise."""
    exercise = get_exercise("bp2")
    table = {hashlib.sha256(case.inputs["a"].tobytes()).hexdigest():
             exercise.reference(case)[0].tolist() for case in make_cases(exercise, 0)}
    return ("import hashlib, numpy as np\n"
            f"TABLE = {table!r}\n"
            "def bp2(W_next, delta_next, a):\n"
            "    key = hashlib.sha256(a.tobytes()).hexdigest()\n"
            "    return np.array(TABLE[key]) if key in TABLE else np.zeros_like(a)\n")


def class_of(tmp_path, secret, port, unix_path, home):
    honest = solution_source(get_exercise("bp2"))
    return {
        # honest
        "alice": honest,
        "ben": ("import numpy as np\ndef bp2(W_next, delta_next, a):\n"
                "    back = np.einsum('ji,jk->ik', W_next, delta_next)\n"
                "    return back / np.cosh(a) ** 2\n"),
        "carol/bp2.py": honest,
        # wrong
        "dan": ("import numpy as np\ndef bp2(W_next, delta_next, a):\n"
                "    return W_next.T @ delta_next\n"),
        "erin": ("import numpy as np\ndef bp2(W_next, delta_next, a):\n"
                 f"    return {RIGHT} / a.shape[1]\n"),
        "fay": "def bp2(W_next, delta_next, a)\n    return a\n",
        "zeros_after_plant": ("import numpy as np\n"
                              "def bp2(W_next, delta_next, a):\n    return np.zeros_like(a)\n"),
        # cheats
        "import_reference": "from backprop_edu.exercises.bp2 import bp2\n",
        "package_code": probe(
            f"found = open({str(PACKAGE / 'exercises' / 'bp2.py')!r}).read()",
            f"sys.path.insert(0, {str(PACKAGE.parent)!r})\nfrom backprop_edu import Dense\n"
            "found = 'Dense'",
            f"sys.path.insert(0, {str(SITE_PACKAGES)!r})\nimport backprop_edu\nfound = 'pkg'"),
        "processes": probe(
            "import subprocess\nfound = subprocess.run(["
            f"{installed_command()!r}, 'exercises', 'solution', 'bp2'],"
            " capture_output=True, text=True).stdout",
            "import subprocess\nsubprocess.run(['tmux', 'new-session', '-d', 'sleep 4243'], "
            "timeout=3)\nfound = 'tmux'",
            "import subprocess\nsubprocess.Popen(['sleep', '4244'], start_new_session=True)\n"
            "found = 'daemon'",
            "pids = []\nfor _ in range(2):\n    pid = os.fork()\n    if pid == 0:\n"
            "        x = np.ones(90_000_000)\n        os._exit(0)\n    pids.append(pid)\n"
            "found = 'two children'"),
        "lookup_table": lookup_table_cheat(),
        "grader_memory": probe("found = str(open(f'/proc/{os.getppid()}/mem', 'r+b'))",
                               "found = str(open('/proc/1/mem', 'r+b'))",
                               "found = str(os.listdir('/proc'))"),
        "plant_files": probe(*(f"open({str(p)!r}, 'w').write('import os')\nfound = 'planted'"
                               for p in PLANTED)),
        "teachers_files": probe(
            f"found = open({str(tmp_path / 'submissions' / 'alice.py')!r}).read()",
            f"found = open({str(home / 'token.txt')!r}).read()",
            "found = ' '.join(f'{k}={v}' for k, v in os.environ.items())\n"
            f"found = found if {secret!r} in found else None"),
        "sockets": probe(
            "import socket\ns = socket.create_connection(('127.0.0.1', "
            f"{port}), timeout=2)\ns.sendall(b'hello')\nfound = 'tcp'",
            "import socket\ns = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({unix_path!r})\ns.sendall(b'hello')\nfound = 'unix'"),
        "memory_threads": probe("import threading\nheld = []\n"
                                "def grab():\n    held.append(np.ones(90_000_000))\n"
                                "ts = [threading.Thread(target=grab) for _ in range(2)]\n"
                                "[t.start() for t in ts]; [t.join() for t in ts]\n"
                                "found = 'held' if len(held) == 2 else None"),
        "kill_grader": probe("import signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                             "found = 'killed'", "import signal\nos.kill(1, signal.SIGKILL)\n"
                             "found = 'killed'"),
        "huge_header": ("import os, sys, json, numpy as np\nout = sys.argv[3]\n"
                        "np.save(os.path.join(out, 'case0.0.npy'), np.zeros(4))\n"
                        "data = open(os.path.join(out, 'case0.0.npy'), 'rb').read()\n"
                        "data = data.replace(b'(4,)', b'(1000000000000,)')\n"
                        "open(os.path.join(out, 'case0.0.npy'), 'wb').write(data)\n"
                        "json.dump({'load_error': None, 'cases': [{'error': None}]},"
                        " open(os.path.join(out, 'report.json'), 'w'))\nos._exit(0)\n"),
        "deep_report": ("import os, sys\nopen(os.path.join(sys.argv[3], 'report.json'), 'w')"
                        ".write('[' * 200000 + ']' * 200000)\nos._exit(0)\n"),
        "link_answer": ("import os, sys, json\nout = sys.argv[3]\n"
                        f"os.symlink({str(home / 'token.txt')!r}, "
                        "os.path.join(out, 'case0.0.npy'))\n"
                        "json.dump({'load_error': None, 'cases': [{'error': None}]},"
                        " open(os.path.join(out, 'report.json'), 'w'))\nos._exit(0)\n"),
        "leave_for_next": ("import os\nopen('/tmp/from_before.txt', 'w').write('x')\n"
                           "open(os.path.expanduser('~/from_before.txt'), 'w').write('x')\n"),
        "next_reads_it": probe("found = open('/tmp/from_before.txt').read()",
                               "found = open(os.path.expanduser('~/from_before.txt')).read()"),
        "endless": "def bp2(W_next, delta_next, a):\n    while True:\n        pass\n",
        "prints_pass": "import sys\nprint('bp2: PASS')\nsys.exit(0)\n",
    }


def test_a_class_graded_with_a_secret_seed_as_a_teacher_would(tmp_path):
    secret = "sk-teacher-" + secrets.token_hex(8)
    home = tmp_path / "teacher_home"
    home.mkdir()
    (home / "token.txt").write_text(secret)
    seed_file = write(tmp_path, "seed", str(secrets.randbits(64)))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    unix_path = str(tmp_path / "tmux-0-default")
    unix_listener = socket.socket(socket.AF_UNIX)
    unix_listener.bind(unix_path)
    unix_listener.listen(8)
    unix_listener.setblocking(False)
    os.chmod(unix_path, 0o777)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    students = class_of(tmp_path, secret, listener.getsockname()[1], unix_path, home)
    for name, source in students.items():
        path = submissions / (name if name.endswith(".py") else name + ".py")
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
    (submissions / "zz_linked.py").symlink_to(home / "token.txt")  # a "submission" that is a link
    honest = {"alice", "ben", "carol"}

    env = dict(os.environ, HOME=str(home), TEACHER_API_TOKEN=secret)
    try:
        result = subprocess.run(
            [installed_command(), "exercises", "grade", "bp2", str(submissions),
             "--seed-file", seed_file, "--csv", str(tmp_path / "grades.csv"),
             "--json", str(tmp_path / "grades.json"), "--time-limit", "3"],
            capture_output=True, text=True, env=env, timeout=300)
        planted = [str(path) for path in PLANTED if path.exists()]
    finally:
        for path in PLANTED:
            path.unlink(missing_ok=True)
    assert not planted, f"a submission planted {planted}"
    assert result.returncode == 1, result.stderr
    records = json.loads((tmp_path / "grades.json").read_text())
    verdicts = {r["student"]: r for r in records}
    assert set(verdicts) == {name.split("/")[0] for name in students} | {"zz_linked"}
    for student, r in verdicts.items():
        assert r["passed"] == (student in honest), (student, r["first_failure"])
        assert "LEAK" not in r["first_failure"], (student, r["first_failure"])
    assert verdicts["alice"]["cases_total"] > len(make_cases(get_exercise("bp2"), 0))  # hidden
    assert "time limit" in verdicts["endless"]["first_failure"]
    assert "symbolic link" in verdicts["zz_linked"]["first_failure"]
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert lines[0] == "student,exercise,passed,cases_passed,cases_total,first_failure,seconds"
    assert len(lines) == len(records) + 1
    for text in (result.stdout, result.stderr, (tmp_path / "grades.csv").read_text(),
                 (tmp_path / "grades.json").read_text()):
        assert secret not in text
    for server in (listener, unix_listener):
        try:
            server.accept()
            connected = True
        except BlockingIOError:
            connected = False
        server.close()
        assert not connected, "a submission reached a local server"
    assert not surviving("4243") and not surviving("4244")
    assert "sandbox: namespaces" in result.stderr  # root here: the strongest jail


def surviving(marker):
    """Processes whose command line holds ``marker`` (a sleep a probe tried to leave behind)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and b"pytest" not in cmdline:
            found.append(pid)
    return found


def test_the_lookup_table_cheat_passes_practice_but_not_grading(tmp_path):
    path = write(tmp_path, "table.py", lookup_table_cheat())
    exercise = get_exercise("bp2")
    assert check_file(exercise, path).passed  # seed 0: the cheat is a real one
    assert not check_file(exercise, path, seed=271828, grading=True).passed


TEACHERS_EXERCISE = '''"""Exercise relu_backward: the gradient through a ReLU layer."""

import numpy as np

from backprop_edu.exercises.exercise import Case, Gradient

NAME = "relu_backward"
SUMMARY = "ReLU backward: δ = 1[a > 0] ⊙ grad_h"
MINUTES = 5
FUNCTIONS = ["relu_backward"]
OUTPUTS = {"relu_backward": ["delta"]}
HINTS = ["ReLU'(a) is 1 where a > 0 and 0 elsewhere.", "return (a > 0) * grad_h"]


def relu_backward(a, grad_h):
    """δ = ReLU'(a) ⊙ grad_h. a, grad_h: (n, m). returns δ, (n, m)."""
    return (a > 0) * grad_h


def cases(rng, shapes=((2, 3), (4, 5))):
    return [Case("relu_backward", {"a": rng.normal(size=shape), "grad_h": rng.normal(size=shape)},
                 shape[1]) for shape in shapes]


def hidden_cases(rng):
    return cases(rng, shapes=((30, 40),))


DERIVATIVES = {"relu_backward": {"delta": Gradient(
    "a", lambda a, grad_h: np.sum(grad_h * np.maximum(a, 0)), analytic=False)}}
UPSTREAM = {"relu_backward": "grad_h"}
MISTAKES = [("you multiplied by a itself, not by ReLU'(a).",
             lambda case: (case.inputs["a"] * case.inputs["grad_h"],))]
'''


def test_a_teachers_own_exercise_folder_without_reference_grades_and_hides(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "relu_backward.py").write_text(TEACHERS_EXERCISE)
    (course / "policy.json").write_text('{"solution": false, "last_hint": false}')
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "ann.py").write_text("def relu_backward(a, grad_h):\n"
                                        "    return (a > 0) * grad_h\n")
    (submissions / "bo.py").write_text("def relu_backward(a, grad_h):\n    return a * grad_h\n")
    (submissions / "cy.py").write_text(
        f"exec(open({str(course / 'relu_backward.py')!r}).read())\n")  # the teacher's file
    command = installed_command()
    result = subprocess.run([command, "exercises", "grade", "relu_backward", str(submissions),
                             "--exercises", str(course), "--json", "-"],
                            capture_output=True, text=True, env=dict(os.environ,
                                                                     BACKPROP_EDU_SEED="99"))
    assert result.returncode == 1, result.stderr
    records = {r["student"]: r for r in json.loads(result.stdout)}
    assert records["ann"]["passed"] and records["ann"]["cases_total"] == 5
    assert not records["bo"]["passed"] and "ReLU'(a)" in records["bo"]["first_failure"]
    assert not records["cy"]["passed"]
    solution = subprocess.run([command, "exercises", "solution", "relu_backward",
                               "--exercises", str(course)], capture_output=True, text=True)
    assert solution.returncode != 0 and "turned off" in solution.stderr
    assert "(a > 0) * grad_h" not in solution.stdout
    hints = subprocess.run([command, "exercises", "hint", "relu_backward", "--number", "2",
                            "--exercises", str(course), "--state-file",
                            str(tmp_path / "h.json")], capture_output=True, text=True)
    assert hints.returncode != 0 and "hints 1 to 1" in hints.stderr


def test_grade_usage_errors_exit_2_and_write_nothing(tmp_path):
    command = installed_command()
    submissions = tmp_path / "s"
    submissions.mkdir()
    (submissions / "a.py").write_text("x = 1\n")

    def grade(*args, env=None):
        return subprocess.run([command, "exercises", "grade", *args], capture_output=True,
                              text=True, env=dict(os.environ, **(env or {})))
    unknown = grade("bp9", str(submissions), "--seed", "5", "--csv", str(tmp_path / "g.csv"))
    assert unknown.returncode == 2 and "unknown exercise 'bp9'" in unknown.stderr
    practice = grade("bp2", str(submissions), "--seed", "0")
    assert practice.returncode == 2 and "practice seed" in practice.stderr
    no_seed = grade("bp2", str(submissions), env={"BACKPROP_EDU_SEED": ""})
    assert no_seed.returncode == 2 and "secret seed" in no_seed.stderr
    bad_file = grade("bp2", str(submissions), "--seed-file", write(tmp_path, "seed", "abc"))
    assert bad_file.returncode == 2 and "whole number" in bad_file.stderr
    assert not (tmp_path / "g.csv").exists()
    for result in (unknown, practice, no_seed, bad_file):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_gradescope_writes_results_json_for_one_submission(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "bp2.py").write_text(solution_source(get_exercise("bp2")))
    results = tmp_path / "results.json"
    done = subprocess.run([installed_command(), "exercises", "grade", "bp2", str(folder),
                           "--seed", "31", "--gradescope", str(results)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(results.read_text())
    assert data["score"] == 1.0 and data["tests"][0]["status"] == "passed"
    assert data["tests"][0]["max_score"] == 1.0 and data["tests"][0]["name"] == "bp2"


def test_a_grader_that_cannot_work_is_exit_3(tmp_path, monkeypatch):
    import importlib
    from conftest import run

    def broken(*args, **kwargs):
        raise sandbox.GraderError("the sandbox could not be set up: a test says so")
    monkeypatch.setattr(importlib.import_module("backprop_edu.cli.exercises"), "check_file",
                        broken)
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run("exercises", "grade", "bp2", tmp_path, "--seed", "4")
    assert result.exit_code == 3 and "grader error" in result.output


def test_check_file_never_raises_on_forged_answer_files(tmp_path):
    exercise = get_exercise("bp2")
    forged = {
        "object": "np.save(os.path.join(out, 'case0.0.npy'), np.array([{}], dtype=object), "
                  "allow_pickle=True)",
        "fifo": "os.mkfifo(os.path.join(out, 'case0.0.npy'))",
        "truncated": "open(os.path.join(out, 'case0.0.npy'), 'wb').write(b'\\x93NUMPY')",
        "report_list": "pass",
    }
    for name, line in forged.items():
        report = "[]" if name == "report_list" else \
            "{'load_error': None, 'cases': [{'error': None}] * 5}"
        path = write(tmp_path, f"{name}.py", (
            "import os, sys, json, numpy as np\nout = sys.argv[3]\n"
            f"{line}\njson.dump({report}, open(os.path.join(out, 'report.json'), 'w'))\n"
            "os._exit(0)\n"))
        verdict = check_file(exercise, path)
        assert not verdict.passed, name


def test_landlock_keeps_the_same_cheats_out_without_namespaces(tmp_path):
    """The jail a normal user gets where the kernel allows no namespaces: Landlock + seccomp."""
    home = Path(os.path.expanduser("~"))
    exercise = get_exercise("bp2")
    assert check_file(exercise, write(tmp_path, "s.py", solution_source(exercise)),
                      isolation="landlock").passed
    for source in ("from backprop_edu.exercises.bp2 import bp2\n",
                   probe(f"found = open({str(PACKAGE / 'exercises' / 'bp2.py')!r}).read()"),
                   probe(f"found = os.listdir({str(home)!r})"),
                   probe("found = open(f'/proc/{os.getppid()}/mem', 'r+b')"),
                   probe("import socket\nfound = socket.socket()"),
                   probe(f"open({str(SITE_PACKAGES / 'zz_backprop_edu_probe.pth')!r}, 'w')\n"
                         "found = 'planted'")):
        verdict = check_file(exercise, write(tmp_path, "c.py", source), isolation="landlock")
        assert not verdict.passed and "LEAK" not in verdict.message, verdict.message
        assert verdict.detail["isolation"] == "landlock"
        assert any("landlock" in p for p in verdict.detail["protections"])
    assert not (SITE_PACKAGES / "zz_backprop_edu_probe.pth").exists()


def test_every_exercise_reference_free_answer_matches_the_reference_on_hidden_cases():
    from backprop_edu.exercises import EXERCISES
    from backprop_edu.grader.check import expected_answer
    for name, exercise in EXERCISES.items():
        for case in make_cases(exercise, 2024, grading=True):
            for mine, theirs in zip(expected_answer(exercise, case), exercise.reference(case)):
                assert np.allclose(mine, theirs, rtol=1e-6, atol=1e-9), name



def test_the_worked_example_of_exercises_md_is_an_exercise_that_grades(tmp_path):
    import re
    page = (Path(__file__).resolve().parent.parent / "docs" / "exercises.md").read_text()
    (module,) = re.findall(r"^```python\n(.*?)^```", page, re.S | re.M)
    course = tmp_path / "course"
    course.mkdir()
    (course / "relu_backward.py").write_text(module)
    from backprop_edu.exercises.folder import find_exercise
    from backprop_edu.grader.check import check_functions
    exercise = find_exercise("relu_backward", str(course))
    assert check_functions(exercise, {"relu_backward": exercise.relu_backward}, seed=7,
                           grading=True).passed
    wrong = check_functions(exercise, {"relu_backward": lambda a, g: a * g})
    assert not wrong.passed and "multiplied by a itself" in wrong.detail["diagnosis"]
    from conftest import run
    listed = run("exercises", "list", "--exercises", course)
    assert listed.output.strip().splitlines()[-1].startswith("relu_backward")
