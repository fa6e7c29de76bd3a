"""Server-side render time of the Dashboard, Monitor and Results pages on a big ledger.

Builds a ledger with 1,000 jobs, 1,000,000 metric rows, 500 results (plus an hour of GPU
samples and 20,000 log lines of the running job) with sqlite3 executemany, then runs each page
in AppTest several times and prints the median and worst run, and the time of each core query
the pages make. Goal: each page under 0.5 s.

The metric rows are skewed the way real ledgers are: the ten newest training runs hold half
of them (25,000 steps of loss and lr each, one of them RUNNING, which is what the Monitor opens
and the Dashboard charts), the other half is spread over the older runs.

Run: .venv/bin/python bench/pages.py [--runs 7] [--explain] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N_JOBS, N_METRICS, N_RESULTS = 1000, 1_000_000, 500
HEAVY_RUNS, HEAVY_STEPS = 10, 25_000  # 10 runs x 25,000 steps x 2 names = 500,000 rows
MODELS = [f"org/model-{i}-{s}B" for i, s in enumerate((0.5, 1.5, 3, 7, 14, 32, 1, 8, 70, 2))]
BENCHMARKS = [("humaneval", "pass@1"), ("mbpp", "pass@1"), ("livecodebench", "pass@1"),
              ("docvqa", "anls"), ("chartqa", "relaxed_accuracy"), ("mmstar", "accuracy"),
              ("librispeech", "wer"), ("bfcl", "accuracy")]


def build(home: Path) -> dict:
    """Fill HALO_FORGE_HOME=home with the big ledger; returns what was made."""
    from core import ledger

    ledger.reset_engines()
    with ledger.reader():  # creates the schema and its indexes
        pass
    rnd = random.Random(0)
    now = time.time()
    con = sqlite3.connect(home / "ledger.db", isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    jobs, kinds = [], []
    for i in range(1, N_JOBS + 1):
        kind = "benchmark" if i % 4 == 0 else ("command" if i % 10 == 1 else ("sft" if i % 2 else "raft"))
        created = now - (N_JOBS - i) * 600
        status = rnd.choices(["COMPLETED", "FAILED", "STOPPED"], [0.8, 0.15, 0.05])[0]
        if i > N_JOBS - 20:
            status = "QUEUED"
        kinds.append(kind)
        config = {"kind": kind, "model": {"name": rnd.choice(MODELS)},
                  "training": {"learning_rate": rnd.choice([1e-5, 2e-5, 5e-5, 1e-4]),
                               "batch_size": rnd.choice([4, 8, 16]), "epochs": rnd.randint(1, 3)},
                  "lora": {"r": rnd.choice([8, 16, 32]), "alpha": 32}}
        jobs.append([i, kind, f"{kind} run {i}", status, json.dumps(config), created,
                     None if status == "QUEUED" else created + 5,
                     None if status == "QUEUED" else created + 500, created, i])
    training = [i for i in range(1, N_JOBS + 1) if kinds[i - 1] != "benchmark" and i <= N_JOBS - 20]
    heavy = training[-HEAVY_RUNS:]
    running = heavy[-1]
    for row in jobs:
        if row[0] == running:
            row[3], row[7] = "RUNNING", None
    con.executemany(
        "INSERT INTO job (id, kind, name, status, config, created_at, started_at, finished_at, "
        "updated_at, queue_pos, priority, gpus, executor, job_dir, log_offset, log_seq) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,0,1,'local','',0,0)", jobs)
    con.execute("UPDATE job SET step = ?, total_steps = ? WHERE id = ?",
                (HEAVY_STEPS, HEAVY_STEPS * 2, running))

    def curve(job_id: int, steps: int, start: float):
        base = 0.5 + (job_id % 7) / 10
        for s in range(1, steps + 1):
            t = start + s
            yield (job_id, s, t, "loss", base * math.exp(-s / (steps / 3)) + 0.05 * rnd.random())
            yield (job_id, s, t, "lr", 1e-4 * (1 - s / steps))

    rows = 0
    for job_id in heavy:
        con.executemany("INSERT INTO metric (job_id, step, time, name, value) VALUES (?,?,?,?,?)",
                        curve(job_id, HEAVY_STEPS, jobs[job_id - 1][6] or now))
        rows += 2 * HEAVY_STEPS
    light = [j for j in training if j not in heavy]
    per_job = (N_METRICS - rows) // (2 * len(light))
    for n, job_id in enumerate(light):
        steps = per_job + (1 if n < ((N_METRICS - rows) // 2) % len(light) else 0)
        con.executemany("INSERT INTO metric (job_id, step, time, name, value) VALUES (?,?,?,?,?)",
                        curve(job_id, steps, jobs[job_id - 1][6] or now))
    total_metrics = con.execute("SELECT COUNT(*) FROM metric").fetchone()[0]

    bench_jobs = [i for i in range(1, N_JOBS + 1) if kinds[i - 1] == "benchmark"]
    results = []
    for n in range(N_RESULTS):
        job_id = bench_jobs[n % len(bench_jobs)]
        bench, primary = BENCHMARKS[n % len(BENCHMARKS)]
        model = MODELS[(n // len(BENCHMARKS)) % len(MODELS)]
        value = rnd.random()
        metrics = {primary: value}
        if primary == "pass@1":
            metrics["pass@5"] = min(1.0, value + 0.2)
        if primary == "wer":
            metrics["cer"] = value / 2
        results.append((job_id, model, bench, metrics.get("pass@1"), metrics.get("pass@5"),
                        primary, value, json.dumps(metrics), 164, 120.0,
                        "samples.jsonl", now - (N_RESULTS - n) * 60))
    con.executemany(
        "INSERT INTO result (job_id, model, benchmark, pass_at_1, pass_at_5, primary_metric, "
        "primary_value, metrics, samples, duration_s, details_path, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", results)
    gpu = [(now - k * 2, "0", "AMD Radeon 8060S", 90.0, 4e9, 8e9, 30e9, 96e9, 60.0, 100.0, "amd-smi")
           for k in range(1800, -1, -1)]
    con.executemany(
        "INSERT INTO gpu_sample (time, device, name, utilization, mem_used, mem_total, gtt_used, "
        "gtt_total, temperature, power, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)", gpu)
    # the events a supervisor leaves: a status change per job, then an hour of one GPU_UPDATE
    # per sample (so the newest job event lies behind 1,801 telemetry events)
    con.executemany("INSERT INTO event (time, job_id, kind, payload) VALUES (?,?,?,'{}')",
                    [(row[5], row[0], "JOB_CREATED") for row in jobs]
                    + [(g[0], None, "GPU_UPDATE") for g in gpu])
    con.executemany("INSERT INTO log_line (job_id, seq, time, stream, text) VALUES (?,?,?,?,?)",
                    [(running, s, now, "output", f"Step {s}/{HEAVY_STEPS * 2} loss: 0.5")
                     for s in range(1, 20_001)])
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    ledger.reset_engines()
    return {"jobs": N_JOBS, "metrics": total_metrics, "results": N_RESULTS, "running": running,
            "heavy": heavy}


def telemetry_tick() -> None:
    """What the supervisor's sampler writes every few seconds: one GPU sample and its
    GPU_UPDATE event (nothing about jobs)."""
    from core import ledger

    ledger.insert_gpu_samples([{"time": time.time(), "device": "0", "name": "AMD Radeon 8060S",
                                "utilization": 90.0, "mem_used": 4e9, "mem_total": 8e9,
                                "source": "amd-smi"}])


def time_page(page: str, runs: int, cold: bool = False, before=None, **query) -> list[float]:
    """Seconds per full script run of one session, as a browser refresh would cost it.

    One AppTest is reused: a new AppTest scans every installed package for components on
    its first run (a server does that once at start), which is not the page's cost.
    Pages keep what they read in session state (`*_cache_*` keys, core.live) while the ledger
    does not change; cold=True drops those before each run: the cost of a rerun after the
    ledger changed. before() runs (untimed) before each run: telemetry_tick for the cost of
    a tick right after the sampler stored a sample.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(page if Path(page).is_absolute() else REPO / page),
                           default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    times = []
    for n in range(runs + 1):  # the first run pays for imports and the scan: not counted
        if cold:
            for key in [k for k in at.session_state.keys() if "_cache_" in k]:
                del at.session_state[key]
        if before is not None:
            before()
        start = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
        if n:
            times.append(elapsed)
    return times


def baseline(runs: int) -> float:
    """The harness's own cost: the median run of a page that only draws a title."""
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.py"
        empty.write_text("import streamlit as st\nst.title('empty')\n")
        return statistics.median(time_page(str(empty), runs))


def time_calls(runs: int, info: dict) -> list[tuple[str, float]]:
    from core import dashboard, live, monitor, results

    running = info["running"]
    picked = info["heavy"][-3:]
    run_rows = [{"id": j, "name": f"run {j}"} for j in picked]
    calls = [
        ("live.newest_event", live.newest_event),
        ("live.newest_job_event", live.newest_job_event),
        ("dashboard.gpu_status", dashboard.gpu_status),
        ("dashboard.counts", dashboard.counts),
        ("dashboard.active_jobs", dashboard.active_jobs),
        ("dashboard.recent_runs", dashboard.recent_runs),
        ("dashboard.training_history", dashboard.training_history),
        ("dashboard.benchmark_scores", dashboard.benchmark_scores),
        ("monitor.job_choices", monitor.job_choices),
        ("monitor.default_job_id", monitor.default_job_id),
        ("monitor.latest_metrics(running)", lambda: monitor.latest_metrics(running)),
        ("monitor.series(running, loss)", lambda: monitor.series(running, "loss")),
        ("monitor.tail_log(running, 200)", lambda: monitor.tail_log(running, 200)),
        ("results.table", results.table),
        ("results.training_runs", results.training_runs),
        ("results.metric_names(3 runs)", lambda: results.metric_names(picked)),
        ("results.curves(3 runs, loss)", lambda: results.curves(run_rows, "loss")),
        ("results.config_diff(3 runs)", lambda: results.config_diff(picked, True)),
    ]
    out = []
    for name, fn in calls:
        fn()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out.append((name, statistics.median(times)))
    return out


