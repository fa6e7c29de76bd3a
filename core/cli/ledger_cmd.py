"""The ledger file itself: ledger check|backup|restore|prune|info."""
from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import fail


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def cmd_ledger(args) -> int:
    from core import ledger, ledger_backup, paths

    if args.action == "check":
        problems = ledger_backup.check()
        if not problems:
            print(f"{paths.ledger_path()}: ok (integrity_check)")
            return 0
        newest = ledger_backup.newest_backup()
        print(f"halo-forge: {paths.ledger_path()} failed integrity_check: {problems[0]}"
              + (f" ({len(problems) - 1} more problem(s))" if len(problems) > 1 else "")
              + (f"; restore the newest backup with `halo-forge ledger restore {newest}`"
                 if newest else "; no backup was found"), file=sys.stderr)
        return 1
    if args.action == "backup":
        out = ledger_backup.backup(Path(args.out) if args.out else None)
        print(f"{out} ({_size(out.stat().st_size)})")
        return 0
    if args.action == "restore":
        if not args.file:
            fail("ledger restore needs the backup FILE to restore")
        try:
            kept = ledger_backup.restore(Path(args.file))
        except ledger_backup.RestoreError as exc:
            fail(str(exc), 1)
        print(f"restored {args.file}" + (f"; the replaced ledger is kept as {kept}" if kept
                                          else " (there was no ledger to replace)"))
        return 0
    if args.action == "prune":
        from core import ledger_prune

        if not args.older_than:
            fail("ledger prune needs --older-than AGE, e.g. --older-than 90d")
        older = ledger_prune.parse_age(args.older_than)
        done = ledger_prune.prune(older, keep_results=args.keep_results,
                                  vacuum=not args.no_vacuum)
        print(f"pruned {done['jobs']} job(s): {done['metrics']:,} metric rows, "
              f"{done['log_lines']:,} log lines, {done['events']:,} events; ledger "
              f"{_size(done['bytes_before'])} -> {_size(done['bytes_after'])} "
              f"in {done['seconds']:.1f} s"
              + (f" ({done['vacuum_skipped']})" if done["vacuum_skipped"] else ""))
        return 0
    # info
    with ledger.reader() as conn:
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").scalar() for t in ledger.TABLES}
        version = conn.execute("PRAGMA user_version").scalar()
    newest = ledger_backup.newest_backup()
    print(f"ledger: {paths.ledger_path()} ({_size(ledger_backup.size_bytes())}, schema {version})")
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print(f"backups: {len(ledger_backup.list_backups())} rotating under "
          f"{ledger_backup.backups_dir()}" + (f", newest {newest}" if newest else ""))
    return 0


def register(sub) -> None:
    s = sub.add_parser("ledger", help="the ledger file: check, backup, restore, prune, info")
    s.add_argument("action", choices=("check", "backup", "restore", "prune", "info"))
    s.add_argument("file", nargs="?", help="restore: the backup to put in place")
    s.add_argument("--out", help="backup: the file to write (default: HOME/backups/ledger-TIME.db)")
    s.add_argument("--older-than", dest="older_than",
                   help="prune: logs and metrics of jobs finished longer ago than this (90d, 12h)")
    s.add_argument("--keep-results", dest="keep_results", action="store_true",
                   help="prune: keep the logs and metrics of jobs that produced results")
    s.add_argument("--no-vacuum", dest="no_vacuum", action="store_true",
                   help="prune: skip the VACUUM that gives the space back to the disk")
    s.set_defaults(fn=cmd_ledger)
