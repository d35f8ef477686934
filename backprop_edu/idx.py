"""Reading an IDX file, the format of MNIST and Fashion-MNIST, into a numpy array.

    images = read_idx("train-images-idx3-ubyte.gz", magic=IMAGES)   # (60000, 28, 28) uint8
    labels = read_idx("train-labels-idx1-ubyte.gz", magic=LABELS)   # (60000,) uint8

An IDX file (LeCun, Cortes and Burges, yann.lecun.com/exdb/mnist) is a header,
then the array's entries, row-major and big-endian:

    magic number   4 bytes: 0, 0, the type code, the number of dimensions d
    sizes          d big-endian 32-bit integers, the size of every dimension
    data           sizes[0] × ... × sizes[d−1] entries of the type

The type codes: 0x08 unsigned byte, 0x09 signed byte, 0x0B 16-bit integer,
0x0C 32-bit integer, 0x0D 32-bit float, 0x0E 64-bit float. So the magic number of
MNIST's images (unsigned bytes, 3 dimensions) is 0x00000803 = 2051, of its labels
0x00000801 = 2049.

A file may be gzip-compressed (as MNIST is published) or plain (as it is once
unpacked): which one is read from its first two bytes, not from its name. Every
way a file can be wrong (not gzip after all, cut short, another magic number,
fewer or more bytes than its header announces) is a one-line ValueError naming
the file. What is left out: writing IDX files (tests write their own), and
reading a file in pieces (MNIST's largest, 47 MB unpacked, is read whole).
"""

import gzip
import zlib

import numpy as np

TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
         0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
TYPE_NAMES = {0x08: "unsigned bytes", 0x09: "signed bytes", 0x0B: "16-bit integers",
              0x0C: "32-bit integers", 0x0D: "32-bit floats", 0x0E: "64-bit floats"}
IMAGES = 0x00000803  # unsigned bytes in 3 dimensions: (images, rows, columns)
LABELS = 0x00000801  # unsigned bytes in 1 dimension: (labels,)
GZIP_START = b"\x1f\x8b"  # the first two bytes of every gzip file


def describe(magic):
    """A magic number in words: '0x00000803 (unsigned bytes, 3 dimensions)'."""
    code, d = (magic >> 8) & 0xFF, magic & 0xFF
    what = TYPE_NAMES.get(code, f"unknown type 0x{code:02X}")
    return f"0x{magic:08X} ({what}, {d} dimension{'s' * (d != 1)})"


def read_bytes(path):
    """The file's content, unpacked if it is gzip-compressed."""
    with open(path, "rb") as f:
        content = f.read()
    if not content.startswith(GZIP_START):
        return content
    try:
        return gzip.decompress(content)
    except EOFError:
        raise ValueError(f"{path} is cut short: its gzip stream ends before its end marker "
                         "(an interrupted download or copy); replace the file") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{path} is a damaged gzip file ({error}); replace the file") from None


def read_idx(path, magic=None):
    """The array an IDX file holds (gzip or plain), with the shape of its header.

    magic: the magic number the file must have (IMAGES, LABELS, ...), or None for any.
    Multi-byte entries keep their big-endian dtype (numpy computes with them as usual).
    """
    content = read_bytes(path)
    if len(content) < 4:
        raise ValueError(f"{path} is not an IDX file: it holds {len(content)} bytes, fewer than "
                         "the 4 of a magic number")
    found = int.from_bytes(content[:4], "big")
    code, d = content[2], content[3]
    if content[:2] != b"\0\0" or code not in TYPES:
        raise ValueError(f"{path} is not an IDX file: it starts with 0x{found:08X}, not with "
                         "a magic number 0x0000TTDD (type TT, DD dimensions)"
                         + (f"; expected {describe(magic)}" if magic is not None else ""))
    if magic is not None and found != magic:
        raise ValueError(f"{path} has the magic number {describe(found)}, expected "
                         f"{describe(magic)}: is it the right file?")
    start = 4 + 4 * d
    if len(content) < start:
        raise ValueError(f"{path} is cut short: its header announces {d} sizes ({start} bytes) "
                         f"but the file holds {len(content)} bytes")
    shape = tuple(int(size) for size in np.frombuffer(content, ">u4", count=d, offset=4))
    dtype = TYPES[code]
    expected = start + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        dims = "×".join(map(str, shape))
        problem = "is cut short" if len(content) < expected else "has bytes beyond its data"
        raise ValueError(f"{path} {problem}: its header announces {dims} entries, "
                         f"{expected} bytes with the header, but the file holds {len(content)} "
                         "bytes (unpacked); replace the file")
    return np.frombuffer(content, dtype, offset=start).reshape(shape)
