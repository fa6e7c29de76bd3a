"""The job services that the pages and the CLI share: the only code that writes job intents.

A page or a CLI command never launches or signals a process: it records an intent here (a
queued job, a stop request) and the supervisor acts on it.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from core import job_actions, ledger, paths
from core.ledger import ACTIVE, QUEUED, STOPPED, STOPPING



class JobError(ValueError):
    """A request the ledger cannot honour; the message is one sentence naming the bad value."""


def validate(kind: str, config: dict) -> dict:
    """Validate a job spec through its kind's schema; returns the plain JSON config to store."""
    if kind not in ledger.JOB_KINDS:
        raise JobError(f"unknown job kind {kind!r}; expected one of {', '.join(ledger.JOB_KINDS)}")
    if kind == "command":
        return _validate_command(config)
    from core import configs  # pydantic only: light enough for the UI

    parsed = configs.parse_config({**config, "kind": kind})
    return parsed.model_dump(mode="json")


def _validate_command(config: dict) -> dict:
    cmd = config.get("command")
    if not isinstance(cmd, list) or not cmd or not all(isinstance(a, str) for a in cmd):
        raise JobError("command must be a non-empty list of strings, got %r" % (cmd,))
    if not cmd[0].strip():
        raise JobError("command must start with a program name, got an empty string")
    gpus = config.get("gpus", 0)
    if not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < 0:
        raise JobError(f"gpus must be a whole number >= 0, got {gpus!r}")
    env = config.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in env.items()):
        raise JobError("env must map variable names to string values")
    out = {"kind": "command", "command": cmd, "gpus": gpus, "env": env}
    if config.get("cwd"):
        out["cwd"] = str(config["cwd"])
    if config.get("executor"):
        out["executor"] = config["executor"]
    return out


def _gpus_of(kind: str, config: dict) -> int:
    if kind == "command":
        return int(config.get("gpus", 0))
    executor = config.get("executor") or {}
    per_node = executor.get("gpus", 0 if kind == "verify" else 1)  # verifying needs no GPU
    return int(per_node) * int(executor.get("nodes", 1) or 1)


def _executor_of(config: dict) -> tuple[str, str | None]:
    executor = config.get("executor") or {}
    return executor.get("name") or "local", executor.get("profile")


def default_name(kind: str, config: dict) -> str:
    if kind == "command":
        return " ".join(config["command"])[:80]
    if kind == "serve":  # its model is a plain string (or a job id)
        return f"serve {Path(str(config.get('model'))).name if config.get('model') else 'job %s' % config.get('job')}"
    model = (config.get("model") or {}).get("name", "")
    if kind == "benchmark":
        bench = (config.get("benchmark") or {}).get("name", "")
        return f"{bench} · {Path(model).name or model}"
    if kind == "verify":
        return f"verify {config.get('verifier', '')}"
    if kind == "export":
        src, ex = config.get("source") or {}, config.get("export") or {}
        what = f"job {src['job']}" if src.get("job") else Path(str(src.get("adapter") or src.get("model") or "")).name
        fmt = f"gguf {ex.get('quant') or 'f16'}" if ex.get("format") == "gguf" else "merged"
        return f"export {what} · {fmt}"
    dataset = (config.get("data") or {}).get("dataset", "")
    return f"{kind} {Path(model).name or model} on {Path(str(dataset)).name}"


