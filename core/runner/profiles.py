"""Cluster profiles: saved, named settings for the ray and slurm executors.

LIGHT module (json, re, fcntl): the pages, the CLI and `core.jobs.submit` import it.
Profiles live in one JSON file under the home (`paths.profiles_path()`):

    {"gpu-cluster": {"name": "gpu-cluster", "executor": "slurm", "partition": "gpu",
                     "gpus_per_node": 4, "time_limit": "04:00:00"},
     "ray-lab":     {"name": "ray-lab", "executor": "ray", "address": "http://head:8265"}}

A job names its profile in `executor.profile`; the supervisor builds the executor from it.
Every error is a ValueError with one sentence naming the field.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from typing import Any, Iterator

from core import executor_kinds, paths

EXECUTORS = executor_kinds.remote_names()

# field -> (executors it belongs to, one line of help); the pages build forms from this.
FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "address": (("ray",), "Ray dashboard (Jobs API) address, e.g. http://head-node:8265."),
    "partition": (("slurm",), "Slurm partition (empty = the cluster's default)."),
    "account": (("slurm",), "Slurm account to charge (empty = your default)."),
    "time_limit": (("slurm",), "Slurm time limit: minutes, HH:MM:SS or D-HH:MM:SS."),
    "nodes": (("slurm",), "Most nodes a job of this profile may ask for."),
    "gpus_per_node": (("slurm",), "GPUs per node of the partition; 0 = a CPU-only partition "
                                  "(a job's gpus then only counts training processes)."),
    "python": (("ray", "slurm"), "Python interpreter on the cluster nodes (default: the "
                                 "supervisor's own, which suits a shared filesystem)."),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SLURM_WORD = re.compile(r"^[A-Za-z0-9_.,-]+$")
_TIME = re.compile(r"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}"
                   r"|\d+-\d+:\d{1,2}:\d{1,2})$")


# ---- reading ------------------------------------------------------------------------------

def load_all() -> dict[str, dict]:
    """Every saved profile by name (each dict has 'name' and 'executor')."""
    path = paths.profiles_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); fix or remove the file") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold an object of profiles by name")
    return {name: {**p, "name": name} for name, p in sorted(data.items()) if isinstance(p, dict)}


def names(executor: str | None = None) -> list[str]:
    """Profile names, optionally only those of one executor (for a page's select box)."""
    return [n for n, p in load_all().items() if executor is None or p.get("executor") == executor]


def get(name: str) -> dict:
    profiles = load_all()
    if name not in profiles:
        known = ", ".join(profiles) or "none saved yet"
        raise ValueError(f"executor.profile: no cluster profile named {name!r} (known: {known})")
    return profiles[name]


def executor_section(name: str) -> dict:
    """The `executor` config section that runs a job on this profile."""
    return {"name": get(name)["executor"], "profile": name}


def check_usable(executor: str, profile: str | None) -> None:
    """Raise ValueError (one sentence) unless a job can be queued for this executor/profile.

    Cheap and offline: the profile exists, belongs to the executor, and for slurm sbatch is
    on PATH (the ray executor speaks HTTP to the cluster and needs no local package).
    Reachability of the cluster is the supervisor's business: it fails the job with the
    engine's own error.
    """
    if executor == "local":
        return
    if executor not in EXECUTORS:
        raise ValueError(f"executor.name: unknown executor {executor!r}; expected one of "
                         f"{', '.join(executor_kinds.names())}")
    if not profile:
        hint = executor_kinds.get(executor).profile_hint
        raise ValueError(f"executor.profile: the {executor} executor needs a cluster profile; "
                         f"save one with `halo-forge profiles add NAME --executor {executor} {hint}`")
    found = get(profile)
    if found.get("executor") != executor:
        raise ValueError(f"executor.profile: profile {profile!r} is a {found.get('executor')} "
                         f"profile, not a {executor} one")
    if executor == "slurm" and shutil.which("sbatch") is None:
        raise ValueError("executor.name: the slurm executor needs sbatch on this machine's PATH "
                         "(run halo-forge on a Slurm login node)")


# ---- writing ------------------------------------------------------------------------------

def validate(name: str, executor: str, fields: dict[str, Any]) -> dict:
    """The clean profile to store; ValueError naming the first bad field."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: a profile name is 1-64 letters, digits, '.', '_' or '-' "
                         f"starting with a letter or digit, got {name!r}")
    if executor not in EXECUTORS:
        raise ValueError(f"executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    clean: dict[str, Any] = {"name": name, "executor": executor}
    for key, value in fields.items():
        if value is None or value == "":
            continue
        if key not in FIELDS:
            raise ValueError(f"{key}: not a profile setting; known: {', '.join(FIELDS)}")
        if executor not in FIELDS[key][0]:
            raise ValueError(f"{key}: a {'/'.join(FIELDS[key][0])} setting, "
                             f"not one of a {executor} profile")
        clean[key] = _check_field(key, value)
    for key in executor_kinds.get(executor).required:
        if key not in clean:
            raise ValueError(f"{key}: a {executor} profile needs it: {FIELDS[key][1]}")
    return clean


def _check_field(key: str, value: Any) -> Any:
    if key == "address":
        text = str(value).strip().rstrip("/")
        if "://" not in text:
            text = "http://" + text
        if not re.match(r"^https?://[^\s/:]+(:\d{1,5})?(/\S*)?$", text):
            raise ValueError(f"address: expected the Ray dashboard URL, e.g. "
                             f"http://head-node:8265, got {value!r}")
        return text
    if key in ("nodes", "gpus_per_node"):
        low = 1 if key == "nodes" else 0
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key}: expected a whole number, got {value!r}") from None
        if isinstance(value, bool) or number < low or (isinstance(value, float) and value != number):
            raise ValueError(f"{key}: expected a whole number >= {low}, got {value!r}")
        return number
    text = str(value).strip()
    if key in ("partition", "account") and not _SLURM_WORD.match(text):
        raise ValueError(f"{key}: expected a Slurm name (letters, digits, '_', '-', '.', ','), "
                         f"got {value!r}")
    if key == "time_limit" and not (_TIME.match(text) or text.upper() in ("UNLIMITED", "INFINITE")):
        raise ValueError(f"time_limit: expected minutes, HH:MM:SS or D-HH:MM:SS, got {value!r}")
    if key == "python" and (not text or any(c.isspace() for c in text)):
        raise ValueError(f"python: expected an interpreter path without spaces, got {value!r}")
    return text


def add(name: str, executor: str, **fields: Any) -> dict:
    """Save (or replace) a profile; returns what was stored."""
    clean = validate(name, executor, fields)
    with _locked() as data:
        data[name] = {k: v for k, v in clean.items() if k != "name"}
    return clean


def remove(name: str) -> None:
    """Delete a profile that no queued or running job uses."""
    get(name)
    users = _active_users(name)
    if users:
        raise ValueError(f"profile {name!r} is used by active job(s) "
                         f"{', '.join(str(i) for i in users)}; stop them first")
    with _locked() as data:
        data.pop(name, None)


def _active_users(name: str) -> list[int]:
    try:
        from core import ledger

        return [j["id"] for j in ledger.list_jobs(ledger.ACTIVE + (ledger.QUEUED,))
                if j.get("profile") == name]
    except Exception:  # no ledger yet: nobody uses it
        return []


@contextmanager
def _locked() -> Iterator[dict]:
    """Read-modify-write of the profiles file under an exclusive lock, replaced atomically."""
    path = paths.profiles_path()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = {n: {k: v for k, v in p.items() if k != "name"} for n, p in load_all().items()}
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
