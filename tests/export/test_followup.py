"""training.export_after: the supervisor queues a verified export once the training job completes."""
from __future__ import annotations

import json

from core import jobs
from core.export.followup import queue_after_training


def test_export_after_training_is_queued_for_the_finished_job(trained):
    row = dict(jobs.get(trained.job_id))
    assert queue_after_training(row) is None  # the fixture's job asked for nothing

    row["config"] = json.dumps({**row["config"], "training": {**row["config"]["training"],
                                                               "export_after": "gguf-q8_0"}})
    job_id = queue_after_training(row)
    job = jobs.get(job_id)
    assert job["kind"] == "export" and "after training" in job["name"]
    assert job["config"]["source"]["job"] == trained.job_id
    assert job["config"]["export"]["format"] == "gguf" and job["config"]["export"]["quant"] == "q8_0"
    assert job["config"]["export"]["out_dir"].endswith(f"exports/job{trained.job_id}-gguf-q8_0")
    assert jobs.request_stop(job_id) == "STOPPED"
    assert queue_after_training({"kind": "benchmark", "id": 1, "config": "{}"}) is None
