"""Latency of each executor (local, ray, slurm) through a real supervisor and the ledger.

For each executor and run, one command job that prints a JSON metric line every 0.2 s carrying
the time it was printed, then waits for SIGTERM and leaves at once. Figures:
  submit -> RUNNING      seconds from jobs.submit() to the ledger row saying RUNNING
  submit -> first line   seconds from jobs.submit() to the job's first output line stored
                         (for Ray and Slurm: the engine really started it)
  line -> row            delay from a metric line being printed to its ledger row
                         (median and max over the run's lines)
  stop -> final          seconds from jobs.request_stop() to STOPPED in the ledger

Ray (a local head) and Slurm (a one-node cluster) are started here, inside a loopback-only
network namespace (the script re-runs itself under `unshare --net`; needs root), with the
supervisor's default settings (poll_s 0.2). Run:
    .venv/bin/python bench/executors.py [--runs 3] [--only local,ray,slurm]
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from tests.runner import engines  # noqa: E402

LINES = 15
JOB = f"""
    import json, signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("started", flush=True)
    for i in range(1, {LINES} + 1):
        print(json.dumps({{"metric": {{"step": i, "printed_at": time.time()}}}}), flush=True)
        time.sleep(0.2)
    while True:
        time.sleep(0.05)
"""


def wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError(f"timed out waiting for {what}")


def one_run(profile: str | None, script: Path) -> dict:
    from core import jobs, ledger, paths

    config: dict = {"command": [sys.executable, "-u", str(script)]}
    if profile:
        from core.runner import profiles

        config["executor"] = profiles.executor_section(profile)
    t0 = time.time()
    job_id = jobs.submit("command", config, name="bench")
    wait(lambda: jobs.get(job_id)["status"] in ("RUNNING",) + ledger.FINAL, 120, "RUNNING")
    running = time.time() - t0
    wait(lambda: (jobs.get(job_id)["log_seq"] or 0) >= 1, 120, "the first output line")
    first = time.time() - t0
    db = sqlite3.connect(paths.ledger_path())
    rows = lambda: db.execute("SELECT time, value FROM metric WHERE job_id = ? AND "  # noqa: E731
                              "name = 'printed_at'", (job_id,)).fetchall()
    wait(lambda: len(rows()) >= LINES, 120, "every metric row")
    delays = [stored - printed for stored, printed in rows()]
    t1 = time.time()
    jobs.request_stop(job_id)
    wait(lambda: jobs.get(job_id)["status"] in ledger.FINAL, 120, "a final state")
    stop = time.time() - t1
    status = jobs.get(job_id)["status"]
    db.close()
    if status != "STOPPED":
        raise RuntimeError(f"job {job_id} ended {status}: {jobs.get(job_id)['error']}")
    return {"running": running, "first": first, "delay_med": statistics.median(delays),
            "delay_max": max(delays), "stop": stop}


def bench_executor(name: str, runs: int, work: Path) -> list[dict]:
    from core import ledger
    from tests.conftest import SupervisorProcess

    home = work / f"home-{name}"
    home.mkdir()
    os.environ["HALO_FORGE_HOME"] = str(home)
    for key in ("HALO_FORGE_POLL_S", "HALO_FORGE_GRACE_S"):
        os.environ.pop(key, None)  # the defaults users get
    os.environ["HALO_FORGE_GPU_INTERVAL_S"] = "30"
    ledger.reset_engines()
    script = work / "job.py"
    script.write_text(textwrap.dedent(JOB))
    engine, profile = None, None
    try:
        if name == "ray":
            engine = engines.RayHead().start()
            from core.runner import profiles

            profiles.add("bench-ray", "ray", address=engine.address)
            profile = "bench-ray"
        elif name == "slurm":
            engine = engines.SlurmCluster().start()
            os.environ["SLURM_CONF"] = engine.env["SLURM_CONF"]
            from core.runner import profiles

            profiles.add("bench-slurm", "slurm", partition="debug", gpus_per_node=0)
            profile = "bench-slurm"
        sup = SupervisorProcess(home).start()
        try:
            one_run(profile, script)  # warm-up: first imports, first engine job
            return [one_run(profile, script) for _ in range(runs)]
        finally:
            sup.stop()
    finally:
        if engine is not None:
            engine.cleanup() if name == "ray" else engine.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="local,ray,slurm")
    args = parser.parse_args(argv)
    if not engines.in_loopback_netns():
        why = engines.can_unshare()
        if why:
            print(f"cannot run the engines here: {why}", file=sys.stderr)
            return 1
        cmd = engines.netns_command([sys.executable, __file__, *argv])
        return subprocess.run(cmd, cwd=REPO).returncode
    wanted = [n.strip() for n in args.only.split(",") if n.strip()]
    print(f"{args.runs} run(s) per executor after a warm-up; {LINES} metric lines per run; "
          f"supervisor poll 0.2 s; {os.cpu_count()} CPU(s), load {os.getloadavg()[0]:.1f}")
    print(f"{'executor':<9} {'submit->RUNNING':>16} {'submit->1st line':>17} "
          f"{'line->row med':>14} {'line->row max':>14} {'stop->final':>12}")
    with tempfile.TemporaryDirectory(prefix="hf-bench-") as tmp:
        for name in wanted:
            if name in ("ray", "slurm"):
                missing = (engines.RayHead if name == "ray" else engines.SlurmCluster).available()
                if missing:
                    print(f"{name:<9} skipped: {missing}")
                    continue
            results = bench_executor(name, args.runs, Path(tmp))
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            worst = max(r["delay_max"] for r in results)
            print(f"{name:<9} {med['running']:>15.2f}s {med['first']:>16.2f}s "
                  f"{med['delay_med']:>13.2f}s {worst:>13.2f}s {med['stop']:>11.2f}s", flush=True)
    print("(medians over runs; line->row max is the worst line of all runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
