"""The tutorials as notebooks: in step with their markdown, and every one runs in a Jupyter kernel.

docs/make_notebooks.py writes docs/notebooks/*.ipynb from docs/tutorials/*.md. Here each
notebook is executed top to bottom with nbclient in an ipykernel (one kernel per
notebook, offline), and what each code cell prints is compared with the output the
markdown shows, by tests/test_docs.py's rules (`...` wildcards, the docs-test
directives). A `!backprop-edu ...` line runs in a terminal (a pty), so the training
progress bar is drawn and then erased: the output is compared as a terminal shows it.
The kernels start without the folder of the installed command on their PATH: each
notebook's setup cell must put it there.
"""

import asyncio
import importlib.util
import os
import re
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from test_docs import DOCS, TUTORIALS, blocks, console_commands, output_matches

spec = importlib.util.spec_from_file_location("make_notebooks", DOCS / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebooks)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def as_a_terminal_shows(text):
    """Text written to a terminal, as the screen ends up: \\r returns to the line's start
    and what follows overwrites it; ESC[K erases the rest of the line; other escape
    sequences (hide and show the cursor) show nothing."""
    shown = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for segment in raw.split("\r"):
            if segment.startswith("\x1b[K"):
                line = ""
            segment = ANSI.sub("", segment)
            line = segment + line[len(segment):]
        shown.append(line)
    return "\n".join(shown)


def expected_outputs(tutorial):
    """[(what the cell should print or None, compare mode)] for each code cell, in order."""
    expected = []
    for block in blocks(tutorial.read_text()):
        if block.kind == "python":
            expected.append([None, "exact"])
        elif block.kind == "output":
            expected[-1] = [block.body, block.compare]
        elif block.kind == "console":
            outputs = [output for _, output in console_commands(block.body) if output.strip()]
            expected.append(["\n".join(outputs), block.compare])
    return expected


def printed(cell):
    """Everything a code cell wrote to stdout and stderr, in order."""
    return "".join(output.get("text", "") for output in cell.outputs
                   if output["output_type"] == "stream")


def test_every_tutorial_has_its_notebook_and_it_is_in_step_with_the_markdown():
    assert len(TUTORIALS) >= 6
    for tutorial in TUTORIALS:
        path = make_notebooks.target(tutorial)
        assert path.exists(), f"{path.name} is missing: run python docs/make_notebooks.py"
        assert path.read_text() == make_notebooks.render(make_notebooks.notebook(tutorial)), \
            f"{path.name} is not in step with {tutorial.name}: run python docs/make_notebooks.py"
        nbformat.validate(nbformat.read(path, as_version=4))
    assert sorted(p.stem for p in make_notebooks.NOTEBOOKS.glob("*.ipynb")) == \
        [t.stem for t in TUTORIALS]


def test_the_generator_makes_code_cells_of_python_and_console_blocks_only():
    cells = make_notebooks.cells(
        "# T\n\nSee [the next](02-next.md#part).\n\n```python\nprint(6 * 7)\n```\n\n"
        "```text\n42\n```\n\nAn illustration:\n\n```text\nnot an output\n```\n"
        "<!-- docs-test: exit 3 -->\n```console\n$ backprop-edu train\nout\n"
        "$ backprop-edu plot r.json\n```\n")
    assert [(c["cell_type"], "".join(c["source"])) for c in cells] == [
        ("markdown", "# T\n\nSee [the next](02-next.ipynb#part)."),
        ("code", make_notebooks.SETUP),
        ("code", "print(6 * 7)"),
        ("markdown", "An illustration:\n\n```text\nnot an output\n```"),
        ("code", "!backprop-edu train\n!backprop-edu plot r.json")]


def test_a_terminal_shows_the_last_text_written_over_a_line():
    assert as_a_terminal_shows("a\r\n\r\x1b[?25lbar  2%\rbar 99%\r\x1b[K  1  0.5\r\n"
                               "\r\x1b[K\x1b[?25hError: x\r\n") == "a\n  1  0.5\nError: x\n"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook executed, two at a time (one kernel each) -> {stem: notebook or error}."""
    # without this Python's folder on the PATH: the notebooks' setup cell puts it there
    folder = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=os.pathsep.join(
        part for part in os.environ.get("PATH", "").split(os.pathsep) if part != folder))
    two_at_a_time = asyncio.Semaphore(2)

    async def execute(tutorial):
        notebook = nbformat.read(make_notebooks.target(tutorial), as_version=4)
        folder = tmp_path_factory.mktemp(tutorial.stem)
        async with two_at_a_time:
            try:
                await NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}}
                                     ).async_execute(env=env)
            except Exception as error:  # noqa: BLE001 -- reported by the notebook's test
                return error
        return notebook

    async def execute_all():
        return await asyncio.gather(*(execute(tutorial) for tutorial in TUTORIALS))

    return dict(zip((t.stem for t in TUTORIALS), asyncio.run(execute_all())))


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=[t.stem for t in TUTORIALS])
def test_notebook_runs_top_to_bottom_and_prints_what_the_tutorial_shows(tutorial, executed):
    notebook = executed[tutorial.stem]
    if isinstance(notebook, Exception):
        raise notebook
    code = [cell for cell in notebook.cells if cell.cell_type == "code"
            and "setup" not in cell.metadata.get("tags", [])]
    expected = expected_outputs(tutorial)
    assert len(code) == len(expected)
    problems = []
    for number, (cell, (output, compare)) in enumerate(zip(code, expected), start=1):
        actual = as_a_terminal_shows(printed(cell))
        if output is not None and compare != "none" and \
                not output_matches(output, actual, rounding=compare == "rounding"):
            problems.append(f"code cell {number}:\n{''.join(cell.source)}\nprinted\n{actual}\n"
                            f"the tutorial shows\n{output}")
    assert not problems, "\n\n".join(problems)
