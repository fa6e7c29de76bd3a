"""Retention: old finished jobs lose their logs and metrics, never active ones, never results."""
from __future__ import annotations

import time

import pytest

from core import ledger, ledger_prune, paths
from tests.test_ledger_backup import cli

DAY = 86400.0


def _job(conn, status, ended_days_ago, rows=2000, result=False):
    now = time.time()
    job_id = ledger.insert_job(conn, kind="command", name=f"{status} {ended_days_ago}",
                               config="{}", job_dir="", status=status,
                               finished_at=now - ended_days_ago * DAY if status in ledger.FINAL
                               else None)
    conn.execute("UPDATE job SET created_at = ?, updated_at = ? WHERE id = ?",
                 (now - (ended_days_ago + 1) * DAY, now - ended_days_ago * DAY, job_id))
    ledger.append_output(conn, job_id, log_offset=1, log_seq=rows,
                         logs=[(job_id, i + 1, 0.0, "output", "x" * 100) for i in range(rows)],
                         metrics=[(job_id, i, 0.0, "loss", 1.0) for i in range(rows)],
                         progress={}, events=[(0.0, job_id, "LOG_LINE", "{}")])
    if result:
        ledger.insert_result(conn, job_id, {"model": "m", "benchmark": "humaneval",
                                            "metrics": {"pass@1": 0.5}})
    return job_id


def _counts(job_id):
    with ledger.reader() as conn:
        return tuple(conn.execute(f"SELECT COUNT(*) FROM {t} WHERE job_id = ?", (job_id,)).scalar()
                     for t in ("metric", "log_line", "result"))


@pytest.mark.parametrize("keep_results", [False, True])
def test_prune_old_jobs_keeps_active_recent_and_results(home, keep_results):
    with ledger.writer() as conn:
        old = _job(conn, "COMPLETED", 120)
        old_failed = _job(conn, "FAILED", 100)
        bench = _job(conn, "COMPLETED", 200, result=True)
        recent = _job(conn, "COMPLETED", 10)
        running = _job(conn, "RUNNING", 300)  # started long ago, still running
        queued = _job(conn, "QUEUED", 300)
    args = ["ledger", "prune", "--older-than", "90d"] + (["--keep-results"] if keep_results else [])
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    assert f"pruned {2 if keep_results else 3} job(s)" in out.stdout
    assert _counts(old) == _counts(old_failed) == (0, 0, 0)
    assert _counts(bench) == ((2000, 2000, 1) if keep_results else (0, 0, 1))  # result row stays
    for kept in (recent, running, queued):
        assert _counts(kept) == (2000, 2000, 0)
    assert ledger.get_job(old)["status"] == "COMPLETED"  # the job row and its history stay
    kinds = [e for e in ledger.events_df(job_id=old)["kind"]]
    assert "LOG_LINE" not in kinds and "JOB_CREATED" in kinds
    assert (ledger.events_df()["kind"] == "LEDGER_PRUNED").sum() == 1


def test_prune_vacuums_and_the_size_shrinks(home):
    with ledger.writer() as conn:
        for _ in range(5):
            _job(conn, "COMPLETED", 400, rows=20000)
    done = ledger_prune.prune(90 * DAY)
    assert done["metrics"] == done["log_lines"] == 100_000
    assert done["bytes_after"] < done["bytes_before"] / 4
    assert not paths.ledger_path().with_name("ledger.db-wal").exists() or \
        paths.ledger_path().with_name("ledger.db-wal").stat().st_size == 0


@pytest.mark.parametrize("age", ["90", "d", "-3d", "0d", "3y", ""])
def test_bad_ages_are_refused_in_one_sentence(home, age):
    out = cli("ledger", "prune", "--older-than", age)
    assert out.returncode == 2 and "--older-than" in out.stderr and "Traceback" not in out.stderr
    assert ledger_prune.parse_age("36h") == 36 * 3600


def test_prune_without_room_for_vacuum_still_deletes_and_says_so(home, monkeypatch):
    with ledger.writer() as conn:
        old = _job(conn, "COMPLETED", 400, rows=100)

    def no_room(path=None):
        raise ledger.LedgerFull("the disk holding /x is full (database or disk is full); ...")

    monkeypatch.setattr(ledger_prune, "compact", no_room)
    done = ledger_prune.prune(90 * DAY)
    assert done["metrics"] == 100 and _counts(old) == (0, 0, 0)
    assert "VACUUM skipped" in done["vacuum_skipped"]
