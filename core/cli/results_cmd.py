"""Benchmark results: export the table, compare two jobs item by item."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core.cli.common import fail, positive_int


def cmd_results(args) -> int:
    if args.action == "compare":
        return _compare(args)
    if args.ids:
        fail(f"results export takes no job ids, got {' '.join(map(str, args.ids))}")
    from core import results

    text = results.export(results.table(), args.format)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _compare(args) -> int:
    from core import comparison

    if len(args.ids) != 2:
        fail(f"results compare needs two job ids (A B), got {len(args.ids)}")
    a, b = args.ids
    try:
        entries = comparison.compare_jobs(a, b, metric=args.metric)
    except comparison.ComparisonError as exc:
        fail(str(exc))
    if args.json:
        print(json.dumps(entries, indent=2))
    else:
        for entry in entries:
            print(f"job {a} \u2192 job {b}: {comparison.describe(entry)}")
    return 0


def register(sub) -> None:
    s = sub.add_parser("results", help="export benchmark results, or compare two jobs",
                       description="`results [export] [--format csv|json]` prints every result; "
                                   "`results compare A B [--json]` tests job B against job A "
                                   "item by item on each benchmark both ran.")
    s.add_argument("action", nargs="?", choices=("export", "compare"), default="export")
    s.add_argument("ids", nargs="*", type=positive_int, metavar="JOB",
                   help="compare: the two job ids, baseline first")
    s.add_argument("--format", choices=("csv", "json"), default="csv", help="export format")
    s.add_argument("--out", help="export: file (default stdout)")
    s.add_argument("--json", action="store_true", help="compare: the figures as JSON")
    s.add_argument("--metric", help="compare: the metric (default: each benchmark's primary)")
    s.set_defaults(fn=cmd_results)
