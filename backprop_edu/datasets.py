"""Data to train on: the shipped data sets, the 2-D generators, and the user's own CSV.

A data set is a matrix X (m × n, one row per sample, as numpy users expect) and
its targets y: integer class indices 0..K−1 for classification (with the
original class names kept in ``classes``, so predictions can be mapped back),
or real values for regression.

    digits    1797 real 8×8 handwritten digits, 64 features, 10 classes
              (UCI optical digits, test part; shipped as datasets/digits.csv)
    iris      150 real iris flowers, 4 measurements, 3 species
              (Fisher 1936; shipped as datasets/iris.csv)
    xor       400 points, 2 features, 2 classes: four noisy corners
    moons     400 points, 2 features, 2 classes: two interleaved half circles
    circles   400 points, 2 features, 2 classes: a ring around a disc
    spirals   600 points, 2 features, 3 classes: three interleaved spiral arms

The generated sets are drawn from a fixed seed, so ``moons`` is the same data
on every run, like ``digits``; the make_* functions take any seed.

Two larger sets are downloaded on first use and cached (mnist.py), each with a
train part (60,000 samples) and a test part (10,000): load(name, split=...).

    mnist          28×28 handwritten digits, 784 features, 10 classes
    fashion-mnist  28×28 photos of clothes, 784 features, 10 classes

Their pixels are already on one scale, [0, 1], and are not standardised (SCALED).

A user's CSV has a header row, numeric feature columns, and one target
column (any values: class names, or real numbers for regression). Every way a
file can be malformed gets a one-line ValueError naming the line and column; a bad
argument gets an errors.ParameterError naming the parameter (target, task, val_split).
``write_csv`` writes any data set in that form (the target column last).

Also here, as building blocks: the validation split and standardisation,
(x − mean) / std; preparation.py puts them together for training and for a saved
model. What is left out: the downloads themselves (mnist.py), categorical features,
missing-value imputation.
"""

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

from backprop_edu import mnist
from backprop_edu.errors import ParameterError

# The shipped files: backprop_edu/data is a link to the top-level datasets/ folder
# (installed as package data); a plain source checkout falls back to the folder itself.
DATA_DIR = Path(__file__).resolve().parent / "data"
if not (DATA_DIR / "digits.csv").is_file():
    DATA_DIR = Path(__file__).resolve().parent.parent / "datasets"

GENERATOR_SEED = 0  # the seed of the shipped 2-D data sets


