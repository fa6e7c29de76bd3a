"""Score completions with a verifier, here or as a queued job: verify."""
from __future__ import annotations

import json
from pathlib import Path

from core import jobs
from core.cli.common import add_job_options, positive_int, fail, maybe_wait

def cmd_verify(args) -> int:
    from core.verifiers.job import verify_file

    if not Path(args.samples).is_file():
        fail(f"samples file {args.samples} does not exist")
    if args.queue:  # the same work as a job the supervisor runs and Monitor follows
        config = {"verifier": args.verifier, "samples": str(Path(args.samples).resolve())}
        if args.out:
            config["out"] = str(Path(args.out).resolve())
        if args.workers:
            config["workers"] = args.workers
        job_id = jobs.submit("verify", config, name=args.name, priority=args.priority)
        print(job_id)
        return maybe_wait(job_id, args)
    out = args.out or str(Path(args.samples).with_suffix(".verdicts.jsonl"))
    summary = verify_file(args.verifier, args.samples, out, workers=args.workers)
    print(json.dumps(summary, indent=2))
    return 0


def register(sub) -> None:
    s = sub.add_parser("verify", help="score completions with a verifier")
    s.add_argument("--verifier", required=True)
    s.add_argument("--samples", required=True, help="JSONL with task_id and completion")
    s.add_argument("--out", help="JSONL of verdicts (default SAMPLES.verdicts.jsonl)")
    s.add_argument("--workers", type=positive_int, default=None)
    s.add_argument("--queue", action="store_true",
                   help="queue it as a job for the supervisor instead of running it here")
    add_job_options(s)
    s.set_defaults(fn=cmd_verify)
