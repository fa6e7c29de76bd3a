"""Cluster profiles (Ray, Slurm): profiles add|list|remove."""
from __future__ import annotations

import json

from core import executor_kinds
from core.cli.common import count, fail, positive_int

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
        fail("profiles add needs NAME and --executor ray|slurm")
    fields = {k: getattr(args, k) for k in ("address", "partition", "nodes", "gpus_per_node",
                                            "time_limit", "account", "python")
              if getattr(args, k) is not None}
    profiles.add(args.name, args.executor, **fields)
    print(f"profile {args.name} saved")
    return 0


def register(sub) -> None:
    s = sub.add_parser("profiles", help="cluster profiles (Ray, Slurm)")
    s.add_argument("action", choices=("add", "list", "remove"))
    s.add_argument("name", nargs="?")
    s.add_argument("--executor", choices=executor_kinds.remote_names())
    s.add_argument("--address", help="Ray dashboard address, e.g. http://127.0.0.1:8265")
    s.add_argument("--partition")
    s.add_argument("--nodes", type=positive_int)
    s.add_argument("--gpus-per-node", dest="gpus_per_node", type=count)
    s.add_argument("--time-limit", dest="time_limit", help="Slurm time limit, e.g. 04:00:00")
    s.add_argument("--account")
    s.add_argument("--python", help="python interpreter on the cluster")
    s.set_defaults(fn=cmd_profiles)
