"""The caller's uid slots: lock files in a private directory, checked once per process."""
from __future__ import annotations

import os

import pytest

from core.verifiers import sandbox as sb


@pytest.fixture
def fresh_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(sb.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(sb, "_dir_fd", None)
    yield tmp_path / f"halo-forge-sandbox-{os.geteuid()}"
    if sb._dir_fd is not None:
        os.close(sb._dir_fd)


def take(n: int = 1) -> list[int]:
    got = [sb._acquire_slot() for _ in range(n)]
    for fd, _ in got:
        os.close(fd)
    return [slot for _, slot in got]


def test_slots_are_lock_files_in_a_private_directory(fresh_dir):
    fd, slot = sb._acquire_slot()
    try:
        assert (fresh_dir / f"slot-{slot}.lock").exists()
        assert fresh_dir.stat().st_mode & 0o777 == 0o700
        other, second = sb._acquire_slot()  # another slot while this one is held
        os.close(other)
        assert second != slot
    finally:
        os.close(fd)


def test_a_directory_that_is_not_private_is_refused(fresh_dir):
    fresh_dir.mkdir(mode=0o755)
    fresh_dir.chmod(0o755)
    with pytest.raises(sb.SandboxError, match="not a private directory"):
        take()


def test_a_removed_directory_is_made_and_checked_again(fresh_dir):
    take()
    for f in fresh_dir.iterdir():
        f.unlink()
    fresh_dir.rmdir()
    take()  # the open in the removed directory fails, so it is made again
    assert fresh_dir.is_dir() and fresh_dir.stat().st_mode & 0o777 == 0o700


def test_a_directory_swapped_in_under_the_name_is_not_used(fresh_dir):
    take()
    for f in fresh_dir.iterdir():
        f.unlink()
    fresh_dir.rmdir()
    fresh_dir.mkdir(mode=0o777)  # as if someone else made it after a /tmp cleaner ran
    fresh_dir.chmod(0o777)
    with pytest.raises(sb.SandboxError, match="not a private directory"):
        take()
    assert not any(fresh_dir.iterdir())  # no lock file was made in it