def submit(kind: str, config: dict, name: str | None = None, priority: int = 0,
           retry_of: int | None = None) -> int:
    """Validate and queue a job; returns its id. Nothing is written when validation fails."""
    clean = validate(kind, config)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise JobError(f"priority must be a whole number, got {priority!r}")
    executor, profile = _executor_of(clean)
    if executor != "local":
        from core.runner import profiles  # light: JSON file

        profiles.check_usable(executor, profile)
    name = check_name(name) or default_name(kind, clean)
    with ledger.writer() as conn:
        job_id = ledger.insert_job(
            conn, kind=kind, name=name, config=json.dumps(clean), priority=priority,
            gpus=_gpus_of(kind, clean), executor=executor, profile=profile, retry_of=retry_of)
        job_dir = paths.job_dir(job_id)
        ledger.update_job(conn, job_id, job_dir=str(job_dir))
        job_dir.mkdir(parents=True, exist_ok=True)
        spec = {"id": job_id, "kind": kind, "name": name, "config": clean}
        if kind == "command":
            spec["command"] = clean["command"]
        (job_dir / "job.json").write_text(json.dumps(spec, indent=2))
    return job_id


MAX_NAME = 200


def check_name(name: str | None) -> str:
    """A job name is one line of at most MAX_NAME characters (it heads tables and titles)."""
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise JobError(f"name is {len(name):,} characters long; at most {MAX_NAME} are allowed")
    bad = next((c for c in name if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise JobError(f"name must be one line without control characters, found {bad!r}")
    return name


def check_statuses(statuses) -> list[str] | None:
    """Status filters must name real statuses: a typo would otherwise match nothing, silently."""
    if not statuses:
        return None
    out = [s.strip().upper() for s in statuses if s.strip()]
    unknown = [s for s in out if s not in ledger.ALL_STATUSES]
    if unknown:
        raise JobError(f"unknown status {unknown[0]!r}; expected one of {', '.join(ledger.ALL_STATUSES)}")
    return out


def get(job_id: int) -> dict:
    job = ledger.get_job(job_id)
    if job is None:
        raise JobError(f"no job with id {job_id}")
    job["config"] = json.loads(job["config"] or "{}")
    job["env"] = json.loads(job["env"]) if job.get("env") else {}
    return job


def list_jobs(statuses=None, limit: int | None = None, kinds=None) -> list[dict]:
    if limit is not None and limit < 0:
        raise JobError(f"limit must be 0 or more, got {limit}")
    return ledger.list_jobs(check_statuses(statuses), limit, kinds)


def _refuse(job: dict, action: str) -> None:
    """Raise the one-sentence reason core.job_actions gives when `action` is not allowed."""
    why = job_actions.reason(job, action)
    if why is not None:
        raise JobError(why)


def request_stop(job_id: int) -> str:
    """Ask for a job to stop; returns the status it is now in."""
    job = get(job_id)
    _refuse(job, "stop")
    if job["status"] == QUEUED and ledger.transition(job_id, (QUEUED,), STOPPED,
                                                     error="stopped before it started"):
        return STOPPED
    if ledger.transition(job_id, ("STARTING", "RUNNING"), STOPPING,
                         stop_requested_at=time.time()):
        return STOPPING
    return get(job_id)["status"]


def retry(job_id: int) -> int:
    """Queue a new job with the same kind and config."""
    job = get(job_id)
    _refuse(job, "retry")
    return submit(job["kind"], job["config"], name=job["name"], priority=job["priority"],
                  retry_of=job_id)


def resume(job_id: int, checkpoint: str | None = None) -> int:
    """Queue a training job that continues an ended one: from its newest checkpoint (a stopped
    or failed run), or from `checkpoint`, one it reported (any ended run)."""
    job = get(job_id)
    _refuse(job, "resume" if checkpoint is None else "resume_from")
    if checkpoint is not None:
        why = job_actions.checkpoint_problem(job["kind"], checkpoint)
        if why is not None:
            raise JobError(why)
    config = json.loads(json.dumps(job["config"]))
    training = config.setdefault("training", {})
    training["output_dir"] = training.get("output_dir") or str(Path(job["job_dir"]) / "output")
    training["resume_from"] = str(checkpoint) if checkpoint is not None else "latest"
    where = f" from {Path(checkpoint).name}" if checkpoint is not None else ""
    return submit(job["kind"], config, name=f"{job['name']} (resumed{where})",
                  priority=job["priority"], retry_of=job_id)


def delete(job_id: int) -> None:
    """Delete an ended or queued job: its rows and its directory."""
    job = get(job_id)
    _refuse(job, "delete")
    with ledger.writer() as conn:
        cur = conn.execute("DELETE FROM job WHERE id = ? AND status = ?",
                                   (job_id, job["status"]))
        if cur.rowcount != 1:
            raise JobError(f"job {job_id} changed state while being deleted; try again")
        for table in ("metric", "log_line", "result"):
            conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
        ledger.add_event(conn, "JOB_DELETED", job_id, {})
    job_dir = Path(job["job_dir"])
    if job_dir.is_dir() and paths.jobs_dir() in job_dir.parents:
        shutil.rmtree(job_dir, ignore_errors=True)


# action name -> the service that performs it on one job id
BULK = {"stop": lambda i: request_stop(i), "retry": lambda i: retry(i),
        "resume": lambda i: resume(i), "delete": lambda i: delete(i)}


def bulk(action: str, job_ids: list[int]) -> dict[int, str]:
    """Apply one action to several jobs, each on its own: {id: "ok" or why it was refused}.
    One refused job (already stopping, still running...) never stops the others."""
    if action not in BULK:
        raise JobError(f"bulk action must be one of {', '.join(BULK)}, got {action!r}")
    out: dict[int, str] = {}
    for job_id in job_ids:
        try:
            value = BULK[action](int(job_id))
            out[int(job_id)] = "ok" if value is None else f"ok: {value}"
        except JobError as exc:
            out[int(job_id)] = str(exc)
    return out


def move(job_id: int, direction: str) -> None:
    """Move a queued job one place up or down the queue (within its priority)."""
    if direction not in ("up", "down"):
        raise JobError(f"direction must be 'up' or 'down', got {direction!r}")
    with ledger.writer() as conn:
        row = conn.execute("SELECT priority, queue_pos, status FROM job WHERE id = ?",
                                   (job_id,)).first()
        if row is None:
            raise JobError(f"no job with id {job_id}")
        priority, pos, status = row
        _refuse({"id": job_id, "status": status, "kind": ""}, "move")
        op, order = ("<", "DESC") if direction == "up" else (">", "ASC")
        other = conn.execute(
            f"SELECT id, queue_pos FROM job WHERE status = ? AND priority = ? AND queue_pos {op} ? "
            f"ORDER BY queue_pos {order} LIMIT 1", (QUEUED, priority, pos)).first()
        if other is None:
            return
        ledger.update_job(conn, job_id, queue_pos=other[1])
        ledger.update_job(conn, other[0], queue_pos=pos)
        # Pages redraw on a newer event id (core.live): a queue change must write one too.
        ledger.add_event(conn, "JOB_QUEUE_CHANGED", job_id, {"moved": direction})


def set_priority(job_id: int, priority: int) -> None:
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise JobError(f"priority must be a whole number, got {priority!r}")
    with ledger.writer() as conn:
        row = conn.execute("SELECT status FROM job WHERE id = ?", (job_id,)).first()
        if row is None:
            raise JobError(f"no job with id {job_id}")
        _refuse({"id": job_id, "status": row[0], "kind": ""}, "priority")
        ledger.update_job(conn, job_id, priority=priority)
        ledger.add_event(conn, "JOB_QUEUE_CHANGED", job_id, {"priority": priority})


def queue() -> list[dict]:
    """Queued jobs in the order the supervisor will claim them."""
    jobs = ledger.list_jobs((QUEUED,))
    return sorted(jobs, key=lambda j: (-j["priority"], j["queue_pos"], j["id"]))


def summary() -> dict[str, Any]:
    counts = ledger.status_counts()
    return {"counts": counts, "queued": counts.get(QUEUED, 0),
            "active": sum(counts.get(s, 0) for s in ACTIVE)}