EXPLAIN = {
    "dashboard gpu latest": "SELECT * FROM gpu_sample WHERE id IN (SELECT MAX(id) FROM gpu_sample "
                            "WHERE time >= 0 GROUP BY device)",
    "dashboard active jobs": "SELECT * FROM job WHERE status IN ('STARTING','RUNNING','STOPPING') "
                             "ORDER BY id DESC LIMIT 20",
    "dashboard training runs": "SELECT id, name FROM job WHERE kind IN ('sft','raft','command') AND "
                               "EXISTS (SELECT 1 FROM metric WHERE metric.job_id = job.id AND "
                               "metric.name IN ('loss','train_loss')) ORDER BY id DESC LIMIT 6",
    "monitor series count": "SELECT MIN(COALESCE(step, id)), MAX(COALESCE(step, id)), COUNT(*) "
                            "FROM metric WHERE job_id = 1 AND name = 'loss'",
    "monitor series buckets": "SELECT MIN(COALESCE(step, id)), AVG(value), MIN(value), MAX(value) "
                              "FROM metric WHERE job_id = 1 AND name = 'loss' GROUP BY "
                              "CAST((COALESCE(step, id) - 0) / 10 AS INTEGER) ORDER BY 1",
    "benchmark scores": "SELECT id FROM result WHERE id IN (SELECT MAX(id) FROM result GROUP BY "
                        "model, benchmark) ORDER BY id DESC",
}


def explain(home: Path) -> None:
    from core.dashboard import _THIN_SQL

    con = sqlite3.connect(home / "ledger.db")
    plans = {**EXPLAIN, "dashboard thinned loss": _THIN_SQL.replace(":lo", "1").replace(
        ":hi", "25000").replace(":k", "84").replace(":j", "1").replace(":n", "'loss'")}
    for name, sql in plans.items():
        print(f"  {name}:")
        for row in con.execute("EXPLAIN QUERY PLAN " + sql):
            print(f"    {row[-1]}")
    con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per page (median shown)")
    ap.add_argument("--explain", action="store_true", help="print the query plans")
    ap.add_argument("--keep", help="build the ledger in this directory and keep it")
    args = ap.parse_args()

    home = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="halo-bench-pages-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["HALO_FORGE_HOME"] = str(home)
    os.environ.pop("HALO_FORGE_TOKEN", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    try:
        start = time.perf_counter()
        info = build(home)
        size = (home / "ledger.db").stat().st_size / 2**20
        print(f"ledger: {info['jobs']:,} jobs, {info['metrics']:,} metric rows, "
              f"{info['results']} results, {size:.0f} MiB, built in "
              f"{time.perf_counter() - start:.1f} s")
        if args.explain:
            print("query plans:")
            explain(home)
        print(f"\npage render (AppTest reruns of one session, median of {args.runs} after one warm-up; goal < 0.5 s;")
        print("  kept: nothing changed in the ledger, the page redraws from session state; changed: "
              "that kept data dropped first; telemetry: one GPU sample stored before each run, as "
              "the supervisor's sampler does; load: 1-minute load average after the runs):")
        print(f"  {'(empty)':<10} median {baseline(args.runs):.3f} s   (AppTest's own cost, included below)")
        verdicts = []
        for label, page in (("Dashboard", "pages/dashboard.py"), ("Monitor", "pages/monitor.py"),
                            ("Results", "pages/results.py")):
            modes = ("kept", "changed", "telemetry") if label == "Dashboard" else ("kept", "changed")
            for mode in modes:
                times = time_page(page, args.runs, cold=mode == "changed",
                                  before=telemetry_tick if mode == "telemetry" else None)
                med = statistics.median(times)
                verdicts.append(med < 0.5)
                print(f"  {label:<10} {mode:<8} median {med:.3f} s   worst {max(times):.3f} s   "
                      f"load {os.getloadavg()[0]:.1f}   {'ok' if med < 0.5 else 'SLOW'}")
        print(f"\ncore calls (median of {args.runs}):")
        for name, t in time_calls(args.runs, info):
            print(f"  {name:<34} {t * 1000:8.{3 if t < 1e-3 else 1}f} ms")
        return 0 if all(verdicts) else 1
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
