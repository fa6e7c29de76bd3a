"""Live fragments that skip their queries while the ledger stands still.

The ledger's `event` table is append-only with a monotonic id, and every change a page shows
writes an event in the same transaction: status changes, each batch of parsed output (one
LOG_LINE / METRICS_UPDATE per pass), checkpoints, GPU samples, deletions, queue moves, prunes.
So a fragment that keeps what it drew together with the newest event id it drew from asks one
indexed question per tick ("is there a newer event?") and redraws from what it kept when
there is none.

Telemetry is the exception: while a supervisor runs, its sampler stores GPU (or CPU/RAM)
samples every few seconds, each with a GPU_UPDATE event. Views of jobs, queues and results
key on `newest_job_event()` (the newest event that is not telemetry, one seek in a partial
index) so those samples do not make them re-read; only the GPU views key on `newest_event()`.

What changes without an event (wall time: durations, ETA, "x ago"; the supervisor's pid file;
a live GPU probe) is handled by the caller: time-dependent text is computed at draw time from
the kept rows (cheap, no query), and `stamp(every_s=...)` adds a coarse time bucket so data
read from outside the ledger is refreshed at that pace at worst.
"""
from __future__ import annotations

import time
from typing import Any, Callable, MutableMapping, TypeVar

from core import ledger

T = TypeVar("T")


def newest_event(job_id: int | None = None) -> int:
    """The id of the newest event in the ledger (or of one job's events); 0 when none.

    One index seek either way: MAX over the rowid for the whole table, MAX over the rowid
    within one job_id of the event.job_id index for a job."""
    with ledger.reader() as conn:
        if job_id is None:
            return int(conn.execute("SELECT MAX(id) FROM event").scalar() or 0)
        return int(conn.execute("SELECT MAX(id) FROM event WHERE job_id = ?",
                                (int(job_id),)).scalar() or 0)


def newest_job_event() -> int:
    """The id of the newest event that is not telemetry (ledger.TELEMETRY_EVENTS): what a
    view of jobs, the queue or results depends on; 0 when none.

    One seek in the partial index ix_event_not_telemetry (the WHERE is the index's own)."""
    with ledger.reader() as conn:
        return int(conn.execute(f"SELECT MAX(id) FROM event WHERE {ledger.NOT_TELEMETRY}")
                   .scalar() or 0)


def _now() -> float:  # one place for the clock, so tests can hold it still
    return time.time()


def bucket(every_s: float, now: float | None = None) -> int:
    """The current time bucket of every_s seconds: part of a stamp for what also changes
    without an event, so it is re-read that often at worst."""
    return int((_now() if now is None else now) // every_s)


def stamp(job_id: int | None = None, every_s: float | None = None,
          now: float | None = None) -> tuple[int, int | None]:
    """What a fragment's cached data about jobs depends on: the newest event id of one job,
    or without job_id the newest that is not telemetry (newest_job_event), and with every_s
    the current time bucket of that many seconds."""
    top = newest_event(job_id) if job_id is not None else newest_job_event()
    return top, (bucket(every_s, now) if every_s else None)


def cached(state: MutableMapping[str, Any], key: str, when: Any, compute: Callable[[], T]) -> T:
    """compute(), or what it returned last time for the same `when` (a stamp plus whatever
    else the data depends on: widget values, a job id). Kept in `state` (a page's
    st.session_state, under a page-prefixed key), one entry per key."""
    entry = state.get(key)
    if entry is not None and entry[0] == when:
        return entry[1]
    value = compute()
    state[key] = (when, value)
    return value
