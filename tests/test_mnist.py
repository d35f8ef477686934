"""MNIST and Fashion-MNIST: reading IDX files, the cache folder, downloading with verification,
and every failure (bad magic, cut short, wrong checksum, no network, a server that hangs).

Nothing here touches the network: the files are made by tests/idx_files.py, served from a
local thread, and the checksum table and mirrors are replaced through mnist.SOURCES.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

from backprop_edu import idx, mnist
from idx_files import (closed_port_url, idx_bytes, make_files, offline_cache, serve,
                       silent_server, use_source)

PUBLISHED = dict(mnist.SOURCES)  # the real table, read before any test replaces an entry


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own empty data folder, and no mirror outside this machine."""
    return offline_cache(monkeypatch, tmp_path / "cache")


@pytest.fixture
def served(tmp_path, monkeypatch):
    """The four files of a small MNIST served over HTTP, and SOURCES pointing at them."""
    files = make_files(tmp_path / "served", m_train=30, m_test=10)
    with serve(tmp_path / "served") as url:
        use_source(monkeypatch, "mnist", [url], files)
        yield files


def listing(folder):
    """Every file under ``folder``, relative, temporary files included."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


# -- reading IDX files ---------------------------------------------------------------

@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_read_idx_returns_the_array_with_the_headers_shape(tmp_path, packed):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    content = idx_bytes(images)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if packed else content)
    read = idx.read_idx(path, magic=idx.IMAGES)
    assert read.shape == (2, 3, 4) and read.dtype == np.uint8
    assert np.array_equal(read, images)


def test_read_idx_reads_big_endian_floats_and_integers(tmp_path):
    values = np.array([[1.5, -2.25], [3e10, 0.0]], dtype=">f8")
    (tmp_path / "f").write_bytes(idx_bytes(values, code=0x0E))
    assert np.array_equal(idx.read_idx(tmp_path / "f"), values)
    counts = np.array([1, 256, 70000], dtype=">i4")
    (tmp_path / "i").write_bytes(idx_bytes(counts, code=0x0C))
    assert idx.read_idx(tmp_path / "i").tolist() == [1, 256, 70000]


def test_a_file_with_another_magic_number_is_refused_naming_both(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))   # a labels file in the images' place
    with pytest.raises(ValueError) as error:
        idx.read_idx(path, magic=idx.IMAGES)
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    assert "0x00000801 (unsigned bytes, 1 dimension)" in message
    assert "expected 0x00000803 (unsigned bytes, 3 dimensions)" in message


@pytest.mark.parametrize("content, says", [
    (b"", "holds 0 bytes"),
    (b"PK\x03\x04 a zip file", "starts with 0x504B0304"),
    (b"\0\0\x07\x01\0\0\0\x01x", "starts with 0x00000701"),        # unknown type code 0x07
    (b"\0\0\x08\x03\0\0\0\x02", "announces 3 sizes (16 bytes)"),   # header cut short
])
def test_a_file_that_is_not_idx_is_one_line(tmp_path, content, says):
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"^[^\n]*$") as error:
        idx.read_idx(path)
    assert says in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_truncated_file_says_how_many_bytes_it_lacks(tmp_path, packed):
    content = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-100]   # the last image cut short
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(content) if packed else content)
    with pytest.raises(ValueError) as error:
        idx.read_idx(path, magic=idx.IMAGES)
    assert "is cut short: its header announces 3×28×28 entries, 2368 bytes with the header, " \
           "but the file holds 2268 bytes" in str(error.value)


def test_extra_bytes_after_the_data_are_refused(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)) + b"junk")
    with pytest.raises(ValueError, match="has bytes beyond its data"):
        idx.read_idx(path, magic=idx.LABELS)


def test_a_cut_or_damaged_gzip_stream_is_one_line(tmp_path):
    packed = gzip.compress(idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="cut short: its gzip stream ends before its end marker"):
        idx.read_idx(cut)
    damaged = tmp_path / "damaged.gz"
    damaged.write_bytes(packed[:10] + bytes(b ^ 0xFF for b in packed[10:]))
    with pytest.raises(ValueError, match=r"is a damaged gzip file \(.+\); replace the file$"):
        idx.read_idx(damaged)


# -- the data folder -------------------------------------------------------------------

def test_the_data_folder_is_the_variable_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_EDU_DATA", str(tmp_path / "mine"))
    assert mnist.folder("fashion-mnist") == tmp_path / "mine" / "fashion-mnist"


@pytest.mark.parametrize("platform, variables, expected", [
    ("linux", {}, "home/.cache/backprop-edu"),
    ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/backprop-edu"),
    ("darwin", {}, "home/Library/Caches/backprop-edu"),
    ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/backprop-edu/Cache"),
])
def test_the_default_data_folder_is_the_platforms_user_cache(monkeypatch, tmp_path, platform,
                                                              variables, expected):
    monkeypatch.delenv("BACKPROP_EDU_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    monkeypatch.setattr(mnist.sys, "platform", platform)
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    assert mnist.data_folder() == (Path(expected) if expected.startswith("/")
                                   else tmp_path / expected)


# -- downloading -------------------------------------------------------------------------

def test_first_use_downloads_the_four_files_verified_then_reads_the_cache(served, cache,
                                                                            monkeypatch):
    shown = []

    class Bar:
        def __init__(self, label, length):
            shown.append([label, length, 0])

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            shown[-1][2] += n

    train = mnist.load("mnist", "train", progress=Bar)
    assert listing(cache) == sorted(f"mnist/{file}" for file in mnist.SOURCES["mnist"].files)
    for file, (_, packed) in served.items():
        assert (cache / "mnist" / file).read_bytes() == packed
    # the progress display saw every byte of every file
    assert sorted((label, length, done) for label, length, done in shown) == sorted(
        (f"mnist: {file}", len(packed), len(packed)) for file, (_, packed) in served.items())
    images = served["train-images-idx3-ubyte.gz"][0]
    labels = served["train-labels-idx1-ubyte.gz"][0]
    assert train.X.shape == (30, 784) and train.y.tolist() == labels.tolist()
    assert np.allclose(train.X, images.reshape(30, 784) / 255)
    assert train.features[0] == "pixel_0_0" and train.features[29] == "pixel_1_1"

    # later uses read the cache: with every mirror gone, the test split still loads
    use_source(monkeypatch, "mnist", [closed_port_url()], served)
    test = mnist.load("mnist", "test", progress=None)
    assert test.X.shape == (10, 784) and test.y.tolist() == list(range(10))


def test_float32_data_is_made_in_float32_and_matches_float64(served):
    X32 = mnist.load("mnist", "train", dtype="float32", progress=None).X
    X64 = mnist.load("mnist", "train", dtype=np.float64, progress=None).X
    assert X32.dtype == np.float32 and X64.dtype == np.float64
    assert X32.min() >= 0 and X32.max() <= 1
    assert np.array_equal(X32, X64.astype(np.float32))


def test_a_download_that_does_not_verify_leaves_nothing_in_the_cache(served, cache,
                                                                      monkeypatch):
    wrong = dict(mnist.SOURCES["mnist"].files)
    size, sha256 = wrong["train-images-idx3-ubyte.gz"]
    wrong["train-images-idx3-ubyte.gz"] = (size, "0" * 64)
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.SOURCES["mnist"]._replace(files=wrong))
    with pytest.raises(OSError) as error:
        mnist.load("mnist", progress=None)
    message = str(error.value)
    assert "\n" not in message
    assert "could not download train-images-idx3-ubyte.gz of mnist" in message
    assert f"its SHA-256 is {sha256[:12]}…, not the published 000000000000…" in message
    assert f"in {cache / 'mnist'} by hand" in message and "BACKPROP_EDU_DATA" in message
    assert "train-images-idx3-ubyte.gz" not in listing(cache)   # nor any temporary file
    assert all(not name.split("/")[-1].startswith(".tmp") for name in listing(cache))


def test_a_file_of_another_size_is_refused(served, cache, monkeypatch):
    files = dict(mnist.SOURCES["mnist"].files)
    size, sha256 = files["t10k-labels-idx1-ubyte.gz"]
    files["t10k-labels-idx1-ubyte.gz"] = (size + 5, sha256)
    monkeypatch.setitem(mnist.SOURCES, "mnist", mnist.SOURCES["mnist"]._replace(files=files))
    with pytest.raises(OSError, match=f"received {size} bytes, not the {size + 5} published"):
        mnist.load("mnist", progress=None)
    assert "mnist/t10k-labels-idx1-ubyte.gz" not in listing(cache)


def test_offline_names_the_files_the_folder_to_put_them_in_and_the_variable(cache):
    with pytest.raises(OSError) as error:
        mnist.load("fashion-mnist", "test", progress=None)
    message = str(error.value)
    assert "\n" not in message and "Connection refused" in message
    for file in mnist.SOURCES["fashion-mnist"].files:
        assert file in message
    assert f"in {cache / 'fashion-mnist'} by hand" in message
    assert "set BACKPROP_EDU_DATA to a folder whose fashion-mnist/ subfolder holds them" in message
    assert listing(cache) == []


def test_a_server_that_hangs_is_given_up_after_the_timeout(served, cache, monkeypatch):
    monkeypatch.setattr(mnist, "TIMEOUT", 0.2)
    with silent_server() as url:
        use_source(monkeypatch, "mnist", [url], served)
        with pytest.raises(OSError, match=r"nothing received for 0\.2 s, timed out"):
            mnist.load("mnist", progress=None)
    assert listing(cache) == []


def test_the_next_mirror_is_tried_when_one_fails(served, cache, monkeypatch, tmp_path):
    good = mnist.SOURCES["mnist"].mirrors[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as missing_files:   # answers 404 for every file
        use_source(monkeypatch, "mnist", [missing_files, good], served)
        assert mnist.load("mnist", "test", progress=None).X.shape == (10, 784)
    assert len(listing(cache)) == 4


def test_files_put_by_hand_unpacked_are_read_without_a_download(cache):
    made = make_files(cache / "mnist", m_train=20, m_test=10)
    for file, (array, _) in made.items():   # unpack them, as a user may have them
        (cache / "mnist" / file).unlink()
        unpacked = file.removesuffix(".gz")
        if unpacked.startswith("t10k"):      # as some copies name them: t10k-images.idx3-ubyte
            unpacked = unpacked.replace("-idx", ".idx")
        (cache / "mnist" / unpacked).write_bytes(idx_bytes(array))
    train = mnist.load("mnist", "train", progress=None)   # the mirror refuses: no download
    assert train.X.shape == (20, 784)
    assert mnist.load("mnist", "test", progress=None).y.tolist() == list(range(10))
    assert mnist.missing("mnist") == []


def test_a_corrupt_file_in_the_cache_is_one_line_naming_it(cache):
    make_files(cache / "mnist")
    path = cache / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=f"^{path} is cut short"):
        mnist.load("mnist", "test", progress=None)


def test_images_and_labels_must_agree(cache):
    made = make_files(cache / "mnist", m_train=20)
    labels = made["train-labels-idx1-ubyte.gz"][0]
    (cache / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels[:15])))
    with pytest.raises(ValueError, match="holds 20 images but .* holds 15 labels"):
        mnist.load("mnist", progress=None)
    (cache / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.full(20, 12, np.uint8))))
    with pytest.raises(ValueError, match="holds the label 12, expected labels 0 to 9"):
        mnist.load("mnist", progress=None)


def test_a_data_folder_that_cannot_be_created_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BACKPROP_EDU_DATA", str(blocker))
    with pytest.raises(OSError, match=f"cannot create the data folder {blocker / 'mnist'} "
                                      ".*: set BACKPROP_EDU_DATA to a folder you can write to"):
        mnist.load("mnist", progress=None)


def test_unknown_names_and_splits_are_refused():
    with pytest.raises(ValueError, match="unknown data set 'emnist': expected one of mnist, "
                                         "fashion-mnist"):
        mnist.load("emnist")
    with pytest.raises(ValueError, match="unknown split 'validation' of mnist: expected train "
                                         "or test"):
        mnist.load("mnist", "validation")


def test_the_summary_says_what_is_cached_and_what_a_download_takes(cache):
    rows = {row[0]: row for row in mnist.summary()}
    assert rows["mnist"][1:5] == (60000, 10000, 784, 10)
    assert rows["mnist"][6] == "downloaded on first use (11.6 MB)"
    assert rows["fashion-mnist"][6] == "downloaded on first use (30.9 MB)"
    make_files(cache / "fashion-mnist")
    assert mnist.summary()[1][6] == f"cached in {cache / 'fashion-mnist'}"


def test_the_published_table_has_a_size_and_a_sha256_for_every_file_of_both_sets():
    for name, source in PUBLISHED.items():
        assert sorted(source.files) == sorted(mnist.SPLITS["train"] + mnist.SPLITS["test"])
        for size, sha256 in source.files.values():
            assert size > 1000 and len(sha256) == 64 and int(sha256, 16) >= 0
        assert all(mirror.startswith(("https://", "http://")) and mirror.endswith("/")
                   for mirror in source.mirrors)
    # TensorFlow Datasets' values for MNIST's training images (url_checksums/mnist.txt)
    assert PUBLISHED["mnist"].files["train-images-idx3-ubyte.gz"] == (
        9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609")
