"""The tailer: whole lines only, offsets, carriage-return redraws, partial lines at the end."""
from __future__ import annotations

from core import jobs, ledger, monitor
from core.runner.tail import Tailer, _visible


def test_visible_keeps_first_and_last_state_of_redrawn_lines():
    assert _visible("plain") == ["plain"]
    assert _visible("") == []
    assert _visible("\r 10%|#  | 1/10\r 50%|#####  | 5/10\r100%|##########| 10/10") == [
        " 10%|#  | 1/10", "100%|##########| 10/10"]
    assert _visible('{"metric": {"step": 3, "x": 1}}\rWriting:  0%\rWriting: 100%') == [
        '{"metric": {"step": 3, "x": 1}}', "Writing: 100%"]


def _job(home):
    job_id = jobs.submit("command", {"command": ["true"]})
    return jobs.get(job_id)


def test_only_whole_lines_until_final(home):
    job = _job(home)
    log = home / "jobs" / f"{job['id']:06d}" / "output.log"
    log.write_bytes(b"Step 1/4\nloss: 0.5\nStep 2/4\nloss: 0.")
    t = Tailer(job)
    assert t.drain() == 3
    assert ledger.metrics_df(job["id"])["value"].tolist() == [0.5]
    with open(log, "ab") as fh:
        fh.write(b"25\n")
    assert t.drain() == 1
    df = ledger.metrics_df(job["id"], "loss")
    assert df["value"].tolist() == [0.5, 0.25] and df["step"].tolist() == [1, 2]
    with open(log, "ab") as fh:
        fh.write(b"no newline at the end")
    assert t.drain() == 0
    assert t.drain(final=True) == 1
    assert [r["text"] for r in monitor.log_lines(job["id"])][-1] == "no newline at the end"
    row = ledger.get_job(job["id"])
    assert row["log_offset"] == log.stat().st_size and row["step"] == 2 and row["total_steps"] == 4


def test_restart_resumes_from_stored_offset(home):
    job = _job(home)
    log = home / "jobs" / f"{job['id']:06d}" / "output.log"
    log.write_bytes(b"".join(b"loss: %d\n" % i for i in range(100)))
    Tailer(job).drain()
    with open(log, "ab") as fh:
        fh.write(b"".join(b"loss: %d\n" % i for i in range(100, 150)))
    Tailer(ledger.get_job(job["id"])).drain()  # a new tailer, as after a supervisor restart
    values = ledger.metrics_df(job["id"], "loss")["value"].tolist()
    assert values == [float(i) for i in range(150)]
    assert [r["seq"] for r in monitor.log_lines(job["id"], limit=1000)] == list(range(1, 151))
