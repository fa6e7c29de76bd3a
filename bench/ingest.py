"""Ingest speed of the supervisor: lines/s, print-to-row delay, supervisor peak memory.

Runs a real supervisor on a temporary home and two command jobs:
  burst: 200,000 lines (30 % metric lines, the rest plain log) printed as fast as Python can,
         so the ingest rate is the supervisor's, not the job's;
  paced: 200,000 lines at about 20,000 lines/s, each plain line carrying its print time, for
         the p50/p95 delay from print to row in the ledger.
Usage: .venv/bin/python bench/ingest.py [--lines N]
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

JOB = textwrap.dedent("""
    import sys, time
    n, rate = int(sys.argv[1]), float(sys.argv[2])
    out = sys.stdout
    t0 = time.time()
    for i in range(n):
        if i % 10 < 3:
            out.write(f"Step {i}/{n} loss: {1.0 / (i + 1):.6f}\\n" if i % 10 == 0 else f"lr: {1e-4:.2e}\\n")
        else:
            out.write(f"plain log line {i} t={time.time():.6f}\\n")
        if rate and i % 200 == 199:
            out.flush()
            ahead = t0 + (i + 1) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
    out.flush()
""")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: a figure the machine's load does not
    inflate the way it inflates wall time."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_final(db: Path, job_id: int, timeout: float = 600) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        con = sqlite3.connect(db)
        row = con.execute("SELECT status FROM job WHERE id = ?", (job_id,)).fetchone()
        con.close()
        if row and row[0] in ("COMPLETED", "FAILED", "STOPPED"):
            return time.time()
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not finish")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--rate", type=float, default=20_000, help="lines/s of the paced job")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="halo-bench-"))
    env = dict(os.environ, HALO_FORGE_HOME=str(home), PYTHONPATH=str(REPO),
               HALO_FORGE_GPU_INTERVAL_S="5")
    os.environ.update(HALO_FORGE_HOME=str(home))
    from core import jobs, ledger

    # The ledger exists before the supervisor starts, as it does on any machine after the
    # first run: creating it is the only step that loads SQLAlchemy (the declared schema).
    ledger.check_usable()
    job_py = home / "printer.py"
    job_py.write_text(JOB)
    sup = subprocess.Popen([sys.executable, "-m", "core.cli", "supervisor", "run"], cwd=REPO,
                           env=env, stdout=open(home / "sup.log", "wb"), stderr=subprocess.STDOUT)
    time.sleep(1.5)
    db = home / "ledger.db"
    try:
        # burst: the ingest rate
        cpu0 = _cpu_s(sup.pid)
        burst = jobs.submit("command", {"command": [sys.executable, str(job_py), str(args.lines), "0"]})
        wait_final(db, burst)
        con = sqlite3.connect(db)
        started, = con.execute("SELECT started_at FROM job WHERE id=?", (burst,)).fetchone()
        first, last, n = con.execute("SELECT MIN(time), MAX(time), COUNT(*) FROM log_line WHERE job_id=?",
                                     (burst,)).fetchone()
        metrics, = con.execute("SELECT COUNT(*) FROM metric WHERE job_id=?", (burst,)).fetchone()
        con.close()
        span = last - started
        cpu = _cpu_s(sup.pid) - cpu0
        print(f"burst: {n:,} lines ({metrics:,} metric rows) stored {span:.2f} s after start "
              f"-> {n / span:,.0f} lines/s ingested (goal >= 200,000/s); the supervisor used "
              f"{cpu:.2f} CPU s: {n / cpu:,.0f} lines per CPU second; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        # paced: the delay from print to row
        paced = jobs.submit("command", {"command": [sys.executable, str(job_py), str(args.lines),
                                                    str(args.rate)]})
        wait_final(db, paced)
        con = sqlite3.connect(db)
        rows = con.execute("SELECT time, text FROM log_line WHERE job_id=? AND text LIKE 'plain%'",
                           (paced,)).fetchall()
        con.close()
        delays = sorted(t - float(text.rsplit("t=", 1)[1]) for t, text in rows)
        p50 = statistics.median(delays)
        p95 = delays[int(0.95 * (len(delays) - 1))]
        print(f"paced at {args.rate:,.0f} lines/s: delay print->row p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms over {len(delays):,} lines "
              "(goal p95 < 500 ms)")
        with open(f"/proc/{sup.pid}/status") as fh:
            status = dict(line.split(":", 1) for line in fh if ":" in line)
        hwm = int(status["VmHWM"].split()[0]) / 1024
        rss = int(status["VmRSS"].split()[0]) / 1024
        print(f"supervisor memory: peak {hwm:.0f} MB, now {rss:.0f} MB (goal peak <= 60 MB)")
    finally:
        sup.terminate()
        sup.wait(timeout=30)


if __name__ == "__main__":
    main()