class Dataset(NamedTuple):
    """X (m × n floats), y (m,) class indices or real targets, and what they mean."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str          # "classification" or "regression"
    classes: tuple     # class names (strings), index k = class k; () for regression
    features: tuple    # feature column names
    target: str        # target column name

    @property
    def n_outputs(self):
        """The width the output layer needs: one unit per class, or one per target."""
        return len(self.classes) if self.task == "classification" else 1


# -- the 2-D generators ----------------------------------------------------------

def make_xor(n_samples=400, noise=0.35, rng=None):
    """Points near the four corners (±1, ±1); class 1 where exactly one coordinate is positive."""
    rng = np.random.default_rng(rng)
    corners = rng.integers(0, 2, size=(n_samples, 2))
    X = (2.0 * corners - 1) + noise * rng.standard_normal((n_samples, 2))
    y = corners[:, 0] ^ corners[:, 1]
    return X, y.astype(np.int64)


def make_moons(n_samples=400, noise=0.15, rng=None):
    """Two interleaved half circles: class 0 on top, class 1 below and shifted right."""
    rng = np.random.default_rng(rng)
    y = np.arange(n_samples) % 2
    t = rng.uniform(0, np.pi, n_samples)
    X = np.where(y[:, None] == 0,
                 np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    X += noise * rng.standard_normal((n_samples, 2))
    return X, y.astype(np.int64)


def make_circles(n_samples=400, noise=0.08, factor=0.5, rng=None):
    """A ring of radius 1 (class 0) around a ring of radius ``factor`` (class 1)."""
    rng = np.random.default_rng(rng)
    y = np.arange(n_samples) % 2
    t = rng.uniform(0, 2 * np.pi, n_samples)
    radius = np.where(y == 0, 1.0, factor)
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    X += noise * rng.standard_normal((n_samples, 2))
    return X, y.astype(np.int64)


def make_spirals(n_samples=600, n_classes=3, noise=0.2, rng=None):
    """``n_classes`` spiral arms winding out from the origin, one class per arm."""
    rng = np.random.default_rng(rng)
    y = np.arange(n_samples) % n_classes
    r = rng.uniform(0.05, 1, n_samples)                     # distance from the centre
    t = 4 * r + 2 * np.pi * y / n_classes + noise * rng.standard_normal(n_samples)
    X = r[:, None] * np.column_stack([np.sin(t), np.cos(t)])
    return X, y.astype(np.int64)


GENERATORS = {"xor": make_xor, "moons": make_moons, "circles": make_circles,
              "spirals": make_spirals}

DESCRIPTIONS = {
    "digits": "8×8 handwritten digits, pixels 0..16 (UCI, Alpaydin & Kaynak 1998, CC BY 4.0)",
    "iris": "iris flowers: sepal and petal length and width in cm, 3 species (Fisher 1936)",
    "xor": "four noisy corners; class 1 where exactly one coordinate is positive",
    "moons": "two interleaved half circles",
    "circles": "a ring around a smaller ring",
    "spirals": "three interleaved spiral arms",
}
SHIPPED = tuple(DESCRIPTIONS)
FILES = {"digits": ("digits.csv", "label"), "iris": ("iris.csv", "species")}  # (file, target)
BY_NAME = SHIPPED + mnist.NAMES  # every data set --data knows by name
# Data sets whose features share one scale already (pixels in [0, 1], as in Nielsen's book):
# they are not standardised, since a pixel that is almost always blank would get a tiny
# standard deviation and its rare ink a huge value.
SCALED = mnist.NAMES


def generated(name):
    """The shipped 2-D data set ``name``, drawn from the fixed seed."""
    X, y = GENERATORS[name](rng=GENERATOR_SEED)
    n_classes = int(y.max()) + 1
    return Dataset(name, X, y, "classification", tuple(str(k) for k in range(n_classes)),
                   ("x1", "x2"), "label")


# -- reading a CSV file ----------------------------------------------------------

class Table(NamedTuple):
    """A CSV file as text: its column names, its cells (m × n strings), the file line of each row."""

    path: str
    columns: list
    cells: np.ndarray
    lines: list


def read_table(path):
    """Read a CSV file with a header row into a Table; a ValueError says what is wrong with it."""
    path = str(path)
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if file.is_dir():
        raise ValueError(f"{path} is a directory, not a CSV file")
    try:
        with open(file, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True)  # a, "b" reads as a and b
            rows, lines = [], []
            header = None
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines carry no data
                if header is None:
                    header = [cell.strip() for cell in row]
                    continue
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a CSV file (it is not UTF-8 text)") from None
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable CSV file ({error})") from None
    if header is None:
        raise ValueError(f"{path} is empty: expected a header row, then one row per sample")
    if len(header) < 2:
        raise ValueError(
            f"{path} has a single column {header[0]!r}: a CSV needs feature columns and a "
            "target column, separated by commas, with a header row naming them")
    if any(name == "" for name in header):
        raise ValueError(f"the header row of {path} has an empty column name: name every column")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ValueError(f"the header row of {path} repeats the column name(s) {', '.join(duplicates)}")
    if not rows:
        raise ValueError(f"{path} has a header row but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise ValueError(
                f"line {line} of {path} has {len(row)} cells but the header has {len(header)} "
                "columns: every row needs one value per column")
    cells = np.char.strip(np.array(rows, dtype=str))
    return Table(path, header, cells, lines)


def to_floats(text):
    """An array of strings as float64 (same shape); ValueError if a cell is not a number.

    Python's float() parses each cell: numpy's own string cast can swallow a Ctrl-C that
    arrives while it runs, and the training would then go on instead of stopping.
    """
    text = np.asarray(text)
    return np.fromiter(map(float, text.ravel().tolist()), np.float64,
                       count=text.size).reshape(text.shape)


def numbers(table, names, what="feature"):
    """The columns ``names`` of a table as a float64 matrix; a ValueError names any bad cell."""
    index = [table.columns.index(name) for name in names]
    text = table.cells[:, index]
    try:
        values = to_floats(text)
    except ValueError:
        # find the first cell that is not a number, to name it (only on this error path)
        for i, j in np.ndindex(text.shape):
            try:
                float(text[i, j])
            except ValueError:
                cell = "an empty cell" if text[i, j] == "" else repr(str(text[i, j]))
                raise ValueError(
                    f"line {table.lines[i]}, column {names[j]!r} of {table.path} holds {cell}, "
                    f"not a number: every {what} column must be numeric") from None
        raise
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        i, j = bad[0]
        raise ValueError(
            f"line {table.lines[i]}, column {names[j]!r} of {table.path} holds {text[i, j]}: "
            f"every {what} value must be a finite number (remove or fill that row)")
    return values


def class_names(labels):
    """The distinct labels, sorted (numerically when they are all numbers), and each label's index."""
    names, index = np.unique(labels, return_inverse=True)  # text order
    try:
        order = np.argsort(to_floats(names), kind="stable")
    except ValueError:
        order = np.arange(len(names))  # not all numbers: keep the text order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return tuple(str(name) for name in names[order]), rank[index].astype(np.int64)


