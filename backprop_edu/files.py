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
import secrets

# how the temporary file is created: new (never an existing file, nor through a link), and
# in binary at the descriptor level (Windows), whatever mode the Python file object has
CREATE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_BINARY", 0))


@contextlib.contextmanager
def atomic_file(path, mode="w", **open_arguments):
    """Open a temporary file beside ``path`` for writing; rename it onto ``path`` when done.

        with atomic_file("run.json", encoding="utf-8") as f:
            json.dump(history, f)

    ``mode`` is "w" (text) or "wb" (bytes); ``open_arguments`` go to ``open``
    (encoding, newline). The directory must exist. The file gets the mode a new file
    gets (0o666 less the umask).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    temporary = os.path.join(directory, f".tmp-{secrets.token_hex(8)}-{os.path.basename(path)}")
    try:  # the file is created inside the try: a Ctrl-C as soon as it exists still removes it
        with os.fdopen(os.open(temporary, CREATE, 0o666), mode, **open_arguments) as file:
            yield file
        os.replace(temporary, path)
    except BaseException as error:  # e.g. Ctrl-C; the rename may already have happened
        taken = isinstance(error, FileExistsError) and error.filename == temporary
        if not taken:  # (a file that had this random name already is not ours to remove)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise
