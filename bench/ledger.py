"""Backup and prune on a big ledger: time of an online backup, of quick_check, of a prune of
old jobs' metrics (with its VACUUM), and the ledger's size before and after.

Builds a ledger with --rows metric rows (default 10,000,000) spread over --jobs finished jobs,
with executemany in transactions of 500k rows; half the jobs ended 200 days ago (pruned by
--older-than 90d), half 10 days ago (kept).
Usage: .venv/bin/python bench/ledger.py [--rows 10000000] [--jobs 40] [--home DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DAY = 86400.0
BATCH = 500_000


def build(rows: int, n_jobs: int) -> None:
    from core import ledger

    now = time.time()
    per_job = rows // n_jobs
    names = ("loss", "lr", "grad_norm", "reward")
    with ledger.writer() as conn:
        ids = []
        for j in range(n_jobs):
            ended = now - (200 if j % 2 == 0 else 10) * DAY
            ids.append(ledger.insert_job(conn, kind="sft", name=f"bench {j}", config="{}",
                                         job_dir="", status="COMPLETED", finished_at=ended,
                                         created_at=ended - 3600))
    t0 = time.perf_counter()
    done = 0
    for job_id in ids:
        left = per_job
        while left:
            n = min(left, BATCH)
            first = per_job - left
            with ledger.writer() as conn:
                conn.executemany(
                    "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)",
                    ((job_id, (first + i) // 4, now, names[i % 4], 1.0 / (first + i + 1))
                     for i in range(n)))
            left -= n
            done += n
    dt = time.perf_counter() - t0
    print(f"built {done:,} metric rows over {n_jobs} jobs in {dt:.1f} s ({done / dt:,.0f} rows/s)")


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--jobs", type=int, default=40)
    ap.add_argument("--home", help="where to build (default: a new temporary folder)")
    args = ap.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="halo-bench-ledger-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["HALO_FORGE_HOME"] = str(home)
    from core import ledger, ledger_backup, ledger_prune

    build(args.rows, args.jobs)
    with ledger.connection() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size0 = ledger_backup.size_bytes()
    print(f"ledger: {mb(size0)} for {args.rows:,} metric rows")

    t0 = time.perf_counter()
    problems = ledger_backup.check(quick=True)
    print(f"quick_check (supervisor start): {time.perf_counter() - t0:.1f} s, "
          f"{'ok' if not problems else problems[0]}")

    t0 = time.perf_counter()
    out = ledger_backup.backup()
    print(f"backup: {time.perf_counter() - t0:.1f} s -> {out.name} ({mb(out.stat().st_size)})")

    t0 = time.perf_counter()
    done = ledger_prune.prune(90 * DAY)
    total = time.perf_counter() - t0
    print(f"prune --older-than 90d: {done['jobs']} jobs, {done['metrics']:,} metric rows in "
          f"{total:.1f} s (of which VACUUM {done['vacuum_s']:.1f} s); ledger {mb(done['bytes_before'])} -> "
          f"{mb(done['bytes_after'])}")
    out.unlink()
    print(f"(files left under {home}; remove them when done)")


if __name__ == "__main__":
    main()
