"""The dataset catalogue and model helpers: datasets, models."""
from __future__ import annotations

import json
from pathlib import Path

from core.cli.common import count, fail

def cmd_datasets(args) -> int:
    from core import datasets

    if args.action == "add":
        return _add(args)
    if args.action == "pairs":
        return _pairs(args)
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


def _add(args) -> int:
    """`datasets add FILE --name NAME` (or `--hub ID`): detect, map, check every row, write
    whole. Mapping: the suggested one, changed by --format and --map FIELD=COLUMN,..."""
    from core import dataimport, hubpeek

    if bool(args.hub) == bool(args.name):
        fail("datasets add takes either a FILE or --hub ID")
    if not args.as_name:
        fail("datasets add needs --name NAME (the name it is saved under)")
    name = dataimport.check_name(args.as_name)
    if args.hub:
        table = dataimport.from_rows(hubpeek.rows(args.hub, args.config, args.split,
                                                  args.rows), args.hub)
    else:
        table = dataimport.read(Path(args.name).expanduser())
    mapping = dataimport.suggest(table)
    if args.format:
        mapping = {"format": args.format,
                   "columns": dataimport.guess_columns(args.format, table.columns)}
    mapping["columns"].update(dataimport.parse_map(args.map))
    records = dataimport.convert(table, mapping)
    path = dataimport.write(records, name, mapping["format"], replace=args.replace)
    cols = ", ".join(f"{k}<-{v}" for k, v in mapping["columns"].items() if v)
    print(f"imported {len(records)} records from {table.source} as {path} "
          f"({mapping['format']}: {cols})")
    return 0


def _pairs(args) -> int:
    """Preference pairs from a job's verdicts (see core/pairs.py)."""
    from core import pairs

    if args.from_job is None or not args.out:
        fail("datasets pairs needs --from-job ID and --out FILE")
    try:
        report = pairs.pairs_from_job(args.from_job, args.out, per_prompt=args.per_prompt, seed=args.seed)
    except pairs.PairsError as exc:
        fail(str(exc))
    print(report.summary())
    return 0


def cmd_models(args) -> int:
    from core.models.tiny import build_tiny_model
    from core.paths import models_dir

    out = Path(args.out) if args.out else models_dir() / "tiny"
    path = build_tiny_model(out, seed=args.seed)
    print(path)
    return 0


def register(sub) -> None:
    s = sub.add_parser("datasets", help="the dataset catalogue; import a file (add); preference pairs from a run (pairs)")
    s.add_argument("action", choices=("list", "show", "add", "pairs"))
    s.add_argument("name", nargs="?", metavar="NAME_OR_FILE",
                   help="show: a catalogue name; add: a .jsonl, .csv or .parquet file")
    s.add_argument("--limit", type=count, default=3)
    s.add_argument("--name", dest="as_name", metavar="NAME",
                   help="add: the name it is saved under (HALO_FORGE_HOME/datasets/NAME.jsonl)")
    s.add_argument("--format", choices=("instruction", "chat", "preference"),
                   help="add: the training format (default: detected from the columns)")
    s.add_argument("--map", metavar="FIELD=COLUMN,...",
                   help="add: which column fills which field, e.g. output=answer")
    s.add_argument("--replace", action="store_true", help="add: replace a dataset of that name")
    s.add_argument("--hub", metavar="ID", help="add: read the first --rows rows of a hub dataset")
    s.add_argument("--config", help="add --hub: the dataset's config")
    s.add_argument("--split", default="train", help="add --hub: the split (default train)")
    s.add_argument("--rows", type=count, default=1000, help="add --hub: rows to read")
    s.add_argument("--from-job", type=int, help="pairs: the RAFT, GRPO or benchmark job whose verdicts to pair")
    s.add_argument("--out", help="pairs: the JSONL file to write (prompt, chosen, rejected)")
    s.add_argument("--per-prompt", type=count, default=1, help="pairs: at most this many pairs per prompt")
    s.add_argument("--seed", type=int, default=0, help="pairs: which passing/failing samples are paired")
    s.set_defaults(fn=cmd_datasets)

    s = sub.add_parser("models", help="model helpers")
    s.add_argument("action", choices=("tiny",))
    s.add_argument("--out", help="directory (default HALO_FORGE_HOME/models/tiny)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_models)
