"""Cost of the GPU history and of a job's energy, on a day of stored telemetry.

Fills a temporary ledger with 24 h of samples every 5 s for --gpus GPUs (the supervisor's
default interval and retention), then prints the median of --runs calls of:
  history 1 h / 24 h   core.dashboard.gpu_history (what the Dashboard's chart fragment reads)
  energy 6 h job       core.energy.job_usage for a job that held GPU 0 for 6 hours (what the
                       supervisor computes once when a job closes)
  notify payload       core.notify.job_payload of a job with 20,000 steps x 3 metrics
  import 20k CSV       core.dataimport read + convert + write of a 20,000-row CSV
Run:  .venv/bin/python bench/telemetry.py [--gpus 2] [--runs 5]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpus", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="hf-bench-telemetry-")
    os.environ["HALO_FORGE_HOME"] = home
    from core import dashboard, dataimport, energy, ledger, notify

    now = time.time()
    start = now - 86400
    rows = [{"time": start + i * 5.0, "device": str(d), "name": "gpu", "utilization": 50.0,
             "mem_used": 2.0**31, "mem_total": 2.0**33, "gtt_used": 2.0**34, "gtt_total": 2.0**36,
             "temperature": 60.0, "power": 90.0 + (i % 60), "source": "bench"}
            for i in range(86400 // 5) for d in range(args.gpus)]
    for i in range(0, len(rows), 20_000):
        ledger.insert_gpu_samples(rows[i:i + 20_000])
    print(f"gpu_sample rows: {len(rows)} ({args.gpus} GPU(s), 24 h at 5 s)")
    for label, window in (("1 h", 3600), ("24 h", 86400)):
        ms = _median_ms(lambda: dashboard.gpu_history(window, now=now), args.runs)
        points = len(dashboard.gpu_history(window, now=now)["devices"][0]["t"])
        print(f"history {label:>4}: {ms:7.1f} ms  ({points} points per series)")
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind="command", name="bench", config="{}", gpus=1,
                                   env=json.dumps({"HIP_VISIBLE_DEVICES": "0"}),
                                   started_at=now - 7 * 3600, finished_at=now - 3600)
        metrics = [(job_id, s, now, n, 1.0 / s) for s in range(1, 20_001)
                   for n in ("loss", "lr", "grad_norm")]
        conn.executemany("INSERT INTO metric (job_id, step, time, name, value) "
                         "VALUES (?, ?, ?, ?, ?)", metrics)
    job = ledger.get_job(job_id)
    ms = _median_ms(lambda: energy.job_usage(job), args.runs)
    print(f"energy 6 h job: {ms:7.1f} ms  ({energy.format_energy(energy.job_usage(job)['energy_wh'])})")
    ms = _median_ms(lambda: notify.job_payload(job_id, "JOB_COMPLETED"), args.runs)
    print(f"notify payload: {ms:7.1f} ms  (60,000 metric rows)")
    src = Path(home) / "big.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "answer"])
        w.writerows([f"What is {i} + {i}?", str(2 * i)] for i in range(20_000))
    ms = _median_ms(lambda: dataimport.import_file(src, "big", replace=True), args.runs)
    print(f"import 20k CSV: {ms:7.1f} ms")


if __name__ == "__main__":
    main()
