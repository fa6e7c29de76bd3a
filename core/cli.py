"""`halo-forge`: the command line. Every command goes through the same services as the pages.

Errors go to stderr as one sentence naming the bad value, with exit status 2 for bad input
and 1 for a failed operation.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from core import jobs, ledger
from core.ledger import FINAL


class CliError(Exception):
    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = 2):
    raise CliError(message, code)


# ---- jobs ---------------------------------------------------------------------------------

def cmd_submit(args) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        _fail("submit needs a command after --, e.g. halo-forge submit -- python train.py")
    config = {"command": command, "gpus": args.gpus}
    if args.profile:
        from core.runner import profiles

        config["executor"] = profiles.executor_section(args.profile)
    job_id = jobs.submit("command", config, name=args.name, priority=args.priority)
    print(job_id)
    return _maybe_wait(job_id, args)


def _job_line(j: dict) -> str:
    progress = ""
    if j.get("total_steps"):
        progress = f"{j.get('step') or 0}/{j['total_steps']}"
    elif j.get("step") is not None:
        progress = str(j["step"])
    where = j["executor"] + (f" {j['external_id']}" if j.get("external_id") and j["executor"] != "local" else "")
    return f"{j['id']:>5}  {j['status']:<9}  {j['kind']:<9}  {progress:>11}  {where:<14}  {j['name']}"


def cmd_jobs(args) -> int:
    rows = jobs.list_jobs(args.status.split(",") if args.status else None, args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'id':>5}  {'status':<9}  {'kind':<9}  {'progress':>11}  {'executor':<14}  name")
    for j in rows:
        print(_job_line(j))
    return 0


def cmd_show(args) -> int:
    job = jobs.get(args.id)
    if args.json:
        print(json.dumps(job, indent=2, default=str))
        return 0
    for key in ("id", "name", "kind", "status", "priority", "gpus", "executor", "profile",
                "external_id", "job_dir", "step", "total_steps", "epoch", "cycle",
                "exit_code", "exit_signal", "error"):
        if job.get(key) not in (None, ""):
            print(f"{key:>12}: {job[key]}")
    for key in ("created_at", "started_at", "finished_at"):
        if job.get(key):
            print(f"{key:>12}: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(job[key]))}")
    print(f"{'config':>12}: {json.dumps(job['config'])}")
    return 0


def cmd_logs(args) -> int:
    from core import monitor

    job = jobs.get(args.id)
    after = 0
    if args.lines:
        after = max(0, (job.get("log_seq") or 0) - args.lines)
    while True:
        rows = monitor.log_lines(args.id, after_seq=after, limit=5000)
        for r in rows:
            print(r["text"])
            after = r["seq"]
        if not args.follow:
            return 0
        if not rows:
            job = jobs.get(args.id)
            if job["status"] in FINAL:
                rest = monitor.log_lines(args.id, after_seq=after, limit=100000)
                for r in rest:
                    print(r["text"])
                return 0
            time.sleep(0.5)
        sys.stdout.flush()


def cmd_stop(args) -> int:
    print(jobs.request_stop(args.id))
    return 0


def cmd_retry(args) -> int:
    print(jobs.retry(args.id))
    return 0


def cmd_resume(args) -> int:
    print(jobs.resume(args.id))
    return 0


def cmd_delete(args) -> int:
    jobs.delete(args.id)
    return 0


def cmd_move(args) -> int:
    jobs.move(args.id, args.direction)
    return 0


def cmd_priority(args) -> int:
    jobs.set_priority(args.id, args.priority)
    return 0


def cmd_status(args) -> int:
    from core.runner import daemon

    st = daemon.status()
    summary = jobs.summary()
    if st["running"]:
        print(f"supervisor: running, pid {st['pid']}, up {_duration(st['uptime_s'])}, "
              f"{st.get('slots')} GPU slot(s)")
    else:
        print("supervisor: not running (start it with: halo-forge supervisor start)")
    counts = summary["counts"]
    print(f"queue: {summary['queued']} queued, {summary['active']} active, "
          f"{counts.get('COMPLETED', 0)} completed, {counts.get('FAILED', 0)} failed, "
          f"{counts.get('STOPPED', 0)} stopped")
    if getattr(args, "gpus", True):
        from core.hardware import sample_gpus, sample_host

        gpus = sample_gpus()
        if not gpus:
            host = sample_host()
            print(f"GPUs: none detected (CPU {host.get('cpu_percent', 0):.0f} %, "
                  f"RAM {host.get('ram_used', 0) / 2**30:.1f}/{host.get('ram_total', 0) / 2**30:.1f} GiB)")
        for g in gpus:
            mem = ""
            if g.mem_total:
                mem = f", {(g.mem_used or 0) / 2**30:.1f}/{g.mem_total / 2**30:.1f} GiB"
            util = f"{g.utilization:.0f} %" if g.utilization is not None else "n/a"
            print(f"GPU {g.device}: {g.name or ''} {util}{mem} ({g.source})")
    return 0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _maybe_wait(job_id: int, args) -> int:
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


# ---- supervisor and UI --------------------------------------------------------------------

def cmd_supervisor(args) -> int:
    from core.runner import daemon

    # Flags become the settings' environment variables, so a detached daemon gets them too.
    if args.slots is not None:
        if args.slots < 1:
            _fail(f"--slots must be at least 1, got {args.slots}")
        os.environ["HALO_FORGE_SLOTS"] = str(args.slots)
    if args.grace is not None:
        if args.grace < 0:
            _fail(f"--grace must be >= 0 seconds, got {args.grace}")
        os.environ["HALO_FORGE_GRACE_S"] = str(args.grace)
    try:
        if args.action == "run":
            return daemon.run_foreground()
        if args.action == "start":
            pid = daemon.start_detached()
            print(f"supervisor started, pid {pid}")
            return 0
    except daemon.AlreadyRunning as exc:
        print(f"a supervisor is already running, pid {exc.pid}", file=sys.stderr)
        return 1
    if args.action == "stop":
        pid = daemon.stop()
        print(f"supervisor {pid} stopped" if pid else "no supervisor was running")
        return 0
    st = daemon.status()
    if not st["running"]:
        print("supervisor: not running")
        return 3
    queue = jobs.summary()
    print(f"supervisor: running\npid: {st['pid']}\nuptime: {_duration(st['uptime_s'])}\n"
          f"slots: {st.get('slots')}\nqueued: {queue['queued']}\nactive: {queue['active']}")
    return 0


def cmd_ui(args) -> int:
    from core import access
    from core.paths import REPO_ROOT
    from core.runner import daemon

    env = dict(os.environ)
    url_token = ""
    if not access.is_loopback(args.host):
        token = env.get("HALO_FORGE_TOKEN") or access.new_token()
        env["HALO_FORGE_TOKEN"] = token
        url_token = f"/?token={token}"
        print(f"access token required for {args.host}; open the URL below (token included)")
    pid = daemon.ensure_running()
    print(f"supervisor: pid {pid}")
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"halo-forge UI: http://{shown_host}:{args.port}{url_token}", flush=True)
    cmd = [sys.executable, "-m", "core.ui_server",
           "--server.address", args.host, "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "auto" if args.reload else "none",
           "--server.runOnSave", "true" if args.reload else "false"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    os.chdir(REPO_ROOT)
    os.execvpe(cmd[0], cmd, env)
    return 0


# ---- training, configs, datasets, models ---------------------------------------------------

def _load_job_config(path: str, overrides: list[str], kind: str | None = None):
    from core import configs

    p = Path(path)
    if not p.is_file():
        _fail(f"config file {path} does not exist")
    cfg = configs.parse_config(p.read_text(), overrides=overrides)
    if kind and cfg.kind != kind:
        _fail(f"{path} is a '{cfg.kind}' config, not '{kind}'")
    return cfg


def cmd_train(args) -> int:
    overrides = list(args.set or [])
    if args.profile:
        overrides += _profile_overrides(args.profile)
    cfg = _load_job_config(args.config, overrides, args.kind)
    job_id = jobs.submit(cfg.kind, cfg.model_dump(mode="json"), name=args.name,
                         priority=args.priority)
    print(job_id)
    return _maybe_wait(job_id, args)


def _profile_overrides(name: str) -> list[str]:
    from core.runner import profiles

    section = profiles.executor_section(name)
    return [f"executor.name={section['name']}", f"executor.profile={name}"]


def cmd_config(args) -> int:
    from core import configs

    try:
        cfg = _load_job_config(args.file, [])
    except configs.ConfigError as exc:
        for issue in exc.errors:
            where = f"line {issue.line}: " if issue.line else ""
            print(f"{args.file}: {where}{issue.message}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid {cfg.kind} config")
    return 0


def cmd_datasets(args) -> int:
    from core import datasets

    if args.action == "list":
        for e in datasets.entries():
            print(f"{e.name:<14} {','.join(e.uses):<20} {e.hub_name:<40} {e.title}")
        return 0
    if not args.name:
        _fail("datasets show needs a dataset name")
    entry = datasets.get(args.name)
    loaded = datasets.load_records(args.name, limit=args.limit)
    print(f"{entry.title} ({entry.name}): {entry.description}")
    print(f"hub: {entry.hub_name}  fields: {', '.join(entry.fields)}  verifier: {entry.verifier}")
    print(f"source: {loaded.source}" + (f" -- {loaded.note}" if loaded.note else ""))
    for rec in loaded.records[: args.limit]:
        print(json.dumps(rec, ensure_ascii=False)[:400])
    return 0


def cmd_models(args) -> int:
    from core.models.tiny import build_tiny_model
    from core.paths import models_dir

    out = Path(args.out) if args.out else models_dir() / "tiny"
    path = build_tiny_model(out, seed=args.seed)
    print(path)
    return 0


def cmd_verify(args) -> int:
    from core.verifiers.job import verify_file

    if not Path(args.samples).is_file():
        _fail(f"samples file {args.samples} does not exist")
    if args.queue:  # the same work as a job the supervisor runs and Monitor follows
        config = {"verifier": args.verifier, "samples": str(Path(args.samples).resolve())}
        if args.out:
            config["out"] = str(Path(args.out).resolve())
        if args.workers:
            config["workers"] = args.workers
        job_id = jobs.submit("verify", config, name=args.name, priority=args.priority)
        print(job_id)
        return _maybe_wait(job_id, args)
    out = args.out or str(Path(args.samples).with_suffix(".verdicts.jsonl"))
    summary = verify_file(args.verifier, args.samples, out, workers=args.workers)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_benchmark(args) -> int:
    from core import configs

    if args.config:
        cfg = _load_job_config(args.config, list(args.set or []), "benchmark")
    else:
        if not args.model or not args.benchmark:
            _fail("benchmark run needs --model and --benchmark (or --config FILE)")
        data = {"kind": "benchmark", "model": {"name": args.model},
                "benchmark": {"name": args.benchmark}}
        bench = data["benchmark"]
        if args.limit is not None:
            bench["limit"] = args.limit
        if args.samples is not None:
            bench["samples"] = args.samples
        if args.temperature is not None:
            bench["temperature"] = args.temperature
        if args.adapter:
            data["model"]["adapter"] = args.adapter
        if args.out:
            data["output_dir"] = args.out
        overrides = list(args.set or [])
        if args.profile:
            overrides += _profile_overrides(args.profile)
        cfg = configs.parse_config(data, overrides=overrides)
    job_id = jobs.submit("benchmark", cfg.model_dump(mode="json"), name=args.name,
                         priority=args.priority)
    print(job_id)
    return _maybe_wait(job_id, args)


def cmd_results(args) -> int:
    from core import results

    text = results.export(results.table(), args.format)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_profiles(args) -> int:
    from core.runner import profiles

    if args.action == "list":
        for p in profiles.load_all().values():
            print(json.dumps(p))
        return 0
    if args.action == "remove":
        profiles.remove(args.name)
        return 0
    if not args.name or not args.executor:
        _fail("profiles add needs NAME and --executor ray|slurm")
    fields = {k: getattr(args, k) for k in ("address", "partition", "nodes", "gpus_per_node",
                                            "time_limit", "account", "python")
              if getattr(args, k) is not None}
    profiles.add(args.name, args.executor, **fields)
    print(f"profile {args.name} saved")
    return 0


# ---- parser -------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="halo-forge", description="Fine-tune, benchmark and "
                                "monitor LLMs on your own GPU.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def add_wait(sp):
        sp.add_argument("--wait", action="store_true",
                        help="follow the job; exit non-zero unless it COMPLETED")
        sp.add_argument("--name", help="a name for the job")
        sp.add_argument("--priority", type=int, default=0, help="higher runs first")

    s = sub.add_parser("submit", help="queue any command as a job")
    s.add_argument("--gpus", type=int, default=0, help="GPU slots the job needs (default 0)")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_wait(s)
    s.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    s.set_defaults(fn=cmd_submit)

    s = sub.add_parser("jobs", help="list jobs")
    s.add_argument("--json", action="store_true")
    s.add_argument("--status", help="comma-separated statuses")
    s.add_argument("--limit", type=int, default=None)
    s.set_defaults(fn=cmd_jobs)

    for name, fn, help_ in (("show", cmd_show, "show a job"), ("stop", cmd_stop, "stop a job"),
                            ("retry", cmd_retry, "queue a finished job again"),
                            ("resume", cmd_resume, "resume a training job from its checkpoint"),
                            ("delete", cmd_delete, "delete a finished job and its directory")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("id", type=int)
        if name == "show":
            s.add_argument("--json", action="store_true")
        s.set_defaults(fn=fn)

    s = sub.add_parser("logs", help="print a job's log")
    s.add_argument("-f", "--follow", action="store_true")
    s.add_argument("-n", "--lines", type=int, default=0, help="only the last N lines")
    s.add_argument("id", type=int)
    s.set_defaults(fn=cmd_logs)

    s = sub.add_parser("move", help="move a queued job up or down")
    s.add_argument("id", type=int)
    s.add_argument("direction", choices=("up", "down"))
    s.set_defaults(fn=cmd_move)

    s = sub.add_parser("priority", help="set a queued job's priority")
    s.add_argument("id", type=int)
    s.add_argument("priority", type=int)
    s.set_defaults(fn=cmd_priority)

    s = sub.add_parser("status", help="supervisor, queue and GPUs")
    s.set_defaults(fn=cmd_status)

    s = sub.add_parser("supervisor", help="the job daemon")
    s.add_argument("action", choices=("start", "stop", "status", "run"))
    s.add_argument("--slots", type=int, help="GPU slots (default: detected GPUs, at least 1)")
    s.add_argument("--grace", type=float, help="seconds from SIGTERM to SIGKILL on a stop (default 30)")
    s.set_defaults(fn=cmd_supervisor)

    s = sub.add_parser("ui", help="start the browser UI (and a supervisor if none runs)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--reload", action="store_true", help="reload pages when files change")
    s.set_defaults(fn=cmd_ui)

    s = sub.add_parser("train", help="queue an SFT or RAFT job from a config file")
    s.add_argument("kind", choices=("sft", "raft"))
    s.add_argument("--config", required=True)
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config value, e.g. training.learning_rate=1e-4")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_wait(s)
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("config", help="validate a config file")
    s.add_argument("action", choices=("validate",))
    s.add_argument("file")
    s.set_defaults(fn=cmd_config)

    s = sub.add_parser("datasets", help="the dataset catalogue")
    s.add_argument("action", choices=("list", "show"))
    s.add_argument("name", nargs="?")
    s.add_argument("--limit", type=int, default=3)
    s.set_defaults(fn=cmd_datasets)

    s = sub.add_parser("models", help="model helpers")
    s.add_argument("action", choices=("tiny",))
    s.add_argument("--out", help="directory (default HALO_FORGE_HOME/models/tiny)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_models)

    s = sub.add_parser("verify", help="score completions with a verifier")
    s.add_argument("--verifier", required=True)
    s.add_argument("--samples", required=True, help="JSONL with task_id and completion")
    s.add_argument("--out", help="JSONL of verdicts (default SAMPLES.verdicts.jsonl)")
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--queue", action="store_true",
                   help="queue it as a job for the supervisor instead of running it here")
    add_wait(s)
    s.set_defaults(fn=cmd_verify)

    s = sub.add_parser("benchmark", help="benchmarks")
    s.add_argument("action", choices=("run",))
    s.add_argument("--model")
    s.add_argument("--adapter", help="LoRA adapter to apply to the model")
    s.add_argument("--benchmark")
    s.add_argument("--limit", type=int)
    s.add_argument("--samples", type=int, help="samples per problem (n)")
    s.add_argument("--temperature", type=float)
    s.add_argument("--out", help="output directory")
    s.add_argument("--config", help="a benchmark config file instead of the flags")
    s.add_argument("--set", action="append", metavar="KEY=VALUE")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_wait(s)
    s.set_defaults(fn=cmd_benchmark)

    s = sub.add_parser("results", help="export benchmark results")
    s.add_argument("--format", choices=("csv", "json"), default="csv")
    s.add_argument("--out", help="file (default stdout)")
    s.set_defaults(fn=cmd_results)

    s = sub.add_parser("profiles", help="cluster profiles (Ray, Slurm)")
    s.add_argument("action", choices=("add", "list", "remove"))
    s.add_argument("name", nargs="?")
    s.add_argument("--executor", choices=("ray", "slurm"))
    s.add_argument("--address", help="Ray dashboard address, e.g. http://127.0.0.1:8265")
    s.add_argument("--partition")
    s.add_argument("--nodes", type=int)
    s.add_argument("--gpus-per-node", dest="gpus_per_node", type=int)
    s.add_argument("--time-limit", dest="time_limit", help="Slurm time limit, e.g. 04:00:00")
    s.add_argument("--account")
    s.add_argument("--python", help="python interpreter on the cluster")
    s.set_defaults(fn=cmd_profiles)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except CliError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return exc.code
    except jobs.JobError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 2
    except ledger.LedgerVersionError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # ConfigError, DatasetError and friends: one sentence each
        errors = getattr(exc, "errors", None)
        if errors and not callable(errors):
            for issue in errors:
                where = f"line {issue.line}: " if getattr(issue, "line", None) else ""
                print(f"halo-forge: {where}{issue.message}", file=sys.stderr)
        else:
            print(f"halo-forge: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
