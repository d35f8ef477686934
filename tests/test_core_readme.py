"""The README's Python examples print exactly what the README says they print, and its shell
tour runs as written, top to bottom, in an empty folder."""

import contextlib
import io
import os
import re
import subprocess
from pathlib import Path

import numpy as np

from conftest import installed_command

README = Path(__file__).resolve().parent.parent / "README.md"


def examples():
    """[(python code, the output the README shows after "prints")], in order."""
    pattern = r"```python\n(.*?)```\s*\nprints\s*\n\s*```\n(.*?)```"
    return re.findall(pattern, README.read_text(), flags=re.S)


def test_readme_examples_print_what_the_readme_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the second example saves a file
    found = examples()
    assert len(found) == 2
    namespace = {}
    for code, shown in found:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), namespace)  # one session, as in the README
        assert out.getvalue() == shown
    net, X = namespace["net"], namespace["data"].X
    loaded = type(net).load("moons")                 # finds moons.npz, as the README says
    assert np.array_equal(loaded.forward(X), net.forward(X))



def tour():
    """The lines of the README's 60-second tour (the block under its heading), as written."""
    section = README.read_text().split("## From the shell: a 60-second tour", 1)[1]
    return re.search(r"```\n(.*?)```", section, flags=re.S).group(1)


def test_the_readme_tour_runs_top_to_bottom_in_an_empty_folder(tmp_path):
    lines = tour().splitlines()
    assert len(lines) >= 10 and all(line.startswith("backprop-edu ") for line in lines)
    bin_dir = os.path.dirname(installed_command())
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "MPLBACKEND": "Agg"}
    answers = "?\n" * 11   # `example --quiz` asks 11 questions: the user asks for each answer
    done = subprocess.run(["bash", "-e", "-c", tour()], cwd=tmp_path, env=env, input=answers,
                          capture_output=True, text=True, timeout=300)   # as a user pastes it
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    assert "score: 0/11" in done.stdout       # the quiz ran to its end
    written = {"run.json", "run.png", "vanishing.png", "residual.png", "modes.png", "graph.png",
               "my.csv", "model.npz", "predictions.csv"}
    assert written <= set(os.listdir(tmp_path))
    predicted = (tmp_path / "predictions.csv").read_text().splitlines()
    assert predicted[0] == "species" and len(predicted) == 151
    assert set(predicted[1:]) <= {"setosa", "versicolor", "virginica"}
