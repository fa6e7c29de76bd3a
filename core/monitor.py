"""Read-side queries for following jobs: logs, metric series (downsampled), latest values.

The pages call these; a page never writes SQL. Series are downsampled in SQL so a chart of a
job with a million points moves a few thousand rows, not a million.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from core import ledger
from core.ledger import ACTIVE


def default_job_id() -> int | None:
    """The newest running job, else the newest job."""
    with ledger.reader() as conn:
        row = conn.execute(
            "SELECT id FROM job WHERE status IN ('STARTING','RUNNING','STOPPING') "
            "ORDER BY id DESC LIMIT 1").first()
        if row is None:
            row = conn.execute("SELECT id FROM job ORDER BY id DESC LIMIT 1").first()
    return row[0] if row else None


def job_choices(limit: int = 200) -> list[dict]:
    with ledger.reader() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT id, name, status, kind FROM job ORDER BY id DESC LIMIT :n", {"n": limit})]


def log_lines(job_id: int, after_seq: int = 0, limit: int = 1000) -> list[dict]:
    with ledger.reader() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT seq, time, stream, text FROM log_line WHERE job_id = :j AND seq > :a "
            "ORDER BY seq LIMIT :n", {"j": job_id, "a": after_seq, "n": limit})]


def tail_log(job_id: int, n: int = 200, contains: str | None = None) -> list[dict]:
    """The newest n lines, oldest first; `contains` filters case-insensitively."""
    sql = "SELECT seq, time, text FROM log_line WHERE job_id = :j"
    params: dict = {"j": job_id, "n": n}
    if contains:
        sql += " AND text LIKE :pat ESCAPE '\\'"
        escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pat"] = f"%{escaped}%"
    sql += " ORDER BY seq DESC LIMIT :n"
    with ledger.reader() as conn:
        rows = [dict(r) for r in conn.execute(sql, params)]
    return rows[::-1]


def metric_names(job_id: int) -> list[str]:
    with ledger.reader() as conn:
        # A skip-scan over the (job_id, name, step) index: one probe per distinct name.
        names, last = [], ""
        while True:
            row = conn.execute("SELECT name FROM metric WHERE job_id = :j AND name > :n "
                                    "ORDER BY name LIMIT 1", {"j": job_id, "n": last}).first()
            if row is None:
                return names
            names.append(row[0])
            last = row[0]


def latest_metrics(job_id: int) -> dict[str, dict]:
    """Per metric name: the last value, its step, and how many points there are."""
    out = {}
    with ledger.reader() as conn:
        for name in metric_names(job_id):
            row = conn.execute(
                "SELECT value, step FROM metric WHERE job_id = :j AND name = :n "
                "ORDER BY step DESC, id DESC LIMIT 1", {"j": job_id, "n": name}).first()
            if row:
                out[name] = {"value": row[0], "step": row[1]}
    return out


# For each target step (lo, lo+k, ..., and hi) the first logged step at or after it: one
# index seek per point, so thinning costs the same for 1,000 or 1,000,000 rows, and gaps in
# the logged steps (every 10th step, a resumed run) still give real points.
_THIN_SQL = """
WITH RECURSIVE target(s) AS (SELECT :lo UNION ALL SELECT s + :k FROM target WHERE s + :k <= :hi),
picked(mid) AS (
  SELECT (SELECT id FROM metric WHERE job_id = :j AND name = :n AND step >= target.s
          ORDER BY step, id LIMIT 1) FROM target
  UNION
  SELECT (SELECT id FROM metric WHERE job_id = :j AND name = :n AND step = :hi
          ORDER BY id DESC LIMIT 1))
