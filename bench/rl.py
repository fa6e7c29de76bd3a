"""RAFT vs GRPO on the toy task, and the throughput of GRPO's verifier reward.

Setup (as the RAFT and GRPO tests): the tiny model gets a short full fine-tune on the toy task
of core.training.toytask, so that its samples sometimes pass. Then, from that same start:

1. RAFT, `--cycles` conservative cycles (8 prompts x 8 samples each).
2. GRPO with as many generated completions as RAFT made (cycles x 64: one generation of 64
   per RAFT cycle, each used for 8 optimizer steps, the recipe of core.training.toytask).
3. GRPO for as long as RAFT took (the run is stopped by the clock; its last checkpoint counts).

Each resulting adapter is scored the same way (16 samples per prompt at temperature 0.7, the
real HumanEval verifier in its sandbox) next to the starting model. Then the completions GRPO
scored during run 2 are scored again by `halo-forge verify` (a separate process, the same
sandbox): verdicts/s inside GRPO vs from the CLI.

Run: .venv/bin/python bench/rl.py [--cycles 2] [--threads 1]
Figures depend on the CPU and on what else runs; the toy task is small, so rates move in
steps of 1/128 and differ between seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from benchutil import quiet  # noqa: E402  (bench/ is on sys.path as the script's dir)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GENERATION = 64  # completions per GRPO generation: 8 prompts x 8 (toytask.grpo_config)
ITERATIONS = 8  # optimizer steps per generation (grpo.num_iterations)




def eval_rate(base: str, adapter: str | None, probs: list[dict]) -> float:
    from core.training.toytask import sampled_rate

    return quiet(sampled_rate, base, adapter, probs, samples=32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=2, help="RAFT cycles (sets the sample budget)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--pretrain-steps", type=int, default=75, help="as the tests' toy_base: it then solves about a quarter")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    os.environ["HALO_FORGE_HOME"] = tempfile.mkdtemp(prefix="rl-bench-home-")
    from core.models.tiny import build_tiny_model
    from core.training import grpo, raft, sft
    from core.training.common import latest_checkpoint
    from core.training.toytask import grpo_config, pretrain_config, pretrain_rows, problems, raft_config, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="rl-bench-"))
    tiny = build_tiny_model(work / "tiny")
    probs = problems()
    toy = write_jsonl(work / "problems.jsonl", probs)
    t0 = time.perf_counter()
    assert quiet(sft.run, pretrain_config(str(tiny), write_jsonl(work / "pre.jsonl", pretrain_rows()), steps=args.pretrain_steps), work / "pre") == 0
    print(f"setup: full fine-tune of the tiny model, {args.pretrain_steps} steps: {time.perf_counter() - t0:.1f} s")
    base = str(work / "pre" / "output" / "model")
    budget = args.cycles * len(probs) * 8

    rows = []
    t0 = time.perf_counter()
    assert quiet(raft.run, raft_config(base, toy, cycles=args.cycles, preset="conservative"), work / "raft") == 0
    raft_s = time.perf_counter() - t0
    rows.append(("RAFT", budget, raft_s, str(work / "raft" / "output" / "adapter")))

    steps = budget // GENERATION * ITERATIONS
    t0 = time.perf_counter()
    assert quiet(grpo.run, grpo_config(base, toy, steps=steps), work / "grpo") == 0
    grpo_s = time.perf_counter() - t0
    generated = json.loads((work / "grpo" / "summary.json").read_text())["verdicts"]
    rows.append(("GRPO, same samples", generated, grpo_s, str(work / "grpo" / "output" / "adapter")))

    cfg = grpo_config(base, toy, steps=100_000, save_steps=1_000_000)  # the stop saves the checkpoint
    cfg["training"]["output_dir"] = str(work / "grpo-clock" / "output")
    t0 = time.perf_counter()
    assert quiet(grpo.run, cfg, work / "grpo-clock", should_stop=lambda: time.perf_counter() - t0 > raft_s) == 0
    clock_s = time.perf_counter() - t0
    summary = json.loads((work / "grpo-clock" / "summary.json").read_text())
    ckpt = latest_checkpoint(work / "grpo-clock" / "output")
    rows.append(("GRPO, same wall time", summary["verdicts"], clock_s, str(ckpt) if ckpt else None))

    before = eval_rate(base, None, probs)
    print(f"\nverification rate on the toy task (8 prompts x 32 samples, temperature 0.7), start: {before:.3f}")
    print(f"{'method':<22} {'generated':>9} {'wall s':>8} {'rate after':>10} {'gain':>7}")
    for name, generated, wall, adapter in rows:
        after = eval_rate(base, adapter, probs) if adapter else before
        print(f"{name:<22} {generated:>9} {wall:>8.1f} {after:>10.3f} {after - before:>+7.3f}")

    # The reward adapter's throughput vs the CLI on the same completions.
    g = json.loads((work / "grpo" / "summary.json").read_text())
    scored = [json.loads(line) for line in (work / "grpo" / "samples.jsonl").read_text().splitlines()]
    by_id = {p["task_id"]: p for p in probs}
    cli_in = work / "cli-samples.jsonl"
    cli_in.write_text("".join(json.dumps({"task_id": r["task_id"], "completion": r["completion"], "problem": by_id[r["task_id"]]}) + "\n" for r in scored))
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "core.cli", "verify", "--verifier", "humaneval", "--samples", str(cli_in),
                           "--out", str(work / "cli-verdicts.jsonl")], capture_output=True, text=True, env=env, cwd=str(REPO))
    cli_s = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"halo-forge verify failed: {proc.stderr.strip()[-400:]}")
        return 1
    cli_verdicts = [json.loads(line) for line in (work / "cli-verdicts.jsonl").read_text().splitlines()]
    agree = sum(a["passed"] == b["passed"] for a, b in zip(scored, cli_verdicts))
    print(f"\nverifier reward inside GRPO: {g['verdicts']} verdicts in {g['verify_s']:.2f} s = {g['verdicts_per_s']:.1f} verdicts/s "
          f"(batches of {GENERATION}, one sandbox each, {os.cpu_count()} cores)")
    print(f"halo-forge verify on the same {len(cli_verdicts)} completions: {cli_s:.2f} s wall incl. process start = "
          f"{len(cli_verdicts) / cli_s:.1f} verdicts/s; same verdict for {agree}/{len(cli_verdicts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
