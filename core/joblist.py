"""Read side of the Jobs page (and the Dashboard's queue): every job filtered and paged, and
the GPU slots -- which job holds which GPU and what waits for one.

Bounded queries only (LIMIT/OFFSET on the id index), so the page stays fast with thousands of
jobs. Nothing here writes: the actions are core.jobs services.
"""
from __future__ import annotations

import json
from typing import Iterable

from core import job_actions, jobs, ledger, monitor
from core.ledger import ACTIVE, QUEUED

PAGE_SIZES = (25, 50, 100)
_COLUMNS = ("id, kind, name, status, priority, queue_pos, gpus, executor, profile, external_id, "
            "pid, created_at, started_at, finished_at, step, total_steps, epoch, total_epochs, "
            "cycle, total_cycles, error, retry_of, env, job_dir, config")


def _in(column: str, values: list[str], prefix: str, params: dict) -> str:
    names = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(names, values))
    return f"{column} IN ({', '.join(':' + n for n in names)})"


def _where(statuses: Iterable[str] = (), kinds: Iterable[str] = (), executors: Iterable[str] = (),
           name: str | None = None) -> tuple[str, dict]:
    params: dict = {}
    parts = []
    for column, values, prefix in (("status", statuses, "s"), ("kind", kinds, "k"),
                                   ("executor", executors, "e")):
        values = [str(v) for v in values or ()]
        if values:
            parts.append(_in(column, values, prefix, params))
    if name and name.strip():
        needle = name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append("name LIKE :name ESCAPE '\\'")  # SQLite's LIKE ignores ASCII case
        params["name"] = f"%{needle}%"
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def search(statuses: Iterable[str] = (), kinds: Iterable[str] = (), executors: Iterable[str] = (),
           name: str | None = None, page: int = 1, per_page: int = 25) -> dict:
    """One page of jobs, newest first, matching every filter given (empty = any).

    {"jobs": [job row + "progress" + "actions" (allowed action names)], "total": matches,
     "page": the page shown (clamped), "pages": page count}
    """
    per_page = max(1, min(int(per_page), 500))
    statuses = jobs.check_statuses(list(statuses or ())) or ()  # a typo must not match nothing
    where, params = _where(statuses, kinds, executors, name)
    with ledger.reader() as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM job{where}", params).scalar() or 0
        pages = max(1, -(-total // per_page))
        page = max(1, min(int(page), pages))
        rows = [dict(r) for r in conn.execute(
            f"SELECT {_COLUMNS} FROM job{where} ORDER BY id DESC LIMIT :n OFFSET :o",
            {**params, "n": per_page, "o": (page - 1) * per_page})]
    for job in rows:
        job["progress"] = monitor.progress(job)
        job["actions"] = job_actions.available(job)
    return {"jobs": rows, "total": total, "page": page, "pages": pages}


def facets() -> dict[str, list[str]]:
    """The filter choices: statuses, kinds and executors that occur, plus the known ones."""
    with ledger.reader() as conn:
        kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM job")]
        executors = [r[0] for r in conn.execute("SELECT DISTINCT executor FROM job")]
    return {"statuses": list(ledger.ALL_STATUSES),
            "kinds": sorted(set(kinds) | set(ledger.JOB_KINDS)),
            "executors": sorted(set(executors) | {"local"})}


def queue(limit: int = 50) -> list[dict]:
    """Queued jobs in the order the supervisor claims them (priority, then queue position),
    each with its place (1 = next) and the GPU slots it asks for."""
    with ledger.reader() as conn:
        rows = [dict(r) for r in conn.execute(
            f"SELECT {_COLUMNS} FROM job WHERE status = :q "
            "ORDER BY priority DESC, queue_pos ASC, id ASC LIMIT :n", {"q": QUEUED, "n": limit})]
    for place, job in enumerate(rows, 1):
        job["place"] = place
    return rows


def _devices(job: dict) -> list[str]:
    """The GPU indices the supervisor pinned a local job to (from the environment it gave)."""
    try:
        env = json.loads(job.get("env") or "{}")
    except ValueError:
        return []
    visible = env.get("HIP_VISIBLE_DEVICES") or env.get("CUDA_VISIBLE_DEVICES") or ""
    return [d for d in visible.split(",") if d.strip()]


def slots() -> dict:
    """The supervisor's GPU slots: who holds them, how many are free, what waits.

    {"supervisor": bool, "slots": int | None (None when no supervisor runs), "gpus": detected
     GPU count, "holders": [{"job", "name", "status", "gpus", "devices"}] (local active jobs
     that asked for GPUs), "used": slots held, "free": slots free (None without supervisor),
     "remote": active jobs on Ray/Slurm (their GPUs are the cluster's), "queue": queue()}
    """
    from core.runner import daemon

    state = daemon.status()
    with ledger.reader() as conn:
        active = [dict(r) for r in conn.execute(
            f"SELECT {_COLUMNS} FROM job WHERE status IN ({', '.join(repr(s) for s in ACTIVE)}) "
            "ORDER BY id")]
    holders = [{"job": j["id"], "name": j["name"], "status": j["status"], "gpus": j["gpus"],
                "devices": _devices(j)}
               for j in active if j["executor"] == "local" and j["gpus"] > 0]
    used = sum(h["gpus"] for h in holders)
    total = state.get("slots") if state["running"] else None
    return {"supervisor": state["running"], "slots": total, "gpus": state.get("gpus"),
            "holders": holders, "used": used,
            "free": None if total is None else max(0, total - used),
            "remote": [{"job": j["id"], "name": j["name"], "executor": j["executor"],
                        "status": j["status"]} for j in active if j["executor"] != "local"],
            "queue": queue()}
