"""The slurm executor: a job runs as a Slurm batch job (sbatch / squeue / sacct / scancel).

The supervisor runs on a login node (or any host with the Slurm client commands and the
cluster's slurm.conf). Assumption (docs/CLUSTERS.md): the compute nodes share this
repository and the halo-forge home at the same paths, so the batch job writes its output
straight into JOB_DIR/output.log (`sbatch --output`, append mode) and leaves
JOB_DIR/exit_status.json; `sync_logs` has nothing to bring back.

Status: one `squeue --me -t all` per pass for every job at once (cached `poll_s`), mapped
onto pending / running / exited. A job squeue no longer lists (purged after MinJobAge
without slurmdbd, or a controller started clean) is looked up with sacct when accounting
is on; otherwise it is lost with that reason, unless it left a clean exit status.
Stop: `scancel --signal=TERM --full` (the wrapper and the job see SIGTERM; the job saves and
exits; the batch job ends), then after the supervisor's grace `scancel --signal=KILL --full`
and `scancel`. A job still pending is simply cancelled.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.paths import REPO_ROOT
from core.runner import launch, profiles
from core.runner.executors import Launch, Poll
from core.runner.exitstatus import code_and_signal, describe, read_exit_status

log = logging.getLogger("halo_forge.slurm")

PENDING_STATES = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                  "RESV_DEL_HOLD", "SPECIAL_EXIT"}
TERMINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                   "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "REVOKED"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SlurmError(RuntimeError):
    pass


@dataclass
class _Seen:
    state: str | None = None
    reason: str | None = None
    cancelled_at: float | None = None
    cancel_delivered: bool = False  # scancel succeeded (else poll() runs it again)
    ended_at: float | None = None  # when squeue first showed a final state
    gone_at: float | None = None  # when squeue first stopped listing it
    submitted_at: float = 0.0  # a queue listing older than this cannot know the job yet


class SlurmExecutor:
    name = "slurm"
    poll_s = 1.0  # one squeue per this many seconds for all jobs
    unreachable_s = 600.0  # a controller silent this long: its jobs are taken as lost
    status_lag_s = 10.0  # a shared filesystem may show exit_status.json a little late
    command_timeout_s = 30.0

    def __init__(self, profile: str | None) -> None:
        profiles.check_usable("slurm", profile)
        self.profile = profiles.get(profile)
        self.python = self.profile.get("python") or sys.executable
        self._seen: dict[str, _Seen] = {}
        self._queue: dict[str, tuple[str, str]] = {}
        self._queue_at = 0.0  # when the cached listing was asked for
        self._unreachable_since: float | None = None
        self._error: str | None = None
        self._warned_at = 0.0
        self._sacct: bool | None = None  # unknown until first needed

    # ---- submit ---------------------------------------------------------------------------

    def submit(self, job: dict, job_dir: Path, env: dict[str, str]) -> Launch:
        job_dir = Path(job_dir)
        spec = json.loads((job_dir / "job.json").read_text())
        script = job_dir / "slurm.sh"
        args = self.sbatch_args(job, spec, job_dir)
        script.write_text(self.batch_script(job, job_dir, env, args))
        out = self._run(args + [str(script)], what="sbatch")
        job_id = out.strip().split(";")[0].strip()
        if not job_id.isdigit():
            raise SlurmError(f"sbatch printed {out.strip()!r} instead of a job id")
        self._seen[job_id] = _Seen(state="PENDING", submitted_at=time.time())
        self._queue_at = 0.0
        return Launch(external_id=job_id)

    def sbatch_args(self, job: dict, spec: dict, job_dir: Path) -> list[str]:
        _, procs, nodes = launch.plan(spec)
        limit = self.profile.get("nodes")
        if limit and nodes > limit:
            raise ValueError(f"executor.nodes is {nodes} but profile {self.profile['name']!r} "
                             f"allows at most {limit}")
        per_node = int(job.get("gpus") or 0) // nodes
        gpus_per_node = self.profile.get("gpus_per_node")
        if gpus_per_node and per_node > gpus_per_node:
            raise ValueError(f"executor.gpus is {per_node} per node but the nodes of profile "
                             f"{self.profile['name']!r} have {gpus_per_node}")
        args = ["sbatch", "--parsable", f"--job-name=halo-forge-{job['id']}",
                f"--output={job_dir / 'output.log'}", "--open-mode=append",
                f"--chdir={REPO_ROOT}", f"--nodes={nodes}", "--ntasks-per-node=1",
                "--export=ALL"]
        for key, flag in (("partition", "--partition"), ("account", "--account"),
                          ("time_limit", "--time")):
            if self.profile.get(key):
                args.append(f"{flag}={self.profile[key]}")
        if per_node > 0 and gpus_per_node != 0:
            args.append(f"--gpus-per-node={per_node}")
        elif procs > 1:
            args.append(f"--cpus-per-task={procs}")  # CPU-only partition: a core per process
        return args

    def batch_script(self, job: dict, job_dir: Path, env: dict[str, str], args: list[str]) -> str:
        lines = ["#!/bin/bash",
                 f"# halo-forge job {job['id']}, submitted as:",
                 f"#   {shlex.join(args)} {shlex.quote(str(job_dir / 'slurm.sh'))}"]
        exports = dict(env)
        exports["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
        exports["PYTHONUNBUFFERED"] = "1"
        for key, value in exports.items():
            if not _ENV_NAME.match(key):
                raise ValueError(f"env: {key!r} is not a valid environment variable name")
            lines.append(f"export {key}={shlex.quote(str(value))}")
        # exec: the wrapper takes the batch shell's place, so Slurm's signals reach it directly.
        lines.append(f"exec {shlex.join([self.python, '-u', '-m', 'core.runner', str(job_dir)])}")
        return "\n".join(lines) + "\n"

    # ---- status ---------------------------------------------------------------------------

    def poll(self, job: dict) -> Poll:
        jid = str(job["external_id"])
        seen = self._seen.setdefault(jid, _Seen())
        now = time.time()
        queue = self._refresh_queue(now)
        if queue is None:  # the controller does not answer
            silent = now - (self._unreachable_since or now)
            if silent >= self.unreachable_s:
                return Poll("lost", reason=f"the Slurm controller has not answered for "
                                           f"{silent:.0f} s ({self._error})")
            return self._last(seen)
        if seen.cancelled_at is not None and not seen.cancel_delivered:
            self.cancel(job)  # an earlier scancel failed (the controller was busy or down)
        if jid in queue:
            seen.state, seen.reason = queue[jid]
            seen.gone_at = None
            return self._map(job, seen, now)
        if self._queue_at < seen.submitted_at:  # listed before the job existed: ask again
            self._queue_at = 0.0
            return self._last(seen)
        seen.gone_at = seen.gone_at or now
        return self._gone(job, seen, now)

    def _last(self, seen: _Seen) -> Poll:
        if seen.state in PENDING_STATES:
            return Poll("pending")
        return Poll("running")

    def _map(self, job: dict, seen: _Seen, now: float) -> Poll:
        state = seen.state or ""
        stopping = job.get("status") == "STOPPING" or seen.cancelled_at is not None
        status = read_exit_status(Path(job["job_dir"]))
        if state in PENDING_STATES:
            return Poll("pending", info={"engine_state": state, "reason": seen.reason})
        if state not in TERMINAL_STATES:
            if state == "COMPLETING" and status is not None:
                return _exited(status)
            return Poll("running", info={"engine_state": state})
        seen.ended_at = seen.ended_at or now
        if stopping:
            return _exited(status) if status else Poll("exited", reason=f"Slurm: {state}")
        if state == "CANCELLED":
            return Poll("lost", *code_and_signal(status), reason="cancelled on Slurm outside halo-forge "
                                                     "(scancel, or an administrator)")
        if state != "COMPLETED":
            # TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED...: a job that saved and exited 0
            # on Slurm's SIGTERM did not finish its work.
            said = f"; its exit status says {describe(status)}" if status else ""
            return Poll("lost", *code_and_signal(status),
                        reason=f"Slurm ended job {job['external_id']} as {state} "
                               f"({seen.reason or 'no reason given'}){said}")
        if status is not None:
            return _exited(status)
        if now - seen.ended_at < self.status_lag_s:
            return Poll("running", info={"engine_state": state, "waiting": "exit status"})
        return Poll("lost", reason=f"Slurm reports job {job['external_id']} COMPLETED but it left "
                                   f"no exit status in {job['job_dir']}: the compute nodes must "
                                   f"share that filesystem (see docs/CLUSTERS.md)")

    def _gone(self, job: dict, seen: _Seen, now: float) -> Poll:
        """squeue no longer lists the job: ask sacct, else decide from the job dir."""
        record = self._sacct_state(str(job["external_id"]))
        if record is not None:
            seen.state, seen.reason = record
            return self._map(job, seen, now)
        status = read_exit_status(Path(job["job_dir"]))
        if status is not None and status.get("returncode") == 0:
            return Poll("exited", 0)  # finished, then purged while nobody was watching
        if status is None and now - seen.gone_at < self.status_lag_s and seen.state in TERMINAL_STATES:
            return Poll("running", info={"waiting": "exit status"})
        said = f"; its exit status says {describe(status)}" if status else ""
        return Poll("lost", *code_and_signal(status),
                    reason=f"Slurm no longer knows job {job['external_id']} (purged by the "
                           f"controller, and sacct is not available){said}")

    def _refresh_queue(self, now: float) -> dict[str, tuple[str, str]] | None:
        if now - self._queue_at < (self.poll_s if self._unreachable_since is None else 15.0):
            return None if self._unreachable_since is not None else self._queue
        self._queue_at = now
        try:
            out = self._run(["squeue", "--me", "-h", "-t", "all", "-o", "%i|%T|%r"],
                            what="squeue", timeout=15.0)
        except SlurmError as exc:
            self._unreachable_since = self._unreachable_since or now
            self._error = str(exc)
            if now - self._warned_at > 60:
                log.warning("%s (retrying)", exc)
                self._warned_at = now
            return None
        self._unreachable_since = None
        queue = {}
        for line in out.splitlines():
            parts = line.strip().split("|")
            if len(parts) >= 2:
                queue[parts[0]] = (parts[1].split()[0].rstrip("+"), parts[2] if len(parts) > 2 else "")
        self._queue = queue
        return queue

    def _sacct_state(self, jid: str) -> tuple[str, str] | None:
        if self._sacct is False:
            return None
        try:
            out = self._run(["sacct", "-n", "-X", "-P", "-j", jid, "-o", "State,ExitCode"],
                            what="sacct", timeout=15.0)
        except SlurmError:
            self._sacct = False  # "accounting storage is disabled": do not ask again
            return None
        self._sacct = True
        for line in out.splitlines():
            parts = line.strip().split("|")
            if parts and parts[0]:
                return parts[0].split()[0].rstrip("+"), f"exit code {parts[1]}" if len(parts) > 1 else ""
        return None

    # ---- output and stop ------------------------------------------------------------------

    def sync_logs(self, job: dict) -> None:
        return None  # sbatch --output writes JOB_DIR/output.log itself (shared filesystem)

    def cancel(self, job: dict, force: bool = False) -> None:
        jid = str(job.get("external_id") or "")
        if not jid:
            return
        seen = self._seen.setdefault(jid, _Seen())
        seen.cancelled_at = seen.cancelled_at or time.time()
        if force:
            killed = self._scancel(["--signal=KILL", "--full", jid])
            seen.cancel_delivered = self._scancel([jid]) or killed
        elif self._current_state(jid, seen) in PENDING_STATES | {None}:
            # Never signal a pending job: scancel --signal then retries until it starts.
            seen.cancel_delivered = self._scancel([jid])
        else:
            # Running: SIGTERM to every step, the batch one too, so the job can save. If that
            # does not go through (it just ended, or is between states), cancel outright.
            seen.cancel_delivered = (self._scancel(["--signal=TERM", "--full", jid], timeout=10.0)
                                     or self._scancel([jid]))
        self._queue_at = 0.0  # see the new state on the next pass

    def _current_state(self, jid: str, seen: _Seen) -> str | None:
        """The job's state now (a fresh squeue unless this pass already asked)."""
        if time.time() - self._queue_at > 0.5 or jid not in self._queue:
            self._queue_at = 0.0
            self._refresh_queue(time.time())
        if jid in self._queue:
            seen.state = self._queue[jid][0]
            return seen.state
        return None

    def _scancel(self, args: list[str], timeout: float | None = None) -> bool:
        try:
            self._run(["scancel"] + args, what="scancel", timeout=timeout)
            return True
        except SlurmError as exc:
            log.info("%s", exc)
            return False

    # ---- commands -------------------------------------------------------------------------

    def _run(self, args: list[str], what: str, timeout: float | None = None) -> str:
        try:
            proc = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout or self.command_timeout_s)
        except FileNotFoundError:
            raise SlurmError(f"{args[0]} is not on this machine's PATH") from None
        except subprocess.TimeoutExpired:
            raise SlurmError(f"{what} did not answer within {timeout or self.command_timeout_s:.0f} s") from None
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise SlurmError(f"{what} failed: {detail[-1] if detail else f'exit code {proc.returncode}'}")
        return proc.stdout


def _exited(status: dict) -> Poll:
    return Poll("exited", status["returncode"], status.get("signal"), status.get("error"))

