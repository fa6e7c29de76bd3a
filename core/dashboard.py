"""Read-side queries for the Dashboard: GPU state, active jobs, counts, recent runs, charts.

Every query is bounded (LIMIT, an index, or a downsampled series) so the page stays fast with
thousands of jobs and millions of metric rows: nothing here reads all metrics of anything.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict
from typing import Any

from core import kinds, ledger, monitor
from core.hardware import HOST_DEVICE  # light: GPU libraries load only when sampling
from core.ledger import ACTIVE, COMPLETED, FAILED, QUEUED, STOPPED

# The supervisor samples every few seconds; older rows mean it is not sampling any more.
RECENT_GPU_S = 30.0
# A live probe (amd-smi & co. may take a second) is reused this long between fragment ticks.
LIVE_TTL_S = 5.0
# What the live parts read outside the ledger (the supervisor's state file, a full disk, a
# GPU probe) is re-read at least this often even when no event arrives (core.live).
STATE_S = 10.0
LOSS_NAMES = ("loss", "train_loss")
TRAINING_KINDS = (*kinds.training_kinds(), "command")

_live_lock = threading.Lock()
_live_cache: dict[str, Any] = {"at": 0.0, "gpus": []}


# ---- GPU ----------------------------------------------------------------------------------

def ledger_gpus(max_age_s: float = RECENT_GPU_S, now: float | None = None) -> list[dict]:
    """The newest sample of each device the supervisor recorded in the last max_age_s."""
    since = (now or time.time()) - max_age_s
    with ledger.reader() as conn:
        # The time index bounds both scans to the recent window, however long the history.
        rows = conn.execute(
            "SELECT * FROM gpu_sample WHERE id IN (SELECT MAX(id) FROM gpu_sample "
            "WHERE time >= :since AND device != :host GROUP BY device) ORDER BY device",
            {"since": since, "host": HOST_DEVICE})
        return [dict(r) for r in rows]


def live_gpus(ttl_s: float = LIVE_TTL_S) -> list[dict]:
    """Sample the GPUs here and now (reused for ttl_s): for when no supervisor is sampling."""
    from core.hardware import sample_gpus

    with _live_lock:
        if time.time() - _live_cache["at"] > ttl_s:
            now = time.time()
            _live_cache["gpus"] = [{**asdict(s), "time": now} for s in sample_gpus()]
            _live_cache["at"] = now
        return list(_live_cache["gpus"])


def host() -> dict:
    """CPU and RAM of this machine; CPU busy % averaged over the last few seconds
    (core.cpuload), not psutil's since-the-previous-call reading."""
    from core import cpuload
    from core.hardware import sample_host

    return {**sample_host(), "cpu_percent": cpuload.percent()}


def gpu_status() -> dict:
    """What the GPU card shows.

    {"source": "ledger" | "live" | "none", "gpus": [per-device dict with utilization (%),
    mem_used/mem_total, gtt_used/gtt_total (bytes), temperature (C), power (W), time, name,
    device, source], "host": CPU/RAM dict when no GPU is found, else None}
    """
    gpus = ledger_gpus()
    if gpus:
        return {"source": "ledger", "gpus": [_with_fractions(g) for g in gpus], "host": None}
    gpus = live_gpus()
    if gpus:
        return {"source": "live", "gpus": [_with_fractions(g) for g in gpus], "host": None}
    return {"source": "none", "gpus": [], "host": _with_host_fractions(host())}


def _fraction(used: float | None, total: float | None) -> float | None:
    if used is None or not total:
        return None
    return max(0.0, min(1.0, used / total))


def _with_fractions(g: dict) -> dict:
    return {**g, "mem_fraction": _fraction(g.get("mem_used"), g.get("mem_total")),
            "gtt_fraction": _fraction(g.get("gtt_used"), g.get("gtt_total"))}


def _with_host_fractions(h: dict) -> dict:
    return {**h, "ram_fraction": _fraction(h.get("ram_used"), h.get("ram_total"))}


def gib(n: float | None) -> str:
    return "–" if n is None else f"{n / 2**30:.1f} GiB"


