"""SFT runner on the tiny model, called in-process (the supervisor path is tested in tests/e2e)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.configs import parse_config
from core.metrics import parse_line
from core.training import sft

REPO = Path(__file__).resolve().parents[2]


def _config(model: Path, **training) -> dict:
    text = f"""
kind: sft
model: {{name: {model}}}
data: {{dataset: alpaca, limit: 64}}
lora: {{r: 8, alpha: 16}}
training: {{epochs: 1, batch_size: 4, learning_rate: 5e-4, max_steps: 20}}
"""
    return parse_config(text, overrides=[f"training.{k}={v}" for k, v in training.items()]).model_dump(mode="json")


def _stop_after(n_steps: int):
    """A stop flag that turns on at the end of step n (the runner asks once before training
    starts, then once at the end of every step)."""
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= n_steps + 1

    return should_stop


def _parsed(out: str):
    return [(line, parse_line(line)) for line in out.splitlines() if line.strip()]


def test_sft_loss_falls_saves_adapter_merged_and_summary(tiny_model, tmp_path, capsys):
    cfg = _config(tiny_model, max_steps=12, learning_rate="5e-3", logging_steps=1, save_steps=5, merge="true")
    assert sft.run(cfg, tmp_path) == 0
    out = capsys.readouterr().out
    parsed = _parsed(out)
    losses = [(p.step, p.metrics["loss"]) for _, p in parsed if p and "loss" in p.metrics]
    assert [s for s, _ in losses] == list(range(1, 13))
    first = sum(v for _, v in losses[:3]) / 3
    last = sum(v for _, v in losses[-3:]) / 3
    assert last < first - 0.1, losses
    # Every progress line carries the whole contract: epoch, step/total, loss, lr, grad norm.
    line, p = next((line, p) for line, p in parsed if p and "loss" in p.metrics)
    assert line.startswith("Epoch 1/") and p.total_steps == 12 and {"lr", "grad_norm"} <= set(p.metrics)
    assert any(p and "tokens_per_s" in p.metrics for _, p in parsed)
    saved = [p.checkpoint for _, p in parsed if p and p.checkpoint]
    assert saved[:2] == [str(tmp_path / "output" / "checkpoint-5"), str(tmp_path / "output" / "checkpoint-10")]

    adapter = tmp_path / "output" / "adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["adapter"] == str(adapter) and not summary["stopped"]
    assert abs(summary["final_loss"] - losses[-1][1]) < 1e-4 and summary["tokens_per_s"] > 0

    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(summary["merged"])  # a plain model: adapter folded in
    assert not hasattr(merged, "peft_config")


def test_stop_saves_checkpoint_then_resume_continues(tiny_model, tmp_path, capsys):
    out_dir = tmp_path / "run" / "output"
    cfg = _config(tiny_model, max_steps=8, logging_steps=1, save_steps=100, output_dir=out_dir)
    assert sft.run(cfg, tmp_path / "first", should_stop=_stop_after(3)) == 0
    first = capsys.readouterr().out
    assert f"checkpoint saved: {out_dir / 'checkpoint-3'}" in first
    assert "stop requested: stopped at step 3" in first
    summary = json.loads((tmp_path / "first" / "summary.json").read_text())
    assert summary["stopped"] and summary["steps"] == 3 and "adapter" not in summary
    assert not (out_dir / "adapter").exists()

    resumed = _config(tiny_model, max_steps=8, logging_steps=1, save_steps=100, output_dir=out_dir, resume_from="latest")
    assert sft.run(resumed, tmp_path / "second") == 0
    second = capsys.readouterr().out
    steps = [p.step for _, p in _parsed(second) if p and "loss" in p.metrics]
    assert steps == [4, 5, 6, 7, 8], second  # global step continues from the checkpoint
    summary = json.loads((tmp_path / "second" / "summary.json").read_text())
    assert summary["resumed_from"] == str(out_dir / "checkpoint-3") and summary["steps"] == 8
    assert (out_dir / "adapter" / "adapter_config.json").is_file()


def test_stop_before_training_starts_trains_nothing(tiny_model, tmp_path, capsys):
    assert sft.run(_config(tiny_model), tmp_path, should_stop=lambda: True) == 0
    assert "stop requested before training started" in capsys.readouterr().out
    assert json.loads((tmp_path / "summary.json").read_text())["steps"] == 0
    assert not list((tmp_path / "output").glob("checkpoint-*"))


def test_bad_config_exits_2_with_the_reason(tmp_path, capsys):
    assert sft.run({"kind": "sft", "model": {"name": "tiny"}}, tmp_path) == 2
    assert "config error: section 'data' is required" in capsys.readouterr().out


def test_sigterm_through_the_job_process_saves_and_exits_0(tiny_model, tmp_path):
    """The real signal path: core.runner.job installs the handler, SIGTERM ends the run cleanly."""
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    cfg = _config(tiny_model, max_steps=500, logging_steps=1, save_steps=1000)
    (job_dir / "job.json").write_text(json.dumps({"id": 1, "kind": "sft", "name": "sigterm", "config": cfg}))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    log = job_dir / "output.log"
    with log.open("wb") as f:
        proc = subprocess.Popen([sys.executable, "-u", "-m", "core.runner.job", str(job_dir)], cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.time() + 240
            while "Step 2/500" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.time() < deadline, "no progress in 240 s"
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGTERM)
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text(errors="replace")
    assert rc == 0, text
    saved = [parse_line(line).checkpoint for line in text.splitlines() if parse_line(line) and parse_line(line).checkpoint]
    assert saved and Path(saved[-1]).is_dir() and (Path(saved[-1]) / "trainer_state.json").is_file()
    assert json.loads((job_dir / "summary.json").read_text())["stopped"] is True
