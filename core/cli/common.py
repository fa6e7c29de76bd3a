"""What every command module shares: the error type, waiting for a job, job lines."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core import jobs
from core.ledger import FINAL


class CliError(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 2):
    raise CliError(message, code)


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line naming the command and the culprit (argparse's
    own prints the whole usage block first, which buries the sentence that matters)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    return _int_at_least(text, 1)


def count(text: str) -> int:
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


def port(text: str) -> int:
    value = _int_at_least(text, 1)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 1-65535, got {value}")
    return value


def add_job_options(sp) -> None:
    """--wait, --name and --priority: the options of every command that queues a job."""
    sp.add_argument("--wait", action="store_true",
                    help="follow the job; exit non-zero unless it COMPLETED")
    sp.add_argument("--name", help="a name for the job")
    sp.add_argument("--priority", type=int, default=0, help="higher runs first")
    sp.add_argument("--notify", metavar="URL", type=webhook_url,
                    help="POST the job's end to this webhook (overrides the global one)")


def webhook_url(text: str) -> str:
    from core import credentials

    try:
        return credentials.check_url(text, "--notify")
    except credentials.CredentialError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def job_line(j: dict) -> str:
    progress = ""
    if j.get("total_steps"):
        progress = f"{j.get('step') or 0}/{j['total_steps']}"
    elif j.get("step") is not None:
        progress = str(j["step"])
    where = j["executor"] + (f" {j['external_id']}" if j.get("external_id") and j["executor"] != "local" else "")
    return f"{j['id']:>5}  {j['status']:<9}  {j['kind']:<9}  {progress:>11}  {where:<14}  {j['name']}"


def maybe_wait(job_id: int, args) -> int:
    """After a job is queued: keep its own webhook beside it (0600), then follow it if --wait."""
    if getattr(args, "notify", None):
        from core import credentials

        credentials.set_job_notify_url(jobs.get(job_id)["job_dir"], args.notify)
    if not getattr(args, "wait", False):
        return 0
    from core.runner import daemon

    if not daemon.running_pid():
        print("note: no supervisor is running; starting one", file=sys.stderr)
        daemon.ensure_running()
    last = None
    while True:
        job = jobs.get(job_id)
        progress = (job["status"], job.get("step"))
        if progress != last:
            total = f"/{job['total_steps']}" if job.get("total_steps") else ""
            step = f" step {job['step']}{total}" if job.get("step") is not None else ""
            print(f"job {job_id}: {job['status']}{step}", file=sys.stderr)
            last = progress
        if job["status"] in FINAL:
            if job["status"] != "COMPLETED" and job.get("error"):
                print(job["error"], file=sys.stderr)
            return 0 if job["status"] == "COMPLETED" else 1
        time.sleep(0.5)


def load_job_config(path: str, overrides: list[str], kind: str | None = None):
    from core import configs

    p = Path(path)
    if not p.is_file():
        fail(f"config file {path} does not exist")
    cfg = configs.parse_config(p.read_text(), overrides=overrides)
    if kind and cfg.kind != kind:
        fail(f"{path} is a '{cfg.kind}' config, not '{kind}'")
    return cfg


def profile_overrides(name: str) -> list[str]:
    from core.runner import profiles

    section = profiles.executor_section(name)
    return [f"executor.name={section['name']}", f"executor.profile={name}"]
