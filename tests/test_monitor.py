"""Read-side queries for Monitor: series downsampling, log tail and filter, progress."""
from __future__ import annotations

import json

from core import ledger, monitor, paths


def _job_with(points: list[tuple[int | None, float]], name="loss") -> int:
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind="command", name="x", config=json.dumps({}))
        ledger.update_job(conn, job_id, job_dir=str(paths.job_dir(job_id)))
        if points:
            conn.exec_driver_sql("INSERT INTO metric (job_id, step, time, name, value) VALUES (?,?,?,?,?)",
                                 [(job_id, s, 1000.0 + i, name, v) for i, (s, v) in enumerate(points)])
    return job_id


def test_short_series_is_raw(home):
    job = _job_with([(s, 1.0 / s) for s in range(1, 101)])
    s = monitor.series(job, "loss", max_points=200)
    assert s["x"] == list(range(1, 101)) and not s["downsampled"] and s["count"] == 100


def test_medium_series_is_bucket_averaged_with_band(home):
    job = _job_with([(s, float(s % 10)) for s in range(10_000)])
    s = monitor.series(job, "loss", max_points=100)
    assert s["downsampled"] and not s.get("thinned")
    assert 95 <= len(s["x"]) <= 101
    assert s["count"] == 10_000
    assert all(lo <= y <= hi for lo, y, hi in zip(s["lo"], s["y"], s["hi"]))
    assert min(s["lo"]) == 0.0 and max(s["hi"]) == 9.0


def test_long_series_is_thinned_to_real_points(home, monkeypatch):
    monkeypatch.setattr(monitor, "THIN_ABOVE", 5_000)
    points = [(s, float(s)) for s in range(0, 20_000, 2)]  # gaps in the logged steps
    job = _job_with(points)
    s = monitor.series(job, "loss", max_points=100)
    assert s.get("thinned") and len(s["x"]) <= 102
    assert s["x"][0] == 0 and s["x"][-1] == 19_998
    assert s["y"] == [float(x) for x in s["x"]]  # real points, not averages
    assert s["x"] == sorted(s["x"])


def test_time_axis_and_steps_missing(home):
    job = _job_with([(None, float(i)) for i in range(10)])
    s = monitor.series(job, "loss", x="step")
    assert s["y"] == [float(i) for i in range(10)]  # row order when no step was printed
    t = monitor.series(job, "loss", x="time")
    assert t["x"] == [1000.0 + i for i in range(10)]


def test_tail_log_filter_escapes_wildcards(home):
    job = _job_with([])
    with ledger.writer() as conn:
        ledger.append_output(conn, job, log_offset=0, log_seq=4, metrics=[], progress={}, events=[],
                             logs=[(job, i, 1.0, "output", t) for i, t in
                                   enumerate(["100% done", "loss: 1", "Error_x", "ErrorAx"], 1)])
    assert [r["text"] for r in monitor.tail_log(job, 2)] == ["Error_x", "ErrorAx"]
    assert [r["text"] for r in monitor.tail_log(job, 10, "%")] == ["100% done"]
    assert [r["text"] for r in monitor.tail_log(job, 10, "error_")] == ["Error_x"]


def test_classify_and_progress():
    assert monitor.classify_line("Traceback (most recent call last):") == "error"
    assert monitor.classify_line("UserWarning: careful") == "warning"
    assert monitor.classify_line("Step 3/10 loss: 0.5") == "metric"
    assert monitor.classify_line("hello") == "plain"
    p = monitor.progress({"step": 25, "total_steps": 100, "status": "RUNNING",
                          "started_at": 0.0, "finished_at": 50.0})
    assert p["fraction"] == 0.25 and p["label"] == "step 25/100" and p["elapsed_s"] == 50.0
    assert monitor.format_duration(3725) == "1:02:05" and monitor.format_duration(65) == "01:05"
