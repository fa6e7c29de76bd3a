"""The ray executor: a job runs as a Ray Job on an existing cluster, through the Jobs API.

The supervisor talks to the cluster's dashboard over HTTP (the documented Ray Jobs REST API:
POST /api/jobs/, GET /api/jobs/ID, GET /api/jobs/ID/logs, POST /api/jobs/ID/stop) with
urllib and a timeout, so the daemon never imports ray and never hangs on a dead head.

Assumptions (docs/CLUSTERS.md): the node that runs the entrypoint sees this repository and
the halo-forge home at the same paths (a shared filesystem, or one machine), so it reads
JOB_DIR/job.json and leaves JOB_DIR/exit_status.json where the supervisor reads it. The
job's output comes back through the API and is appended to JOB_DIR/output.log.

Mapping: PENDING -> pending, RUNNING -> running, SUCCEEDED/FAILED/STOPPED -> exited with the
exit status the job wrapper left. A job Ray no longer knows (404: head restarted, job
deleted) is lost with that reason. A stop is Ray's stop (SIGTERM to the entrypoint's
processes, SIGKILL after RAY_JOB_STOP_WAIT_TIME_S, which we set to the supervisor's grace).
"""
from __future__ import annotations

import json
import logging
import shlex
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import REPO_ROOT
from core.runner import launch, profiles
from core.runner.executors import Launch, Poll
from core.runner.exitstatus import code_and_signal, describe, read_exit_status

