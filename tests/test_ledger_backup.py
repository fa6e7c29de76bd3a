"""Backups: consistent online copies while a job writes, restore, rotation, checks, and the
supervisor refusing a damaged ledger."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

import pytest

from core import jobs, ledger, ledger_backup, paths
from tests.conftest import REPO, SupervisorProcess, wait_for

LINES = 100_000


def cli(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _job_rows(path, job_id) -> tuple[int, int, int, int]:
    """(rows, lowest seq, highest seq, the log_seq the job row says) in one ledger file."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n, lo, hi = con.execute("SELECT COUNT(*), MIN(seq), MAX(seq) FROM log_line "
                                "WHERE job_id = ?", (job_id,)).fetchone()
        seq = con.execute("SELECT log_seq FROM job WHERE id = ?", (job_id,)).fetchone()[0]
        return n, lo or 0, hi or 0, seq
    finally:
        con.close()


def test_backups_while_a_job_writes_100k_rows_restore_with_every_row(supervisor, tmp_path):
    script = tmp_path / "printer.py"
    script.write_text(f"for i in range({LINES}):\n    print(f'line {{i}} loss: {{1 / (i + 1):.5f}}')\n")
    job_id = jobs.submit("command", {"command": [sys.executable, str(script)]})
    wait_for(lambda: (ledger.get_job(job_id)["log_seq"] or 0) > 0, 60, what="first rows")
    during = []
    while ledger.get_job(job_id)["status"] not in ledger.FINAL and len(during) < 20:
        out = tmp_path / f"during-{len(during)}.db"
        done = cli("ledger", "backup", "--out", str(out))
        assert done.returncode == 0, done.stderr
        during.append(out)
    wait_for(lambda: ledger.get_job(job_id)["status"] == "COMPLETED", 120, what="job end")
    final = tmp_path / "final.db"
    assert cli("ledger", "backup", "--out", str(final)).returncode == 0
    for copy in during + [final]:
        n, lo, hi, seq = _job_rows(copy, job_id)
        # one snapshot: the rows and the job's own count agree, no gap, no torn batch
        assert n == seq == hi and lo in (0, 1), (copy.name, n, lo, hi, seq)
        assert ledger_backup.check(copy) == []
    assert _job_rows(final, job_id)[0] == LINES
    print(f"{len(during)} backup(s) while writing, at rows "
          f"{[_job_rows(c, job_id)[0] for c in during]}")

    refused = cli("ledger", "restore", str(during[0]))  # the supervisor holds the ledger
    assert refused.returncode == 1 and "supervisor is running" in refused.stderr
    supervisor.stop()
    before = _job_rows(paths.ledger_path(), job_id)
    restored = cli("ledger", "restore", str(during[0]))
    assert restored.returncode == 0, restored.stderr
    kept = list(paths.home().glob("ledger.replaced-*.db"))
    assert len(kept) == 1 and _job_rows(kept[0], job_id) == before  # the replaced file, whole
    ledger.reset_engines()
    assert ledger.get_job(job_id)["log_seq"] == _job_rows(during[0], job_id)[3]
    assert cli("ledger", "restore", str(final)).returncode == 0
    ledger.reset_engines()
    with ledger.reader() as conn:
        assert conn.execute("SELECT COUNT(*) FROM log_line WHERE job_id = ?",
                            (job_id,)).scalar() == LINES
        assert conn.execute("PRAGMA journal_mode").scalar() == "wal"


def test_restore_refuses_what_is_not_a_ledger_and_changes_nothing(home, tmp_path):
    jobs.submit("command", {"command": ["true"]})
    before = paths.ledger_path().read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    out = cli("ledger", "restore", str(junk))
    assert out.returncode == 1 and "not a sound SQLite database" in out.stderr
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (t TEXT)")
    con.commit()
    con.close()
    out = cli("ledger", "restore", str(other))
    assert out.returncode == 1 and "another program" in out.stderr, out.stderr
    assert paths.ledger_path().read_bytes() == before
    assert not list(paths.home().glob("ledger.replaced-*"))


def test_rotation_keeps_the_newest_and_waits_for_its_interval(home):
    jobs.submit("command", {"command": ["true"]})
    made = [ledger_backup.rotate(keep=2, every_s=0) for _ in range(3)]
    assert all(made) and ledger_backup.list_backups() == made[1:]
    assert ledger_backup.rotate(keep=2, every_s=3600) is None  # the newest is recent
    assert ledger_backup.newest_backup() == made[-1]
    assert not list(ledger_backup.backups_dir().glob("*-wal"))  # copies are single files


def _damage(path):
    with ledger.writer() as conn:
        conn.executemany("INSERT INTO log_line (job_id, seq, time, stream, text) "
                         "VALUES (1, ?, 0, 'output', ?)", [(i, "x" * 300) for i in range(4000)])
    ledger.reset_engines()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    with open(path, "r+b") as fh:
        fh.seek(4096 * 3)
        fh.write(b"\x00\xff" * 20000)


def test_supervisor_refuses_a_damaged_ledger_and_names_the_newest_backup(home):
    jobs.submit("command", {"command": ["true"]})
    backup = ledger_backup.backup()
    _damage(paths.ledger_path())
    before = paths.ledger_path().read_bytes()
    out = cli("supervisor", "run", timeout=60)
    assert out.returncode == 1, out
    line = out.stderr.strip()
    assert "\n" not in line and "damaged" in line and str(backup) in line, line
    check = cli("ledger", "check")
    assert check.returncode == 1 and str(backup) in check.stderr
    start = cli("supervisor", "start", timeout=60)
    assert start.returncode == 1 and "damaged" in start.stderr, start.stderr
    assert paths.ledger_path().read_bytes() == before
    # and the way out works: restore the backup, then the supervisor starts
    assert cli("ledger", "restore", str(backup)).returncode == 0
    ledger.reset_engines()
    sup = SupervisorProcess(home).start()
    try:
        assert ledger_backup.check() == []
    finally:
        sup.stop()


@pytest.mark.parametrize("words", [["jobs"], ["submit", "--", "true"], ["ledger", "info"]])
def test_cli_on_a_foreign_file_says_what_to_do_and_writes_nothing(home, words):
    path = paths.ledger_path()
    path.write_text("this is somebody's notes file\n" * 50)
    out = cli(*words)
    assert out.returncode == 1 and out.stdout == "", out
    line = out.stderr.strip()
    assert "\n" not in line and "not a SQLite database" in line and "move it aside" in line, line
    assert path.read_text() == "this is somebody's notes file\n" * 50
    assert not path.with_name("ledger.db-wal").exists()


def test_a_process_holding_the_ledger_sees_a_restore_made_by_another(home, tmp_path):
    jobs.submit("command", {"command": ["true"]})
    copy = ledger_backup.backup(tmp_path / "one-job.db")
    jobs.submit("command", {"command": ["true"]})
    assert len(ledger.list_jobs()) == 2  # this process now holds pooled connections
    out = cli("ledger", "restore", str(copy))  # another process replaces the file
    assert out.returncode == 0, out.stderr
    assert len(ledger.list_jobs()) == 1  # the replaced inode is noticed, not read stale
    jobs.submit("command", {"command": ["true"]})
    assert len(ledger.list_jobs()) == 2
    ledger.reset_engines()
    assert len(ledger.list_jobs()) == 2  # the write went to the restored file
