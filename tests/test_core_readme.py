"""The README's Python examples print exactly what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

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

