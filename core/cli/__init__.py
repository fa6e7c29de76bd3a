"""`halo-forge`: the command line. Every command goes through the same services as the pages.

One module per command group, each with `register(subparsers)`; a new group is a new module
and one entry in COMMAND_MODULES. Errors go to stderr as one sentence naming the bad value,
with exit status 2 for bad input and 1 for a failed operation.
"""
from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys

from core import jobs, ledger
from core.cli.common import CliError, Parser

COMMAND_MODULES = (
    "core.cli.jobs_cmd",
    "core.cli.daemon_cmd",
    "core.cli.train_cmd",
    "core.cli.data_cmd",
    "core.cli.verify_cmd",
    "core.cli.benchmark_cmd",
    "core.cli.results_cmd",
    "core.cli.contamination_cmd",
    "core.cli.profiles_cmd",
    "core.cli.secrets_cmd",
    "core.cli.serve_cmd",
    "core.cli.ledger_cmd",
    "core.cli.export_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="halo-forge", description="Fine-tune, benchmark and monitor LLMs on your "
               "own GPU.")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
        return code
    except BrokenPipeError:
        # `halo-forge jobs | head`: the reader left; say nothing more and exit as a shell would
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # bad arguments (already reported) or --help
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.fn(args)
    except BrokenPipeError:
        raise
    except CliError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return exc.code
    except jobs.JobError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 2
    except ledger.LedgerError as exc:  # damaged, foreign or newer ledger: one sentence
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # ConfigError, DatasetError and friends: one sentence each
        errors = getattr(exc, "errors", None)
        if errors and not callable(errors):
            for issue in errors:
                where = f"line {issue.line}: " if getattr(issue, "line", None) else ""
                print(f"halo-forge: {where}{issue.message}", file=sys.stderr)
        else:
            print(f"halo-forge: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or directory the command needed: name it, no traceback
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"halo-forge: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # a database file other than the ledger (a backup, a restore)
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 1
