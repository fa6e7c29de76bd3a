"""SFT through a real supervisor on the tiny model: completes, loss falls, stop and resume."""
from __future__ import annotations

import json
from pathlib import Path

from core import configs, jobs, ledger
from tests.conftest import wait_for


def _sft(model: Path, **training) -> dict:
    text = f"""
kind: sft
model: {{name: {model}}}
data: {{dataset: alpaca, limit: 64}}
lora: {{r: 8, alpha: 16}}
training: {{epochs: 1, batch_size: 4, learning_rate: 5e-4, max_steps: 20}}
"""
    overrides = [f"training.{k}={v}" for k, v in training.items()]
    return configs.parse_config(text, overrides=overrides).model_dump(mode="json")


def _final(job_id, timeout=300):
    return wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL and jobs.get(job_id)["status"],
                    timeout, interval=0.5, what=f"job {job_id} to finish")


def test_sft_completes_loss_falls_adapter_saved(supervisor, tiny_model):
    job_id = jobs.submit("sft", _sft(tiny_model, logging_steps=2, learning_rate="2e-3",
                                     export_after="gguf-q8_0"))
    assert _final(job_id) == "COMPLETED", jobs.get(job_id)["error"]
    job = jobs.get(job_id)
    assert job["step"] == 20 and job["total_steps"] == 20
    loss = ledger.metrics_df(job_id, "loss")
    assert len(loss) == 10 and loss["step"].tolist() == list(range(2, 21, 2))
    first, last = loss["value"].iloc[:3].mean(), loss["value"].iloc[-3:].mean()
    assert last < first, loss["value"].tolist()
    adapter = Path(job["job_dir"]) / "output" / "adapter"
    assert (adapter / "adapter_config.json").exists()
    assert any(adapter.glob("adapter_model.*"))
    assert {"lr", "grad_norm"} <= set(ledger.metrics_df(job_id)["name"])
    assert "CHECKPOINT_SAVED" in ledger.events_df(job_id=job_id)["kind"].tolist()
    # Monitor's checkpoint list: the step each was saved at, its size, resumable from there
    from core import job_actions, monitor

    ckpts = monitor.checkpoints(job_id)
    assert ckpts and all(c["step"] for c in ckpts), ckpts
    usable = [c for c in ckpts if c["exists"]]
    assert usable and usable[-1]["size"] > 0
    assert job_actions.checkpoint_problem("sft", usable[-1]["path"]) is None

    # training.export_after: the supervisor queued a GGUF export of the adapter; it is verified.
    [export] = wait_for(lambda: jobs.list_jobs(kinds=["export"]), 30, what="the export after training")
    assert jobs.get(export["id"])["config"]["source"]["job"] == job_id
    assert _final(export["id"]) == "COMPLETED", jobs.get(export["id"])["error"]
    out = Path(jobs.get(export["id"])["config"]["export"]["out_dir"])
    assert out.name == f"job{job_id}-gguf-q8_0" and len(list(out.glob("*-q8_0.gguf"))) == 1
    verdict = json.loads((out / "verification.json").read_text())
    assert verdict["passed"] and verdict["consumer"] == "llama.cpp"


def test_sft_stop_then_resume_continues_from_checkpoint(supervisor, tiny_model):
    job_id = jobs.submit("sft", _sft(tiny_model, max_steps=400, save_steps=1000, logging_steps=1))
    wait_for(lambda: (jobs.get(job_id).get("step") or 0) >= 4, 300, interval=0.5, what="4 steps")
    jobs.request_stop(job_id)
    assert _final(job_id) == "STOPPED"
    stopped_at = jobs.get(job_id)["step"]
    out = Path(jobs.get(job_id)["job_dir"]) / "output"
    checkpoints = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert checkpoints, "a stop must save a checkpoint"
    saved = int(checkpoints[-1].name.split("-")[1])
    assert saved >= 4

    resumed = jobs.resume(job_id)
    cfg = jobs.get(resumed)["config"]
    assert cfg["training"]["resume_from"] == "latest" and cfg["training"]["output_dir"] == str(out)
    wait_for(lambda: (jobs.get(resumed).get("step") or 0) >= saved + 2, 300, interval=0.5,
             what="the resumed job to make progress")
    jobs.request_stop(resumed)
    assert _final(resumed) == "STOPPED"
    steps = ledger.metrics_df(resumed, "loss")["step"].tolist()
    assert steps and min(steps) == saved + 1, (saved, stopped_at, steps[:5])


def test_grpo_through_the_supervisor_lands_reward_metrics_in_the_ledger(supervisor, tiny_model, tmp_path):
    """GRPO's JSON metric lines (TRL's slash keys) become ledger rows Monitor charts."""
    from core.training.toytask import grpo_config, problems, write_jsonl

    toy = write_jsonl(tmp_path / "toy.jsonl", problems())
    cfg = grpo_config(str(tiny_model), toy, steps=2, max_completion_length=8, num_iterations=1)
    cfg["training"]["batch_size"] = 16
    job_id = jobs.submit("grpo", configs.parse_config(cfg).model_dump(mode="json"))
    assert _final(job_id) == "COMPLETED", jobs.get(job_id)["error"]
    job = jobs.get(job_id)
    assert job["step"] == 2 and job["total_steps"] == 2
    names = set(ledger.metrics_df(job_id)["name"])
    assert {"reward", "rewards_humaneval_mean", "verification_rate", "completions_mean_length",
            "clip_ratio_region_mean", "loss"} <= names
    assert len(ledger.metrics_df(job_id, "reward")) == 2
    assert (Path(job["job_dir"]) / "output" / "adapter" / "adapter_config.json").is_file()
