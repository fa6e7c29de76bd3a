"""The supervisor: the only process that starts, stops and reaps jobs.

One loop, one pass at a time: act on stop requests, follow running jobs (output into rows,
exits into final states), then claim queued jobs into free GPU slots. Signal handlers only set
a flag. Jobs run in their own sessions and outlive the supervisor; a restarted one picks them
up again by pid plus start time (or the engine's job id) and the offsets stored in the ledger.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from core import credentials, kinds, ledger, notify, settings as settings_mod
from core.ledger import ACTIVE, COMPLETED, FAILED, QUEUED, RUNNING, STARTING, STOPPED, STOPPING
from core.runner.diskguard import DiskGuard
from core.runner.executors import Executor, LocalExecutor, Poll, make_executor
from core.runner.tail import Tailer

log = logging.getLogger("halo_forge.supervisor")


@dataclass
class Tracked:
    job: dict
    executor: Executor
    tailer: Tailer
    term_sent_at: float | None = None
    killed: bool = False


class Supervisor:
    def __init__(self, cfg: settings_mod.Settings | None = None) -> None:
        self.cfg = cfg or settings_mod.load()
        self.gpus = _detect_gpus()
        self.slots = self.cfg.slots or max(1, len(self.gpus))
        self.local = LocalExecutor()
        self._remote: dict[tuple[str, str | None], Executor] = {}
        self.tracked: dict[int, Tracked] = {}
        self._stop = threading.Event()
        self._last_prune = 0.0
        self.disk = DiskGuard(self._stop.set)  # full disk: pause launching; damage: stop

    # ---- lifecycle ------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    def request_shutdown(self) -> None:
        self._stop.set()

    def run(self) -> None:
        log.info("supervisor up: %d GPU slot(s), %d GPU(s) detected", self.slots, len(self.gpus))
        self.reconcile()
        sampler = threading.Thread(target=self._gpu_loop, name="gpu-sampler", daemon=True)
        sampler.start()
        notify.start_thread(self._stop)  # webhooks never wait in this loop
        self._start_backups()
        while not self._stop.is_set():
            started = time.monotonic()
            self.tick()
            self._stop.wait(max(0.0, self.cfg.poll_s - (time.monotonic() - started)))
        # Jobs keep running without us; a last pass stores what they printed so far.
        if self.disk.damaged is None:
            self._follow()
        log.info("supervisor down; %d job(s) left running", len(self.tracked))

    def tick(self) -> None:
        self.disk.check()
        for step in (self._refresh, self._handle_stops, self._follow, self._launch):
            if self.disk.damaged is not None:
                return  # not one more write to a damaged file
            try:
                step()
            except Exception as exc:  # one bad pass must not take the daemon down
                if not self.disk.failed(exc):
                    log.error("supervisor pass %s failed:\n%s", step.__name__,
                              traceback.format_exc())

    def _start_backups(self) -> None:
        """The rotating daily ledger backup, in its own thread (a big ledger takes seconds)."""
        self.disk.publish()  # allocates the health file while there is room
        if self.cfg.backup_keep <= 0:
            return

        def report(path):
            self.disk.extra["last_backup"] = str(path)
            self.disk.publish()

        from core import ledger_backup

        threading.Thread(target=ledger_backup.rotation_loop, name="ledger-backup", daemon=True,
                         args=(self._stop, self.cfg.backup_keep, self.cfg.backup_every_h * 3600,
                               report)).start()

    # ---- restart --------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Adopt the jobs a previous supervisor left running."""
        for job in ledger.list_jobs(ACTIVE):
            if job["status"] == STARTING and not job["external_id"]:
                # Claimed but never launched: put it back in the queue.
                ledger.transition(job["id"], (STARTING,), QUEUED,
                                  payload={"reason": "requeued after a supervisor restart"})
                continue
            try:
                self._track(job)
            except Exception as exc:
                self._finish(job, Poll("lost", reason=f"could not re-attach: {exc}"))
        log.info("re-attached %d running job(s)", len(self.tracked))

    def _track(self, job: dict) -> Tracked:
        tr = Tracked(job, self._executor(job), Tailer(job))
        if job["status"] == STOPPING and job.get("stop_requested_at"):
            tr.term_sent_at = None  # send SIGTERM again; the grace counts from the request
        self.tracked[job["id"]] = tr
        return tr

    def _executor(self, job: dict) -> Executor:
        if job["executor"] == "local":
            return self.local
        key = (job["executor"], job.get("profile"))
        if key not in self._remote:
            self._remote[key] = make_executor(*key)
        return self._remote[key]

    # ---- passes ---------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Pick up stop requests and rows changed by others."""
        rows = {j["id"]: j for j in ledger.list_jobs(ACTIVE)}
        for job_id, tr in list(self.tracked.items()):
            row = rows.get(job_id)
            if row is None:  # closed by someone else (deleted, or finished by a twin pass)
                if ledger.get_job(job_id) is None or ledger.get_job(job_id)["status"] not in ACTIVE:
                    del self.tracked[job_id]
                continue
            tr.job = row

    def _handle_stops(self) -> None:
        now = time.time()
        for tr in self.tracked.values():
            if tr.job["status"] != STOPPING:
                continue
            if tr.term_sent_at is None:
                tr.executor.cancel(tr.job, force=False)
                tr.term_sent_at = now
                requested = tr.job.get("stop_requested_at") or now
                tr.term_sent_at = min(now, requested)
            elif not tr.killed and now - tr.term_sent_at >= self.cfg.grace_s:
                log.info("job %s did not stop within %.0f s: SIGKILL", tr.job["id"],
                         self.cfg.grace_s)
                tr.executor.cancel(tr.job, force=True)
                tr.killed = True

    def _follow(self) -> None:
        for job_id, tr in list(self.tracked.items()):
            try:
                tr.executor.sync_logs(tr.job)
                tr.tailer.drain()
                result = tr.executor.poll(tr.job)
                if (result.state == "running" and tr.job["status"] == STARTING
                        and not _waits_for_ready(tr.job)):
                    if ledger.transition(job_id, (STARTING,), RUNNING,
                                         payload={"executor": tr.job["executor"]}):
                        tr.job = ledger.get_job(job_id) or tr.job
                if result.state in ("exited", "lost"):
                    tr.executor.sync_logs(tr.job)
                    tr.tailer.drain(final=True)
                    self._finish(tr.job, result, tr)
                    del self.tracked[job_id]
            except Exception as exc:  # an engine hiccup or a full disk: try again next pass
                if not self.disk.failed(exc):
                    log.error("following job %s failed:\n%s", job_id, traceback.format_exc())

    def _launch(self) -> None:
        if self.disk.paused:  # a job started now could not even be recorded
            return
        self._fail_oversized()
        while not self._stop.is_set():
            job = ledger.claim_next(self._free_slots())
            if job is None:
                return
            self._start(job)

    def _free_slots(self) -> int:
        # Remote jobs use the cluster's GPUs, not this machine's.
        return self.slots - sum(tr.job["gpus"] for tr in self.tracked.values()
                                if tr.job["executor"] == "local")

    def _fail_oversized(self) -> None:
        for job in ledger.list_jobs((QUEUED,)):
            if job["gpus"] > self.slots and job["executor"] == "local":
                ledger.transition(job["id"], (QUEUED,), FAILED,
                                  error=f"the job asks for {job['gpus']} GPU slots but this "
                                        f"supervisor has {self.slots}")

    def _start(self, job: dict) -> None:
        job_dir = Path(job["job_dir"])
        try:
            env = self._environment(job)
            executor = self._executor(job)
            job_dir.mkdir(parents=True, exist_ok=True)
            # Secrets go to a local process only: never onto the job row with `env`, nor into
            # a cluster engine's batch script or job record (clusters keep their own HF login).
            secret = credentials.job_env() if job["executor"] == "local" else {}
            launch = executor.submit(job, job_dir, {**env, **secret})
        except Exception as exc:
            log.error("could not launch job %s:\n%s", job["id"], traceback.format_exc())
            ledger.transition(job["id"], (STARTING, STOPPING), FAILED,
                              error=f"could not launch: {exc}")
            return
        fields = dict(external_id=launch.external_id, pid=launch.pid,
                      pid_start=launch.pid_start, env=json.dumps(env))
        # A local process runs from here on; a cluster job may wait in the engine's queue, so
        # it stays STARTING until the engine first reports it running (see _follow).
        # A served model stays STARTING until its endpoint answers (its MODEL_READY line).
        if not (job["executor"] == "local" and not _waits_for_ready(job) and ledger.transition(
                job["id"], (STARTING,), RUNNING, payload={"executor": "local"}, **fields)):
            with ledger.writer() as conn:  # remote, or stopped while starting
                ledger.update_job(conn, job["id"], **fields)
                ledger.add_event(conn, "JOB_SUBMITTED", job["id"],
                                 {"executor": job["executor"], "external_id": launch.external_id})
        self._track(ledger.get_job(job["id"]))

    def _environment(self, job: dict) -> dict[str, str]:
        """Variables given to the job on top of ours; recorded on the job row."""
        import os

        config = json.loads(job["config"] or "{}")
        env: dict[str, str] = dict(config.get("env") or {})
        env["HALO_FORGE_JOB_ID"] = str(job["id"])
        visible = self._assign_devices(job)
        force = {"on": True, "off": False}.get(self.cfg.strix_env)
        try:
            from core.rocm_env import strix_halo_env

            env.update(strix_halo_env(self.gpus, {**os.environ, **env}, force=force,
                                      visible_devices=visible))
        except ImportError:
            pass
        if visible is not None:
            # Pin the job to its slot's devices (the Strix Halo env may already have done so).
            vendors = {g.get("vendor") for g in self.gpus}
            if "nvidia" in vendors:
                env.setdefault("CUDA_VISIBLE_DEVICES", visible)
            if "amd" in vendors and not os.environ.get("HIP_VISIBLE_DEVICES"):
                env.setdefault("HIP_VISIBLE_DEVICES", visible)
        return env

    def _assign_devices(self, job: dict) -> str | None:
        """Give a local GPU job device indices no other running job holds."""
        if not self.gpus or job["gpus"] <= 0 or job["executor"] != "local":
            return None
        used: set[str] = set()
        for tr in self.tracked.values():
            env = json.loads(tr.job.get("env") or "{}")
            devices = env.get("HIP_VISIBLE_DEVICES") or env.get("CUDA_VISIBLE_DEVICES") or ""
            used.update(d for d in devices.split(",") if d)
        free = [str(i) for i in range(len(self.gpus)) if str(i) not in used]
        return ",".join(free[: job["gpus"]]) or None

    # ---- endings --------------------------------------------------------------------------

    def _finish(self, job: dict, result: Poll, tr: Tracked | None = None) -> None:
        current = ledger.get_job(job["id"]) or job
        status = current["status"]
        if status not in ACTIVE:
            return
        fields = {"exit_code": result.returncode, "exit_signal": result.signal,
                  **_usage(current)}
        if status == STOPPING:
            ledger.transition(job["id"], (STOPPING,), STOPPED, **fields)
            return
        if result.state == "exited" and result.returncode == 0:
            self._complete(current, fields)
            return
        ledger.transition(job["id"], ACTIVE, FAILED, error=self._reason(current, result, tr),
                          **fields)

    def _complete(self, job: dict, fields: dict) -> None:
        try:
            rows = _read_results(Path(job["job_dir"]))
        except (ValueError, KeyError, TypeError) as exc:
            ledger.transition(job["id"], ACTIVE, FAILED,
                              error=f"results.json is unreadable: {exc}", **fields)
            return
        with ledger.writer() as conn:
            done = ledger.transition(job["id"], ACTIVE, COMPLETED, conn,
                                     payload={"results": len(rows)}, **fields)
            if done:
                for row in rows:
                    ledger.insert_result(conn, job["id"], row)
        if done:
            self._follow_up(job)

    @staticmethod
    def _follow_up(job: dict) -> None:
        """A training job that asked for an export after it gets one queued now."""
        from core.export.followup import queue_after_training

        try:
            queued = queue_after_training(job)
        except Exception as exc:  # a bad follow-up must not stop the supervisor
            log.warning("job %s: the export after training was not queued: %s", job["id"], exc)
            return
        if queued:
            log.info("job %s: export job %s queued after training", job["id"], queued)

    @staticmethod
    def _reason(job: dict, result: Poll, tr: Tracked | None) -> str:
        if result.state == "lost":
            head = result.reason or "the job's process disappeared"
        elif result.signal:
            head = f"killed by {result.signal}"
        else:
            head = f"exited with code {result.returncode}"
            if result.reason:
                head += f" ({result.reason})"
        tailer = tr.tailer if tr else Tailer(job)
        last = tailer.tail_lines(8)
        return head + (":\n" + "\n".join(last) if last else "")

    # ---- GPU telemetry --------------------------------------------------------------------

    def _gpu_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_gpus()
            except Exception as exc:
                if not self.disk.failed(exc):
                    log.error("GPU sampling failed:\n%s", traceback.format_exc())
            self._stop.wait(self.cfg.gpu_interval_s)

    def sample_gpus(self) -> int:
        from dataclasses import asdict

        from core.hardware import host_as_sample, sample_gpus

        now = time.time()
        # Without a GPU the machine's CPU and RAM are charted instead.
        rows = [{**asdict(s), "time": now} for s in (sample_gpus() or [host_as_sample()])]
        ledger.insert_gpu_samples(rows)
        if now - self._last_prune > 3600:
            ledger.prune_gpu_samples(now - self.cfg.gpu_retention_h * 3600)
            self._last_prune = now
        return len(rows)


