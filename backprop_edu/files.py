"""Writing a file so that it is either whole or absent, never half-written.

Every file the package writes (a saved network, a training history, a figure,
a JSON result, an exercise skeleton) goes through ``atomic_file``: the content
is written to a temporary file in the same directory and renamed onto the
target only once it is complete. A crash, a full disk or a Ctrl-C halfway
leaves the old file (or none) and no temporary file behind; a reader (say,
`backprop-edu plot` on a history that training is still writing) sees the
previous version or the new one, whole.
"""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_file(path, mode="w", **open_arguments):
    """Open a temporary file beside ``path`` for writing; rename it onto ``path`` when done.

        with atomic_file("run.json", encoding="utf-8") as f:
            json.dump(history, f)

    ``mode`` is "w" (text) or "wb" (bytes); ``open_arguments`` go to ``open``
    (encoding, newline). The directory must exist.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                     suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, mode, **open_arguments) as file:
            yield file
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes it private (0600)
        os.replace(temporary, path)
    except BaseException:  # e.g. Ctrl-C; the rename may already have happened
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def current_umask():
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
