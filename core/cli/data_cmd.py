"""The dataset catalogue and model helpers: datasets, models."""
from __future__ import annotations

import json
from pathlib import Path

from core.cli.common import count, fail

def cmd_datasets(args) -> int:
    from core import datasets

    if args.action == "list":
        for e in datasets.entries():
            print(f"{e.name:<14} {','.join(e.uses):<20} {e.hub_name:<40} {e.title}")
        return 0
    if not args.name:
        fail("datasets show needs a dataset name")
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


def register(sub) -> None:
    s = sub.add_parser("datasets", help="the dataset catalogue")
    s.add_argument("action", choices=("list", "show"))
    s.add_argument("name", nargs="?")
    s.add_argument("--limit", type=count, default=3)
    s.set_defaults(fn=cmd_datasets)

    s = sub.add_parser("models", help="model helpers")
    s.add_argument("action", choices=("tiny",))
    s.add_argument("--out", help="directory (default HALO_FORGE_HOME/models/tiny)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_models)
