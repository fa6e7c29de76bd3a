"""GPU smoke run: a few SFT steps, a GRPO step and batched generation with the tiny model.

Prints tokens/s and peak GPU memory for each, in bf16 where the GPU supports it (else fp16).
On a machine without a GPU (CUDA or ROCm) it says so and exits 0, so it can sit in any
checklist. Everything goes through the same runners as real jobs (core.training.sft /
core.training.grpo) and the RAFT runner's batched generation.

Run: .venv/bin/python bench/gpu_smoke.py [--sft-steps 10] [--grpo-steps 1] [--batch 64]
     --cpu runs the same steps on the CPU (a check of this script; no memory figures).
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




def peak(torch) -> str:
    if not torch.cuda.is_available():
        return "n/a (CPU)"
    return f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB"


def reset_peak(torch) -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sft-steps", type=int, default=10)
    ap.add_argument("--grpo-steps", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64, help="sequences per generation call")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU anyway (checks the script)")
    args = ap.parse_args()

    import torch

    if not torch.cuda.is_available() and not args.cpu:
        print("no GPU (CUDA or ROCm) visible to torch: nothing to measure; exiting 0")
        return 0
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        backend = f"ROCm {torch.version.hip}" if getattr(torch.version, "hip", None) else f"CUDA {torch.version.cuda}"
        dtype = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        print(f"GPU: {name} ({backend}), torch {torch.__version__}, dtype {dtype}")
    else:
        dtype = "fp32"
        print(f"CPU run (--cpu), torch {torch.__version__}, dtype {dtype}")
    os.environ["HALO_FORGE_HOME"] = tempfile.mkdtemp(prefix="gpu-smoke-home-")

    from core import datasets
    from core.models.loading import load_model_and_tokenizer
    from core.models.tiny import build_tiny_model
    from core.training import grpo, raft, sft
    from core.training.toytask import grpo_config, pretrain_config, pretrain_rows, problems, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="gpu-smoke-"))
    tiny = build_tiny_model(work / "tiny")
    toy = write_jsonl(work / "problems.jsonl", problems())

    # 1. SFT steps (full fine-tune on the toy task, the runner's own tokens/s).
    cfg = pretrain_config(str(tiny), write_jsonl(work / "pre.jsonl", pretrain_rows()), steps=args.sft_steps)
    cfg["model"]["dtype"] = dtype
    cfg["training"]["logging_steps"] = 1
    reset_peak(torch)
    t0 = time.perf_counter()
    assert quiet(sft.run, cfg, work / "sft") == 0
    s = json.loads((work / "sft" / "summary.json").read_text())
    print(f"SFT: {s['steps']} steps in {time.perf_counter() - t0:.2f} s (job), {s['tokens_per_s']} train tokens/s, "
          f"loss {s['first_loss']:.3f} -> {s['final_loss']:.3f}, peak GPU memory {peak(torch)}, device {s['device']} {s['dtype']}")
    base = str(work / "sft" / "output" / "model")

    # 2. GRPO step(s) with the verifier reward.
    cfg = grpo_config(base, toy, steps=args.grpo_steps)
    cfg["model"]["dtype"] = dtype
    reset_peak(torch)
    t0 = time.perf_counter()
    assert quiet(grpo.run, cfg, work / "grpo") == 0
    g = json.loads((work / "grpo" / "summary.json").read_text())
    rows = [json.loads(line) for line in (work / "grpo" / "samples.jsonl").read_text().splitlines()]
    print(f"GRPO: {g['steps']} step(s), {len(rows)} completions scored, {time.perf_counter() - t0:.2f} s (job), "
          f"train {g['train_runtime_s']:.2f} s, verifier {g['verdicts_per_s']} verdicts/s, peak GPU memory {peak(torch)}, device {g['device']} {g['dtype']}")

    # 3. Batched generation (left padding, the RAFT runner's path).
    loaded = load_model_and_tokenizer({"name": base, "dtype": dtype})
    prompts = [datasets.to_prompt("humaneval", p) for p in problems()]
    per_prompt = max(1, args.batch // len(prompts))
    raft.generate(loaded.model, loaded.tokenizer, prompts[:1], samples_per_prompt=1, temperature=0.7, max_new_tokens=8, batch_size=1, seed=0)
    reset_peak(torch)
    t0 = time.perf_counter()
    out, tokens, _ = raft.generate(loaded.model, loaded.tokenizer, prompts, samples_per_prompt=per_prompt, temperature=0.7,
                                   max_new_tokens=64, batch_size=args.batch, seed=1)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(f"generation: {len(out)} sequences in batches of {args.batch}, {tokens} new tokens in {dt:.2f} s = "
          f"{tokens / dt:.0f} tokens/s, peak GPU memory {peak(torch)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
