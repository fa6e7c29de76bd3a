"""Live fragments skip their queries when the ledger's newest event id has not moved.

AppTest never fires run_every ticks, but a rerun runs each fragment body with the session
state kept, which is what a tick does: so a second run with no new event must read nothing
but the newest event id, and a new event must bring the new rows.
"""
from __future__ import annotations

import time
import types

import pytest
from streamlit.testing.v1 import AppTest

from core import dashboard, hardware, jobs, ledger, live, monitor
from tests.conftest import REPO
from tests.seed import seed

NEWEST = "SELECT MAX(id) FROM event"  # the trace shows bound values: "... WHERE job_id = 3"
NEWEST_JOBS = f"{NEWEST} WHERE {ledger.NOT_TELEMETRY}"  # live.newest_job_event


@pytest.fixture
def sql(monkeypatch):
    """Every statement the ledger runs from now on, with the clock's time bucket held still."""
    statements: list[str] = []
    connect = ledger._connect

    def traced(path):
        con = connect(path)
        con.set_trace_callback(statements.append)
        return con

    ledger.reset_engines()
    monkeypatch.setattr(ledger, "_connect", traced)
    monkeypatch.setattr(live, "_now", lambda: 1_000_000.0)
    return statements


def _queries(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith(("BEGIN", "ROLLBACK", "COMMIT", "PRAGMA"))]


def _output(job_id: int, step: int, loss: float) -> None:
    """One parsed-output batch, as the supervisor stores it."""
    with ledger.writer() as conn:
        ledger.append_output(conn, job_id, log_offset=step, log_seq=10_000 + step,
                             metrics=[(job_id, step, 1.0, "loss", loss)], progress={"step": step},
                             events=[(1.0, job_id, "METRICS_UPDATE", "{}")],
                             logs=[(job_id, 10_000 + step, 1.0, "output", f"loss: {loss}")])


def test_quiet_monitor_reads_only_the_newest_event(home, sql, monkeypatch):
    ids = seed()
    job = ids["RUNNING"]
    at = AppTest.from_file(str(REPO / "pages/monitor.py"), default_timeout=30)
    at.query_params["job"] = str(job)
    at.run()
    assert not at.exception
    calls = []
    for name in ("latest_metrics", "series", "tail_log", "checkpoint_count"):
        real = getattr(monitor, name)
        monkeypatch.setattr(monitor, name, lambda *a, _r=real, _n=name, **k: (calls.append(_n), _r(*a, **k))[1])
    real_get = jobs.get
    monkeypatch.setattr(jobs, "get", lambda *a, **k: (calls.append("get"), real_get(*a, **k))[1])
    # The clock moves on: the duration is recomputed from the kept row, without a query.
    later = types.SimpleNamespace(time=lambda: time.time() + 3600)
    duration = {m.label: m.value for m in at.metric}["Duration"]
    monkeypatch.setattr(monitor, "time", later)
    sql.clear()

    at.run()
    assert not at.exception and calls == []
    fragment = [q for q in _queries(sql) if "metric" in q or "log_line" in q or "event" in q]
    assert fragment == [f"{NEWEST} WHERE job_id = {job}"]  # one seek on the job's events
    assert {m.label: m.value for m in at.metric}["Duration"] != duration

    _output(ids["COMPLETED"], 7, 9.0)  # another job's event: this one stays kept
    at.run()
    assert calls == []

    _output(job, 99, 0.123)
    at.run()
    assert not at.exception
    assert {"get", "latest_metrics", "series", "tail_log", "checkpoint_count"} <= set(calls)
    assert {m.label: m.value for m in at.metric}["loss"] == "0.123"
    assert "loss: 0.123" in " ".join(h.proto.body for h in at.get("html"))


def test_quiet_dashboard_reads_only_the_newest_event(home, sql, monkeypatch):
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    ids = seed()
    at = AppTest.from_file(str(REPO / "pages/dashboard.py"), default_timeout=30).run()
    assert not at.exception
    assert _queries(sql)  # the first draw reads the ledger
    running = {m.label: m.value for m in at.metric}["Running"]
    sql.clear()

    at.run()
    assert not at.exception
    assert set(_queries(sql)) == {NEWEST, NEWEST_JOBS}  # the GPU parts' and the jobs' seeks
    assert {m.label: m.value for m in at.metric}["Running"] == running

    jobs.request_stop(ids["RUNNING"])  # a status change is an event
    sql.clear()
    at.run()
    assert any("FROM job" in q for q in _queries(sql))
    assert {m.label: m.value for m in at.metric}["Running"] == running  # STOPPING is active
    assert "stopping" in " ".join(m.value for m in at.markdown).lower()


def test_telemetry_refreshes_only_the_dashboard_gpu_parts(home, sql, monkeypatch):
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    seed()
    at = AppTest.from_file(str(REPO / "pages/dashboard.py"), default_timeout=30).run()
    assert not at.exception
    gpu = {"device": "0", "name": "Test GPU", "utilization": 42.0, "mem_used": 2**30,
           "mem_total": 2**33, "source": "test"}
    ledger.insert_gpu_samples([{**gpu, "time": time.time()}])  # one sampler tick, GPU_UPDATE
    sql.clear()

    at.run()
    assert not at.exception
    read = _queries(sql)
    assert any("FROM gpu_sample" in q for q in read)  # the GPU cards and history follow it
    assert {m.label: m.value for m in at.metric}["Utilisation"] == "42 %"
    rest = [q for q in read if "gpu_sample" not in q and q not in (NEWEST, NEWEST_JOBS)]
    assert rest == []  # counts, active jobs, queue, charts and recent runs stay kept


def test_quiet_models_activity_reads_no_jobs(home, sql, monkeypatch):
    calls = []
    real = jobs.list_jobs
    monkeypatch.setattr(jobs, "list_jobs", lambda *a, **k: (calls.append(k), real(*a, **k))[1])

    def activity():  # the fragment's two reads; the catalogue above it reads jobs on each run
        return [k for k in calls if k.get("kinds") == ["export", "command"] or k.get("limit") == 5]

    at = AppTest.from_file(str(REPO / "pages/models.py"), default_timeout=30).run()
    assert not at.exception and len(activity()) == 2
    at.run()
    assert len(activity()) == 2  # nothing happened: the kept lists are drawn
    job = jobs.submit("command", {"kind": "command", "command": ["true"]}, name="download tiny")
    at.run()
    assert len(activity()) == 4
    assert any(f"#{job} download tiny: queued" in p.proto.text for p in at.get("progress"))


def test_results_rerun_keeps_table_and_curves(home, sql):
    ids = seed()
    at = AppTest.from_file(str(REPO / "pages/results.py"), default_timeout=30).run()
    assert not at.exception and at.get("bidi_component")

    def curve_reads():  # monitor.series: its bounds, then the points
        return [q for q in _queries(sql) if "FROM metric" in q and ("MIN(step)" in q or "value" in q)]

    assert curve_reads()
    sql.clear()
    at.run()  # a click elsewhere on the page: nothing in the ledger changed
    assert not at.exception
    assert curve_reads() == []
    assert not [q for q in _queries(sql) if q.startswith("SELECT * FROM result")]  # table kept
    _output(ids["STOPPED"], 99, 0.5)  # a picked run (the newest three are) logs a point
    sql.clear()
    at.run()
    assert curve_reads()
