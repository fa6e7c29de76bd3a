"""Throughput of core.metrics.parse_line on a realistic mix of job output.

Prints lines per CPU second for the whole mix (about 62% plain log lines, 30% metric lines, 8% tqdm
redraws) and for each kind alone. Run: .venv/bin/python bench/parser.py [--lines N]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.metrics import parse_line  # noqa: E402

PLAIN = [
    "INFO 2025-06-01 12:00:{s:02d},{ms:03d} core.training.sft: loading dataset from /data/train-{i}.jsonl",
    "[2025-06-01 12:00:{s:02d}] Generating sample {i} of 500 for problem HumanEval/{i}",
    "WARNING: tokenizer has no pad token, using eos token id {i}",
    "  File \"/work/main/core/training/sft.py\", line {i}, in run",
    "Downloading shards: model-0000{s}-of-00004.safetensors already cached",
    "verifier: completion {i} exited with code 1 after 0.{ms:03d}s",
    "Processing batch {i}: 32 sequences, max length 1024 tokens, padding right",
    "/work/main/.venv/lib/python3.11/site-packages/transformers/trainer.py:{i}: UserWarning: "
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly",
    "def add(a, b):  # sample {i} from the model, temperature 0.8, top_p 0.95",
    "Saving RAFT buffer with {i} kept completions (threshold 0.5, keep 20%) to disk",
]
METRIC = [
    "Epoch {e}/3 | Step {i}/5000 | loss: {loss:.4f} | lr: {lr:.2e} | grad_norm: {g:.3f}",
    "Step {i}/5000 loss: {loss:.4f}",
    '{{"metric": {{"step": {i}, "loss": {loss:.4f}, "reward_mean": {r:.3f}, "reward_std": 0.1}}}}',
    "{{'loss': '{loss:.4g}', 'grad_norm': '{g:.4g}', 'learning_rate': '{lr:.4g}', "
    "'entropy': '5.697', 'mean_token_accuracy': '0.41', 'num_tokens': '{i}', 'epoch': '{ep:.4g}'}}",
    "Cycle 2/5 | verification rate: {r:.3f}",
]
BAR = "\r{pct:3d}%|{bar}| {i}/5000 [01:{s:02d}<10:00,  3.61it/s]"


def make_lines(n: int, seed: int = 0) -> dict[str, list[str]]:
    rng = random.Random(seed)
    kinds: dict[str, list[str]] = {"plain": [], "metric": [], "tqdm": []}
    for k in range(n):
        i, s, ms = k % 5000, k % 60, k % 1000
        roll = rng.random()
        if roll < 0.30:
            tpl = rng.choice(METRIC)
            kinds["metric"].append(tpl.format(i=i, e=1 + k % 3, loss=rng.random() * 3,
                                              lr=5e-5 * rng.random(), g=rng.random() * 2,
                                              r=rng.random(), ep=k / 5000))
        elif roll < 0.38:
            pct = i * 100 // 5000
            bar = ("█" * (pct // 10)).ljust(10)
            kinds["tqdm"].append(BAR.format(pct=pct, bar=bar, i=i, s=s))
        else:
            kinds["plain"].append(rng.choice(PLAIN).format(i=i, s=s, ms=ms))
    return kinds


def rate(lines: list[str], repeat: int = 3) -> float:
    """Lines per CPU second of this process (best of `repeat`): other work sharing the cores
    inflates wall time but not this figure."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for line in lines:
            parse_line(line)
        best = min(best, time.process_time() - t0)
    return len(lines) / best if best else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    args = ap.parse_args()
    kinds = make_lines(args.lines)
    mix = kinds["plain"] + kinds["metric"] + kinds["tqdm"]
    random.Random(1).shuffle(mix)
    parsed = sum(parse_line(x) is not None for x in mix)
    results = {"mix": rate(mix), **{k: rate(v) for k, v in kinds.items()}}
    print(f"{len(mix)} lines ({len(kinds['plain'])} plain, {len(kinds['metric'])} metric, "
          f"{len(kinds['tqdm'])} tqdm), {parsed} parsed as carrying something")
    for name, value in results.items():
        print(f"{name:>7}: {value:12,.0f} lines per CPU second")
    print(json.dumps({k: round(v) for k, v in results.items()}))


if __name__ == "__main__":
    main()
