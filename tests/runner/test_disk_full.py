"""A full disk under the ledger: the supervisor keeps running, stops launching, says why (status,
Dashboard), and resumes by itself when space returns, storing every line the job printed.

Runs on a real 24 MB tmpfs mounted for the test (root needed). Job dirs live on the normal disk
(HOME/jobs is a link), as they would on a machine whose ledger sits on a small system disk.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from core import ledger
from tests.conftest import REPO, SupervisorProcess, _kill_leftover_jobs, wait_for

LINES = 30_000


def _mount(path) -> None:
    path.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        reason = (f"DISK-FULL TEST NOT RUN: cannot mount a tmpfs here ({out.stderr.strip()}); "
                  "run the tests as root in a container allowed to mount")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _fill(folder) -> int:
    """Write until the filesystem refuses; returns the bytes written."""
    total = 0
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 20, 1 << 12, 512):
            while True:
                try:
                    total += os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    return total


def _ro(path, sql, *params):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, params).fetchone()
    finally:
        con.close()


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_full_disk_pauses_launching_and_resumes_without_losing_output(home, tmp_path, monkeypatch):
    from core import dashboard, jobs
    from core.runner import daemon

    small = tmp_path / "small"
    _mount(small)
    sup = None
    try:
        fs_home = small / "home"
        fs_home.mkdir()
        (tmp_path / "jobs").mkdir()
        (fs_home / "jobs").symlink_to(tmp_path / "jobs")
        monkeypatch.setenv("HALO_FORGE_HOME", str(fs_home))
        monkeypatch.setenv("HALO_FORGE_SLOTS", "1")
        monkeypatch.setenv("HALO_FORGE_BACKUP_KEEP", "0")
        monkeypatch.setenv("HALO_FORGE_GPU_INTERVAL_S", "600")
        ledger.reset_engines()
        go, end = tmp_path / "go", tmp_path / "end"
        script = tmp_path / "printer.py"
        script.write_text(
            "import os, sys, time\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.05)\n"
            f"for i in range({LINES}):\n"
            "    print(f'Step {i + 1}/%d loss: {1 / (i + 1):.6f} padding padding padding' % "
            f"{LINES})\n"
            "sys.stdout.flush()\n"
            f"while not os.path.exists({str(end)!r}): time.sleep(0.05)\n")
        a = jobs.submit("command", {"command": [sys.executable, str(script)], "gpus": 1})
        b = jobs.submit("command", {"command": [sys.executable, "-c", "print('B ran')"],
                                    "gpus": 1})
        sup = SupervisorProcess(fs_home).start()
        wait_for(lambda: jobs.get(a)["status"] == "RUNNING", 60, what="job A running")

        filled = _fill(small)
        go.touch()
        wait_for(lambda: daemon.status().get("paused"), 90, what="the supervisor to pause")
        paused = daemon.status()["paused"]
        assert "full" in paused and str(fs_home) in paused
        status = _cli("status")
        assert status.returncode == 0 and "launching paused" in status.stdout, status
        assert dashboard.ledger_health()["paused"] == paused
        refused = _cli("submit", "--", "true")  # a write from the CLI: one sentence, exit 1
        assert refused.returncode == 1 and "is full" in refused.stderr, refused
        assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(REPO / "pages/dashboard.py"), default_timeout=60).run()
        assert any("not starting" in e.value for e in at.error), [e.value for e in at.error]

        end.touch()  # A exits while its close cannot be recorded
        time.sleep(3)
        assert sup.proc.poll() is None, sup.read_log()[-2000:]
        db = fs_home / "ledger.db"
        assert _ro(db, "SELECT status FROM job WHERE id = ?", b)[0] == "QUEUED"
        stored = _ro(db, "SELECT COUNT(*) FROM log_line WHERE job_id = ?", a)[0]
        assert stored < LINES  # the disk really stopped the ingest

        (small / "filler").unlink()
        wait_for(lambda: jobs.get(b)["status"] == "COMPLETED", 120, what="B after space returned")
        job = jobs.get(a)
        assert job["status"] == "COMPLETED"
        n, distinct, top = _ro(db, "SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM log_line "
                                   "WHERE job_id = ?", a)
        assert n == distinct == top == LINES == job["log_seq"]
        assert job["step"] == LINES
        assert not daemon.status().get("paused")
        assert "launching paused" not in _cli("status").stdout
        print(f"filled {filled / 2**20:.1f} MB; {stored:,} of {LINES:,} lines stored before the "
              "disk was full, all after")
    finally:
        if sup is not None:
            sup.stop()
            sup.log.close()  # it lives on the small filesystem
        _kill_leftover_jobs(small / "home")
        ledger.reset_engines()
        if subprocess.run(["umount", str(small)]).returncode != 0:
            subprocess.run(["umount", "-l", str(small)])
