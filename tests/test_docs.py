"""The docs cannot rot: every command and code block of the tutorials runs, and its output is compared.

How a tutorial is read (docs/tutorials/*.md):

- a ```python block is executed; all python blocks of one file share one fresh
  namespace and run in document order, in a temporary directory;
- a ```text block right after a ```python block (nothing but blank lines between)
  is that block's printed output, compared with what it really prints;
- a ```console block holds `$ backprop-edu ...` lines, each followed by its output;
  each command runs (through click's CliRunner, in the same temporary directory)
  and must exit 0, and its output is compared;
- in an expected output, a line `...` stands for any number of lines and `...`
  inside a line for any text;
- a directive in an HTML comment right before a block (invisible when rendered)
  changes how it is checked:
    `<!-- docs-test: output varies -->`    run it, check the exit code, do not compare
                                           the output (timings);
    `<!-- docs-test: rounding varies -->`  compare, but let a number below 1e-6 in
                                           scientific notation (a rounding-level error
                                           such as 5.59e-10, whose digits depend on the
                                           machine's floating-point library) match any
                                           such number;
    `<!-- docs-test: exit N -->`           the block's commands must exit with code N
                                           (a lesson about an error, e.g. divergence);
  two directives go in one comment, separated by ";" (`exit 1; rounding varies`).

Also: every relative link in the docs pages written with these tutorials points to a
file that exists, and a link named after a function (`Dense.backward`) points to
the file that defines it.
"""

import contextlib
import io
import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import run

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.md"))
RUNNABLE_PAGES = TUTORIALS + [DOCS / "layers.md"]  # pages whose code runs as written
PYTORCH_PAGE = DOCS / "pytorch.md"  # runs as written when PyTorch (optional) is installed
CHECKED_PAGES = [DOCS / "README.md", DOCS / "equations.md", DOCS / "mnist.md", PYTORCH_PAGE,
                 *RUNNABLE_PAGES]

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
DIRECTIVE = re.compile(r"<!-- docs-test: ([^>]*?) -->\s*$")


class Block(NamedTuple):
    """A fenced block: its kind (python, output, console, text, ...), its text, and how to check it."""

    kind: str
    body: str
    compare: str = "exact"   # "exact", "rounding" or "none"
    exit_code: int = 0


def blocks(text):
    """Every fenced block of a page, in order; a ```text block right after a ```python block
    (with nothing but blank lines and a directive between) has kind "output"."""
    found, previous_end, previous_kind = [], 0, None
    for match in FENCE.finditer(text):
        kind, body = match.group(1), match.group(2)
        between = text[previous_end:match.start()]
        directive = DIRECTIVE.search(between)
        compare, exit_code = "exact", 0
        if directive:
            for part in directive.group(1).split(";"):   # e.g. "exit 1; rounding varies"
                words = part.split()
                if words == ["output", "varies"]:
                    compare = "none"
                elif words == ["rounding", "varies"]:
                    compare = "rounding"
                elif len(words) == 2 and words[0] == "exit" and words[1].isdigit():
                    exit_code = int(words[1])
                else:
                    raise AssertionError(
                        f"unknown directive <!-- docs-test: {directive.group(1)} -->")
            between = between[:directive.start()]
        if kind == "text" and previous_kind == "python" and not between.strip():
            kind = "output"
        found.append(Block(kind, body, compare, exit_code))
        previous_end, previous_kind = match.end(), kind
    return found


def console_commands(body):
    """[(command, expected output)] from a console block of `$ cmd` lines and their outputs."""
    commands = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append([line[2:], []])
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"console block text before the first `$ ` line: {line!r}")
    return [(command, "\n".join(lines)) for command, lines in commands]


