"""Served models for the CLI and the Chat page: start one, list what can be served, find the
running ones and their endpoints. Light (no torch): it queues a `serve` job and reads rows.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from core import access, jobs, ledger
from core.ledger import ACTIVE, FINAL, QUEUED, RUNNING
from core.serving import sources

LIVE = (QUEUED,) + ACTIVE  # a served model that is, or will be, up


@dataclass
class Servable:
    group: str  # what it is: tiny, hub (cached), LoRA adapter, GGUF export, ...
    label: str
    args: dict  # for start(): {"model": ...}, {"job": ...} or {"model": ..., "adapter": ...}


def _has_gpu() -> bool:
    from core.hardware import detect_gpus

    return bool(detect_gpus())


def check_source(model: str | None, job: int | None, adapter: str | None) -> None:
    """Fail before queueing when the source is plainly wrong (one sentence)."""
    if (model is None) == (job is None):
        raise jobs.JobError("give either a model or a finished job to serve, not both")
    if job is not None:
        row = ledger.get_job(int(job))
        if row is None:
            raise jobs.JobError(f"no job with id {job}")
        if row["kind"] not in ("sft", "raft") or row["status"] != "COMPLETED":
            raise jobs.JobError(f"job {job} is a {row['status'].lower()} {row['kind']} job; "
                                f"serve a completed SFT or RAFT job")
        sources.from_job(int(job))
    elif sources.gguf_file(model) is None:
        from core.models.loading import ModelNotFoundError, resolve_model

        try:
            resolve_model(model, build_tiny=False)
        except ModelNotFoundError as exc:
            if model.strip() != "tiny":
                raise jobs.JobError(str(exc).split("; cached hub models")[0]) from None
    if adapter:
        sources.check_adapter(adapter)


def start(model: str | None = None, *, job: int | None = None, adapter: str | None = None,
          engine: str = "auto", host: str = "127.0.0.1", port: int = 8000,
          idle_minutes: float = 30.0, gpus: int | None = None, name: str | None = None) -> int:
    """Queue a serve job; returns its id. A model served on the CPU holds no GPU slot."""
    try:
        check_source(model, job, adapter)
    except sources.SourceError as exc:
        raise jobs.JobError(str(exc)) from None
    # The job runs later from another directory: local paths become absolute.
    if model is not None and Path(model).expanduser().exists():
        model = str(Path(model).expanduser().resolve())
    if adapter:
        adapter = str(Path(adapter).expanduser().resolve())
    if gpus is None:
        gpus = 1 if _has_gpu() else 0
    config = {"engine": engine, "host": host, "port": port, "idle_minutes": idle_minutes,
              "executor": {"gpus": gpus}}
    if model is not None:
        config["model"] = model
    if job is not None:
        config["job"] = int(job)
    if adapter:
        config["adapter"] = adapter
    label = f"job {job}" if job is not None else Path(model).name or model
    job_id = jobs.submit("serve", config, name=name or f"serve {label}")
    token = access.required_token()
    if token and not access.is_loopback(host):  # the endpoint takes the UI's own token
        path = Path(jobs.get(job_id)["job_dir"]) / "token"
        path.write_text(token)
        path.chmod(0o600)
    return job_id


def served(statuses=ACTIVE) -> list[dict]:
    """Serve jobs (running and starting by default), newest first, with what endpoint.json says."""
    out = []
    for row in ledger.list_jobs(statuses, kinds=("serve",)):
        info = ready_info(row)
        out.append({**row, "model": info.get("model"), "engine": info.get("engine"),
                    "source": info.get("source"), "endpoint": row.get("endpoint") or info.get("endpoint")})
    return sorted(out, key=lambda r: -r["id"])


def endpoints() -> list[dict]:
    """The served models that answer now (RUNNING with an endpoint)."""
    return [r for r in served((RUNNING,)) if r.get("endpoint")]


def ready_info(job: dict) -> dict:
    try:
        return json.loads((Path(job["job_dir"]) / "endpoint.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def token_for(job: dict) -> str | None:
    """The Bearer token an exposed endpoint needs (None on loopback)."""
    try:
        return (Path(job["job_dir"]) / "token").read_text().strip() or None
    except (OSError, KeyError, TypeError):
        return None


def wait_ready(job_id: int, timeout: float = 600.0, poll: float = 0.25) -> dict:
    """The job row once it serves (RUNNING with an endpoint); JobError when it ends first."""
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.get(job_id)
        if job["status"] == RUNNING and job.get("endpoint"):
            return job
        if job["status"] in FINAL:
            raise jobs.JobError(f"serve job {job_id} ended {job['status']}: "
                                f"{(job.get('error') or '').strip()}")
        if time.monotonic() > deadline:
            raise jobs.JobError(f"serve job {job_id} is still {job['status']} after "
                                f"{timeout:.0f} s")
        time.sleep(poll)


def servable() -> list[Servable]:
    """What the Chat page offers to start: the tiny model (built on demand), then the Models
    page's catalogue (training outputs, exports, cached hub models: core.model_catalog, one
    list for both pages), then other local model directories."""
    from core import model_catalog as catalog
    from core.models.loading import local_model_dirs

    out = [Servable("tiny (offline)", "tiny: the offline test model", {"model": "tiny"})]
    seen = set()
    for entry in catalog.list_models():
        if entry.kind == "tiny":
            continue
        try:
            args = catalog.serve_args(entry)
        except catalog.CatalogError:
            continue
        base = f" on {entry.base}" if entry.base and entry.kind in ("adapter", "checkpoint") else ""
        job = f"job {entry.job} · " if entry.job is not None else ""
        out.append(Servable(catalog.KIND_LABELS.get(entry.kind, entry.kind),
                            f"{job}{entry.name}{base}", args))
        seen.add(entry.key)
    out += [Servable("local directory", d, {"model": d}) for d in local_model_dirs()
            if d not in seen and not Path(d, "adapter_config.json").is_file()
            and not d.endswith("/models/tiny")]
    return out
