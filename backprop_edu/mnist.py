"""MNIST and Fashion-MNIST: fetched once, verified, cached, and read as X (pixels in [0, 1]) and y.

    from backprop_edu import datasets
    train = datasets.load("mnist", split="train", dtype="float32")  # 60,000 × 784, 10 classes
    test = datasets.load("mnist", split="test", dtype="float32")    # 10,000 × 784

    mnist          handwritten digits 0-9 (LeCun, Cortes & Burges)
    fashion-mnist  photos of clothes in 10 kinds (Xiao, Rasul & Vollgraf 2017, Zalando, MIT)

Each is four IDX files (idx.py), 28×28 grey images and their labels:
train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz (60,000 samples),
t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (10,000 samples).

Where they live: in the folder ``$BACKPROP_EDU_DATA/<name>/`` when the variable
BACKPROP_EDU_DATA is set, else in the user's cache folder: ~/.cache/backprop-edu
($XDG_CACHE_HOME/backprop-edu when that is set) on Linux, ~/Library/Caches/backprop-edu
on macOS, %LOCALAPPDATA%\\backprop-edu\\Cache on Windows; e.g.
~/.cache/backprop-edu/mnist/train-images-idx3-ubyte.gz. A file there may also be
unpacked (train-images-idx3-ubyte, without .gz, or train-images.idx3-ubyte as some copies
name it): put by hand, any of these is read.

On first use the missing files are downloaded (urllib, from the mirrors below, in
order), with a progress bar on stderr when it is a terminal. A download is checked
against the size and SHA-256 published for the file, written to a temporary file
beside its place and renamed only once it is whole and verified: the cache never
holds half a file or a file that failed its check. A server that sends nothing for
TIMEOUT (30) seconds, while connecting or in the middle of a file, is given up.
Offline, or when every mirror fails, a one-line OSError names the missing files,
the folder to put them in by hand, and BACKPROP_EDU_DATA. Later uses read the cache
and touch no network; a cached file is checked as it is read (its gzip stream, its
magic number, its size), not against its checksum again.

The pixels are scaled to [0, 1] (x / 255), as in Nielsen's book, in the dtype asked
for: float32 data is made in float32 directly, with no float64 copy on the way.

For tests (and for a mirror of your own): SOURCES and TIMEOUT are plain module
constants. Replace an entry of SOURCES, e.g. with pytest's monkeypatch,

    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.SOURCES["mnist"]._replace(
        mirrors=("http://127.0.0.1:8000/",), files={name: (size, sha256), ...}))

and set BACKPROP_EDU_DATA to a temporary folder: the real code then downloads from
there, checks against those values, and caches there.

What is left out: other IDX data sets (EMNIST, KMNIST), proxies beyond what urllib
reads from the environment (https_proxy), and resuming a download halfway.
"""

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

from backprop_edu import idx
from backprop_edu.files import atomic_file

ENVIRONMENT = "BACKPROP_EDU_DATA"  # the variable that names the data folder
TIMEOUT = 30.0                     # seconds without a byte before a download is given up
CHUNK = 1 << 16                    # bytes read at a time while downloading

SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class Source(NamedTuple):
    """Where a data set comes from and what its files must be."""

    mirrors: tuple     # base URLs, tried in order; a file's URL is mirror + file name
    files: dict        # file name -> (size in bytes, SHA-256 of the published .gz file)
    classes: tuple     # the name of class k, k = 0..9
    description: str