def normalise(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


# A number below 1e-6 in scientific notation (5.59e-10): with `rounding varies`, it
# matches any other such number.
TINY = re.compile(r"\d\.\d+e-(?:0[7-9]|[1-9]\d)")


def literal(text, rounding):
    """A regex for ``text``; with rounding=True every tiny number matches any tiny number."""
    if not rounding:
        return re.escape(text)
    return TINY.pattern.join(map(re.escape, TINY.split(text)))


def output_matches(expected, actual, rounding=False):
    """Compare outputs line by line; `...` is a wildcard for lines (alone) or text (in a line)."""
    pattern = []
    for line in normalise(expected).splitlines():
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(".*".join(literal(part, rounding) for part in line.split("..."))
                           + r"\n")
    return re.fullmatch("".join(pattern), normalise(actual) + "\n") is not None


def run_command(command):
    """Run one `backprop-edu ...` line; returns (exit code, output)."""
    argv = shlex.split(command)
    assert argv[0] == "backprop-edu", f"tutorial commands must start with backprop-edu: {command}"
    result = run(*argv[1:], catch_exceptions=False)
    return result.exit_code, result.output


def run_tutorial(path):
    """Run every block of a tutorial in order; returns a list of problems (empty: all good)."""
    problems, namespace, last_output = [], {"__name__": f"tutorial_{path.stem}"}, None
    for number, block in enumerate(blocks(path.read_text()), start=1):
        where = f"{path.name}, block {number}"
        rounding = block.compare == "rounding"
        if block.kind == "python":
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                exec(compile(block.body, where, "exec"), namespace)  # noqa: S102 -- the tutorial
            last_output = stdout.getvalue()
        elif block.kind == "output":
            if block.compare != "none" and not output_matches(block.body, last_output, rounding):
                problems.append(f"{where}: python printed\n{last_output}\n"
                                f"the tutorial shows\n{block.body}")
        elif block.kind == "console":
            for command, expected in console_commands(block.body):
                code, output = run_command(command)
                if code != block.exit_code:
                    problems.append(f"{where}: `{command}` exited {code}, "
                                    f"not {block.exit_code}:\n{output}")
                elif block.compare != "none" and not output_matches(expected, output, rounding):
                    problems.append(f"{where}: `{command}` printed\n{output}\n"
                                    f"the tutorial shows\n{expected}")
    return problems


def test_there_are_tutorials_with_code_to_run():
    assert len(TUTORIALS) >= 2
    for path in TUTORIALS:
        kinds = [block.kind for block in blocks(path.read_text())]
        assert "python" in kinds or "console" in kinds, f"{path.name} has nothing to run"


@pytest.mark.parametrize("path", RUNNABLE_PAGES, ids=[p.name for p in RUNNABLE_PAGES])
def test_tutorial_runs_as_written(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    problems = run_tutorial(path)
    assert not problems, "\n\n".join(problems)


def test_the_pytorch_page_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="PyTorch is optional: docs/pytorch.md runs where it is "
                                        "installed (pip install -e '.[torch]')")
    monkeypatch.chdir(tmp_path)
    problems = run_tutorial(PYTORCH_PAGE)
    assert not problems, "\n\n".join(problems)


LINK = re.compile(r"\[(`?)([^\]]*?)\1\]\(([^)#\s]+)(#[^)]*)?\)")


@pytest.mark.parametrize("page", CHECKED_PAGES, ids=[p.name for p in CHECKED_PAGES])
def test_links_point_to_files_and_functions_that_exist(page):
    for match in LINK.finditer(page.read_text()):
        name, target = match.group(2), match.group(3)
        if "://" in target or target.startswith("mailto:"):
            continue
        path = (page.parent / target).resolve()
        assert path.exists(), f"{page.name}: link to {target} but {path} does not exist"
        if (match.group(1) and path.suffix == ".py" and name != path.name
                and re.fullmatch(r"[\w.]+", name)):
            source = path.read_text()
            for part in name.split("."):
                assert re.search(rf"^\s*(def|class) {part}\b", source, re.M), \
                    f"{page.name}: link [{name}] but {target} defines no {part}"


def test_every_tutorial_is_listed_in_the_docs_index():
    index = (DOCS / "README.md").read_text()
    for path in TUTORIALS:
        assert f"tutorials/{path.name}" in index, f"docs/README.md does not link {path.name}"


def test_the_checker_catches_a_wrong_output():
    assert output_matches("a\n...\nd", "a\nb\nc\nd")
    assert output_matches("took ... s", "took 0.31 s")
    assert not output_matches("J = 0.5", "J = 0.6")
    assert not output_matches("a\nb", "a\nb\nc")
    assert output_matches("err 5.59e-10 ok", "err 3.10e-11 ok", rounding=True)
    assert not output_matches("err 5.59e-10 ok", "err 3.10e-11 ok")
    assert not output_matches("err 5.59e-10 ok", "err 3.10e-01 ok", rounding=True)
    assert not output_matches("err 1.00e+00", "err 1.00e-12", rounding=True)
    assert console_commands("$ backprop-edu x\nout\n$ backprop-edu y\n") == [
        ("backprop-edu x", "out"), ("backprop-edu y", "")]


def test_blocks_and_directives_are_read_as_documented():
    page = ("```python\nprint(1)\n```\n\n```text\n1\n```\n"
            "```python\nprint(2)\n```\n<!-- docs-test: rounding varies -->\n```text\n2\n```\n"
            "Prose.\n\n```text\nnot an output\n```\n"
            "<!-- docs-test: exit 3 -->\n```console\n$ backprop-edu train\n```\n"
            "<!-- docs-test: output varies -->\n```console\n$ backprop-edu modes\n```\n"
            "<!-- docs-test: exit 1; rounding varies -->\n```console\n$ backprop-edu x\n```\n")
    assert blocks(page) == [
        Block("python", "print(1)\n"), Block("output", "1\n"),
        Block("python", "print(2)\n"), Block("output", "2\n", "rounding"),
        Block("text", "not an output\n"),
        Block("console", "$ backprop-edu train\n", "exact", 3),
        Block("console", "$ backprop-edu modes\n", "none"),
        Block("console", "$ backprop-edu x\n", "rounding", 1)]
    with pytest.raises(AssertionError, match="unknown directive"):
        blocks("<!-- docs-test: sometimes -->\n```text\nx\n```\n")


def test_a_tutorial_with_a_wrong_output_is_reported(tmp_path):
    page = tmp_path / "wrong.md"
    page.write_text("```python\nprint(6 * 7)\n```\n\n```text\n41\n```\n")
    assert run_tutorial(page) and "python printed\n42" in run_tutorial(page)[0]


def test_the_example_command_in_the_docs_reads_numbers_the_hand_calculation_gives():
    # guards the harness itself against a CliRunner that swallows output
    code, output = run_command("backprop-edu example")
    assert code == 0 and "= 25/8" in output
