"""atomic_file: a file the package writes is whole or absent, never half-written."""

import os

import pytest

from backprop_edu.files import atomic_file


def test_a_failure_halfway_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(path) as f:
            f.write("half of the new")
            raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["run.json"]


def test_a_finished_write_replaces_the_file_with_a_normal_files_mode(tmp_path):
    path = tmp_path / "model.npz"
    previous = os.umask(0o027)
    try:
        with atomic_file(path, "wb") as f:
            f.write(b"new")
    finally:
        os.umask(previous)
    assert path.read_bytes() == b"new"
    assert os.stat(path).st_mode & 0o777 == 0o640  # 0o666 less the umask, not mkstemp's 0o600
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="directory .*nowhere does not exist"):
        with atomic_file(tmp_path / "nowhere" / "x.json"):
            pass


def test_a_ctrl_c_right_after_the_temporary_file_is_created_leaves_none(tmp_path, monkeypatch):
    """A signal that arrives during the system call that creates the temporary file is raised
    as soon as the call returns: the file exists, and must still be removed."""
    real_open = os.open

    def open_then_ctrl_c(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT:
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", open_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(tmp_path / "run.json") as f:
            f.write("new")
    assert os.listdir(tmp_path) == []
