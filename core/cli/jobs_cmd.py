"""Queue, list, inspect and act on jobs: submit, jobs, show, logs, stop, retry, resume, delete,
move, priority, checkpoints, slots, status."""
from __future__ import annotations

import argparse
import json
import sys
import time

from core import job_actions, jobs
from core.cli.common import add_job_options, count, duration, fail, job_line, maybe_wait, positive_int
from core.ledger import FINAL

def cmd_submit(args) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        fail("submit needs a command after --, e.g. halo-forge submit -- python train.py")
    config = {"command": command, "gpus": args.gpus}
    if args.profile:
        from core.runner import profiles

        config["executor"] = profiles.executor_section(args.profile)
    job_id = jobs.submit("command", config, name=args.name, priority=args.priority)
    print(job_id)
    return maybe_wait(job_id, args)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def cmd_jobs(args) -> int:
    from core import joblist

    found = joblist.search(statuses=_split(args.status), kinds=_split(args.kind),
                           executors=_split(args.executor), name=args.name, page=args.page,
                           per_page=args.limit or 500)
    rows = found["jobs"]
    if args.json:
        print(json.dumps([{k: v for k, v in j.items() if k != "progress"} for j in rows],
                         indent=2, default=str))
        return 0
    print(f"{'id':>5}  {'status':<9}  {'kind':<9}  {'progress':>11}  {'executor':<14}  name")
    for j in rows:
        print(job_line(j))
    if found["pages"] > 1:
        print(f"page {found['page']}/{found['pages']} of {found['total']} jobs (--page N)")
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
    if job.get("finished_at"):
        from core.energy import format_energy, format_mem

        print(f"{'energy':>12}: {format_energy(job.get('energy_wh'))}")
        print(f"{'peak memory':>12}: {format_mem(job.get('peak_mem_mb'))}")
    print(f"{'config':>12}: {json.dumps(job['config'])}")
    print(f"{'actions':>12}: {', '.join(job_actions.available(job)) or 'none'}")
    return 0


def cmd_checkpoints(args) -> int:
    from core import monitor

    job = jobs.get(args.id)
    rows = monitor.checkpoints(args.id)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"job {args.id} reported no checkpoint")
    for c in rows:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c["time"]))
        step = "-" if c["step"] is None else c["step"]
        usable = job_actions.checkpoint_problem(job["kind"], c["path"]) is None
        print(f"step {step:>7}  {at}  {monitor.format_bytes(c['size']):>10}  "
              f"{'resumable' if usable else '-':<9}  {c['path']}")
    return 0


def cmd_slots(args) -> int:
    from core import joblist

    info = joblist.slots()
    if not info["supervisor"]:
        print("supervisor: not running, so no slot is handed out")
    else:
        print(f"GPU slots: {info['used']} of {info['slots']} held, {info['free']} free")
    for h in info["holders"]:
        devices = ",".join(h["devices"]) or "?"
        print(f"  GPU {devices:<5} job {h['job']:>5}  {h['status']:<9}  {h['gpus']} slot(s)  {h['name']}")
    for r in info["remote"]:
        print(f"  {r['executor']:<9} job {r['job']:>5}  {r['status']:<9}  (the cluster's GPUs)  {r['name']}")
    for q in info["queue"]:
        print(f"  queued #{q['place']:<3} job {q['id']:>5}  priority {q['priority']:>3}  "
              f"{q['gpus']} slot(s)  {q['name']}")
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
    print(jobs.resume(args.id, checkpoint=args.checkpoint))
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
        print(f"supervisor: running, pid {st['pid']}, up {duration(st['uptime_s'])}, "
              f"{st.get('slots')} GPU slot(s)")
        if st.get("paused"):  # a full disk: the supervisor waits for space
            print(f"launching paused: {st['paused']}")
    else:
        print("supervisor: not running (start it with: halo-forge supervisor start)")
    counts = summary["counts"]
    print(f"queue: {summary['queued']} queued, {summary['active']} active, "
          f"{counts.get('COMPLETED', 0)} completed, {counts.get('FAILED', 0)} failed, "
          f"{counts.get('STOPPED', 0)} stopped")
    from core import ledger_backup

    print(f"ledger: {ledger_backup.size_bytes() / 2**20:.1f} MB")
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


def register(sub) -> None:
    s = sub.add_parser("submit", help="queue any command as a job")
    s.add_argument("--gpus", type=count, default=0, help="GPU slots the job needs (default 0)")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_job_options(s)
    s.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    s.set_defaults(fn=cmd_submit)

    s = sub.add_parser("jobs", help="list jobs")
    s.add_argument("--json", action="store_true")
    s.add_argument("--status", help="comma-separated statuses")
    s.add_argument("--kind", help="comma-separated kinds (sft, raft, benchmark, ...)")
    s.add_argument("--executor", help="comma-separated executors (local, ray, slurm)")
    s.add_argument("--name", help="only names containing this text (any case)")
    s.add_argument("--limit", type=count, default=None, help="jobs per page (newest first)")
    s.add_argument("--page", type=positive_int, default=1)
    s.set_defaults(fn=cmd_jobs)

    s = sub.add_parser("checkpoints", help="the checkpoints a job reported")
    s.add_argument("id", type=positive_int)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_checkpoints)

    s = sub.add_parser("slots", help="GPU slots: which job holds which GPU, what is queued")
    s.set_defaults(fn=cmd_slots)

    for name, fn, help_ in (("show", cmd_show, "show a job"), ("stop", cmd_stop, "stop a job"),
                            ("retry", cmd_retry, "queue a finished job again"),
                            ("resume", cmd_resume, "resume a training job from its checkpoint"),
                            ("delete", cmd_delete, "delete a finished job and its directory")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("id", type=positive_int)
        if name == "show":
            s.add_argument("--json", action="store_true")
        if name == "resume":
            s.add_argument("--checkpoint", help="a checkpoint the job reported (halo-forge "
                                                "checkpoints ID); default: its newest")
        s.set_defaults(fn=fn)

    s = sub.add_parser("logs", help="print a job's log")
    s.add_argument("-f", "--follow", action="store_true")
    s.add_argument("-n", "--lines", type=count, default=0, help="only the last N lines")
    s.add_argument("id", type=positive_int)
    s.set_defaults(fn=cmd_logs)

    s = sub.add_parser("move", help="move a queued job up or down")
    s.add_argument("id", type=positive_int)
    s.add_argument("direction", choices=("up", "down"))
    s.set_defaults(fn=cmd_move)

    s = sub.add_parser("priority", help="set a queued job's priority")
    s.add_argument("id", type=positive_int)
    s.add_argument("priority", type=int)
    s.set_defaults(fn=cmd_priority)

    s = sub.add_parser("status", help="supervisor, queue and GPUs")
    s.set_defaults(fn=cmd_status)
