"""The ledger: schema version guard, compare-and-set transitions, atomic claims, DataFrames."""
from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3

import pandas as pd
import pytest

from core import ledger, paths


def _job(conn, **kw):
    job_id = ledger.insert_job(conn, kind="command", name="x", config="{}", **kw)
    ledger.update_job(conn, job_id, job_dir=str(paths.job_dir(job_id)))
    return job_id


def test_wal_and_schema_version(home):
    with ledger.writer() as conn:
        _job(conn)
    con = sqlite3.connect(paths.ledger_path())
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == ledger.SCHEMA_VERSION


def test_newer_ledger_is_refused_and_left_untouched(home):
    with ledger.writer() as conn:
        _job(conn)
    ledger.reset_engines()
    con = sqlite3.connect(paths.ledger_path())
    con.execute(f"PRAGMA user_version={ledger.SCHEMA_VERSION + 1}")
    con.close()
    before = paths.ledger_path().read_bytes()
    with pytest.raises(ledger.LedgerVersionError, match="newer halo-forge"):
        ledger.list_jobs()
    assert paths.ledger_path().read_bytes() == before


def test_transition_is_compare_and_set(home):
    with ledger.writer() as conn:
        job_id = _job(conn)
    assert ledger.transition(job_id, ("QUEUED",), "STARTING")
    assert not ledger.transition(job_id, ("QUEUED",), "STARTING")  # no longer QUEUED
    assert ledger.transition(job_id, ("STARTING",), "RUNNING", pid=123)
    job = ledger.get_job(job_id)
    assert job["status"] == "RUNNING" and job["pid"] == 123 and job["started_at"]
    assert ledger.transition(job_id, ledger.ACTIVE, "COMPLETED", exit_code=0)
    assert not ledger.transition(job_id, ledger.ACTIVE, "FAILED")
    assert ledger.get_job(job_id)["status"] == "COMPLETED"
    kinds = ledger.events_df(job_id=job_id)["kind"].tolist()
    assert kinds == ["JOB_CREATED", "JOB_STARTING", "JOB_STARTED", "JOB_COMPLETED"]


def test_update_job_refuses_status(home):
    with ledger.writer() as conn:
        job_id = _job(conn)
        with pytest.raises(ValueError, match="transition"):
            ledger.update_job(conn, job_id, status="FAILED")


def _claimer(home_dir, n, out):
    import os

    os.environ["HALO_FORGE_HOME"] = home_dir
    from core import ledger as lg

    got = []
    for _ in range(n):
        job = lg.claim_next(1000)
        if job:
            got.append(job["id"])
    out.put(got)


def test_claims_are_atomic_across_processes(home):
    with ledger.writer() as conn:
        ids = [_job(conn) for _ in range(60)]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(str(home), 40, out)) for _ in range(3)]
    for p in procs:
        p.start()
    claimed = [i for _ in procs for i in out.get(timeout=300)]  # spawn imports are slow on a busy machine
    for p in procs:
        p.join()
    assert sorted(claimed) == ids  # every job exactly once


def test_claim_order_priority_then_queue_position(home):
    with ledger.writer() as conn:
        a = _job(conn)
        b = _job(conn, priority=2)
        c = _job(conn)
        big = _job(conn, priority=9, gpus=4)
    assert ledger.claim_next(1)["id"] == b
    assert ledger.claim_next(1)["id"] == a
    assert ledger.claim_next(1)["id"] == c
    assert ledger.claim_next(1) is None  # the 4-GPU job does not fit one slot
    assert ledger.claim_next(4)["id"] == big


def test_append_output_and_frames(home):
    with ledger.writer() as conn:
        job_id = _job(conn)
        ledger.append_output(conn, job_id, log_offset=42, log_seq=2,
                             logs=[(job_id, 1, 1.0, "output", "a"), (job_id, 2, 2.0, "output", "b")],
                             metrics=[(job_id, 1, 1.0, "loss", 0.5), (job_id, 2, 2.0, "loss", 0.4),
                                      (job_id, 2, 2.0, "lr", 1e-4)],
                             progress={"step": 2, "total_steps": 10}, events=[])
        ledger.insert_result(conn, job_id, {"model": "m", "benchmark": "humaneval",
                                            "metrics": {"pass@1": 0.5, "pass@5": 0.7, "pass@10": 0.8},
                                            "primary_metric": "pass@1", "samples": 4})
    job = ledger.get_job(job_id)
    assert (job["log_offset"], job["log_seq"], job["step"], job["total_steps"]) == (42, 2, 2, 10)
    loss = ledger.metrics_df(job_id, "loss")
    assert loss["value"].tolist() == [0.5, 0.4] and loss["step"].tolist() == [1, 2]
    assert len(ledger.metrics_df(job_id)) == 3
    assert pd.api.types.is_datetime64_any_dtype(loss["time"])
    res = ledger.results_df()
    assert res.loc[0, "pass_at_1"] == 0.5 and res.loc[0, "pass@10"] == 0.8
    assert res.loc[0, "primary_value"] == 0.5
    jobs = ledger.jobs_df()
    assert jobs.loc[0, "id"] == job_id and pd.api.types.is_datetime64_any_dtype(jobs["created_at"])
    # plain pandas on the file works too
    raw = pd.read_sql("SELECT name, COUNT(*) AS n FROM metric GROUP BY name ORDER BY name",
                      sqlite3.connect(paths.ledger_path()))
    assert raw.to_dict("records") == [{"name": "loss", "n": 2}, {"name": "lr", "n": 1}]
    events = ledger.events_df(after_id=0)
    assert events["id"].is_monotonic_increasing
    later = ledger.events_df(after_id=int(events["id"].iloc[0]))
    assert len(later) == len(events) - 1


