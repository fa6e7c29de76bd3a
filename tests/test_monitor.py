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


def test_raft_progress_counts_finished_cycles():
    running = {"cycle": 2, "total_cycles": 3, "step": 14, "total_steps": 20, "status": "RUNNING",
               "started_at": 0.0, "finished_at": None}
    p = monitor.progress(running)
    assert p["fraction"] == 1 / 3  # "Cycle 2/3" is printed when cycle 2 starts
    assert p["label"].startswith("cycle 2/3") and "1 done" in p["label"]
    assert monitor.progress({**running, "cycle": 1})["fraction"] == 0.0
    assert monitor.progress({**running, "cycle": 3, "status": "COMPLETED",
                             "finished_at": 90.0})["fraction"] == 1.0


def test_a_stopping_job_has_no_eta(monkeypatch):
    monkeypatch.setattr(monitor.time, "time", lambda: 100.0)
    job = {"step": 25, "total_steps": 100, "status": "RUNNING", "started_at": 0.0,
           "finished_at": None}
    assert monitor.progress(job)["eta_s"] == 300.0
    stopping = monitor.progress({**job, "status": "STOPPING"})
    assert "eta_s" not in stopping and stopping["elapsed_s"] == 100.0


def test_checkpoints_from_the_events_the_tail_writes(home, tmp_path):
    """Lines a job prints -> the tail's CHECKPOINT_SAVED events -> Monitor's checkpoint list."""
    from core.runner.tail import Tailer

    job = _job_with([])
    out = paths.job_dir(job) / "output"
    first, second = out / "checkpoint-5", out / "checkpoint-10"
    for d, size in ((first, 1000), (second, 3000)):
        d.mkdir(parents=True)
        (d / "adapter_model.safetensors").write_bytes(b"\0" * size)
    log = paths.job_dir(job) / "output.log"
    log.write_text(f"Step 5/10 | loss: 1.0\ncheckpoint saved: {first}\n"
                   f"Step 10/10 | loss: 0.5\nSaving model checkpoint to {second}\n")
    Tailer(ledger.get_job(job)).drain(final=True)
    ckpts = monitor.checkpoints(job)
    assert [(c["step"], c["path"], c["size"], c["exists"]) for c in ckpts] == [
        (5, str(first), 1000, True), (10, str(second), 3000, True)]
    assert monitor.checkpoints(job, after_event=ckpts[0]["event_id"])[0]["step"] == 10
    import shutil

    shutil.rmtree(first)
    assert monitor.checkpoints(job)[0]["exists"] is False and monitor.checkpoints(job)[0]["size"] is None
    assert monitor.format_bytes(3000) == "2.9 KiB" and monitor.format_bytes(None) == "–"


def test_monitor_reads_only_the_newest_checkpoints(home):
    job = _job_with([])
    with ledger.writer() as conn:
        for s in range(1, 31):
            ledger.add_event(conn, "CHECKPOINT_SAVED", job, {"path": f"/nowhere/checkpoint-{s}"})
    total, newest = monitor.checkpoint_count(job)
    assert total == 30
    last = monitor.checkpoints(job, newest=5)
    assert [c["step"] for c in last] == [26, 27, 28, 29, 30] and last[-1]["event_id"] == newest
    assert last[0]["exists"] is False and last[0]["size"] is None


def test_monitor_reads_only_the_newest_checkpoints(home):
    job = _job_with([])
    with ledger.writer() as conn:
        for s in range(1, 31):
            ledger.add_event(conn, "CHECKPOINT_SAVED", job, {"path": f"/nowhere/checkpoint-{s}"})
    total, newest = monitor.checkpoint_count(job)
    assert total == 30
    last = monitor.checkpoints(job, newest=5)
    assert [c["step"] for c in last] == [26, 27, 28, 29, 30] and last[-1]["event_id"] == newest
    assert last[0]["exists"] is False and last[0]["size"] is None
