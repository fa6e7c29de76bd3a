"""Time of a paired comparison of two benchmark runs at N items (default 10,000).

Three cases, each timed end to end from two samples.jsonl files (read, per-item scores,
intersection, paired bootstrap interval and p-value) and for core.stats.paired alone:
pass@1 with one sample (exact McNemar), pass@1 from 5 samples per item (permutation test),
and corpus WER (a ratio of sums; permutation test).
Run: .venv/bin/python bench/stats.py [--items N] [--boot B]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import comparison, stats  # noqa: E402


def code_rows(n: int, samples: int, rate: float, rng: random.Random) -> list[dict]:
    return [{"id": f"item/{i}", "sample": j, "output": "def f():\n    return 1\n",
             "passed": rng.random() < rate, "status": "pass", "message": ""}
            for i in range(n) for j in range(samples)]


def asr_rows(n: int, rng: random.Random, skill: float) -> list[dict]:
    out = []
    for i in range(n):
        words = rng.randint(5, 30)
        edits = sum(rng.random() > skill for _ in range(words))
        out.append({"id": f"utt/{i}", "output": "", "reference": "",
                    "scores": {"wer": edits / words, "word_errors": edits, "ref_words": words,
                               "cer": 0.0, "char_errors": 0, "ref_chars": 5 * words}})
    return out


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def timed(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--boot", type=int, default=stats.N_BOOT)
    args = ap.parse_args()
    rng = random.Random(0)
    n = args.items
    cases = {
        "pass@1, 1 sample (McNemar)": (code_rows(n, 1, 0.40, rng), code_rows(n, 1, 0.42, rng), "pass@1"),
        "pass@1, 5 samples (permutation)": (code_rows(n, 5, 0.40, rng), code_rows(n, 5, 0.42, rng), "pass@1"),
        "WER, corpus rate (permutation)": (asr_rows(n, rng, 0.90), asr_rows(n, rng, 0.91), "wer"),
    }
    print(f"paired comparison at {n:,} items, {args.boot} bootstrap resamples "
          f"({stats.N_PERM} permutations), best of 3")
    with tempfile.TemporaryDirectory() as tmp:
        for label, (rows_a, rows_b, metric) in cases.items():
            pa = write(Path(tmp) / "a.jsonl", rows_a)
            pb = write(Path(tmp) / "b.jsonl", rows_b)

            def end_to_end():
                comparison._CACHE.clear()
                return comparison.compare_rows(comparison.read_details(pa),
                                               comparison.read_details(pb), metric,
                                               n_boot=args.boot)

            sa = comparison.item_scores(rows_a, metric)
            sb = comparison.item_scores(rows_b, metric)
            ids = list(sa.values)
            va, vb = [sa.values[i] for i in ids], [sb.values[i] for i in ids]
            w = [sa.weights[i] for i in ids] if sa.weights else None
            t_core, _ = timed(lambda: stats.paired(va, vb, w, n_boot=args.boot))
            t_all, result = timed(end_to_end)
            print(f"  {label:34s} stats.paired {t_core * 1000:8.1f} ms | from two samples.jsonl "
                  f"{t_all * 1000:8.1f} ms | {result['sentence']}")


if __name__ == "__main__":
    main()
