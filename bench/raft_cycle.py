"""One RAFT cycle on the tiny model, split into generate / verify / train seconds, and
generation tokens/s batched vs one prompt at a time.

Setup (as the RAFT test): the tiny model gets a short full fine-tune on the toy task of
core.training.toytask so that its samples sometimes pass and the cycle has something to
train on. Then `core.training.raft.run` does one conservative cycle (8 prompts x 8 samples,
temperature 0.7, the real HumanEval verifier in its sandbox) and the job's own per-phase
timings are printed. Finally the same sampling is timed with all sequences batched (left
padding, the runner's path) and with one sequence per call.

Run: .venv/bin/python bench/raft_cycle.py [--samples 8] [--threads 1]
Figures depend on the CPU and on what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
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




def gen_rate(model, tok, prompts, samples, batch_size, max_new_tokens) -> tuple[float, int, float]:
    from core.training import raft

    t0 = time.perf_counter()
    _, tokens, _ = raft.generate(model, tok, prompts, samples_per_prompt=samples, temperature=0.7, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=7)
    dt = time.perf_counter() - t0
    return tokens / dt, tokens, dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=8, help="samples per prompt")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--pretrain-steps", type=int, default=100)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    os.environ["HALO_FORGE_HOME"] = tempfile.mkdtemp(prefix="raft-bench-home-")
    from core.models.loading import load_model_and_tokenizer
    from core import datasets
    from core.models.tiny import build_tiny_model
    from core.training import raft, sft
    from core.training.toytask import pretrain_config, pretrain_rows, problems, raft_config, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="raft-bench-"))
    tiny = build_tiny_model(work / "tiny")
    toy = write_jsonl(work / "problems.jsonl", problems())
    t0 = time.perf_counter()
    assert quiet(sft.run, pretrain_config(str(tiny), write_jsonl(work / "pre.jsonl", pretrain_rows()), steps=args.pretrain_steps), work / "pre") == 0
    print(f"setup: full fine-tune of the tiny model, {args.pretrain_steps} steps: {time.perf_counter() - t0:.1f} s")
    base = str(work / "pre" / "output" / "model")

    t0 = time.perf_counter()
    assert quiet(raft.run, raft_config(base, toy, cycles=1, preset="conservative", samples_per_prompt=args.samples), work / "raft") == 0
    wall = time.perf_counter() - t0
    c = json.loads((work / "raft" / "summary.json").read_text())["cycles"][0]
    phases = c["generate_s"] + c["verify_s"] + c["train_s"]
    print(f"one RAFT cycle: {c['samples']} samples ({len(problems())} prompts x {args.samples}), verification rate {c['verification_rate']:.3f}, kept {c['kept']}, {c['train_steps']} train steps")
    print(f"  generate {c['generate_s']:.2f} s ({c['gen_tokens']} tokens, {c['gen_tokens_per_s']:.0f} tokens/s)")
    print(f"  verify   {c['verify_s']:.2f} s ({c['samples'] / c['verify_s']:.0f} completions/s, HumanEval sandbox)")
    print(f"  train    {c['train_s']:.2f} s")
    print(f"  the three phases: {phases:.2f} s of {wall:.2f} s for the whole job (model load, data, saving)")

    loaded = load_model_and_tokenizer({"name": base})
    prompts = [datasets.to_prompt("humaneval", p) for p in problems()]
    n_seq = len(prompts) * args.samples
    gen_rate(loaded.model, loaded.tokenizer, prompts[:1], 1, 1, 8)  # warm-up
    rows = []
    for bs in (n_seq, 16, 1):
        rate, tokens, dt = gen_rate(loaded.model, loaded.tokenizer, prompts, args.samples, bs, 32)
        rows.append((bs, rate, tokens, dt))
    print(f"generation, {n_seq} sequences of up to 32 new tokens (stops at end of turn), temperature 0.7:")
    for bs, rate, tokens, dt in rows:
        label = "one at a time" if bs == 1 else f"batched {bs} per call"
        print(f"  {label:<22} {rate:8.0f} tokens/s ({tokens} tokens in {dt:.2f} s)")
    print(f"  batched ({n_seq}) / one at a time: {rows[0][1] / rows[-1][1]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