def _opener(home_dir, out, barrier):
    import os

    os.environ["HALO_FORGE_HOME"] = home_dir
    from core import ledger as lg

    barrier.wait(timeout=300)  # imports done: all open the new file at the same moment
    try:
        with lg.writer() as conn:
            lg.insert_job(conn, kind="command", name="x", config="{}")
        out.put("ok")
    except Exception as exc:  # reported to the parent
        out.put(repr(exc))


def test_many_processes_opening_a_new_ledger_at_once(home):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(6)
    procs = [ctx.Process(target=_opener, args=(str(home), out, barrier)) for _ in range(6)]
    for p in procs:
        p.start()
    answers = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join()
    assert answers == ["ok"] * 6
    assert len(ledger.list_jobs()) == 6


def test_job_defaults_match_the_declared_schema(home):
    from core import ledger_schema

    declared = {name: f.default for name, f in ledger_schema.Job.model_fields.items()
                if f.default is not None and f.default_factory is None and not f.is_required()}
    assert ledger.JOB_DEFAULTS == declared


def test_runtime_reads_and_writes_without_sqlalchemy(home, tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    with ledger.writer() as conn:  # the schema exists (created here, with SQLModel)
        _job(conn)
    code = ("import sys; from core import jobs, ledger; "
            "import core.cli, core.runner.supervisor, core.runner.daemon, core.dashboard, "
            "core.monitor, core.results, core.joblist; "
            "print(len(jobs.list_jobs()), ledger.status_counts()); "
            "jobs.submit('command', {'command': ['true']}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'pandas'))); "
            "ledger.metrics_df(1); "  # pandas on a plain sqlite3 connection: still no SQLAlchemy
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["1 {'QUEUED': 1}", "[]", "[]"]


def test_pandas_reads_the_ledger_plainly_and_through_sqlalchemy(home):
    with ledger.writer() as conn:
        job_id = _job(conn)
        ledger.append_output(conn, job_id, log_offset=10, log_seq=1,
                             logs=[(job_id, 1, 1.0, "output", "x")],
                             metrics=[(job_id, 1, 1.0, "loss", 0.5)], progress={}, events=[])
    sql = "SELECT name, AVG(value) AS v FROM metric WHERE job_id = ? GROUP BY name"
    plain = pd.read_sql(sql, sqlite3.connect(paths.ledger_path()), params=(job_id,))
    orm = pd.read_sql(sql, ledger.engine(), params=(job_id,))
    assert plain.to_dict("records") == orm.to_dict("records") == [{"name": "loss", "v": 0.5}]
    assert ledger.metrics_df(job_id, "loss")["value"].tolist() == [0.5]
    assert ledger.Job.__tablename__ == "job"  # the ORM classes stay reachable from ledger


def test_nested_reader_and_writer_in_one_thread(home):
    with ledger.writer() as conn:
        job_id = _job(conn)
        with ledger.reader() as other:  # a second connection: sees the committed state only
            assert other.execute("SELECT COUNT(*) FROM job").scalar() == 0
        assert ledger.get_job(job_id, conn)["id"] == job_id
    with pytest.raises(RuntimeError, match="boom"):
        with ledger.writer() as conn:
            _job(conn)
            raise RuntimeError("boom")
    assert [j["id"] for j in ledger.list_jobs()] == [job_id]  # rolled back, connection reusable


def _garbage(path):
    path.write_bytes(b"this is a shopping list, not a database\n" * 200)


def _foreign(path):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, title TEXT)")
    con.execute("INSERT INTO recipes (title) VALUES ('bread')")
    con.commit()
    con.close()


def _damaged(path):
    with ledger.writer() as conn:
        for _ in range(50):
            _job(conn)
        conn.executemany("INSERT INTO log_line (job_id, seq, time, stream, text) VALUES (1, ?, 0, 'output', ?)",
                         [(i, "x" * 200) for i in range(3000)])
    ledger.reset_engines()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    with open(path, "r+b") as fh:  # scribble over the pages after the first two
        fh.seek(4096 * 2)
        fh.write(b"\xde\xad\xbe\xef" * 8192)


@pytest.mark.parametrize("make,words", [(_garbage, "not a SQLite database"),
                                        (_foreign, "another program"),
                                        (_damaged, "damaged|malformed")])
def test_a_bad_file_is_refused_in_one_sentence_and_never_written(home, make, words):
    import re

    path = paths.ledger_path()
    make(path)
    ledger.reset_engines()
    before = path.read_bytes()
    with pytest.raises(ledger.LedgerError) as info:
        for _ in range(2):
            with ledger.reader() as conn:  # a damaged file may open; its pages fail on read
                conn.execute("SELECT * FROM log_line").fetchall()
                conn.execute("SELECT * FROM job").fetchall()
            ledger.transition(1, ("QUEUED",), "STARTING")
    message = str(info.value)
    assert re.search(words, message) and "left untouched" in message and "\n" not in message
    assert path.read_bytes() == before
    assert not (path.parent / "ledger.db-wal").exists() or make is _damaged


def test_connections_are_shared_by_threads_not_piled_up_per_thread(home):
    import threading

    with ledger.writer() as conn:
        _job(conn)
    for _ in range(50):  # the UI runs every rerun in a new thread
        t = threading.Thread(target=ledger.list_jobs)
        t.start()
        t.join()
    assert len(ledger._opened) <= 2

    barrier = threading.Barrier(12)

    def busy():
        with ledger.reader() as conn:
            barrier.wait(timeout=30)  # 12 transactions open at once: 12 connections
            conn.execute("SELECT COUNT(*) FROM job").scalar()

    threads = [threading.Thread(target=busy) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger._opened) == ledger.POOL_MAX  # the extra ones were closed on release
