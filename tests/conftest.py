"""Helpers shared by the tests, in one place: import them with `from conftest import run`.

    run(*args)              `backprop-edu ARGS...` in this process, through click's CliRunner
    installed_command()     the path of the installed `backprop-edu` console script
    read_image(path)        a written figure as an array of pixels
    capture_figures(monkeypatch, module)   keep the figures a module's plot functions draw
    assert_one_line_error(result, *fragments)   a failed command: one "Error" line, no traceback
    write(directory, name, text)   a text file, e.g. a CSV or a student's solution -> its path
    random_batch(rng, ...)  Gaussian inputs and targets (class labels or real vectors) for a loss

What is left out: fixtures that belong to one test file (a CSV, a trained network).
"""

import os
import shutil
import sys

import pytest
from click.testing import CliRunner

from backprop_edu.cli import main


def run(*args, env=None, catch_exceptions=True):
    """Run `backprop-edu ARGS...` (paths and numbers are turned into text) -> click's Result:
    exit_code, output (stdout and stderr), stdout, stderr."""
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env,
                              catch_exceptions=catch_exceptions)


def installed_command():
    """The installed console script; the test fails when it is missing, since installing the
    package (pip install -e .) makes it."""
    found = shutil.which("backprop-edu") or os.path.join(os.path.dirname(sys.executable),
                                                         "backprop-edu")
    if not os.path.exists(found):
        pytest.fail("the backprop-edu command is not installed: run pip install -e '.[test]'")
    return found


def assert_one_line_error(result, *fragments):
    """The command failed (exit code ≠ 0) with exactly one line starting with "Error", which
    holds every fragment, and no traceback."""
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error_lines) == 1, result.output
    for fragment in fragments:
        assert fragment in error_lines[0], error_lines[0]


def capture_figures(monkeypatch, module):
    """Keep every figure the plot functions of ``module`` draw (each is still written to
    disk), for a test to inspect -> the list they are appended to."""
    from backprop_edu import plots

    figures = []
    write = plots.save_figure

    def keep(fig, path, dpi=plots.DPI):
        figures.append(fig)
        write(fig, path, dpi)
    monkeypatch.setattr(module, "save_figure", keep)
    return figures


def read_image(path):
    import matplotlib.image
    return matplotlib.image.imread(path)


def write(directory, name, text):
    """Write ``text`` to directory/name; return the path as a string."""
    path = directory / name
    path.write_text(text)
    return str(path)


def random_batch(rng, n_in, n_out, loss, m):
    """m samples: X ~ N(0, I) of shape (m, n_in), then the targets the loss wants, drawn next
    from the same Generator: class labels 0..n_out−1 for softmax_cross_entropy, real
    vectors (m, n_out) ~ N(0, I) for any other loss."""
    X = rng.standard_normal((m, n_in))
    if loss == "softmax_cross_entropy":
        return X, rng.integers(0, n_out, size=m)
    return X, rng.standard_normal((m, n_out))
