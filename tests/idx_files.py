"""Small MNIST-format files made here, and a local web server: what the MNIST tests use instead
of the network (no test downloads anything from outside this machine).

    files = make_files(tmp_path / "served", m_train=30, m_test=10)   # the four .gz files
    with serve(tmp_path / "served") as url:                           # http://127.0.0.1:PORT/
        use_source(monkeypatch, "mnist", [url], files)                # the documented hook
    offline_cache(monkeypatch, tmp_path / "cache")     # no real mirror; BACKPROP_EDU_DATA set
"""

import contextlib
import functools
import gzip
import hashlib
import http.server
import socket
import threading

import numpy as np

from backprop_edu import mnist


def idx_bytes(array, code=0x08):
    """An IDX file's bytes: 0, 0, type code, dimensions; the sizes, big-endian; the data."""
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim])
    sizes = b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + sizes + array.tobytes()


def sample(m, rng, rows=28, columns=28):
    """m grey images and their labels 0..9 (every class present when m ≥ 10): faint noise,
    and a bright 4×4 square whose place along the diagonal is the label, so that a network
    can learn them."""
    images = rng.integers(0, 64, size=(m, rows, columns), dtype=np.uint8)
    labels = (np.arange(m) % 10).astype(np.uint8)
    for k in range(10):
        corner = k * (min(rows, columns) - 4) // 9
        images[labels == k, corner:corner + 4, corner:corner + 4] = 255
    return images, labels


def make_files(folder, m_train=30, m_test=10, seed=0, rows=28, columns=28):
    """Write the four files of an MNIST-like data set, gzip-compressed as published, into
    ``folder``; return {file name: (images or labels array, its .gz bytes)}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    made = {}
    for split, m in (("train", m_train), ("test", m_test)):
        images, labels = sample(m, rng, rows, columns)
        images_file, labels_file = mnist.SPLITS[split]
        for file, array in ((images_file, images), (labels_file, labels)):
            packed = gzip.compress(idx_bytes(array), mtime=0)
            (folder / file).write_bytes(packed)
            made[file] = (array, packed)
    return made


def checksums(files):
    """{file: (size, SHA-256)} of the files make_files made: what SOURCES[name].files holds."""
    return {file: (len(packed), hashlib.sha256(packed).hexdigest())
            for file, (_, packed) in files.items()}


def offline_cache(monkeypatch, folder):
    """Make ``folder`` the data folder (BACKPROP_EDU_DATA) and point every data set at a port
    where nothing listens, keeping the published sizes and checksums: nothing can reach the
    network, and a missing file fails as it would offline."""
    monkeypatch.setenv("BACKPROP_EDU_DATA", str(folder))
    for name, source in list(mnist.SOURCES.items()):
        monkeypatch.setitem(mnist.SOURCES, name, source._replace(mirrors=(closed_port_url(),)))
    return folder


def use_source(monkeypatch, name, mirrors, files):
    """Point data set ``name`` at ``mirrors`` with the checksums of ``files``: the hook that
    mnist.py documents (SOURCES is a module constant)."""
    source = mnist.SOURCES[name]._replace(mirrors=tuple(mirrors), files=checksums(files))
    monkeypatch.setitem(mnist.SOURCES, name, source)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log in the test output
        pass


@contextlib.contextmanager
def serve(folder):
    """Serve ``folder`` over HTTP on 127.0.0.1 from a thread; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: a connection is refused at once, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@contextlib.contextmanager
def silent_server():
    """A server that accepts connections and never answers: a download that hangs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/"
