"""Follow-ups of training jobs: `training.export_after` queues an export once the job completes.

LIGHT module; the supervisor calls it right after it marks a training job COMPLETED.
"""
from __future__ import annotations

import json

from core import kinds


def queue_after_training(job: dict) -> int | None:
    """Queue the export a completed training job asked for; its id, or None when none was asked."""
    if job.get("kind") not in kinds.training_kinds():
        return None
    cfg = job.get("config")
    cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
    choice = (cfg.get("training") or {}).get("export_after") or "none"
    if choice == "none":
        return None
    from core.export import service

    fmt, _, quant = choice.partition("-")
    config = service.build_config(job=int(job["id"]), fmt=fmt, quant=quant or None)
    return service.queue(config, name=f"export job {job['id']} · {choice.replace('-', ' ')} (after training)")
