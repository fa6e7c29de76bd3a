"""Where halo-forge keeps its state: one home directory, overridable with HALO_FORGE_HOME."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    path = Path(os.environ.get("HALO_FORGE_HOME", "~/.halo-forge")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def ledger_path() -> Path:
    return home() / "ledger.db"


def jobs_dir() -> Path:
    return _sub("jobs")


def job_dir(job_id: int) -> Path:
    return jobs_dir() / f"{job_id:06d}"


def configs_dir() -> Path:
    return _sub("configs")


def datasets_dir() -> Path:
    return _sub("datasets")


def models_dir() -> Path:
    return _sub("models")


def profiles_path() -> Path:
    return home() / "profiles.json"


def supervisor_lock_path() -> Path:
    return home() / "supervisor.lock"


def supervisor_state_path() -> Path:
    return home() / "supervisor.json"


def settings_path() -> Path:
    return home() / "settings.json"


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
