"""Training jobs from config files, and config validation: train, config."""
from __future__ import annotations

import sys

from core import jobs, kinds
from core.cli.common import add_job_options, load_job_config, maybe_wait, profile_overrides

def cmd_train(args) -> int:
    overrides = list(args.set or [])
    if args.profile:
        overrides += profile_overrides(args.profile)
    cfg = load_job_config(args.config, overrides, args.kind)
    job_id = jobs.submit(cfg.kind, cfg.model_dump(mode="json"), name=args.name,
                         priority=args.priority)
    print(job_id)
    return maybe_wait(job_id, args)


def cmd_config(args) -> int:
    from core import configs

    try:
        cfg = load_job_config(args.file, [])
    except configs.ConfigError as exc:
        for issue in exc.errors:
            where = f"line {issue.line}: " if issue.line else ""
            print(f"{args.file}: {where}{issue.message}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid {cfg.kind} config")
    return 0


def register(sub) -> None:
    s = sub.add_parser("train", help="queue a training job from a config file")
    s.add_argument("kind", choices=kinds.training_kinds())
    s.add_argument("--config", required=True)
    s.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config value, e.g. training.learning_rate=1e-4")
    s.add_argument("--profile", help="cluster profile to run it on")
    add_job_options(s)
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("config", help="validate a config file")
    s.add_argument("action", choices=("validate",))
    s.add_argument("file")
    s.set_defaults(fn=cmd_config)