def load_csv(path, target, task="classification", name=None):
    """A user's CSV as a Dataset: every column but ``target`` is a feature."""
    table = read_table(path)
    if target is None:
        raise ParameterError("target", "a CSV needs target, the column to predict; the columns "
                             "of {path} are {columns}", path=path,
                             columns=", ".join(table.columns))
    if target not in table.columns:
        raise ValueError(
            f"no column {target!r} in {path}: its columns are {', '.join(table.columns)}")
    features = [column for column in table.columns if column != target]
    X = numbers(table, features)
    labels = table.cells[:, table.columns.index(target)]
    empty = np.flatnonzero(labels == "")
    if len(empty):
        raise ValueError(
            f"line {table.lines[empty[0]]} of {path} has an empty target {target!r}: "
            "every row needs a target value")
    if task == "regression":
        y = numbers(table, [target], what="target")[:, 0]
        return Dataset(name or str(path), X, y, "regression", (), tuple(features), target)
    classes, y = class_names(labels)
    if len(classes) < 2:
        raise ValueError(
            f"the target {target!r} of {path} has a single class ({classes[0]!r}): "
            "classification needs at least two classes")
    try:
        real = to_floats(labels)
    except ValueError:
        real = np.zeros(1)  # class names that are not numbers
    fractional = real[np.isfinite(real) & (np.mod(real, 1) != 0)]
    if len(fractional):
        raise ParameterError("task", "the target {column!r} of {path} holds real numbers such "
                             "as {number:g}: to predict real values use task='regression'",
                             column=target, path=path, number=fractional[0])
    return Dataset(name or str(path), X, y, "classification", classes, tuple(features), target)


def load(data, target=None, task="classification", split=None, dtype=np.float64):
    """A data set by name (digits, iris, xor, moons, circles, spirals, mnist, fashion-mnist),
    or a CSV file by path.

    split: for mnist and fashion-mnist, "train" (the default) or "test".
    dtype: of X for mnist and fashion-mnist, made in it directly (float32 data is never a
           float64 copy first); the small sets and CSV files are read as float64.
    """
    data = str(data)
    if data in mnist.NAMES:
        check_shipped(data, target, task)
        images = mnist.load(data, split or "train", dtype)
        return Dataset(data, images.X, images.y, "classification", images.classes,
                       images.features, "label")
    check_no_split(data, split)
    if data in SHIPPED:
        check_shipped(data, target, task)
        if data in FILES:
            file, column = FILES[data]
            return load_csv(DATA_DIR / file, column, name=data)
        return generated(data)
    if not Path(data).exists() and not data.lower().endswith(".csv") and "/" not in data:
        raise ValueError(
            f"unknown data set {data!r}: expected one of {', '.join(BY_NAME)}, "
            "or the path of a CSV file")
    return load_csv(data, target, task)


def write_csv(dataset, file):
    """Write ``dataset`` to the open text file ``file`` as the CSV that load_csv reads: a header
    row (the features, then the target), one row per sample, classes by their names, numbers
    written so that they read back exactly (5.1, 16, 0.30000000000000004)."""
    def cell(value):
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    writer = csv.writer(file, lineterminator="\n")
    writer.writerow([*dataset.features, dataset.target])
    for x, y in zip(dataset.X.tolist(), dataset.y.tolist()):
        label = dataset.classes[y] if dataset.task == "classification" else cell(y)
        writer.writerow([*map(cell, x), label])


def check_no_split(data, split):
    """A ParameterError if ``split`` is given for a data set that has no train and test parts."""
    if split is not None:
        raise ParameterError("split", "split is only for {names}, which have a train and a test "
                             "part: leave split out for {data}",
                             names=" and ".join(mnist.NAMES), data=data)


def check_shipped(data, target=None, task="classification"):
    """A ParameterError if a shipped data set is given a target column or the regression task."""
    if target is not None:
        raise ParameterError("target", "target is only for a CSV file: the data set "
                             "{data!r} has its labels already; leave target out", data=data)
    if task == "regression":
        raise ParameterError("task", "{data} is a classification data set: leave task out",
                             data=data)