def _usage(job: dict) -> dict:
    """energy_wh and peak_mem_mb of a job that is ending (one indexed range query); a failure
    here must not keep a job from closing."""
    try:
        from core.energy import job_usage

        return job_usage(job, end=time.time())
    except Exception:
        log.error("energy of job %s not computed:\n%s", job["id"], traceback.format_exc())
        return {}


def _waits_for_ready(job: dict) -> bool:
    """Long-running kinds (a served model) become RUNNING when they say they are ready."""
    kind = kinds.KINDS.get(job["kind"])
    return bool(kind and kind.long_running)


def _read_results(job_dir: Path) -> list[dict]:
    """The result rows a benchmark job left in results.json (none for other jobs)."""
    path = job_dir / "results.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    rows = [rows] if isinstance(rows, dict) else list(rows)
    for row in rows:
        if not row.get("model") or not row.get("benchmark"):
            raise ValueError("each result needs 'model' and 'benchmark'")
        if row.get("details") and not Path(row["details"]).is_absolute():
            row["details"] = str(job_dir / row["details"])
    return rows


def _detect_gpus() -> list[dict]:
    try:
        from core.hardware import detect_gpus

        return detect_gpus()
    except Exception:
        log.error("GPU detection failed:\n%s", traceback.format_exc())
        return []
