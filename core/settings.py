"""Supervisor settings: settings.json under the home, each overridable by an environment variable."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from core import paths


@dataclass
class Settings:
    slots: int | None = None  # GPU slots; None = number of detected GPUs, at least 1
    grace_s: float = 30.0  # seconds between SIGTERM and SIGKILL on a stop
    poll_s: float = 0.2  # how often running jobs' output is read
    gpu_interval_s: float = 5.0  # how often GPU telemetry is sampled
    gpu_retention_h: float = 24.0  # GPU samples older than this are pruned
    strix_env: str = "auto"  # "auto" (when a gfx1151 GPU is detected), "on" or "off"
    backup_keep: int = 7  # rotating ledger backups kept under HOME/backups; 0 = none
    backup_every_h: float = 24.0  # hours between two of them


_ENV = {"slots": "HALO_FORGE_SLOTS", "grace_s": "HALO_FORGE_GRACE_S",
        "poll_s": "HALO_FORGE_POLL_S", "gpu_interval_s": "HALO_FORGE_GPU_INTERVAL_S",
        "gpu_retention_h": "HALO_FORGE_GPU_RETENTION_H", "strix_env": "HALO_FORGE_STRIX_ENV",
        "backup_keep": "HALO_FORGE_BACKUP_KEEP", "backup_every_h": "HALO_FORGE_BACKUP_EVERY_H"}


def load() -> Settings:
    data: dict = {}
    try:
        data = json.loads(paths.settings_path().read_text())
    except (OSError, ValueError):
        pass
    settings = Settings()
    for f in fields(Settings):
        raw = os.environ.get(_ENV[f.name], data.get(f.name))
        if raw is None or raw == "":
            continue
        if f.name == "strix_env":
            if str(raw) not in ("auto", "on", "off"):
                raise ValueError(f"strix_env must be auto, on or off, got {raw!r}")
            settings.strix_env = str(raw)
        elif f.name == "slots":
            settings.slots = int(raw)
            if settings.slots < 1:
                raise ValueError(f"slots must be at least 1, got {raw!r}")
        elif f.name == "backup_keep":
            settings.backup_keep = int(raw)
            if settings.backup_keep < 0:
                raise ValueError(f"backup_keep must be 0 or more, got {raw!r}")
        else:
            setattr(settings, f.name, float(raw))
    return settings


def save(settings: Settings) -> None:
    paths.settings_path().write_text(json.dumps(asdict(settings), indent=2))