def for_model(data, features, target=None, task="classification", split=None,
              dtype=np.float64):
    """What a saved model needs from ``data`` (a data set's name or a CSV): the feature matrix
    with exactly the columns ``features``, in that order, and, when ``target`` is given, the
    target values (class names as strings, or real numbers). Other columns are ignored.

    split, dtype: as in load; a saved model meets the test part of mnist and fashion-mnist
    unless split says otherwise (it was trained on the train part).
    Returns (X, targets or None).
    """
    data = str(data)
    if data in BY_NAME:
        if data in mnist.NAMES:
            split = split or "test"
        dataset = load(data, split=split, dtype=dtype)
        if dataset.X.shape[1] != len(features):
            raise ValueError(
                f"{data} has {dataset.X.shape[1]} features but the model was trained on "
                f"{len(features)}")
        return dataset.X, (np.array(dataset.classes)[dataset.y] if target is not None else None)
    check_no_split(data, split)
    table = read_table(data)
    missing = [name for name in features if name not in table.columns]
    if missing:
        raise ValueError(
            f"{data} lacks the column(s) {', '.join(missing)} that the model was trained on; "
            f"its columns are {', '.join(table.columns)}")
    X = numbers(table, list(features))
    if target is None:
        return X, None
    if target not in table.columns:
        raise ValueError(
            f"no column {target!r} in {data}: its columns are {', '.join(table.columns)}")
    if task == "regression":
        return X, numbers(table, [target], what="target")[:, 0]
    return X, table.cells[:, table.columns.index(target)]


def encode(labels, classes):
    """Class names -> indices into ``classes``; a ValueError names any label it does not know."""
    names, index = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    known = {name: k for k, name in enumerate(classes)}
    unknown = [str(name) for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"class(es) {', '.join(map(repr, unknown[:5]))} were not seen in training; "
            f"the model knows {', '.join(map(repr, classes))}")
    return np.array([known[name] for name in names], dtype=np.int64)[index]


# -- preparing data for training -------------------------------------------------

def split(m, val_split, rng):
    """Shuffle the indices 0..m−1 with ``rng``; the first round(m · val_split) are for validation.

    Returns (train_indices, val_indices).
    """
    if not 0 <= val_split < 1:
        raise ParameterError("val_split", "val_split must lie in [0, 1), got {value}",
                             value=val_split)
    n_val = int(round(m * val_split))
    if val_split > 0:
        n_val = max(n_val, 1)
    if m - n_val < 1:
        raise ParameterError("val_split", "{m} samples leave nothing to train on with "
                             "val_split={value}: use a smaller val_split", m=m, value=val_split)
    order = rng.permutation(m)
    return order[n_val:], order[:n_val]


def standardisation(X, names=None):
    """The mean and standard deviation of every column; a constant column gets std 1.

    ``names`` (one per column) only serve the error for values too large for floating point.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = X.mean(axis=0)
        std = X.std(axis=0)
    check_finite_columns(np.isfinite(mean) & np.isfinite(std), X, names)
    std[std == 0] = 1.0  # a constant feature (e.g. an always-blank pixel) stays 0 after centring
    return mean, std


def standardise(X, mean, std, names=None):
    """(X − mean) / std, column by column."""
    with np.errstate(over="ignore", invalid="ignore"):
        Z = (X - mean) / std
    check_finite_columns(np.isfinite(Z).reshape(len(Z), -1).all(axis=0), X, names)
    return Z


def check_finite_columns(finite, X, names):
    """A ValueError naming the first column whose ``finite`` entry is False (values near 1e308
    overflow the sums of a mean or a standard deviation)."""
    bad = np.flatnonzero(~finite)
    if len(bad):
        j = bad[0]
        column = np.asarray(X).reshape(len(X), -1)[:, j]
        name = repr(names[j]) if names is not None else str(j + 1)
        raise ValueError(
            f"column {name} holds values too large to standardise in floating point (up to "
            f"{np.abs(column).max():.3g}): rescale that column, e.g. divide it by a power of ten")


def unstandardise(Z, mean, std):
    """Z · std + mean: back from standardised units (e.g. a regression output) to the data's."""
    return Z * std + mean


def summary():
    """One row per shipped data set: (name, samples, features, classes, description)."""
    rows = []
    for name in SHIPPED:
        dataset = load(name)
        rows.append((name, dataset.X.shape[0], dataset.X.shape[1], len(dataset.classes),
                     DESCRIPTIONS[name]))
    return rows

