"""contamination: word n-gram overlap between training data and a benchmark's items."""
from __future__ import annotations

import json

from core.cli.common import fail, positive_int


def cmd_contamination(args) -> int:
    from core import contamination

    try:
        reports = contamination.run_checks(args.train, [args.benchmark], n=args.ngram)
    except contamination.ContaminationError as exc:
        fail(str(exc))
    report = reports[0]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(report["summary"])
        for hit in report["overlapping"]:
            records = ", ".join(map(str, hit["train_records"]))
            print(f"  {hit['id']}: {hit['ngrams']} {report['ngram']}-grams "
                  f"({hit['fraction']:.0%} of the item), training record(s) {records}")
            print(f"    \"{hit['text']}\"")
    return 1 if report["contaminated"] and args.fail_on_overlap else 0


def register(sub) -> None:
    s = sub.add_parser("contamination", help="n-gram overlap of training data with a benchmark",
                       description="Word n-grams (13 by default) of each benchmark item against "
                                   "every training record; lists the overlapping item ids with "
                                   "the matching text.")
    s.add_argument("--train", required=True, metavar="DATASET_OR_FILE",
                   help="a catalogue dataset name or a .jsonl/.json file")
    s.add_argument("--benchmark", required=True, metavar="NAME")
    s.add_argument("--ngram", type=positive_int, default=13, help="words per n-gram (default 13)")
    s.add_argument("--json", action="store_true", help="the full report as JSON")
    s.add_argument("--fail-on-overlap", action="store_true",
                   help="exit 1 when any item overlaps (for scripts and CI)")
    s.set_defaults(fn=cmd_contamination)
