"""core.job_actions decides which actions a job allows; the services refuse exactly the rest."""
from __future__ import annotations

import json

import pytest

from core import job_actions, jobs, ledger, paths
from tests.seed import STATUSES, seed


def test_the_rules():
    def ok(status, kind="sft"):
        return job_actions.available({"id": 1, "status": status, "kind": kind})

    assert ok("QUEUED") == ["stop", "delete", "move", "priority"]
    assert ok("RUNNING") == ["stop"]
    assert ok("STOPPING") == []  # a stop is under way: no second Stop
    assert ok("STOPPED") == ["retry", "resume", "resume_from", "delete"]
    assert ok("FAILED") == ["retry", "resume", "resume_from", "delete"]
    assert ok("COMPLETED") == ["retry", "resume_from", "delete"]  # nothing left to resume
    assert ok("FAILED", "benchmark") == ["retry", "delete"]
    assert job_actions.reason({"id": 4, "status": "STOPPING", "kind": "sft"}, "stop") == \
        "job 4 is already stopping"
    with pytest.raises(ValueError, match="unknown action"):
        job_actions.reason({"id": 1, "status": "QUEUED", "kind": "sft"}, "explode")


ACTION_CALLS = {
    "stop": jobs.request_stop, "retry": jobs.retry, "resume": jobs.resume, "delete": jobs.delete,
    "move": lambda i: jobs.move(i, "down"), "priority": lambda i: jobs.set_priority(i, 3),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", sorted(ACTION_CALLS))
def test_services_do_exactly_what_is_allowed(home, status, action):
    """The services and the pages read one rule: a refused action raises the same reason,
    an allowed one goes through (Monitor once hid Resume for a job jobs.resume accepted)."""
    ids = seed()
    job = jobs.get(ids[status])
    why = job_actions.reason(job, action)
    if why is None:
        ACTION_CALLS[action](job["id"])
    else:
        with pytest.raises(jobs.JobError) as err:
            ACTION_CALLS[action](job["id"])
        assert str(err.value) == why


def test_resume_from_a_chosen_checkpoint(home):
    ids = seed()
    job = jobs.get(ids["COMPLETED"])  # an sft run
    out = paths.job_dir(job["id"]) / "output"
    good, bare = out / "checkpoint-20", out / "checkpoint-30"
    good.mkdir(parents=True)
    bare.mkdir()
    (good / "trainer_state.json").write_text("{}")
    new = jobs.resume(job["id"], checkpoint=str(good))
    config = jobs.get(new)["config"]
    assert config["training"]["resume_from"] == str(good)
    assert config["training"]["output_dir"] == str(out)
    assert jobs.get(new)["name"].endswith("(resumed from checkpoint-20)")
    with pytest.raises(jobs.JobError, match="holds no trainer_state.json"):
        jobs.resume(job["id"], checkpoint=str(bare))
    with pytest.raises(jobs.JobError, match="not on disk"):
        jobs.resume(job["id"], checkpoint=str(out / "gone"))


def test_bulk_applies_each_and_reports_each(home):
    ids = seed()
    result = jobs.bulk("stop", [ids["QUEUED"], ids["RUNNING"], ids["STOPPING"], ids["COMPLETED"]])
    assert result[ids["QUEUED"]] == "ok: STOPPED" and result[ids["RUNNING"]] == "ok: STOPPING"
    assert result[ids["STOPPING"]] == f"job {ids['STOPPING']} is already stopping"
    assert "only queued or running jobs can be stopped" in result[ids["COMPLETED"]]
    assert jobs.get(ids["RUNNING"])["status"] == "STOPPING"
    with pytest.raises(jobs.JobError, match="bulk action must be one of"):
        jobs.bulk("explode", [1])
