"""`backprop-edu exercises`: list, start, check, hint, solution, as a student and a teacher use them."""

import json
import os
import re
import subprocess
from pathlib import Path

from backprop_edu.exercises import EXERCISES
from backprop_edu.grader.check import check_functions
from conftest import installed_command, run as run_cli


def run(*args, env=None):
    return run_cli("exercises", *args, env=env)


def test_list_shows_every_exercise_with_minutes_and_a_line():
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(EXERCISES)
    for line, (name, exercise) in zip(lines, EXERCISES.items()):
        assert line.startswith(name) and f"{exercise.MINUTES} min" in line
        assert exercise.SUMMARY in line


def test_start_writes_the_skeleton_and_refuses_to_overwrite(tmp_path):
    work = tmp_path / "work"
    result = run("start", "bp2", str(work))
    assert result.exit_code == 0, result.output
    path = work / "bp2.py"
    text = path.read_text()
    assert "def bp2(W_next, delta_next, a):" in text and "TODO" in text and "BP2" in text
    assert f"check bp2 {path}" in result.output

    path.write_text("my work")
    result = run("start", "bp2", str(work))
    assert result.exit_code != 0
    assert "already exists" in result.output and "--force" in result.output
    assert path.read_text() == "my work"
    assert run("start", "bp2", str(work), "--force").exit_code == 0
    assert "TODO" in path.read_text()
    assert [p.name for p in work.iterdir()] == ["bp2.py"]  # no temporary file left behind


def test_skeleton_fails_then_solution_passes_with_exit_codes_and_json(tmp_path):
    assert run("start", "bp3_bp4", str(tmp_path)).exit_code == 0
    result = run("check", "bp3_bp4", str(tmp_path / "bp3_bp4.py"))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "not written yet" in result.output

    solution = run("solution", "bp3_bp4")
    assert solution.exit_code == 0
    (tmp_path / "s.py").write_text(solution.output)
    result = run("check", "bp3_bp4", str(tmp_path / "s.py"), "--json", "-")
    assert result.exit_code == 0
    verdict = json.loads(result.output)
    assert verdict["passed"] is True and verdict["status"] == "pass"
    assert verdict["cases_passed"] == verdict["cases"] == 5


def test_check_json_of_a_wrong_answer_says_case_entries_and_diagnosis(tmp_path):
    path = tmp_path / "w.py"
    path.write_text("def bp3_bp4(delta, h_prev):\n"
                    "    return delta @ h_prev.T, delta.sum(axis=1)\n")
    result = run("check", "bp3_bp4", str(path), "--json", "-")
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    assert verdict["passed"] is False and verdict["status"] == "wrong"
    assert verdict["output"] == "grad_W" and verdict["case"] == 2
    assert "forgot the 1/m" in verdict["diagnosis"]
    assert verdict["entries"] and {"index", "expected", "got"} <= set(verdict["entries"][0])
    text = run("check", "bp3_bp4", str(path)).output
    assert "case 2 of 5" in text and "Diagnosis:" in text and "expected" in text
    written = run("check", "bp3_bp4", str(path), "--json", str(tmp_path / "verdict.json"))
    assert written.exit_code == 1 and written.output == text + f"wrote {tmp_path}/verdict.json\n"
    assert json.loads((tmp_path / "verdict.json").read_text()) == verdict
    graded_again = run("check", "bp3_bp4", str(path), "--json", str(path))
    assert graded_again.exit_code == 2 and path.read_text().startswith("def bp3_bp4")
    assert f"{path} is also the file being graded; give --json a file name" in graded_again.output


def test_check_of_a_missing_file_or_unknown_exercise_is_one_line():
    result = run("check", "bp2", "no/such/file.py")
    assert result.exit_code != 0 and "does not exist" in result.output
    result = run("check", "bp9", __file__)
    assert result.exit_code != 0
    assert "unknown exercise 'bp9'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_hint_shows_the_next_one_each_time_and_remembers(tmp_path):
    env = {"BACKPROP_EDU_HINTS": str(tmp_path / "hints.json")}
    first = run("hint", "avg_pool", env=env)
    assert first.exit_code == 0 and "Hint 1 of 3" in first.output
    assert "Hint 2 of 3" in run("hint", "avg_pool", env=env).output
    third = run("hint", "avg_pool", env=env)
    assert "Hint 3 of 3" in third.output and "last hint" in third.output
    assert "Hint 1 of 3" in run("hint", "avg_pool", "--number", "1", env=env).output
    assert "Hint 1 of 3" in run("hint", "avg_pool", "--reset", env=env).output
    again = run("hint", "avg_pool", env=env)
    assert "Hint 2 of 3" in again.stdout
    assert f"remembered in {tmp_path / 'hints.json'}; --reset starts avg_pool over" in again.stderr
    assert json.loads((tmp_path / "hints.json").read_text()) == {"avg_pool": 2}
    wrong = run("hint", "avg_pool", "--number", "9", env=env)
    assert wrong.exit_code != 0 and "hints 1 to 3" in wrong.output


