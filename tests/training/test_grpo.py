"""GRPO runner (TRL GRPOTrainer + LoRA) on the tiny model, rewarded by the real HumanEval verifier.

The gain test follows the RAFT test: start from the toy_base model (it solves the toy task
some of the time), train, then sample from the model before and after the same way and score
the samples in the verifier's sandbox.
"""

from __future__ import annotations

import json

from core.metrics import parse_line
from core.training import grpo
from core.training.toytask import grpo_config, problems, sampled_rate
from tests.training.conftest import read_jsonl


def test_grpo_raises_the_verification_rate(toy_base, toy_problems, tmp_path, capsys):
    # All 8 prompts x 8 generations per step; each generation is used for 8 optimizer steps
    # (num_iterations) with a wide clip range: 3 generations, 192 completions, as many as 3
    # RAFT cycles sample.
    cfg = grpo_config(toy_base, toy_problems, steps=24)
    assert grpo.run(cfg, tmp_path) == 0
    out = capsys.readouterr().out

    probs = problems()
    before = sampled_rate(toy_base, None, probs, samples=32)
    after = sampled_rate(toy_base, str(tmp_path / "output" / "adapter"), probs, samples=32)
    print(f"verification rate, 256 samples each: before {before:.3f} after {after:.3f}")
    assert after >= before + 0.06, (before, after)

    # What TRL logged, through the one parser: reward per function, verification rate,
    # completion length, clip ratios; the loss line of the contract.
    parsed = [p for p in map(parse_line, out.splitlines()) if p]
    reward_lines = [p for p in parsed if "rewards_humaneval_mean" in p.metrics]
    assert len(reward_lines) == 3  # rewards come with each of the 3 generations
    keys = {"reward", "reward_std", "rewards_humaneval_std", "verification_rate", "completions_mean_length",
            "clip_ratio_region_mean", "entropy"}
    assert keys <= set(reward_lines[0].metrics)
    assert [p.step for p in parsed if "loss" in p.metrics and p.total_steps == 24] == list(range(1, 25))

    # Every scored completion is on disk with its verdict; the summary counts them.
    rows = read_jsonl(tmp_path / "samples.jsonl")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(rows) == 3 * 64 == summary["verdicts"]
    assert sum(r["passed"] for r in rows) == summary["verdicts_passed"]
    assert all(r["status"] in ("pass", "fail", "error", "timeout", "compile_error") for r in rows)
    assert summary["steps"] == 24 and summary["adapter"] and not summary["stopped"]


def test_grpo_stop_then_resume_with_a_kl_term(tiny_model, toy_problems, tmp_path, capsys):
    out_dir = tmp_path / "out"
    cfg = grpo_config(str(tiny_model), toy_problems, steps=4, preset="grpo", max_completion_length=8, num_iterations=1)
    cfg["training"]["batch_size"] = 16
    cfg["training"]["output_dir"] = str(out_dir)
    calls = {"n": 0}

    def stop_after_2() -> bool:  # asked once before training, then after every step
        calls["n"] += 1
        return calls["n"] >= 3

    assert grpo.run(cfg, tmp_path / "first", should_stop=stop_after_2) == 0
    first = capsys.readouterr().out
    assert "stop requested: stopped at step 2" in first
    assert (out_dir / "checkpoint-2" / "trainer_state.json").is_file() and not (out_dir / "adapter").exists()
    kl = [p.metrics["kl"] for p in map(parse_line, first.splitlines()) if p and "kl" in p.metrics]
    assert len(kl) == 2  # the grpo preset's beta 0.04 brings the reference model and the KL

    cfg["training"]["resume_from"] = "latest"
    assert grpo.run(cfg, tmp_path / "second") == 0
    second = capsys.readouterr().out
    assert f"resuming from checkpoint: {out_dir / 'checkpoint-2'}" in second
    assert [p.step for p in map(parse_line, second.splitlines()) if p and "loss" in p.metrics] == [3, 4]
    assert json.loads((tmp_path / "second" / "summary.json").read_text())["steps"] == 4
    assert (out_dir / "adapter" / "adapter_config.json").is_file()


def test_bad_grpo_config_exits_2_naming_the_field(tmp_path, capsys):
    cfg = {"kind": "grpo", "model": {"name": "tiny"}, "data": {"dataset": "humaneval"},
           "grpo": {"num_generations": 3}, "training": {"batch_size": 8}}
    assert grpo.run(cfg, tmp_path) == 2
    assert "config error: training.batch_size x training.grad_accum (8) must be a multiple of grpo.num_generations (3)" in capsys.readouterr().out


def test_a_grpo_job_runs_through_the_job_process(tiny_model, toy_problems, tmp_path):
    """The path the supervisor takes: job.json -> python -m core.runner.job -> core.training.grpo."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    job_dir = tmp_path / "job"
    job_dir.mkdir()
    cfg = grpo_config(str(tiny_model), toy_problems, steps=1, max_completion_length=8, num_iterations=1)
    cfg["training"]["batch_size"] = 16
    (job_dir / "job.json").write_text(json.dumps({"id": 1, "kind": "grpo", "name": "grpo", "config": cfg}))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-u", "-m", "core.runner.job", str(job_dir)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads((job_dir / "summary.json").read_text())
    assert summary["kind"] == "grpo" and summary["steps"] == 1 and summary["verdicts"] == 16
    assert any(p and "rewards_humaneval_mean" in p.metrics for p in map(parse_line, proc.stdout.splitlines()))
