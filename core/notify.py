"""Job-end notifications: a JSON POST to a webhook when a job ends, retried with back-off.

The supervisor runs one Notifier in its own thread. It follows the ledger's event stream
(JOB_COMPLETED / JOB_FAILED / JOB_STOPPED, whoever made the change: the supervisor, a stop of
a queued job from a page, a failure to launch), so the supervisor's pass only ever writes the
status as before and never waits on the network. A slow endpoint holds up this thread only,
for at most TIMEOUT_S per attempt.

The cursor (the last event handed on) is kept in HALO_FORGE_HOME/notify_cursor.json, so a
restarted supervisor neither repeats nor skips endings; a first start begins at the newest
event rather than announcing history. Retries still pending when the supervisor stops are
dropped (said in docs/notifications.md).

Payload: {"event", "id", "name", "kind", "status", "duration_s", "started_at",
"finished_at", "error", "metrics": {name: last value}, "results": [...], "energy_wh",
"peak_mem_mb"}.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from core import credentials, ledger, paths

log = logging.getLogger("halo_forge.notify")

END_EVENTS = ("JOB_COMPLETED", "JOB_FAILED", "JOB_STOPPED")
RETRY_DELAYS_S = (2.0, 10.0, 30.0, 120.0, 600.0)  # after the first attempt; then give up
TIMEOUT_S = 5.0
MAX_METRICS = 30
CURSOR_FILE = "notify_cursor.json"


@dataclass
class Delivery:
    url: str
    payload: dict
    attempts: int = 0
    due: float = field(default_factory=time.monotonic)
    last_error: str | None = None


def post_json(url: str, payload: dict, timeout: float = TIMEOUT_S) -> None:
    """POST payload as JSON; raises on a network error or a non-2xx answer."""
    body = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "halo-forge-notify"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 -- http(s) only
        if not 200 <= resp.status < 300:
            raise urllib.error.HTTPError(url, resp.status, resp.reason, resp.headers, None)


def job_payload(job_id: int, event: str) -> dict | None:
    """What a webhook receives about a job that ended (None when the job is gone)."""
    job = ledger.get_job(job_id)
    if job is None:
        return None
    start, end = job.get("started_at"), job.get("finished_at")
    with ledger.reader() as conn:
        # The newest value of each metric name: one index range per job.
        metrics = {n: v for n, v in conn.execute(
            "SELECT name, value FROM metric WHERE id IN (SELECT MAX(id) FROM metric "
            "WHERE job_id = :j GROUP BY name) ORDER BY name LIMIT :n",
            {"j": job_id, "n": MAX_METRICS}).all()}
        results = [dict(r) for r in conn.execute(
            "SELECT model, benchmark, primary_metric, primary_value, samples FROM result "
            "WHERE job_id = :j ORDER BY id LIMIT 20", {"j": job_id})]
    return {"event": event, "id": job_id, "name": job["name"], "kind": job["kind"],
            "status": job["status"], "started_at": start, "finished_at": end,
            "duration_s": round(end - start, 3) if start and end else None,
            "error": job.get("error"), "exit_code": job.get("exit_code"),
            "metrics": metrics, "results": results,
            "energy_wh": job.get("energy_wh"), "peak_mem_mb": job.get("peak_mem_mb")}


class Notifier:
    """Follows job endings and delivers them; `run(stop)` is the thread's body."""

    def __init__(self, post: Callable[[str, dict], None] = post_json,
                 delays: tuple[float, ...] = RETRY_DELAYS_S, poll_s: float = 1.0) -> None:
        self.post = post
        self.delays = delays
        self.poll_s = poll_s
        self.pending: list[Delivery] = []
        self.cursor = self._load_cursor()

    # ---- the event stream -----------------------------------------------------------------

    @staticmethod
    def _cursor_path():
        return paths.home() / CURSOR_FILE

    def _load_cursor(self) -> int:
        try:
            return int(json.loads(self._cursor_path().read_text())["event_id"])
        except (OSError, ValueError, KeyError, TypeError):
            with ledger.reader() as conn:
                newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM event").scalar()
            self._save_cursor(int(newest))
            return int(newest)

    def _save_cursor(self, event_id: int) -> None:
        path = self._cursor_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"event_id": event_id}))
        tmp.replace(path)

    def poll_events(self) -> int:
        """Queue a delivery for each job ending since the cursor; returns how many."""
        marks = ",".join(f"'{k}'" for k in END_EVENTS)
        with ledger.reader() as conn:
            rows = conn.execute(
                f"SELECT id, job_id, kind FROM event WHERE id > :c AND kind IN ({marks}) "
                "ORDER BY id LIMIT 200", {"c": self.cursor}).all()
        queued = 0
        for event_id, job_id, kind in rows:
            job = ledger.get_job(job_id) if job_id is not None else None
            url = credentials.notify_url(job["job_dir"] if job else None)
            payload = job_payload(job_id, kind) if url and job else None
            if payload:
                self.pending.append(Delivery(url, payload))
                queued += 1
            self.cursor = event_id
        if rows:
            self._save_cursor(self.cursor)
        return queued

    # ---- delivery -------------------------------------------------------------------------

    def deliver_due(self, now: float | None = None) -> None:
        for d in [d for d in self.pending if d.due <= (now or time.monotonic())]:
            d.attempts += 1
            try:
                self.post(d.url, d.payload)
            except Exception as exc:  # noqa: BLE001 -- any failure is retried the same way
                d.last_error = _short(exc)
                if d.attempts > len(self.delays):
                    self.pending.remove(d)
                    self._record(d, ok=False)
                else:
                    d.due = time.monotonic() + self.delays[d.attempts - 1]
                    log.info("notification for job %s failed (%s); retry %d in %.0f s",
                             d.payload["id"], d.last_error, d.attempts, self.delays[d.attempts - 1])
                continue
            self.pending.remove(d)
            self._record(d, ok=True)

    def _record(self, d: Delivery, ok: bool) -> None:
        info = {"to": credentials.mask_url(d.url), "attempts": d.attempts,
                "status": d.payload["status"]}
        if not ok:
            info["error"] = d.last_error
            log.error("gave up notifying %s of job %s after %d attempts: %s", info["to"],
                      d.payload["id"], d.attempts, d.last_error)
        with ledger.writer() as conn:
            ledger.add_event(conn, "NOTIFY_SENT" if ok else "NOTIFY_FAILED",
                             d.payload["id"], info)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_events()
                self.deliver_due()
            except Exception:  # noqa: BLE001 -- a bad pass must not end notifications
                log.exception("notification pass failed")
            stop.wait(self.poll_s)


