"""Wall time of the read commands: `halo-forge jobs`, `status`, `show` (goal <= 0.25 s each).

Runs each command as a fresh process (as a user would) on a temporary home holding a ledger
with 500 jobs, and prints the median and best of N runs, plus the modules that cost most to
import in one `jobs` run (python -X importtime).
Usage: .venv/bin/python bench/cli.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def seed(home: Path, n: int) -> None:
    os.environ["HALO_FORGE_HOME"] = str(home)
    from core import ledger

    with ledger.writer() as conn:
        for i in range(n):
            ledger.insert_job(conn, kind="command", name=f"bench {i}",
                              config='{"command": ["true"]}', job_dir=str(home / f"job{i}"))


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="halo-bench-cli-"))
    seed(home, 500)
    env = dict(os.environ, HALO_FORGE_HOME=str(home), PYTHONPATH=str(REPO))
    # As installed: bytecode cached (this sandbox sets PYTHONDONTWRITEBYTECODE, which makes
    # every run compile every module from source); one warm-up run writes the caches.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    base = [sys.executable, "-m", "core.cli"]
    timed(base + ["jobs"], env)
    print(f"python startup alone: {statistics.median(timed([sys.executable, '-c', 'pass'], env) for _ in range(args.runs)):.3f} s")
    for words in (["jobs"], ["status"], ["show", "1"]):
        runs = sorted(timed(base + words, env) for _ in range(args.runs))
        print(f"halo-forge {' '.join(words):<16} median {statistics.median(runs):.3f} s, "
              f"best {runs[0]:.3f} s over {args.runs} runs (goal <= 0.25 s)")
    out = subprocess.run(base[:1] + ["-X", "importtime"] + base[1:] + ["jobs"], env=env, cwd=REPO,
                         capture_output=True, text=True).stderr
    costs = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            costs.append((int(parts[1]), parts[2].strip()))
    top = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in sorted(costs, reverse=True)[:6])
    print(f"costliest top-level imports of `jobs`: {top}")


if __name__ == "__main__":
    main()