SELECT m.step, m.value FROM picked JOIN metric m ON m.id = picked.mid ORDER BY m.step, m.id
"""

# Averaging reads every row (about 30 ms per 25,000 points); past this many points a step
# series is thinned by index seeks instead, so a million-point run costs what a small one does.
THIN_ABOVE = 50_000


def series(job_id: int, name: str, max_points: int = 2000, x: str = "step",
           thin: bool | None = None) -> dict:
    """A metric as chart data: x, y, and the min/max band of each bucket.

    At most max_points rows: the raw points. Beyond that, equal-width buckets of x averaged
    (the band keeps spikes visible) -- or, for a step series longer than THIN_ABOVE points
    (or thin=True), the real point at about every k-th step, found by index seeks.
    """
    params = {"j": job_id, "n": name}
    with ledger.reader() as conn:
        # Separate subqueries: each MIN/MAX is one index seek and the count stops early.
        lo_step, hi_step, n, no_step = conn.execute(
            "SELECT (SELECT MIN(step) FROM metric WHERE job_id = :j AND name = :n), "
            "(SELECT MAX(step) FROM metric WHERE job_id = :j AND name = :n), "
            "(SELECT COUNT(*) FROM (SELECT 1 FROM metric WHERE job_id = :j AND name = :n LIMIT :cap)), "
            "EXISTS (SELECT 1 FROM metric WHERE job_id = :j AND name = :n AND step IS NULL)",
            {**params, "cap": THIN_ABOVE + 1}).first()
        if not n:
            return {"x": [], "y": [], "lo": [], "hi": [], "count": 0, "downsampled": False}
        want_thin = thin if thin is not None else n > THIN_ABOVE
        if x == "step" and not no_step and n > max_points and want_thin:
            stride = max(1, -(-(hi_step - lo_step + 1) // max_points))
            rows = conn.execute(_THIN_SQL, {**params, "lo": lo_step, "hi": hi_step,
                                                 "k": stride}).all()
            xs, ys = [r[0] for r in rows], [r[1] for r in rows]
            return {"x": xs, "y": ys, "lo": ys, "hi": ys, "count": n, "downsampled": True,
                    "thinned": True}
        xcol = "time" if x == "time" else "COALESCE(step, id)"
        lo, hi = conn.execute(f"SELECT MIN({xcol}), MAX({xcol}) FROM metric "
                                   "WHERE job_id = :j AND name = :n", params).first()
        if n <= max_points or hi == lo:
            rows = conn.execute(
                f"SELECT {xcol}, value FROM metric WHERE job_id = :j AND name = :n "
                f"ORDER BY {xcol}, id", params).all()
            xs = [r[0] for r in rows]
            ys = [r[1] for r in rows]
            return {"x": xs, "y": ys, "lo": ys, "hi": ys, "count": n, "downsampled": False}
        width = (hi - lo) / max_points
        rows = conn.execute(
            f"SELECT MIN({xcol}), AVG(value), MIN(value), MAX(value), COUNT(*) FROM metric "
            f"WHERE job_id = :j AND name = :n GROUP BY CAST(({xcol} - :lo) / :w AS INTEGER) "
            "ORDER BY 1", {**params, "lo": lo, "w": width}).all()
    return {"x": [r[0] for r in rows], "y": [r[1] for r in rows], "lo": [r[2] for r in rows],
            "hi": [r[3] for r in rows], "count": sum(r[4] for r in rows), "downsampled": True}


def progress(job: dict) -> dict:
    """What a progress bar should show: the most specific known fraction and a label.

    A job that reports cycles (RAFT) counts finished cycles: "Cycle 2/3" is printed when
    cycle 2 starts, so while it runs only one of three is done (33 %, not 67 %). Its steps
    restart their total every cycle, so they only go into the label. A STOPPING job has no
    ETA: it is winding down, not progressing.
    """
    now = time.time()
    out = {"fraction": None, "label": ""}
    cycle, cycles = job.get("cycle"), job.get("total_cycles")
    if cycle is not None and cycles:
        done = cycle if job.get("status") == "COMPLETED" else cycle - 1
        out = {"fraction": max(0.0, min(1.0, done / float(cycles))),
               "label": f"cycle {cycle}/{cycles} · {max(done, 0)} done"}
        if job.get("step") is not None and job.get("total_steps"):
            out["label"] += f" · step {job['step']}/{job['total_steps']}"
    else:
        for key, total_key, label in (("step", "total_steps", "step"),
                                      ("epoch", "total_epochs", "epoch")):
            value, total = job.get(key), job.get(total_key)
            if value is not None and total:
                out = {"fraction": max(0.0, min(1.0, float(value) / float(total))),
                       "label": f"{label} {value:g}/{total}"}
                break
    start = job.get("started_at")
    end = job.get("finished_at") or (now if job.get("status") in ACTIVE else None)
    out["elapsed_s"] = (end - start) if start is not None and end is not None else None
    if out["fraction"] and out["elapsed_s"] and job.get("status") in ("STARTING", "RUNNING") \
            and out["fraction"] < 1:
        out["eta_s"] = out["elapsed_s"] * (1 - out["fraction"]) / out["fraction"]
    return out


# A Monitor tick re-reads a job whose events did not move at least this often (core.live):
# a checkpoint folder removed by hand, a job row changed without an event.
LIVE_STATE_S = 10.0

_ERROR_WORDS = ("error", "traceback", "exception", "failed", "fatal", "killed")
_WARNING_WORDS = ("warning", "warn:", "deprecat")


def classify_line(line: str) -> str:
    """'error', 'warning', 'metric' or 'plain', for highlighting in the log viewer."""
    from core.metrics import parse_line

    low = line.lower()
    if any(w in low for w in _ERROR_WORDS):
        return "error"
    if any(w in low for w in _WARNING_WORDS):
        return "warning"
    parsed = parse_line(line)
    if parsed is not None and (parsed.metrics or parsed.step is not None or parsed.checkpoint):
        return "metric"
    return "plain"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


# ---- checkpoints ----------------------------------------------------------------------------

_CKPT_STEP = re.compile(r"(?:checkpoint|step)[-_](\d+)$")
_CKPT_CYCLE = re.compile(r"cycle[-_](\d+)$")
SIZE_FILES_MAX = 2000  # a checkpoint's size reads at most this many files (an estimate past it)


def checkpoint_count(job_id: int) -> tuple[int, int]:
    """(how many checkpoints a job reported, the newest one's event id or 0)."""
    with ledger.reader() as conn:
        n, newest = conn.execute(
            "SELECT COUNT(*), MAX(id) FROM event WHERE job_id = :j AND kind = 'CHECKPOINT_SAVED'",
            {"j": job_id}).first()
    return int(n or 0), int(newest or 0)


def checkpoints(job_id: int, after_event: int = 0, newest: int | None = None) -> list[dict]:
    """The checkpoints a job reported (CHECKPOINT_SAVED events), oldest first (only the
    `newest` N when given): event id, time, path, step (from the event, else from a
    `checkpoint-N` folder name), cycle (from a `cycle-N` folder), size in bytes (None once the
    folder is gone) and whether it is still on disk."""
    with ledger.reader() as conn:
        rows = conn.execute(
            "SELECT id, time, payload FROM event WHERE job_id = :j AND kind = 'CHECKPOINT_SAVED' "
            "AND id > :a ORDER BY id DESC LIMIT :n",
            {"j": job_id, "a": after_event, "n": -1 if newest is None else int(newest)}).all()
    rows = rows[::-1]
    out = []
    for event_id, at, payload in rows:
        try:
            info = json.loads(payload or "{}")
        except ValueError:
            info = {}
        path = str(info.get("path") or "")
        name = Path(path).name
        step = info.get("step")
        if step is None and (m := _CKPT_STEP.search(name)):
            step = int(m.group(1))
        cycle = int(m.group(1)) if (m := _CKPT_CYCLE.search(name)) else None
        out.append({"event_id": event_id, "time": at, "path": path, "step": step,
                    "cycle": cycle, "exists": bool(path) and Path(path).is_dir(),
                    "size": dir_size(Path(path)) if path else None})
    return out


_SIZES: dict[tuple[str, int], int] = {}  # (path, mtime_ns) -> bytes: a saved checkpoint
# does not change, and Monitor asks again every second


def dir_size(path: Path) -> int | None:
    """Bytes under a directory (None if it is not there)."""
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return None
    if not path.is_dir():
        return None
    if key not in _SIZES:
        if len(_SIZES) > 4096:
            _SIZES.clear()
        _SIZES[key] = _dir_size(path)
    return _SIZES[key]


def _dir_size(path: Path) -> int:
    total = 0
    for n, f in enumerate(path.rglob("*")):
        if n >= SIZE_FILES_MAX:
            break
        try:
            if f.is_file():
                total += f.stat().st_size
        except OSError:
            continue
    return total


def format_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
