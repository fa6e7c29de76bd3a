"""Preference pairs from a finished RAFT job's verdicts, re-checked through the verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import datasets, jobs, pairs
from core.cli import main as cli
from core.training import raft
from core.training.toytask import problems, raft_config
from core.verifiers import registry
from tests.training.conftest import read_jsonl


def test_pairs_from_a_raft_job_chosen_passed_rejected_failed(home, toy_base, toy_problems, tmp_path, capsys):
    cfg = raft_config(toy_base, toy_problems, cycles=1)
    job_id = jobs.submit("raft", cfg, name="pairs source")
    job_dir = jobs.get(job_id)["job_dir"]
    assert raft.run(cfg, job_dir) == 0
    capsys.readouterr()

    out = tmp_path / "prefs.jsonl"
    assert cli(["datasets", "pairs", "--from-job", str(job_id), "--out", str(out), "--per-prompt", "2"]) == 0
    said = capsys.readouterr().out
    rows = read_jsonl(out)
    samples = read_jsonl(Path(job_dir) / "cycles" / "cycle_1.jsonl")
    mixed = {r["task_id"] for r in samples if r["passed"]} & {r["task_id"] for r in samples if not r["passed"]}
    assert mixed and {r["task_id"] for r in rows} == mixed  # every prompt that can give a pair does
    assert said.startswith(f"{len(rows)} pairs from {len(mixed)} of 8 prompts")

    # Re-check every pair in fresh sandboxes: chosen passes, rejected fails.
    by_id = {p["task_id"]: p for p in problems()}
    verifier = registry.get("humaneval")
    chosen = verifier.verify_batch([(by_id[r["task_id"]], r["chosen"]) for r in rows])
    rejected = verifier.verify_batch([(by_id[r["task_id"]], r["rejected"]) for r in rows])
    assert all(v.passed for v in chosen) and not any(v.passed for v in rejected)
    assert all(r["chosen"] != r["rejected"] and r["prompt"] for r in rows)

    # The file is DPO data as it is: the preference schema, usable for DPO only; a DPO job trains on it.
    assert datasets.peek_schema(out) == "preference"
    assert datasets.to_preference(rows[0])["chosen"] == [{"role": "assistant", "content": rows[0]["chosen"]}]
    from core.training import dpo

    dpo_cfg = {"kind": "dpo", "model": {"name": toy_base}, "data": {"dataset": str(out), "max_length": 256},
               "training": {"max_steps": 2, "batch_size": 4, "save_steps": 1000}}
    assert dpo.run(dpo_cfg, tmp_path / "dpo") == 0
    assert f"{len(rows)} preference pairs" in capsys.readouterr().out
    assert json.loads((tmp_path / "dpo" / "summary.json").read_text())["steps"] == 2


def test_pairs_refuse_what_cannot_give_pairs(home, tmp_path):
    job_id = jobs.submit("sft", {"kind": "sft", "model": {"name": "tiny"}, "data": {"dataset": "alpaca"}})
    with pytest.raises(pairs.PairsError, match=f"job {job_id} is a sft job; pairs come from raft, grpo, benchmark jobs"):
        pairs.pairs_from_job(job_id, tmp_path / "x.jsonl")
    assert cli(["datasets", "pairs", "--from-job", "999", "--out", str(tmp_path / "x.jsonl")]) == 2
    # Every sample passed: no pair, nothing written.
    run = tmp_path / "job"
    (run / "cycles").mkdir(parents=True)
    (run / "cycles" / "cycle_1.jsonl").write_text(
        "".join(json.dumps({"task_id": "t", "prompt": "p", "completion": c, "passed": True, "status": "pass"}) + "\n" for c in "ab"))
    with pytest.raises(pairs.PairsError, match="no prompt has both a passing and a failing sample"):
        pairs.write_pairs({"id": 5, "kind": "raft", "job_dir": str(run)}, tmp_path / "y.jsonl")
    assert not (tmp_path / "y.jsonl").exists()


def test_verdicts_that_judge_nothing_are_not_evidence(tmp_path):
    path = tmp_path / "samples.jsonl"
    lines = [
        {"task_id": "t", "prompt": "p", "completion": "a", "passed": False, "status": "toolchain_missing"},
        {"task_id": "t", "prompt": "p", "completion": "b", "passed": False, "status": "error", "message": "not verified: stop requested"},
        {"id": "t", "prompt": "p", "output": "c", "passed": False, "status": "fail"},  # a benchmark row
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    scored, skipped = pairs.read_scored([path])
    assert skipped == 2 and [(s.key, s.completion, s.passed) for s in scored] == [("t", "c", False)]

    rows = [
        pairs.Scored("t", "p", "good", True, "pass", "a:1"),
        pairs.Scored("t", "p", "good", True, "pass", "a:2"),
        pairs.Scored("t", "p", "bad", False, "fail", "a:3"),
        pairs.Scored("u", "q", "only passes", True, "pass", "a:4"),
    ]
    built = pairs.build_pairs(rows, per_prompt=3)
    assert [(p["chosen"], p["rejected"]) for p in built] == [("good", "bad")]  # distinct texts, one fail


def test_pairs_from_a_grpo_jobs_samples_file(tmp_path):
    """GRPO keeps every scored completion in JOB_DIR/samples.jsonl (VerifierReward writes it)."""
    from core.training.rewards import VerifierReward
    from core.training.toytask import solution

    probs = problems()
    reward = VerifierReward("humaneval", probs, prompts=["q0", "q1"], samples_path=tmp_path / "samples.jsonl")
    reward(prompts=[""] * 4, completions=[solution(7), solution(5), solution(8), solution(9)], record_index=[0, 0, 1, 1])
    report = pairs.write_pairs({"id": 3, "kind": "grpo", "job_dir": str(tmp_path)}, tmp_path / "p.jsonl")
    assert (report.pairs, report.prompts, report.prompts_paired) == (2, 2, 2)
    rows = read_jsonl(tmp_path / "p.jsonl")
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [("q0", solution(7), solution(5)), ("q1", solution(8), solution(9))]