def size_text(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


# ---- jobs ---------------------------------------------------------------------------------

def ledger_health() -> dict:
    """The ledger's size on disk, its newest backup, and why the supervisor stopped launching
    (a full disk), if it did: {"size_bytes", "backup", "backup_age_s", "paused"}."""
    from core import ledger_backup
    from core.runner import daemon

    newest = ledger_backup.newest_backup()
    age = None
    if newest is not None:
        try:
            age = time.time() - newest.stat().st_mtime
        except OSError:
            newest = None
    return {"size_bytes": ledger_backup.size_bytes(), "backup": str(newest) if newest else None,
            "backup_age_s": age, "paused": daemon.status().get("paused")}


def live_state() -> dict:
    """Everything the live panel shows below the GPU cards, read once: ledger health, counts,
    active jobs (progress is recomputed when drawn: it depends on the clock) and the slots."""
    from core import joblist

    return {"health": ledger_health(), "counts": counts(), "active": active_jobs(),
            "slots": joblist.slots()}


def counts() -> dict[str, int]:
    """Jobs per status plus running (STARTING/RUNNING/STOPPING), queued, completed, failed,
    stopped and total."""
    by_status = ledger.status_counts()
    return {**by_status,
            "running": sum(by_status.get(s, 0) for s in ACTIVE),
            "queued": by_status.get(QUEUED, 0),
            "completed": by_status.get(COMPLETED, 0),
            "failed": by_status.get(FAILED, 0),
            "stopped": by_status.get(STOPPED, 0),
            "total": sum(by_status.values())}


def active_jobs(limit: int = 20) -> list[dict]:
    """Jobs that are starting, running or stopping, newest first, each with `progress`
    (monitor.progress) and `loss` (its latest loss, or None)."""
    out = []
    with ledger.reader() as conn:
        jobs = [dict(r) for r in conn.execute(
            "SELECT * FROM job WHERE status IN ('STARTING','RUNNING','STOPPING') "
            "ORDER BY id DESC LIMIT :n", {"n": int(limit)})]
        for job in jobs:
            job["progress"] = monitor.progress(job)
            job["loss"] = _latest_loss(conn, job["id"])
            job["link"] = monitor_link(job["id"])
            out.append(job)
    return out


def _latest_loss(conn, job_id: int) -> float | None:
    for name in LOSS_NAMES:
        row = conn.execute(
            "SELECT value FROM metric WHERE job_id = :j AND name = :n "
            "ORDER BY step DESC, id DESC LIMIT 1", {"j": job_id, "n": name}).first()
        if row is not None:
            return row[0]
    return None


def monitor_link(job_id: int) -> str:
    return f"/monitor?job={int(job_id)}"


def recent_runs(limit: int = 12) -> list[dict]:
    """The newest jobs (any kind, any status) with their progress fraction, duration and the
    link to their Monitor view."""
    with ledger.reader() as conn:
        jobs = [dict(r) for r in conn.execute(
            "SELECT id, kind, name, status, created_at, started_at, finished_at, step, "
            "total_steps, epoch, total_epochs, cycle, total_cycles FROM job "
            "ORDER BY id DESC LIMIT :n", {"n": int(limit)})]
    for job in jobs:
        prog = monitor.progress(job)
        job["fraction"] = prog["fraction"]
        job["elapsed_s"] = prog.get("elapsed_s")
        job["link"] = monitor_link(job["id"])
    return jobs


# ---- charts -------------------------------------------------------------------------------

def training_history(runs: int = 6, max_points: int = 300) -> list[dict]:
    """Loss curves of the newest training runs, at most about max_points each:
    [{"name": "#id name", "job_id", "x", "y", "thinned"}].

    An overview, so a long run is thinned to the points at about every k-th step (one index
    seek each: under 1 ms for a 25,000-step run) rather than averaged over all its rows
    (about 30 ms each); Monitor and Results show the averaged curve with its min-max band."""
    kinds = ",".join(f"'{k}'" for k in TRAINING_KINDS)
    out = []
    with ledger.reader() as conn:
        # The newest jobs first; EXISTS probes the (job_id, name, step) index once per job
        # and the LIMIT stops the scan as soon as enough runs with a loss are found.
        rows = conn.execute(
            f"SELECT id, name FROM job WHERE kind IN ({kinds}) AND EXISTS ("
            "SELECT 1 FROM metric WHERE metric.job_id = job.id AND metric.name IN "
            "('loss', 'train_loss')) ORDER BY id DESC LIMIT :n", {"n": int(runs)}).all()
        for job_id, name in rows:
            for metric in LOSS_NAMES:
                s = _thinned(job_id, metric, max_points)
                if s is not None:
                    out.append({**s, "name": f"#{job_id} {name}", "job_id": job_id})
                    break
    return out


def _thinned(job_id: int, name: str, max_points: int) -> dict | None:
    s = monitor.series(job_id, name, max_points=max_points, x="step", thin=True)
    if not s["count"]:
        return None
    return {"x": s["x"], "y": s["y"], "thinned": s["downsampled"]}


def lower_is_better(benchmark: str, metric: str) -> bool:
    """WER-like metrics: the catalogue says so for its benchmarks; error rates always are."""
    from core.benchmarks.catalogue import BENCHMARKS  # light: names and metrics only

    bench = BENCHMARKS.get(benchmark)
    if bench is not None and metric == bench.primary_metric:
        return not bench.higher_is_better
    return metric in ("wer", "cer")


def benchmark_scores(max_models: int = 8) -> dict:
    """The main metric of the newest result per (model, benchmark), for a grouped bar chart.

    {"categories": ["humaneval · pass@1", "librispeech · wer ↓", ...], "groups": {model:
    [value or None per category]}}; models are the max_models with the newest results, and
    "↓" marks a metric where lower is better.
    """
    with ledger.reader() as conn:
        rows = conn.execute(
            "SELECT id, model, benchmark, COALESCE(primary_metric, 'pass@1'), "
            "COALESCE(primary_value, pass_at_1) FROM result WHERE id IN ("
            "SELECT MAX(id) FROM result GROUP BY model, benchmark) ORDER BY id DESC").all()
    models: list[str] = []
    for _, model, *_rest in rows:
        if model not in models:
            models.append(model)
    models = models[:max_models]
    categories: list[str] = []
    cells: dict[tuple[str, str], float | None] = {}
    for _, model, benchmark, metric, value in rows:
        if model not in models:
            continue
        category = f"{benchmark} · {metric}" + (" ↓" if lower_is_better(benchmark, metric) else "")
        if category not in categories:
            categories.append(category)
        cells[(model, category)] = value
    categories.sort()
    return {"categories": categories,
            "groups": {m: [cells.get((m, c)) for c in categories] for m in models}}


# ---- GPU history --------------------------------------------------------------------------

HISTORY_WINDOWS = {"last hour": 3600.0, "last day": 86400.0}
HISTORY_POINTS = 240  # per device and series: enough for a chart, cheap to send
HISTORY_SLIDE_S = 60.0  # a kept history chart is re-read when its window slid this far


def gpu_history(window_s: float = 3600.0, max_points: int = HISTORY_POINTS,
                now: float | None = None) -> dict:
    """The stored telemetry of the last window_s, per device, averaged into at most
    max_points time buckets (the bucket's peak for memory, so a spike is not averaged away).

    {"bucket_s", "devices": [{"device", "name", "host" (True for the CPU/RAM rows stored when
    there is no GPU), "mem_total", "gtt_total", "t": [bucket start, s], "utilization",
    "mem_used", "gtt_used", "temperature", "power": [value or None per bucket]}]}.
    One grouped range scan over the time index: a day of 5 s samples of two GPUs (about 35,000
    rows) reads in tens of ms (bench/bench_gpu_history.py).
    """
    now = now or time.time()
    since = now - window_s
    bucket = max(1.0, window_s / max(1, max_points))
    with ledger.reader() as conn:
        rows = conn.execute(
            "SELECT device, CAST((time - :since) / :b AS INTEGER) AS k, MAX(name), "
            "AVG(utilization), MAX(mem_used), MAX(mem_total), MAX(gtt_used), MAX(gtt_total), "
            "AVG(temperature), AVG(power) FROM gpu_sample WHERE time >= :since "
            "GROUP BY device, k ORDER BY device, k", {"since": since, "b": bucket}).all()
    devices: dict[str, dict] = {}
    for device, k, name, util, mem, mem_total, gtt, gtt_total, temp, power in rows:
        d = devices.setdefault(device, {
            "device": device, "name": name, "host": device == HOST_DEVICE, "mem_total": None,
            "gtt_total": None, "t": [], "utilization": [], "mem_used": [], "gtt_used": [],
            "temperature": [], "power": []})
        d["t"].append(since + k * bucket)
        for key, value in (("utilization", util), ("mem_used", mem), ("gtt_used", gtt),
                           ("temperature", temp), ("power", power)):
            d[key].append(value)
        d["mem_total"] = mem_total or d["mem_total"]
        d["gtt_total"] = gtt_total or d["gtt_total"]
    # GPUs first; the host rows only matter when there is no GPU.
    out = [d for d in devices.values() if not d["host"]] or list(devices.values())
    return {"bucket_s": bucket, "since": since, "until": now, "devices": out}


def history_charts(device: dict) -> list[tuple[str, list[dict], str]]:
    """The chartable series of one device: [(title, [{"name", "x", "y"}], unit)], leaving out
    what the device never reported (a tool without power readings draws no power chart)."""
    t = device["t"]

    def has(key):
        return any(v is not None for v in device[key])

    charts = []
    if has("utilization"):
        charts.append(("CPU" if device["host"] else "Utilisation",
                       [{"name": "utilisation", "x": t, "y": device["utilization"]}], "%"))
    mem = [{"name": "RAM" if device["host"] else "VRAM", "x": t,
            "y": [None if v is None else v / 2**30 for v in device["mem_used"]]}]
    if has("gtt_used"):
        mem.append({"name": "GTT", "x": t,
                    "y": [None if v is None else v / 2**30 for v in device["gtt_used"]]})
    if has("mem_used") or has("gtt_used"):
        charts.append(("Memory", mem, "GiB"))
    if has("temperature"):
        charts.append(("Temperature", [{"name": "temperature", "x": t,
                                        "y": device["temperature"]}], "°C"))
    if has("power"):
        charts.append(("Power", [{"name": "power", "x": t, "y": device["power"]}], "W"))
    return charts
