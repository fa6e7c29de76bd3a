"""Serve a model behind an OpenAI-compatible endpoint, as a supervised job: serve."""
from __future__ import annotations

import sys

from core import jobs
from core.cli.common import fail


def cmd_serve(args) -> int:
    from core.serving import service

    if (args.model is None) == (args.job is None):
        fail("give --model M or --job ID (what to serve)")
    try:
        job_id = service.start(args.model, job=args.job, adapter=args.adapter, engine=args.engine,
                               host=args.host, port=args.port, idle_minutes=args.idle_minutes,
                               gpus=args.gpus, name=args.name)
    except jobs.JobError as exc:
        fail(str(exc))
    print(job_id, flush=True)
    if not args.wait:
        return 0
    from core.runner import daemon

    if not daemon.running_pid():
        print("note: no supervisor is running; starting one", file=sys.stderr)
        daemon.ensure_running()
    try:
        job = service.wait_ready(job_id, timeout=args.timeout)
    except jobs.JobError as exc:
        fail(str(exc), 1)
    info = service.ready_info(job)
    print(f"serving {info.get('model')} with {info.get('engine')} at {job['endpoint']}", file=sys.stderr)
    print(job["endpoint"], flush=True)
    return 0


def register(sub) -> None:
    s = sub.add_parser("serve", help="serve a model behind an OpenAI-compatible endpoint (a job)")
    what = s.add_mutually_exclusive_group()
    what.add_argument("--model", help="hub id (cached), local dir, 'tiny', a merged export or a .gguf file")
    what.add_argument("--job", type=int, help="a finished SFT/RAFT job (its adapter on its base)")
    s.add_argument("--adapter", help="LoRA adapter directory served on --model (merged first)")
    s.add_argument("--engine", default="auto", choices=["auto", "transformers", "vllm", "llamacpp"])
    s.add_argument("--host", default="127.0.0.1",
                   help="listen address; beyond loopback a Bearer token is required")
    s.add_argument("--port", type=int, default=8000, help="the next free one when taken")
    s.add_argument("--idle-minutes", type=float, default=30.0, dest="idle_minutes",
                   help="stop after this long without a request (0 = never)")
    s.add_argument("--gpus", type=int, default=None,
                   help="GPU slots to hold (default 1 when a GPU is present, else 0)")
    s.add_argument("--wait", action="store_true", help="wait until it serves, then print the endpoint")
    s.add_argument("--timeout", type=float, default=900.0, help="seconds --wait waits for readiness")
    s.add_argument("--name", help="a name for the job")
    s.set_defaults(fn=cmd_serve)
