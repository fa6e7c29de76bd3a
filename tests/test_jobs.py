"""The job services: validation, stop intents, retry, delete, queue moves, priority."""
from __future__ import annotations

import json
import sqlite3

import pytest

from core import jobs, ledger, paths


def _cmd(*args):
    return {"command": ["echo", *args]}


def _table_counts():
    con = sqlite3.connect(paths.ledger_path())
    return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("job", "event", "metric", "log_line")}


@pytest.mark.parametrize("config, message", [
    ({"command": []}, "command must be a non-empty list"),
    ({"command": "echo hi"}, "command must be a non-empty list"),
    ({"command": [""]}, "program name"),
    ({"command": ["echo"], "gpus": -1}, "gpus must be a whole number >= 0, got -1"),
    ({"command": ["echo"], "gpus": "2"}, "gpus must be a whole number"),
    ({"command": ["echo"], "env": {"A": 1}}, "env must map"),
])
def test_malformed_submit_is_refused_and_changes_nothing(home, config, message):
    jobs.submit("command", _cmd("ok"))
    before = _table_counts()
    dirs = sorted(paths.jobs_dir().iterdir())
    with pytest.raises(jobs.JobError, match=message):
        jobs.submit("command", config)
    assert _table_counts() == before
    assert sorted(paths.jobs_dir().iterdir()) == dirs


def test_unknown_kind_and_bad_training_config(home):
    with pytest.raises(jobs.JobError, match="unknown job kind 'train'"):
        jobs.submit("train", {})
    with pytest.raises(ValueError, match="learning_rate"):
        jobs.submit("sft", {"model": {"name": "x"}, "data": {"dataset": "alpaca"},
                            "training": {"learning_rate": "fast"}})
    assert jobs.list_jobs() == []


def test_submit_writes_job_dir_and_spec(home):
    job_id = jobs.submit("command", _cmd("hi"), name="greeting")
    job = jobs.get(job_id)
    assert job["status"] == "QUEUED" and job["name"] == "greeting" and job["gpus"] == 0
    spec = json.loads((paths.job_dir(job_id) / "job.json").read_text())
    assert spec["command"] == ["echo", "hi"] and spec["kind"] == "command"


def test_stop_queued_job_is_stopped_at_once(home):
    job_id = jobs.submit("command", _cmd())
    assert jobs.request_stop(job_id) == "STOPPED"
    with pytest.raises(jobs.JobError, match="only queued or running"):
        jobs.request_stop(job_id)


def test_stop_running_job_records_intent(home):
    job_id = jobs.submit("command", _cmd())
    ledger.transition(job_id, ("QUEUED",), "STARTING")
    ledger.transition(job_id, ("STARTING",), "RUNNING")
    assert jobs.request_stop(job_id) == "STOPPING"
    assert jobs.get(job_id)["stop_requested_at"]


def test_retry_copies_config(home):
    job_id = jobs.submit("command", _cmd("a"), priority=3)
    with pytest.raises(jobs.JobError, match="retry a finished job"):
        jobs.retry(job_id)
    ledger.transition(job_id, ("QUEUED",), "FAILED")
    new = jobs.retry(job_id)
    job = jobs.get(new)
    assert job["config"]["command"] == ["echo", "a"] and job["retry_of"] == job_id
    assert job["priority"] == 3


def test_delete_finished_job_removes_rows_and_dir(home):
    job_id = jobs.submit("command", _cmd())
    ledger.transition(job_id, ("QUEUED",), "STARTING")
    ledger.transition(job_id, ("STARTING",), "RUNNING")
    with pytest.raises(jobs.JobError, match="stop it before deleting"):
        jobs.delete(job_id)
    with ledger.writer() as conn:
        ledger.append_output(conn, job_id, log_offset=1, log_seq=1,
                             logs=[(job_id, 1, 1.0, "output", "x")],
                             metrics=[(job_id, 1, 1.0, "loss", 1.0)], progress={}, events=[])
    ledger.transition(job_id, ledger.ACTIVE, "COMPLETED")
    keep = jobs.submit("command", _cmd())
    jobs.delete(job_id)
    assert not paths.job_dir(job_id).exists() and paths.job_dir(keep).exists()
    with pytest.raises(jobs.JobError, match=f"no job with id {job_id}"):
        jobs.get(job_id)
    assert ledger.metrics_df(job_id).empty


def test_move_and_priority(home):
    a, b, c = (jobs.submit("command", _cmd(str(i))) for i in range(3))
    assert [j["id"] for j in jobs.queue()] == [a, b, c]
    jobs.move(c, "up")
    assert [j["id"] for j in jobs.queue()] == [a, c, b]
    jobs.move(a, "down")
    assert [j["id"] for j in jobs.queue()] == [c, a, b]
    jobs.move(c, "up")  # already first: no change
    assert [j["id"] for j in jobs.queue()] == [c, a, b]
    jobs.set_priority(b, 5)
    assert [j["id"] for j in jobs.queue()] == [b, c, a]
    with pytest.raises(jobs.JobError, match="direction"):
        jobs.move(a, "sideways")
    ledger.transition(a, ("QUEUED",), "STOPPED")
    with pytest.raises(jobs.JobError, match="only a queued job can be moved"):
        jobs.move(a, "up")
    with pytest.raises(jobs.JobError, match="priority must be a whole number"):
        jobs.set_priority(b, "high")