# The sizes and SHA-256 sums are those TensorFlow Datasets publishes for these files:
# github.com/tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt and
# fashion_mnist.txt. The same files are served by both MNIST mirrors (the first is the
# one TensorFlow Datasets downloads from, the second the one torchvision does), so the
# same sums check both.
SOURCES = {
    "mnist": Source(
        mirrors=("https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "https://ossci-datasets.s3.amazonaws.com/mnist/"),
        files={
            "train-images-idx3-ubyte.gz": (
                9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "train-labels-idx1-ubyte.gz": (
                28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            "t10k-images-idx3-ubyte.gz": (
                1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "t10k-labels-idx1-ubyte.gz": (
                4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        },
        classes=tuple(str(k) for k in range(10)),
        description="28×28 handwritten digits, pixels scaled to [0, 1] (LeCun, Cortes & "
                    "Burges)"),
    "fashion-mnist": Source(
        # Zalando's own bucket, as listed in github.com/zalandoresearch/fashion-mnist
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        files={
            "train-images-idx3-ubyte.gz": (
                26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            "train-labels-idx1-ubyte.gz": (
                29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            "t10k-images-idx3-ubyte.gz": (
                4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            "t10k-labels-idx1-ubyte.gz": (
                5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        },
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
        description="28×28 photos of clothes, pixels scaled to [0, 1] (Zalando, MIT licence)"),
}
NAMES = tuple(SOURCES)
SAMPLES = {"train": 60000, "test": 10000}  # the published sizes (files put by hand may differ)


class Images(NamedTuple):
    """One split of a data set: X (m × rows·columns), y (m,) class indices, what they mean."""

    X: np.ndarray
    y: np.ndarray
    classes: tuple
    features: tuple   # "pixel_r_c": the pixel in row r, column c (from 0)


# -- where the files are -----------------------------------------------------------

def data_folder():
    """The folder that holds one subfolder per data set: $BACKPROP_EDU_DATA, else the user's
    cache folder for backprop-edu (see the module's docstring)."""
    chosen = os.environ.get(ENVIRONMENT, "").strip()
    if chosen:
        return Path(chosen).expanduser().absolute()
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(local) / "backprop-edu" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "backprop-edu"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return base / "backprop-edu"


def folder(name):
    """The folder of data set ``name``, e.g. ~/.cache/backprop-edu/mnist."""
    check_name(name)
    return data_folder() / name


def check_name(name):
    if name not in SOURCES:
        raise ValueError(f"unknown data set {name!r}: expected one of {', '.join(SOURCES)}")


def cached(name, file):
    """The path of ``file`` in the cache, as published (.gz) or unpacked, also under the name
    some copies give it (train-images.idx3-ubyte); None if absent."""
    unpacked = file.removesuffix(".gz")
    for candidate in (file, unpacked, unpacked.replace("-idx", ".idx")):
        if (folder(name) / candidate).is_file():
            return folder(name) / candidate
    return None


def missing(name):
    """The files of data set ``name`` that are not in the cache yet."""
    return [file for file in SOURCES[name].files if cached(name, file) is None]


def download_size(name):
    """The bytes a download of data set ``name`` would fetch (all of its missing files)."""
    return sum(SOURCES[name].files[file][0] for file in missing(name))


# -- downloading ---------------------------------------------------------------------

def terminal_bar(label, length):
    """The default progress display: click's progress bar on stderr when stderr is a terminal,
    else nothing. A progress function takes a label and a length in bytes and returns a
    context manager with an update(n_bytes) method, as click.progressbar does."""
    if not sys.stderr.isatty():
        return Silent()
    import click  # the library imports click only when it shows a bar
    return click.progressbar(length=length, label=label, file=sys.stderr)


class Silent:
    """A progress display that shows nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False

    def update(self, n):
        pass


def fetch(name, progress=terminal_bar):
    """Download the missing files of data set ``name`` into its folder; return the folder.

    progress(label, length) -> a context manager with update(n): see terminal_bar
    (None shows nothing). Raises an OSError, one line, when a file cannot be had.
    """
    progress = progress or (lambda label, length: Silent())
    target = folder(name)
    files = missing(name)
    if not files:
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create the data folder {target} ({error.strerror or error}): "
                      f"set {ENVIRONMENT} to a folder you can write to") from None
    if not os.access(target, os.W_OK):
        raise OSError(f"cannot write in the data folder {target}: {by_hand(name, files)}")
    for file in files:
        failures = []
        for mirror in SOURCES[name].mirrors:
            url = mirror + file
            try:
                download(url, target / file, *SOURCES[name].files[file], name, progress)
                break
            except (OSError, ValueError, http.client.HTTPException) as error:
                failures.append(f"{urllib.parse.urlsplit(url).netloc or url}: {reason(error)}")
        else:
            raise OSError(f"could not download {file} of {name} ({'; '.join(failures)}): "
                          f"{by_hand(name, missing(name))}")
    return target


def by_hand(name, files):
    """How to put the files in place without a download (the end of an error message)."""
    return (f"put {', '.join(files)} (gzip-compressed or unpacked) in {folder(name)} by hand, "
            f"or set {ENVIRONMENT} to a folder whose {name}/ subfolder holds them")


def download(url, path, size, sha256, name, progress):
    """Fetch ``url`` into ``path``: whole and verified (size, SHA-256), or not at all.

    The bytes go to a temporary file beside ``path`` (files.atomic_file), renamed onto it
    only after the checks pass: an error, a timeout or a Ctrl-C leaves nothing behind.
    """
    digest = hashlib.sha256()
    received = 0
    with atomic_file(path, "wb") as out, \
            urllib.request.urlopen(url, timeout=TIMEOUT) as response, \
            progress(f"{name}: {path.name}", size) as bar:
        while chunk := response.read(CHUNK):
            received += len(chunk)
            if received > size:
                raise ValueError(f"the server sent more than the {size} bytes published for "
                                 "the file")
            digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
        if received != size:
            raise ValueError(f"received {received} bytes, not the {size} published for it")
        if digest.hexdigest() != sha256:
            raise ValueError(f"its SHA-256 is {digest.hexdigest()[:12]}…, not the published "
                             f"{sha256[:12]}…: the file is not the one published")


def reason(error):
    """Why a download failed, in a few words."""
    if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
        return f"nothing received for {TIMEOUT:g} s, timed out"
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        inner = error.reason
        return getattr(inner, "strerror", None) or str(inner)
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed in the middle of the file"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


# -- reading ---------------------------------------------------------------------------

def load(name, split="train", dtype=np.float64, progress=terminal_bar):
    """One split of data set ``name`` as Images(X, y, classes, features), downloading first
    if needed.

    split: "train" (60,000 samples) or "test" (10,000).
    dtype: of X, whose pixels are scaled to [0, 1]; e.g. "float32" for a float32 network.
    """
    check_name(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} of {name}: expected train or test")
    fetch(name, progress)
    images_file, labels_file = (cached(name, file) for file in SPLITS[split])
    images = idx.read_idx(images_file, magic=idx.IMAGES)
    labels = idx.read_idx(labels_file, magic=idx.LABELS)
    if len(images) != len(labels):
        raise ValueError(f"{images_file} holds {len(images)} images but {labels_file} holds "
                         f"{len(labels)} labels: one of them is from another data set")
    classes = SOURCES[name].classes
    if len(labels) and labels.max() >= len(classes):
        raise ValueError(f"{labels_file} holds the label {labels.max()}, expected labels 0 to "
                         f"{len(classes) - 1}: is it the right file?")
    m, rows, columns = images.shape
    # x = pixel / 255, made in the asked dtype at once (float32 data never passes float64)
    X = np.divide(images.reshape(m, rows * columns), 255, dtype=np.dtype(dtype))
    features = tuple(f"pixel_{r}_{c}" for r in range(rows) for c in range(columns))
    return Images(X, labels.astype(np.int64), classes, features)


def summary():
    """One row per data set: (name, train samples, test samples, features, classes,
    description, where it is or what a download takes)."""
    rows = []
    for name, source in SOURCES.items():
        files = missing(name)
        if not files:
            state = f"cached in {folder(name)}"
        else:
            state = f"downloaded on first use ({download_size(name) / 1e6:.1f} MB)"
        rows.append((name, SAMPLES["train"], SAMPLES["test"], 28 * 28, len(source.classes),
                     source.description, state))
    return rows
