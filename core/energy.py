"""What a job cost: energy (Wh) and peak memory, from the telemetry the supervisor stored.

Energy is the trapezoid integral of the power samples of the GPUs the job held, over the
job's run [started_at, finished_at]: between two samples power is taken as linear, before the
first and after the last sample inside the run it is held at the nearest sample's value (the
sampler runs every few seconds, so a run edge rarely falls on a sample). Peak memory is the
largest VRAM + GTT in use on those GPUs at one sampling instant (on Strix Halo the GTT pool is
the real memory); a CPU job reports the peak RSS of its process instead (its wrapper records
it in exit_status.json).

None means "not reported" (no GPU, a tool without power readings, a job on a cluster), never 0.
Light module: the supervisor computes this when a job closes (one indexed range query).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from core import ledger
from core.hardware import HOST_DEVICE  # light: no GPU library at import

# A sample this long before the start still tells the power at the start (the sampler's
# default interval is 5 s).
LOOKBACK_S = 10.0


def integrate_wh(samples: Iterable[tuple[float, float]], start: float, end: float) -> float | None:
    """Energy in Wh over [start, end] from (time s, power W) samples, any order.

    Trapezoids between samples, linear interpolation at the window's edges, the nearest value
    held where the samples do not reach an edge. None without any sample."""
    points = sorted((float(t), float(p)) for t, p in samples if p is not None)
    if not points or end <= start:
        return None if not points else 0.0

    def power_at(t: float) -> float:
        if t <= points[0][0]:
            return points[0][1]
        if t >= points[-1][0]:
            return points[-1][1]
        for (t0, p0), (t1, p1) in zip(points, points[1:]):
            if t0 <= t <= t1:
                return p0 if t1 == t0 else p0 + (p1 - p0) * (t - t0) / (t1 - t0)
        return points[-1][1]

    inner = [(t, p) for t, p in points if start < t < end]
    knots = [(start, power_at(start)), *inner, (end, power_at(end))]
    joules = sum((t1 - t0) * (p0 + p1) / 2 for (t0, p0), (t1, p1) in zip(knots, knots[1:]))
    return joules / 3600.0


def held_devices(job: dict, all_devices: Iterable[str] | None = None) -> list[str]:
    """The GPU indices a local job was given (from the environment recorded on its row);
    every sampled device when a GPU job was not pinned; none for CPU or cluster jobs."""
    if job.get("executor", "local") != "local" or not job.get("gpus"):
        return []
    env = job.get("env") or "{}"
    env = json.loads(env) if isinstance(env, str) else env
    visible = env.get("HIP_VISIBLE_DEVICES") or env.get("CUDA_VISIBLE_DEVICES") or ""
    devices = [d.strip() for d in visible.split(",") if d.strip()]
    return devices or [d for d in (all_devices or []) if d != HOST_DEVICE]


def job_usage(job: dict, end: float | None = None) -> dict:
    """{"energy_wh": float | None, "peak_mem_mb": float | None} of a job that just ended
    (end defaults to its finished_at)."""
    start, end = job.get("started_at"), end or job.get("finished_at")
    usage: dict = {"energy_wh": None, "peak_mem_mb": None}
    if start and end and end > start:
        with ledger.reader() as conn:
            rows = conn.execute(
                "SELECT time, device, power, mem_used, gtt_used FROM gpu_sample "
                "WHERE time >= :a AND time <= :b AND device != :host ORDER BY time",
                {"a": start - LOOKBACK_S, "b": end, "host": HOST_DEVICE}).all()
        devices = held_devices(job, {r[1] for r in rows})
        usage.update(_gpu_usage([r for r in rows if r[1] in devices], devices, start, end))
    if usage["peak_mem_mb"] is None and job.get("job_dir"):
        usage["peak_mem_mb"] = _peak_rss_mb(Path(job["job_dir"]))
    return usage


def _gpu_usage(rows: list, devices: list[str], start: float, end: float) -> dict:
    energy = None
    for device in devices:
        wh = integrate_wh([(t, p) for t, d, p, *_ in rows if d == device and p is not None],
                          start, end)
        if wh is not None:
            energy = (energy or 0.0) + wh
    per_instant: dict[float, float] = {}
    for t, _d, _p, vram, gtt in rows:
        if t >= start and (vram is not None or gtt is not None):
            per_instant[t] = per_instant.get(t, 0.0) + (vram or 0.0) + (gtt or 0.0)
    peak = max(per_instant.values()) / 2**20 if per_instant else None
    return {"energy_wh": energy, "peak_mem_mb": peak}


def _peak_rss_mb(job_dir: Path) -> float | None:
    from core.runner.exitstatus import read_exit_status

    status = read_exit_status(job_dir) or {}
    value = status.get("peak_rss_mb")
    return float(value) if isinstance(value, (int, float)) else None


def format_energy(wh: float | None) -> str:
    if wh is None:
        return "not reported"
    return f"{wh / 1000:.2f} kWh" if wh >= 1000 else f"{wh:.2f} Wh"


def format_mem(mb: float | None) -> str:
    if mb is None:
        return "not reported"
    return f"{mb / 1024:.2f} GiB" if mb >= 1024 else f"{mb:.0f} MiB"
