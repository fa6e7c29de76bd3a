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
