"""Write the tutorials as Jupyter notebooks: docs/tutorials/NN.md -> docs/notebooks/NN.ipynb.

    python docs/make_notebooks.py            # rewrite every notebook from its markdown
    python docs/make_notebooks.py --check    # exit 1 if a notebook is not its markdown's

The markdown stays the source; the notebooks are generated from it and stored without
outputs (run them). Prose, and the blocks that only illustrate, become markdown cells;
each ```python block becomes a code cell; each ```console block becomes a code cell of
`!backprop-edu ...` lines, which IPython runs in a shell; a first code cell (tagged
"setup") puts the folder of the kernel's Python on the PATH, so that the shell finds the
command installed beside it, however Jupyter was started. A
```text block that shows what a python block prints is left out: the cell prints it.
Links to the other tutorials point to their notebooks; the docs-test directives (HTML
comments) are dropped. tests/test_notebooks.py checks that the notebooks are in step
with the markdown, runs each one in a Jupyter kernel, and compares what every cell
prints with the markdown.

Uses the standard library and the package's atomic_file: a notebook is JSON (nbformat 4.5).
"""

import json
import re
import sys
from pathlib import Path

from backprop_edu.files import atomic_file

DOCS = Path(__file__).resolve().parent
TUTORIALS = DOCS / "tutorials"
NOTEBOOKS = DOCS / "notebooks"

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
DIRECTIVE = re.compile(r"<!-- docs-test: [^>]*? -->[ \t]*\n?")
TUTORIAL_LINK = re.compile(r"\]\((\d\d-[\w-]+)\.md(#[^)]*)?\)")
SETUP = "\n".join([
    "# The !backprop-edu lines below run the command installed beside this kernel's Python:",
    "import os, sys",
    'os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]'])
METADATA = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}


def cell(kind, text):
    """One notebook cell, without its id: kind is "markdown" or "code"."""
    cell = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def cells(markdown):
    """The cells of a tutorial, in order: markdown for prose, code for python and console."""
    found, prose, end, previous = [], [], 0, None

    def flush():
        text = DIRECTIVE.sub("", "".join(prose)).strip("\n")
        if text.strip():
            found.append(cell("markdown", TUTORIAL_LINK.sub(r"](\1.ipynb\2)", text)))
        prose.clear()

    for match in FENCE.finditer(markdown):
        kind, body = match.group(1), match.group(2)
        between = markdown[end:match.start()]
        prose.append(between)
        if kind == "python":
            flush()
            found.append(cell("code", body.rstrip("\n")))
        elif kind == "console":
            flush()
            commands = [line[2:] for line in body.splitlines() if line.startswith("$ ")]
            found.append(cell("code", "\n".join(f"!{command}" for command in commands)))
        elif not (kind == "text" and previous == "python"
                  and not DIRECTIVE.sub("", between).strip()):
            prose.append(match.group(0))  # an illustration: it stays in the prose
        end, previous = match.end(), kind
    prose.append(markdown[end:])
    flush()
    if any(each["source"][:1] and each["source"][0].startswith("!") for each in found):
        setup = cell("code", SETUP)
        setup["metadata"] = {"tags": ["setup"]}  # not one of the page's blocks
        found.insert(1, setup)  # after the title
    return found


def notebook(tutorial):
    """The notebook of one tutorial (a path to its markdown), as a dict."""
    found = [{"id": f"cell-{number}", **each}  # nbformat 4.5: every cell has an id
             for number, each in enumerate(cells(Path(tutorial).read_text(encoding="utf-8")),
                                           start=1)]
    metadata = {**METADATA, "backprop_edu": {
        "generated_from": f"docs/tutorials/{Path(tutorial).name}",
        "by": "docs/make_notebooks.py: edit the markdown, then run it"}}
    return {"cells": found, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def render(notebook):
    """The notebook as the text of its file (nbformat's layout: one-space indents)."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def target(tutorial):
    return NOTEBOOKS / (Path(tutorial).stem + ".ipynb")


def main(argv):
    check = argv == ["--check"]
    if argv and not check:
        sys.exit("usage: python docs/make_notebooks.py [--check]")
    stale = []
    for tutorial in sorted(TUTORIALS.glob("*.md")):
        text, path = render(notebook(tutorial)), target(tutorial)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        NOTEBOOKS.mkdir(exist_ok=True)
        with atomic_file(path, encoding="utf-8") as file:
            file.write(text)
        print(f"wrote {path.relative_to(DOCS.parent)}")
    if stale:
        sys.exit(f"not in step with the markdown: {', '.join(stale)}: "
                 f"run python docs/make_notebooks.py")


if __name__ == "__main__":
    main(sys.argv[1:])
