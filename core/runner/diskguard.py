"""The supervisor's answer to a full disk: stop launching, keep running, resume by itself.

A ledger write that fails for lack of space (SQLITE_FULL, ENOSPC) pauses launching: a job
started now could not even be recorded as running. Running jobs go on writing output.log (their
own files); the tailer keeps the offset the ledger committed, so their lines are stored once
space returns. Every pass while paused checks the free space and, when there is some, tries one
small write (an event); the pause ends when it commits.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time

from core import ledger, paths
from core.runner import health

log = logging.getLogger("halo_forge.supervisor")

MIN_FREE = 1 << 20  # bytes free before a write is tried again
PROBE_EVERY_S = 2.0


class DiskGuard:
    def __init__(self, on_damage=None) -> None:
        self.reason: str | None = None
        self.damaged: Exception | None = None  # the ledger turned out damaged: we stop
        self._on_damage = on_damage
        self.since: float | None = None
        self._last_probe = 0.0
        self._lock = threading.Lock()
        self.extra: dict = {}  # other facts for the health file (last backup...)

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def failed(self, exc: BaseException) -> bool:
        """Note a failed ledger operation; True when it was for lack of space (launching
        pauses) or because the file is damaged (the supervisor stops: every further write could
        make it worse; running jobs go on and are picked up after a restore)."""
        if isinstance(exc, ledger.LedgerDamaged):
            if self.damaged is None:
                self.damaged = exc
                log.error("%s; the supervisor stops, running jobs go on", exc)
                if self._on_damage:
                    self._on_damage()
            return True
        if not ledger.is_disk_full(exc):
            return False
        with self._lock:
            if self.reason is None:
                where = paths.ledger_path().parent
                detail = exc.__cause__ if isinstance(exc, ledger.LedgerFull) else exc
                self.reason = (f"the disk holding {where} is full ({detail}); new jobs wait "
                               "and running jobs' output is stored when space is freed")
                self.since = time.time()
                log.error("ledger write failed for lack of space: launching paused (%s)", exc)
                self.publish()
        return True

    def check(self) -> bool:
        """While paused, see whether space came back; True when not (or no longer) paused."""
        if self.reason is None:
            return True
        now = time.monotonic()
        if now - self._last_probe < PROBE_EVERY_S:
            return False
        self._last_probe = now
        if shutil.disk_usage(paths.ledger_path().parent).free < MIN_FREE:
            return False
        try:
            with ledger.writer() as conn:
                ledger.add_event(conn, "LEDGER_WRITABLE", None,
                                 {"paused_s": round(time.time() - (self.since or time.time()), 1)})
        except Exception as exc:  # still full (or something else): stay paused
            if not ledger.is_disk_full(exc):
                log.error("probe write after a full disk failed: %s", exc)
            return False
        with self._lock:
            log.info("space is back after %.0f s: launching resumes", time.time() - self.since)
            self.reason = self.since = None
            self.publish()
        return True

    def publish(self) -> None:
        health.write({"pid": os.getpid(), "paused": self.reason, "paused_since": self.since,
                      **self.extra})
