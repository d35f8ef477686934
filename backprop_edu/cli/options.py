"""What the commands' options accept: every check of a value on the command line, in one place.

    parse_layers          --layers 64,32,10 -> [64, 32, 10]
    parse_layers_with_pooling
                          --layers 64,64,maxpool2,10 -> [64, 64, 'maxpool2', 10]
    parse_number          --y 1/2 -> 0.5: a finite number, fractions allowed
    parse_numbers         --x 2,-1 -> (2.0, -1.0): so many comma-separated numbers
    comma_list(known)     --activations sigmoid,relu -> ['sigmoid', 'relu'], each one known
    output_path           a file to write: its directory exists and may be written in
    figure_path           an image to write: output_path, and an extension matplotlib writes
    json_option(what)     --json PATH writes ``what`` to a file; --json - prints it instead
    print_or_write        ... and does so: the text, the JSON file, or the JSON alone
    distinct_outputs      no two outputs name the same file, none overwrites the input
    size_option           --size 1200x500 -> (1200, 500), checked by pixel_size
    FiniteFloatRange      click.FloatRange that refuses nan and inf too
    SEED                  a seed: an integer, 0 or more

Each check runs before any work starts and fails with one line saying what is wrong and
what is expected; click prints it as "Error: Invalid value for '--lr': ...". Numbers are
checked by click's own IntRange and FloatRange ("0.0 is not in the range x>0.").

Every command that computes numbers has --json (json_option): --json PATH writes them to
a file, atomically, and the command prints its text and "wrote PATH" as well; --json -
prints the JSON on standard output instead of the text (notes still go to stderr).

What is left out: the options themselves, which each command declares with its own help.
"""

import json
import math
import os
import re
import tempfile
from fractions import Fraction

import click

from backprop_edu import datasets
from backprop_edu.files import atomic_file

SEED = click.IntRange(min=0)


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses nan and ±inf, which its comparisons let through."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{number} is not in the range {self.describe()} (a finite number).",
                      param, ctx)
        return number

    def describe(self):
        """'x>0', 'x>=0' or '0<=x<1', as click writes a range in its own messages."""
        if self.min is None:
            return f"x{'<' if self.max_open else '<='}{self.max}"
        if self.max is None:
            return f"x{'>' if self.min_open else '>='}{self.min}"
        low, high = ("<" if self.min_open else "<="), ("<" if self.max_open else "<=")
        return f"{self.min}{low}x{high}{self.max}"


POOLING = re.compile(r"(maxpool|avgpool)[0-9]+")  # a pooling layer in --layers: maxpool2, ...


def parse_layers(ctx, param, value, pooling=False):
    """'64,32,10' -> [64, 32, 10]: every width, input to output. With pooling=True, also
    'maxpoolK' / 'avgpoolK' between the widths: '64,64,maxpool2,10' -> [64, 64, 'maxpool2', 10]."""
    if value is None:
        return None
    example = "e.g. --layers 64,32,10 (input width, hidden widths, output width)"
    if pooling:
        example = ("e.g. --layers 64,32,10 or 64,64,maxpool2,10 (input width, hidden widths "
                   "with maxpoolK or avgpoolK between them, output width)")
    parts = [part.strip() for part in value.split(",")]
    if any(part == "" for part in parts):
        raise click.BadParameter(f"{value!r} has an empty width; list positive integers "
                                 f"separated by commas, {example}")
    pools = [pooling and POOLING.fullmatch(part.lower()) is not None for part in parts]
    try:
        widths = [part.lower() if pool else int(part) for part, pool in zip(parts, pools)]
    except ValueError:
        what = "integers and pooling layers" if pooling else "integers"
        raise click.BadParameter(f"{value!r} is not a list of {what}; {example}") from None
    if len(widths) - sum(pools) < 2:
        raise click.BadParameter(f"{value!r} has one width; a network needs at least an input "
                                 f"and an output width, {example}")
    if pools[0] or pools[-1]:
        raise click.BadParameter(f"{value!r} starts or ends with a pooling layer; the first "
                                 f"entry is the input width and the last the output width, "
                                 f"{example}")
    bad = [w for w, pool in zip(widths, pools) if not pool and w <= 0]
    if bad:
        raise click.BadParameter(f"{value!r} has the width {bad[0]}; every width must be a "
                                 f"positive integer, {example}")
    return widths


def parse_layers_with_pooling(ctx, param, value):
    """parse_layers, with pooling layers: '64,64,maxpool2,10' -> [64, 64, 'maxpool2', 10]."""
    return parse_layers(ctx, param, value, pooling=True)


def parse_number(text, option):
    """'2', '-1', '0.5', '1/2' or '1e-3' -> a float; a one-line error otherwise."""
    try:
        return float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise click.ClickException(
            f"{option} {text!r} is not a finite number: write e.g. 2, -1, 0.5 or 1/2") from None


