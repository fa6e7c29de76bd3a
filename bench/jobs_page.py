"""The Jobs page on a big ledger: query times of core.joblist and the page's render time.

Builds a ledger with N jobs (default 20,000: a year of a busy GPU) in every status and kind,
200 of them queued, with sqlite3 executemany; then times joblist.search (first page, a status
filter, a name filter, the last page), joblist.slots, monitor.checkpoints on a job with 500
checkpoint events (all, and what Monitor reads each second), and pages/jobs.py in AppTest. Prints median and worst of --runs runs.

Run: .venv/bin/python bench/jobs_page.py [--jobs 20000] [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KINDS = ("sft", "raft", "benchmark", "verify", "command")
FINAL = ("COMPLETED", "FAILED", "STOPPED")


def build(home: Path, n_jobs: int) -> int:
    """Fill the ledger; returns the id of the job that holds the checkpoint events."""
    from core import ledger

    ledger.reset_engines()
    with ledger.reader():  # creates the schema and its indexes
        pass
    rnd = random.Random(0)
    now = time.time()
    con = sqlite3.connect(home / "ledger.db", isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    rows = []
    for i in range(1, n_jobs + 1):
        status = "QUEUED" if i > n_jobs - 200 else rnd.choices(FINAL, [0.8, 0.15, 0.05])[0]
        if n_jobs - 210 < i <= n_jobs - 200:
            status = "RUNNING"
        kind = KINDS[i % len(KINDS)]
        created = now - (n_jobs - i) * 600
        rows.append((kind, f"{kind} run {i} on {rnd.choice(['alpaca', 'mbpp', 'gsm8k'])}", status,
                     json.dumps({"kind": kind}), rnd.choice((0, 0, 0, 1, 5)), float(i),
                     1 if kind != "verify" else 0, "local" if i % 7 else "slurm", str(home / f"jobs/{i:06d}"),
                     created, created + 5, None if status in ("QUEUED", "RUNNING") else created + 500,
                     created, json.dumps({"HIP_VISIBLE_DEVICES": str(i % 2)}), 0, 0))
    con.executemany(
        "INSERT INTO job (kind, name, status, config, priority, queue_pos, gpus, executor, job_dir, "
        "created_at, started_at, finished_at, updated_at, env, log_offset, log_seq) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows)
    target = n_jobs - 205
    con.executemany("INSERT INTO event (time, job_id, kind, payload) VALUES (?, ?, ?, ?)",
                    [(now - 500 + s, target, "CHECKPOINT_SAVED",
                      json.dumps({"path": str(home / f"ckpt/checkpoint-{s}"), "step": s}))
                     for s in range(1, 501)])
    con.execute("COMMIT")
    con.close()
    return target


def timed(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hf-bench-jobs-"))
    os.environ["HALO_FORGE_HOME"] = str(home)
    t0 = time.perf_counter()
    target = build(home, args.jobs)
    print(f"ledger: {args.jobs:,} jobs (200 queued, 10 running), built in {time.perf_counter() - t0:.1f} s")

    from streamlit.testing.v1 import AppTest

    from core import joblist, monitor

    cases = {
        "search: first page of 25": lambda: joblist.search(per_page=25),
        "search: status FAILED, page 1": lambda: joblist.search(statuses=["FAILED"]),
        "search: name contains 'mbpp'": lambda: joblist.search(name="mbpp"),
        "search: last page": lambda: joblist.search(per_page=25, page=10**9),
        "search: kind raft + executor slurm": lambda: joblist.search(kinds=["raft"], executors=["slurm"]),
        "slots (holders + queue)": joblist.slots,
        "checkpoints: all 500 of a job": lambda: monitor.checkpoints(target),
        "checkpoints: count + newest 20 (Monitor)": lambda: (monitor.checkpoint_count(target),
                                                             monitor.checkpoints(target, newest=20)),
    }
    for name, fn in cases.items():
        med, worst = timed(fn, args.runs)
        print(f"{name:<38} median {med * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms")

    def render():
        at = AppTest.from_file(str(REPO / "pages/jobs.py"), default_timeout=60).run()
        assert not at.exception, at.exception

    render()  # imports and caches once
    med, worst = timed(render, args.runs)
    print(f"{'pages/jobs.py in AppTest':<38} median {med * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms")
    # AppTest's own cost: the same page on an empty ledger
    from core import ledger

    os.environ["HALO_FORGE_HOME"] = tempfile.mkdtemp(prefix="hf-bench-empty-")
    ledger.reset_engines()
    med, worst = timed(render, args.runs)
    print(f"{'  same page, empty ledger (baseline)':<38} median {med * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