def test_help_explains_progressive_hints_and_the_grading_loop():
    assert "--number" in run("hint", "--help").output and "next" in run("hint", "--help").output
    check_help = run("check", "--help").output
    assert "--time-limit" in check_help and "--memory-limit" in check_help
    assert "exercises grade" in check_help
    grade_help = run("grade", "--help").output
    assert "--seed-file" in grade_help and "process list" in grade_help and "Exit code" in grade_help


def test_solution_prints_a_complete_file_for_every_exercise():
    for name, exercise in EXERCISES.items():
        result = run("solution", name)
        assert result.exit_code == 0
        compile(result.output, f"{name}.py", "exec")  # a valid Python file
        for function in exercise.FUNCTIONS:
            assert f"def {function}(" in result.output
        assert "TODO" not in result.output


DOCS = Path(__file__).resolve().parent.parent / "docs"


def fenced(page, kind):
    """The bodies of a page's ```kind blocks."""
    return re.findall(rf"^```{kind}\n(.*?)^```", (DOCS / page).read_text(), re.S | re.M)


def test_the_teachers_page_grade_command_grades_a_folder(tmp_path):
    """The command of docs/teachers.md, run as written by bash with the installed command."""
    command = installed_command()
    solution = subprocess.run([command, "exercises", "solution", "bp2"], capture_output=True,
                              text=True, check=True).stdout
    bob = "print('PASS')\ndef bp2(W_next, delta_next, a):\n    return W_next.T @ delta_next\n"
    for student, source in [("alice", solution), ("bob", bob)]:
        (tmp_path / "submissions" / student).mkdir(parents=True)
        (tmp_path / "submissions" / student / "bp2.py").write_text(source)
    (tmp_path / ".config" / "backprop-edu").mkdir(parents=True)
    (tmp_path / ".config" / "backprop-edu" / "seed").write_text("8675309\n")
    (command_line,) = fenced("teachers.md", "bash")
    env = dict(os.environ, HOME=str(tmp_path),
               PATH=os.path.dirname(command) + os.pathsep + os.environ["PATH"])
    done = subprocess.run(["bash", "-c", command_line], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # bob failed
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert lines[0] == "student,exercise,passed,cases_passed,cases_total,first_failure,seconds"
    assert lines[1].startswith("alice,bp2,True,9,9,,")
    assert lines[2].startswith("bob,bp2,False,0,9,") and "left out φ'" in lines[2]
    records = json.loads((tmp_path / "grades.json").read_text())
    assert [r["student"] for r in records] == ["alice", "bob"]
    assert "alice: PASS" in done.stdout and "1 of 2 passed." in done.stdout

    json_block = next(b for b in fenced("teachers.md", "console") if "--json" in b)
    args = json_block.splitlines()[0].split("|")[0].split()[1:]  # after the `$`
    result = subprocess.run([command, *args[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert json_block.splitlines()[1].strip() in result.stdout


def test_the_messages_shown_in_the_docs_are_the_real_ones(tmp_path):
    bp2 = EXERCISES["bp2"]
    missing_phi_prime = check_functions(bp2, {"bp2": lambda W_next, delta_next, a:
                                              W_next.T @ delta_next}).text()
    bp3_bp4 = EXERCISES["bp3_bp4"]
    forgot_1_over_m = check_functions(bp3_bp4, {"bp3_bp4": lambda delta, h_prev: (
        delta @ h_prev.T, delta.mean(axis=1))}).text()
    teachers = [block.rstrip("\n") for block in fenced("teachers.md", "text")]
    assert teachers == [missing_phi_prime, forgot_1_over_m]
    (file,) = fenced("exercises.md", "py")[:1]  # a student's file, marked ```py (a snippet)
    (shown,) = fenced("exercises.md", "text")[:1]
    path = tmp_path / "bp2.py"
    path.write_text(file)
    assert run("check", "bp2", str(path)).output == shown


def test_the_pages_name_every_exercise():
    for page in ("teachers.md", "exercises.md"):
        text = (DOCS / page).read_text()
        for name in EXERCISES:
            assert f"`{name}`" in text, f"{page} does not mention {name}"
