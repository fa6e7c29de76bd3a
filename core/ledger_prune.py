"""Retention: delete the log lines and metrics of jobs that finished long ago, then VACUUM.

Never touches an active or queued job, never deletes a result row, and keeps every job row
and its status events (the history stays; only the bulk goes). With keep_results the jobs
that produced results keep their logs and metrics too. Deletes go in short transactions of
at most CHUNK rows, so a running supervisor waits for the write lock a moment at a time,
never for the whole prune.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from core import ledger, paths

CHUNK = 50_000
# Events that only say "more rows arrived": they go with the rows. Status events stay.
BULK_EVENTS = ("LOG_LINE", "METRICS_UPDATE")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> float:
    """'90d', '12h', '30m', '2w', '45s' -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"--older-than must be a positive number with a unit s, m, h, d or w "
                         f"(e.g. 90d), got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def candidates(older_than_s: float, keep_results: bool = False,
               now: float | None = None) -> list[int]:
    """The finished jobs whose rows may go: ended before the cut-off."""
    cutoff = (time.time() if now is None else now) - older_than_s
    final = ",".join(f"'{s}'" for s in ledger.FINAL)
    sql = (f"SELECT id FROM job WHERE status IN ({final}) "
           "AND COALESCE(finished_at, updated_at, created_at) < ?")
    if keep_results:
        sql += " AND id NOT IN (SELECT job_id FROM result WHERE job_id IS NOT NULL)"
    with ledger.reader() as conn:
        return [r[0] for r in conn.execute(sql + " ORDER BY id", (cutoff,))]


def _delete_chunked(table: str, where: str, params: tuple) -> int:
    total = 0
    while True:
        with ledger.writer() as conn:
            # Re-checks that the job is still final inside the write lock: a job cannot go
            # back to active, but a deleted-and-reused id must not lose a live job's rows.
            n = conn.execute(
                f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where} "
                f"LIMIT {CHUNK})", params).rowcount
        total += n
        if n < CHUNK:
            return total


def prune(older_than_s: float, keep_results: bool = False, vacuum: bool = True,
          now: float | None = None) -> dict:
    """Delete old finished jobs' log lines, metrics and bulk events; returns the counts and
    the ledger size before and after."""
    t0 = time.perf_counter()
    path = paths.ledger_path()
    from core.ledger_backup import size_bytes

    before = size_bytes(path)
    counts = {"jobs": 0, "log_lines": 0, "metrics": 0, "events": 0}
    final = ",".join(f"'{s}'" for s in ledger.FINAL)
    alive = f"AND job_id IN (SELECT id FROM job WHERE id = ? AND status IN ({final}))"
    kinds = ",".join(f"'{k}'" for k in BULK_EVENTS)
    for job_id in candidates(older_than_s, keep_results, now):
        counts["jobs"] += 1
        counts["metrics"] += _delete_chunked("metric", f"job_id = ? {alive}", (job_id, job_id))
        counts["log_lines"] += _delete_chunked("log_line", f"job_id = ? {alive}", (job_id, job_id))
        counts["events"] += _delete_chunked("event", f"job_id = ? AND kind IN ({kinds}) {alive}",
                                            (job_id, job_id))
    if counts["jobs"]:
        with ledger.writer() as conn:
            ledger.add_event(conn, "LEDGER_PRUNED", None,
                             {**counts, "older_than_s": older_than_s,
                              "keep_results": keep_results})
    deleted = time.perf_counter()
    skipped = None
    if vacuum and counts["jobs"]:
        try:
            compact(path)
        except ledger.LedgerFull:
            # The rows are gone either way; their pages are reused by new rows.
            skipped = "VACUUM skipped: it needs free space about the ledger's size"
    return {**counts, "bytes_before": before, "bytes_after": size_bytes(path),
            "seconds": time.perf_counter() - t0, "vacuum_s": time.perf_counter() - deleted,
            "vacuum_skipped": skipped}


def compact(path: Path | None = None) -> None:
    """VACUUM (rewrites the file without the freed pages; needs free space about the
    ledger's size) and fold the WAL back into the file."""
    with ledger.connection(path) as conn:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