log = logging.getLogger("halo_forge.ray")

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
# Variables of the supervisor's own environment that a job needs on the cluster too.
FORWARD_ENV = ("HALO_FORGE_HOME", "HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE",
               "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "TOKENIZERS_PARALLELISM")


class RayError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class RayJobsAPI:
    """The four calls of the Ray Jobs REST API that halo-forge uses."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address = address.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.address + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace").strip()
            raise RayError(f"Ray answered {exc.code} to {method} {path}: {text[-300:]}",
                           exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RayError(f"cannot reach the Ray cluster at {self.address}: {reason}") from None
        return json.loads(raw) if raw.strip() else {}

    def submit(self, **body) -> str:
        return self._call("POST", "/api/jobs/", body)["submission_id"]

    def info(self, submission_id: str) -> dict:
        return self._call("GET", f"/api/jobs/{submission_id}")

    def logs(self, submission_id: str) -> str:
        return self._call("GET", f"/api/jobs/{submission_id}/logs").get("logs", "")

    def stop(self, submission_id: str) -> bool:
        return bool(self._call("POST", f"/api/jobs/{submission_id}/stop").get("stopped"))


@dataclass
class _Seen:
    """What this executor knows of one Ray job between supervisor passes."""

    last: Poll | None = None
    polled_at: float = 0.0
    logs_at: float = 0.0
    log_cost: float = 0.0
    cancelled_at: float | None = None
    stop_delivered: bool = False  # Ray accepted our stop (else poll() sends it again)
    unreachable_since: float | None = None
    final: bool = False
    ended_at: float | None = None  # when Ray first reported a final state
    warned_at: float = 0.0
    extra: dict = field(default_factory=dict)


class RayExecutor:
    name = "ray"
    poll_s = 0.5  # at most one status request per job per this many seconds
    logs_s = 0.5  # and one log request (longer when the log is big: see sync_logs)
    unreachable_s = 120.0  # a cluster silent this long has lost its jobs
    backoff_s = 5.0  # after a failed call, no call for this long (a dead head costs little)
    status_lag_s = 10.0  # a shared filesystem may show exit_status.json a little late

    def __init__(self, profile: str | None) -> None:
        profiles.check_usable("ray", profile)
        self.profile = profiles.get(profile)
        self.api = RayJobsAPI(self.profile["address"])
        self.python = self.profile.get("python") or sys.executable
        self._seen: dict[str, _Seen] = {}
        self._down_until = 0.0
        self._down_error: RayError | None = None

    def _api(self, method: str, *args):
        """One call to the cluster; while it is down, fail at once instead of waiting on it."""
        now = time.time()
        if now < self._down_until and self._down_error is not None:
            raise self._down_error
        try:
            return getattr(self.api, method)(*args)
        except RayError as exc:
            if exc.status is None:  # not an answer: the cluster is unreachable
                self._down_until, self._down_error = now + self.backoff_s, exc
            raise

    # ---- submit ---------------------------------------------------------------------------

    def submit(self, job: dict, job_dir: Path, env: dict[str, str]) -> Launch:
        spec = json.loads((Path(job_dir) / "job.json").read_text())
        _, _, nodes = launch.plan(spec)
        if nodes > 1:
            raise ValueError(f"executor.nodes is {nodes}: a Ray job runs on one node; "
                             f"use a slurm profile for several nodes")
        command = [self.python, "-u", "-m", "core.runner", str(job_dir)]
        entrypoint = f"cd {shlex.quote(str(REPO_ROOT))} && exec {shlex.join(command)}"
        body: dict = {
            "entrypoint": entrypoint,
            "submission_id": f"halo-forge-{job['id']}-{uuid.uuid4().hex[:10]}",
            "runtime_env": {"env_vars": self.remote_env(env)},
            "metadata": {"halo_forge_job": str(job["id"]), "name": str(job.get("name", ""))[:200]},
        }
        if job.get("gpus"):
            body["entrypoint_num_gpus"] = int(job["gpus"])
        submission_id = self.api.submit(**body)
        self._seen[submission_id] = _Seen()
        return Launch(external_id=submission_id)

    @staticmethod
    def remote_env(env: dict[str, str]) -> dict[str, str]:
        """What the entrypoint gets on top of the cluster's own environment."""
        import os

        from core import settings

        out = {k: os.environ[k] for k in FORWARD_ENV if os.environ.get(k)}
        out.update({k: str(v) for k, v in env.items()})
        out["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), out.get("PYTHONPATH")) if p)
        out["PYTHONUNBUFFERED"] = "1"
        # Ray's own SIGTERM -> SIGKILL delay on a stop: give the job our grace to checkpoint.
        out.setdefault("RAY_JOB_STOP_WAIT_TIME_S", str(max(1, int(settings.load().grace_s))))
        return out

    # ---- status ---------------------------------------------------------------------------

    def poll(self, job: dict) -> Poll:
        sid = job["external_id"]
        seen = self._seen.setdefault(sid, _Seen())
        now = time.time()
        if seen.last is not None and not seen.final and now - seen.polled_at < self.poll_s:
            return seen.last
        seen.polled_at = now
        if seen.cancelled_at is not None and not seen.stop_delivered:
            self._send_stop(sid, seen)
        try:
            info = self._api("info", sid)
        except RayError as exc:
            result = self._not_answered(job, seen, exc, now)
        else:
            seen.unreachable_since = None
            result = self._map(job, seen, info)
        seen.last = result
        seen.final = result.state in ("exited", "lost")
        return result

    def _map(self, job: dict, seen: _Seen, info: dict) -> Poll:
        state = str(info.get("status", "")).upper()
        stopping = job.get("status") == "STOPPING" or seen.cancelled_at is not None
        if state == "PENDING":
            if stopping and seen.stop_delivered:
                # Ray keeps a stopped job PENDING until it gets resources, then stops it at
                # once (the stop request waits in its supervisor actor): it never runs.
                return Poll("exited", reason="stopped while still pending on Ray",
                            info={"engine_state": state})
            return Poll("pending", info={"engine_state": state, "message": info.get("message")})
        if state not in TERMINAL:
            return Poll("running", info={"engine_state": state})
        status = read_exit_status(Path(job["job_dir"]))
        seen.ended_at = seen.ended_at or time.time()
        message = (info.get("message") or "").strip()
        if state == "STOPPED" and not stopping:
            return Poll("lost", *code_and_signal(status),
                        reason=f"stopped on the Ray cluster outside halo-forge ({message})")
        if status is not None:
            return Poll("exited", status["returncode"], status.get("signal"), status.get("error"))
        if state == "STOPPED":
            return Poll("exited", None, None, "stopped on Ray before it left an exit status")
        if state == "FAILED":
            code = info.get("driver_exit_code")
            return Poll("exited", code if code else 1, None,
                        f"Ray: {message or 'the entrypoint failed'}")
        if time.time() - seen.ended_at < self.status_lag_s:
            return Poll("running", info={"engine_state": state, "waiting": "exit status"})
        return Poll("lost", reason=f"Ray reports job {job['external_id']} SUCCEEDED but it left no "
                                   f"exit status in {job['job_dir']}: the cluster must share "
                                   f"that filesystem (see docs/CLUSTERS.md)")

    def _not_answered(self, job: dict, seen: _Seen, exc: RayError, now: float) -> Poll:
        if exc.status == 404:
            status = read_exit_status(Path(job["job_dir"]))
            if status is not None and status.get("returncode") == 0:
                return Poll("exited", 0)  # it finished before the cluster forgot it
            said = f"; its exit status says {describe(status)}" if status else ""
            return Poll("lost", *code_and_signal(status),
                        reason=f"Ray no longer knows job {job['external_id']} (the cluster was "
                               f"restarted or the job was deleted){said}")
        if seen.unreachable_since is None:
            seen.unreachable_since = now
        silent = now - seen.unreachable_since
        if silent >= self.unreachable_s:
            return Poll("lost", reason=f"{exc}; silent for {silent:.0f} s, so its jobs are "
                                       f"taken as lost")
        if now - seen.warned_at > 60:
            log.warning("job %s: %s (retrying)", job["id"], exc)
            seen.warned_at = now
        return seen.last or Poll("pending")

    # ---- output ---------------------------------------------------------------------------

    def sync_logs(self, job: dict) -> None:
        """Append what Ray's log of the job has beyond output.log's length (output.log holds
        only Ray's log, so its size is the offset, across supervisor restarts too)."""
        sid = job.get("external_id")
        if not sid:
            return
        seen = self._seen.setdefault(sid, _Seen())
        now = time.time()
        # The whole log comes back on each call: ask less often for a big one.
        if not seen.final and now - seen.logs_at < max(self.logs_s, 4 * seen.log_cost):
            return
        seen.logs_at = now
        try:
            text = self._api("logs", sid)
        except RayError:
            return  # poll() reports what matters (lost, unreachable)
        seen.log_cost = time.time() - now
        data = text.encode("utf-8", "replace")
        path = Path(job["job_dir"]) / "output.log"
        have = path.stat().st_size if path.exists() else 0
        if len(data) > have:
            with open(path, "ab") as fh:
                fh.write(data[have:])

    # ---- stop -----------------------------------------------------------------------------

    def cancel(self, job: dict, force: bool = False) -> None:
        """Ray's stop: SIGTERM now, SIGKILL after RAY_JOB_STOP_WAIT_TIME_S (set at submit to
        our grace). A second, forced call has nothing stronger to send; it repeats the stop."""
        sid = job.get("external_id")
        if not sid:
            return
        seen = self._seen.setdefault(sid, _Seen())
        seen.cancelled_at = seen.cancelled_at or time.time()
        seen.polled_at = 0.0  # look again on the next pass
        seen.stop_delivered = False
        self._send_stop(sid, seen)

    def _send_stop(self, sid: str, seen: _Seen) -> None:
        try:
            self._api("stop", sid)
        except RayError as exc:
            if exc.status != 404:  # unreachable or refused: poll() tries again
                log.warning("stopping Ray job %s: %s (will retry)", sid, exc)
                return
        seen.stop_delivered = True

