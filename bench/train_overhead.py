"""What our SFT job costs on top of plain TRL: the same LoRA run on the tiny model, both ways.

A: `python -m core.runner.job JOB_DIR` (what the supervisor starts): config validation,
   dataset catalogue, progress callback, checkpoints, adapter + summary.
B: a plain TRL script (below) with the same data, model, LoRA and SFTConfig settings.
Each runs as its own process, alternating A, B, A, B ... and timed from start to exit; the
figures are medians. Goal: A / B wall time <= 1.05.

Run: .venv/bin/python bench/train_overhead.py [--steps 200] [--repeats 3] [--threads 1]
Figures depend on the CPU and on what else runs (the machine is shared: prefer medians).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The plain TRL baseline: what a user would write by hand for the same run.
PLAIN = r'''
import json, sys, time
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

model_dir, data, out, steps, bs, lr, log_steps, save_steps = sys.argv[1:9]
rows = [json.loads(l) for l in open(data)]
def msgs(r):
    user = r["instruction"] + ("\n\n" + r["input"] if r["input"].strip() else "")
    return [{"role": "user", "content": user}, {"role": "assistant", "content": r["output"]}]
ds = Dataset.from_list([{"messages": msgs(r)} for r in rows])
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir)
args = SFTConfig(output_dir=out, max_steps=int(steps), per_device_train_batch_size=int(bs),
                 learning_rate=float(lr), logging_steps=int(log_steps), save_steps=int(save_steps),
                 use_cpu=True, bf16=False, activation_checkpointing=False, report_to="none",
                 max_length=1024, seed=42, data_seed=42)
trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                     peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05,
                                            target_modules="all-linear", task_type="CAUSAL_LM"))
result = trainer.train()
trainer.save_model(out + "/adapter")
tokens = [h["num_tokens"] for h in trainer.state.log_history if "num_tokens" in h][-1]
print(json.dumps({"tokens": tokens, "train_runtime": result.metrics["train_runtime"]}))
'''


def job_config(model_dir: Path, steps: int, lr: float, log_steps: int, save_steps: int) -> dict:
    from core.configs import parse_config

    text = f"""
kind: sft
model: {{name: {model_dir}}}
data: {{dataset: alpaca}}
lora: {{r: 8, alpha: 16, dropout: 0.05}}
training: {{batch_size: 4, learning_rate: {lr}, max_steps: {steps}, logging_steps: {log_steps}, save_steps: {save_steps}, seed: 42}}
"""
    return parse_config(text).model_dump(mode="json")


def timed(cmd: list[str], env: dict, log: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of one child process, start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("wb") as f:
        rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise SystemExit(f"{cmd[:4]} failed (rc {rc}); see {log}:\n{log.read_text()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads for both runs")
    ap.add_argument("--lr", type=float, default=5e-4)
    args = ap.parse_args()

    from core.models.tiny import build_tiny_model

    work = Path(tempfile.mkdtemp(prefix="train-overhead-"))
    model_dir = build_tiny_model(work / "tiny")
    data = REPO / "data" / "datasets" / "alpaca.jsonl"
    log_steps, save_steps = 10, 100
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS=str(args.threads), HALO_FORGE_HOME=str(work / "home"))
    cfg = job_config(model_dir, args.steps, args.lr, log_steps, save_steps)
    ours, plain, ours_cpu, plain_cpu, ours_tps, plain_tps = [], [], [], [], [], []
    for i in range(args.repeats):
        job = work / f"job{i}"
        job.mkdir()
        (job / "job.json").write_text(json.dumps({"id": i, "kind": "sft", "name": "bench", "config": cfg}))
        wall, cpu = timed([sys.executable, "-u", "-m", "core.runner.job", str(job)], env, job / "output.log")
        ours.append(wall)
        ours_cpu.append(cpu)
        summary = json.loads((job / "summary.json").read_text())
        ours_tps.append(summary["tokens"] / summary["train_runtime_s"])

        out = work / f"plain{i}"
        wall, cpu = timed([sys.executable, "-u", "-c", PLAIN, str(model_dir), str(data), str(out), str(args.steps), "4", str(args.lr), str(log_steps), str(save_steps)], env, work / f"plain{i}.log")
        plain.append(wall)
        plain_cpu.append(cpu)
        last = [line for line in (work / f"plain{i}.log").read_text().splitlines() if line.startswith('{"tokens"')][-1]
        res = json.loads(last)
        plain_tps.append(res["tokens"] / res["train_runtime"])
        print(f"  run {i + 1}: ours {ours[-1]:.2f} s ({ours_cpu[-1]:.2f} s CPU), plain TRL {plain[-1]:.2f} s ({plain_cpu[-1]:.2f} s CPU)", flush=True)

    o, p = statistics.median(ours), statistics.median(plain)
    oc, pc = statistics.median(ours_cpu), statistics.median(plain_cpu)
    print(f"SFT on the tiny model, {args.steps} LoRA steps, batch 4, {args.threads} thread(s), {args.repeats} runs each (medians):")
    print(f"  our job (python -m core.runner.job): {o:.2f} s wall, {oc:.2f} s CPU, {statistics.median(ours_tps):.0f} tokens/s in training")
    print(f"  plain TRL script:                    {p:.2f} s wall, {pc:.2f} s CPU, {statistics.median(plain_tps):.0f} tokens/s in training")
    print(f"  wall-time ratio ours / plain: {o / p:.3f} (goal <= 1.05); CPU-time ratio {oc / pc:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
