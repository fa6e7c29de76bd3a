"""Which actions a job allows: the one place that decides, for Monitor, the Jobs page and the CLI.

`allowed(job)` maps every action to None (allowed) or a one-sentence reason it is not; the
services in core.jobs refuse with that same reason, and the pages only show what is allowed.
Plain data in and out: a job row as a dict (status, kind).
"""
from __future__ import annotations

from core.ledger import ACTIVE, FAILED, FINAL, QUEUED, STOPPED, STOPPING

ACTIONS = ("stop", "retry", "resume", "resume_from", "delete", "move", "priority")
LABELS = {"stop": "Stop", "retry": "Retry", "resume": "Resume", "resume_from": "Resume from here",
          "delete": "Delete", "move": "Move", "priority": "Priority"}


def resumable_kind(kind: str) -> bool:
    """Kinds whose runner continues from a checkpoint (the kinds registry says which)."""
    from core import kinds

    return kind in kinds.resumable_kinds()


def _why_not(action: str, job: dict) -> str | None:
    status, kind, jid = job["status"], job["kind"], job["id"]
    if action == "stop":
        if status == STOPPING:
            return f"job {jid} is already stopping"
        if status in FINAL:
            return f"job {jid} is {status}; only queued or running jobs can be stopped"
        return None
    if action == "retry":
        return None if status in FINAL else f"job {jid} is {status}; retry a finished job"
    if action in ("resume", "resume_from"):
        if not resumable_kind(kind):
            return f"job {jid} is a {kind} job; only training jobs resume"
        # From the newest checkpoint: only a run that did not finish. From a chosen checkpoint:
        # any finished run (going back to an earlier checkpoint of a completed run is fair).
        ok = (STOPPED, FAILED) if action == "resume" else FINAL
        if status not in ok:
            return (f"job {jid} is {status}; resume a stopped or failed job" if action == "resume"
                    else f"job {jid} is {status}; resume from a checkpoint once it has ended")
        return None
    if action == "delete":
        if status in ACTIVE:
            return f"job {jid} is {status}; stop it before deleting it"
        return None
    if action in ("move", "priority"):
        return None if status == QUEUED else \
            f"job {jid} is {status}; only a queued job can be moved or reprioritised"
    raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")


def allowed(job: dict) -> dict[str, str | None]:
    """{action: None if allowed, else why not} for every action."""
    return {a: _why_not(a, job) for a in ACTIONS}


def can(job: dict, action: str) -> bool:
    return _why_not(action, job) is None


def reason(job: dict, action: str) -> str | None:
    """Why `action` is not allowed on `job` now, or None when it is."""
    return _why_not(action, job)


def available(job: dict) -> list[str]:
    """The allowed actions, in ACTIONS order."""
    return [a for a in ACTIONS if _why_not(a, job) is None]


# Files that make a folder a checkpoint a runner can continue from, per kind.
CHECKPOINT_MARKERS = {"sft": "trainer_state.json", "raft": "raft_state.json"}


def checkpoint_problem(kind: str, path: str | None) -> str | None:
    """Why a run of `kind` cannot continue from the folder `path`, or None when it can."""
    from pathlib import Path

    if not path or not Path(path).is_dir():
        return f"checkpoint {path} is not on disk any more"
    marker = CHECKPOINT_MARKERS.get(kind)
    if marker is None:
        return f"a {kind} job does not resume from a checkpoint"
    if not (Path(path) / marker).is_file():
        return (f"{Path(path).name} holds no {marker}: a {kind} run cannot continue from it "
                "(resume from the newest checkpoint instead)")
    return None