def parse_numbers(text, option, count, why, example):
    """'2,-1' -> (2.0, -1.0): exactly ``count`` comma-separated numbers (``why``: the reason,
    e.g. "the network has 2 inputs"; ``example``: a right value, e.g. "2,-1")."""
    parts = text.split(",")
    if len(parts) != count:
        raise click.ClickException(
            f"{option} needs {count} comma-separated number{'s' if count != 1 else ''} ({why}), "
            f"got {len(parts)}: {text!r}; e.g. {option} {example}")
    return tuple(parse_number(part, f"{option} value") for part in parts)


def comma_list(known, what):
    """A click callback: 'a,b' -> ['a', 'b'], each checked against ``known``."""
    def callback(ctx, param, value):
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise click.BadParameter(f"give at least one {what}, e.g. {known[0]}")
        for name in names:
            if name not in known:
                raise click.BadParameter(
                    f"unknown {what} {name!r}: expected a comma-separated list of "
                    f"{', '.join(known)}")
        return names
    return callback


def output_path(ctx, param, value):
    """An output file must go into a directory that exists and that we may write in: checked
    before any work, by creating (and removing) a temporary file there."""
    if value is None:
        return None
    directory = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(directory):
        raise click.BadParameter(f"cannot write {value}: directory {directory} does not exist")
    if os.path.isdir(value):
        raise click.BadParameter(f"{value} is a directory; give a file name")
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    except OSError as error:
        raise click.BadParameter(f"cannot write {value}: directory {directory} is not writable "
                                 f"({error.strerror}); choose another directory") from None
    os.close(fd)
    os.unlink(probe)
    return value


def figure_path(ctx, param, value):
    """An output figure: output_path, and an extension matplotlib can write (.png, .svg, ...)."""
    if value is None:
        return None
    from backprop_edu.plots import check_figure_path  # cheap: imports matplotlib lazily

    try:
        check_figure_path(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return output_path(ctx, param, value)


def json_path(ctx, param, value):
    """A click callback: '-' (standard output), or a file output_path accepts."""
    if value is None or value == "-":
        return value
    return output_path(ctx, param, value)


def json_option(what):
    """The --json option of every command that computes numbers, one convention for all:
    --json PATH writes them to a file (atomically), --json - prints them instead of the text."""
    return click.option("--json", "json_output", default=None, callback=json_path,
                        metavar="PATH", help=f"Write {what} as JSON to PATH; '-' prints it "
                                             "instead of the text. [default: none]")


def write_json(data, path):
    """The JSON of --json: to ``path`` atomically, or to standard output when path is '-'."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if path == "-":
        click.echo(text, nl=False)
    else:
        with atomic_file(path, encoding="utf-8") as f:
            f.write(text)


def print_or_write(text, data, json_output):
    """A command's result, by the --json convention: with '-', the JSON of ``data`` alone on
    standard output; else ``text``, and with a PATH the JSON file too ("wrote PATH")."""
    if json_output == "-":
        write_json(data, "-")
        return
    click.echo(text)
    if json_output:
        write_json(data, json_output)
        click.echo(f"wrote {json_output}")


def wrote_figure(path, json_output):
    """Say where the figure went: on stderr when standard output carries the JSON (--json -)."""
    click.echo(f"wrote {path}", err=json_output == "-")


def distinct_outputs(data=None, model=None, file=None, **paths):
    """No two output options may name the same file, and none may overwrite the --data CSV
    (or the MODEL being read, or the FILE being graded). '-' (standard output) is no file."""
    seen = {}
    for name, path in (("--data", data), ("MODEL", model), ("FILE", file)):
        if path is not None and path not in datasets.BY_NAME and os.path.isfile(path):
            seen[os.path.realpath(path)] = name
    for option, path in paths.items():
        if path is None or path == "-":
            continue
        option = "--" + option.replace("_", "-")
        other = seen.setdefault(os.path.realpath(path), option)
        if other != option:
            what = {"--data": "the data file", "MODEL": "the model file",
                    "FILE": "the file being graded"}.get(other, f"the file of {other}")
            raise click.BadParameter(f"{path} is also {what}; give {option} a file name of its "
                                     "own", param_hint=f"'{option}'")


def pixel_size(ctx, param, value):
    """A click callback: '1200x500' -> (1200, 500)."""
    if value is None:
        return None
    try:
        width, height = (int(part) for part in value.lower().replace("×", "x").split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT in pixels, e.g. 1200x500, "
                                 f"got {value!r}") from None
    if width < 100 or height < 100 or width > 10000 or height > 10000:
        raise click.BadParameter(f"width and height must lie between 100 and 10000 pixels, "
                                 f"got {width}x{height}")
    return width, height


size_option = click.option(
    "--size", default=None, callback=pixel_size, metavar="WxH",
    help="Figure size in pixels, e.g. 1200x500. [default: each figure's own]")
