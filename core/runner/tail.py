"""Turn a job's output.log into ledger rows, from the byte offset the ledger last stored.

Only whole lines are consumed; the offset, the log rows, the metric rows and the progress
are written in one transaction, so a supervisor killed at any moment resumes exactly where
the committed offset says and never stores a line twice.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from core import ledger
from core.ledger import RUNNING, STARTING
from core.metrics import parse_line
from core.serving import READY_PREFIX, parse_ready

MAX_LINE = 4000  # characters kept of one log line
READ_CHUNK = 1 << 20  # bytes read per pass: bounds memory, and one chatty job cannot starve the others
_PROGRESS = ("step", "total_steps", "epoch", "total_epochs", "cycle", "total_cycles")


@dataclass
class Batch:
    offset: int
    seq: int
    logs: list[tuple] = field(default_factory=list)
    metrics: list[tuple] = field(default_factory=list)
    progress: dict = field(default_factory=dict)
    events: list[tuple] = field(default_factory=list)
    ready: dict | None = None  # a served model's MODEL_READY line (core/serving)

    def empty(self) -> bool:
        return not self.logs


def _visible(raw: str) -> list[str]:
    """The lines a terminal would have shown. A progress bar redraws itself with carriage
    returns: keep its last state, and whatever was printed before the first redraw (a job's
    own line followed by a bar on the same line must not be lost)."""
    if "\r" not in raw:
        line = raw.rstrip()
        return [line] if line else []
    parts = [p.rstrip() for p in raw.split("\r") if p.strip()]
    return parts[:1] + parts[-1:] if len(parts) > 1 else parts


class Tailer:
    def __init__(self, job: dict) -> None:
        self.job_id = job["id"]
        self.path = Path(job["job_dir"]) / "output.log"
        self.offset = int(job.get("log_offset") or 0)
        self.seq = int(job.get("log_seq") or 0)
        self.step = job.get("step")

    def read(self, final: bool = False) -> Batch | None:
        """Parse the whole lines written since the offset (and a trailing partial line when
        the job has ended)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(READ_CHUNK)
        except FileNotFoundError:
            return None
        if not data:
            return None
        end = data.rfind(b"\n") + 1
        if end == 0:
            if not final and len(data) < READ_CHUNK:
                return None
            end = len(data)
        elif final and len(data) < READ_CHUNK:
            end = len(data)
        return self._parse(data[:end], self.offset + end)

    def _parse(self, chunk: bytes, new_offset: int) -> Batch:
        now = time.time()
        batch = Batch(offset=new_offset, seq=self.seq)
        job_id, step = self.job_id, self.step
        metrics, progress = batch.metrics, batch.progress
        checkpoints = []
        n_metrics = 0
        text = chunk.decode("utf-8", "replace")
        if "\r" in text:
            lines = [v for raw in text.split("\n") for v in _visible(raw)]
        else:  # the common case, without a call per line
            lines = [s for s in map(str.rstrip, text.split("\n")) if s]
        seq = self.seq
        batch.logs = [(job_id, seq + i, now, "output", line[:MAX_LINE])
                      for i, line in enumerate(lines, 1)]
        batch.seq = seq + len(lines)
        ready_lines = READY_PREFIX in text  # only a serve job prints one
        for line in lines:
            if ready_lines:
                ready = parse_ready(line)
                if ready is not None:
                    batch.ready = ready
                    continue
            parsed = parse_line(line)
            if parsed is None:
                continue
            if parsed.step is not None:
                step = parsed.step
            for key in _PROGRESS:
                value = getattr(parsed, key)
                if value is not None:
                    progress[key] = value
            for name, value in parsed.metrics.items():
                metrics.append((job_id, step, now, name, value))
                n_metrics += 1
            if parsed.checkpoint:
                checkpoints.append((parsed.checkpoint, step))
        logs = batch.logs
        if step is not None:
            progress["step"] = step
        if n_metrics:
            batch.events.append((now, job_id, "METRICS_UPDATE",
                                 json.dumps({"count": n_metrics, "step": step})))
        if logs:
            batch.events.append((now, job_id, "LOG_LINE",
                                 json.dumps({"count": len(logs), "last_seq": batch.seq})))
        for path, at_step in checkpoints:  # the step it was saved at, for Monitor's list
            batch.events.append((now, job_id, "CHECKPOINT_SAVED",
                                 json.dumps({"path": path, "step": at_step})))
        self._pending_step = step
        return batch

    def commit(self, conn, batch: Batch) -> None:
        """Write the batch in the caller's transaction; call advance() once it committed."""
        ledger.append_output(conn, self.job_id, log_offset=batch.offset, log_seq=batch.seq,
                             logs=batch.logs, metrics=batch.metrics, progress=batch.progress,
                             events=batch.events)
        if batch.ready:  # in the same transaction: a crash cannot store the line but lose the state
            ledger.add_event(conn, "MODEL_READY", self.job_id, batch.ready)
            ledger.transition(self.job_id, (STARTING,), RUNNING, conn,
                              payload={"endpoint": batch.ready["endpoint"]},
                              endpoint=batch.ready["endpoint"])

    def advance(self, batch: Batch) -> None:
        # Only after COMMIT: a commit that fails (a full disk) must leave the offset where the
        # ledger has it, so the same lines are read again on the next pass.
        self.offset, self.seq, self.step = batch.offset, batch.seq, self._pending_step

    def drain(self, final: bool = False) -> int:
        """Read and store everything available; returns the number of lines stored."""
        total = 0
        while True:
            batch = self.read(final=final)
            if batch is None:
                return total
            with ledger.writer() as conn:
                self.commit(conn, batch)
            self.advance(batch)
            total += len(batch.logs)

    def tail_lines(self, n: int = 20) -> list[str]:
        """The last lines of the log file, for a failure reason."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(0, 2)
                size = fh.tell()
                fh.seek(max(0, size - 16384))
                data = fh.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [ln for ln in data.splitlines() if ln.strip()][-n:]