def start_thread(stop: threading.Event) -> threading.Thread:
    """The supervisor's notification thread (a daemon thread: it never holds up a shutdown)."""
    notifier = Notifier()
    thread = threading.Thread(target=notifier.run, args=(stop,), name="notifier", daemon=True)
    thread.start()
    return thread


def attach(job_id: int, url: str | None) -> None:
    """Give a queued job its own webhook (kept 0600 in its folder); nothing when url is empty."""
    if (url or "").strip():
        job = ledger.get_job(job_id)
        if job is not None:
            credentials.set_job_notify_url(job["job_dir"], url)


def send_test(url: str | None = None) -> str:
    """Post a test payload now (the Settings page and `halo-forge notify test`); returns the
    masked target. Raises with the reason when the endpoint does not accept it."""
    url = url or credentials.notify_url()
    if not url:
        raise credentials.CredentialError("no webhook URL is set (set one first, or "
                                          f"{credentials.NOTIFY_ENV})")
    post_json(url, {"event": "TEST", "id": None, "name": "halo-forge test notification",
                    "kind": "test", "status": "TEST", "duration_s": 0, "metrics": {},
                    "results": [], "error": None})
    return credentials.mask_url(url)


def describe(exc: BaseException) -> str:
    """A delivery failure in a few words, without the URL."""
    return _short(exc)


def _short(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"[:200]
