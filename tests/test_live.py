"""core.live: the newest event id (whole ledger, one job), time buckets, the kept render."""
from __future__ import annotations

import json

from core import jobs, ledger, live


def _job(name: str = "x") -> int:
    with ledger.writer() as conn:
        return ledger.insert_job(conn, kind="command", name=name, config=json.dumps({}))


def test_newest_event_follows_the_ledger_and_one_job(home):
    assert live.newest_event() == 0
    a, b = _job("a"), _job("b")
    top = live.newest_event()
    assert top > 0 and live.newest_event(a) < live.newest_event(b) == top
    with ledger.writer() as conn:  # a parsed-output batch of job a
        ledger.append_output(conn, a, log_offset=10, log_seq=1, metrics=[(a, 1, 1.0, "loss", 0.5)],
                             progress={"step": 1}, events=[(1.0, a, "METRICS_UPDATE", "{}")],
                             logs=[(a, 1, 1.0, "output", "loss: 0.5")])
    assert live.newest_event() > top and live.newest_event(a) == live.newest_event()
    assert live.newest_event(b) == top  # b's own stream did not move
    assert live.newest_event(9999) == 0


def test_telemetry_moves_the_newest_event_but_not_the_newest_job_event(home):
    a = _job("a")
    jobs_top = live.newest_job_event()
    assert jobs_top == live.newest_event() > 0
    ledger.insert_gpu_samples([{"time": 1.0, "device": "0", "source": "t"}])  # GPU_UPDATE
    assert live.newest_event() > jobs_top
    assert live.newest_job_event() == jobs_top and live.stamp() == (jobs_top, None)
    jobs.request_stop(a)
    assert live.newest_job_event() == live.newest_event() > jobs_top
    with ledger.reader() as conn:  # one seek in the partial index, not a scan back over samples
        plan = " ".join(r[-1] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT MAX(id) FROM event WHERE {ledger.NOT_TELEMETRY}"))
    assert "ix_event_not_telemetry" in plan


def test_queue_changes_write_an_event(home):
    a, b = _job("a"), _job("b")
    before = live.newest_event(b)
    jobs.move(b, "up")
    assert live.newest_event(b) > before
    before = live.newest_event(a)
    jobs.set_priority(a, 5)
    assert live.newest_event(a) > before
    kinds = ledger.events_df()["kind"].tolist()
    assert kinds.count("JOB_QUEUE_CHANGED") == 2


def test_stamp_has_a_time_bucket_only_when_asked(home):
    assert live.stamp() == (0, None)
    assert live.stamp(every_s=10, now=105.0) == (0, 10)
    assert live.stamp(every_s=10, now=109.9) == live.stamp(every_s=10, now=100.0)
    assert live.stamp(every_s=10, now=110.0) != live.stamp(every_s=10, now=109.9)


def test_cached_computes_once_per_stamp():
    state, calls = {}, []

    def compute():
        calls.append(1)
        return len(calls)

    assert live.cached(state, "p_x", (1, None), compute) == 1
    assert live.cached(state, "p_x", (1, None), compute) == 1
    assert live.cached(state, "p_x", (2, None), compute) == 2
    assert live.cached(state, "p_y", (2, None), compute) == 3  # its own key, its own entry
    assert len(calls) == 3 and set(state) == {"p_x", "p_y"}
