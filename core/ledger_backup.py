"""Backups of the ledger: online copies through SQLite's backup API, the supervisor's rotating
daily copy, integrity checks and restore.

Never a file copy: a WAL database is the main file plus its -wal, and copying them while a
writer commits gives a torn copy. The backup API copies every page inside one read
transaction, so the copy is the database as of one commit while jobs keep writing (WAL
readers do not block writers). Standard library only: the supervisor and the CLI import it.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

from core import paths

PREFIX = "ledger-"
_ROTATING = re.compile(r"ledger-(\d{8}-\d{6})(?:-(\d+))?\.db")


class RestoreError(RuntimeError):
    pass


def backups_dir() -> Path:
    return paths.home() / "backups"


def list_backups() -> list[Path]:
    """The rotating backups, oldest first (the names sort by time); the copies taken before a
    migration (ledger-vN-...) are not rotated away."""
    folder = backups_dir()
    if not folder.is_dir():
        return []
    found = [(m.group(1), int(m.group(2) or 0), p) for p in folder.glob(f"{PREFIX}*.db")
             if (m := _ROTATING.fullmatch(p.name))]
    return [p for _, _, p in sorted(found)]


def newest_backup() -> Path | None:
    """The newest copy of any kind under backups/ (what a damaged ledger is restored from)."""
    folder = backups_dir()
    found = [p for p in folder.glob(f"{PREFIX}*.db") if p.is_file()] if folder.is_dir() else []
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def backup(out: Path | None = None, src: Path | None = None) -> Path:
    """A consistent copy of the ledger at `out` (default: a new file under backups/).

    Written to a temporary name and renamed, so a copy cut short (a full disk, a kill) never
    looks like a backup."""
    from core import ledger

    src = Path(src) if src else paths.ledger_path()
    if out is None:
        backups_dir().mkdir(parents=True, exist_ok=True)
        stamp = time.strftime('%Y%m%d-%H%M%S')
        out = backups_dir() / f"{PREFIX}{stamp}.db"
        n = 0
        while out.exists():  # two in one second
            n += 1
            out = backups_dir() / f"{PREFIX}{stamp}-{n}.db"
    out = Path(out)
    if out.resolve() == src.resolve():
        raise ValueError(f"the backup must not overwrite the ledger itself ({src})")
    with ledger.reader(src):
        pass  # refuse a damaged or foreign file, create or migrate an old one first
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(src, timeout=30)
    try:
        dest = sqlite3.connect(tmp)
        try:
            source.backup(dest)  # every page in one step: one consistent snapshot
            _single_file(dest)
        finally:
            dest.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    return out


def before_migration(con: sqlite3.Connection, path: Path, version: int) -> Path:
    """The copy taken before a migration changes the file: backups/ledger-v{N}-<time>.db."""
    folder = Path(path).parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"ledger-v{version}-{time.strftime('%Y%m%d-%H%M%S')}.db"
    tmp = out.with_name(out.name + ".part")
    dest = sqlite3.connect(tmp)
    try:
        con.backup(dest)
        _single_file(dest)
    finally:
        dest.close()
    os.replace(tmp, out)
    return out


def _single_file(con: sqlite3.Connection) -> None:
    # A copy in rollback-journal mode is one self-contained file: opening it later (check,
    # restore) leaves no -wal/-shm beside it. The ledger switches it back to WAL when restored.
    con.execute("PRAGMA journal_mode=DELETE")


def rotate(keep: int, every_s: float = 86400.0, now: float | None = None) -> Path | None:
    """Take a backup under backups/ when the newest is older than `every_s`, then delete all
    but the newest `keep`. Returns the new backup, or None when none was due."""
    now = time.time() if now is None else now
    newest = newest_backup()
    if newest is not None and now - newest.stat().st_mtime < every_s:
        return None
    made = backup()
    for old in list_backups()[:-max(1, keep)]:
        old.unlink(missing_ok=True)
    return made


def check(path: Path | None = None, quick: bool = False) -> list[str]:
    """SQLite's integrity_check (or quick_check) of a ledger, read-only: the problems found,
    [] when the file is sound."""
    path = Path(path) if path else paths.ledger_path()
    if not path.exists():
        return [f"{path} does not exist"]
    # Only SQLite opens the file: closing another descriptor of it would drop the locks this
    # process's own ledger connections hold.
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            rows = [r[0] for r in con.execute(f"PRAGMA {'quick' if quick else 'integrity'}_check")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    if rows == ["ok"]:
        return []
    return [line.strip() for row in rows for line in str(row).splitlines()
            if line.strip() and not line.startswith("***")]


def restore(source: Path) -> Path | None:
    """Put `source` in place of the ledger; returns where the replaced ledger was kept (None
    when there was none).

    Refused while a supervisor runs (it holds the ledger open and would keep writing to the
    replaced file) or when `source` is not a sound ledger."""
    from core import ledger
    from core.runner import daemon

    source = Path(source)
    pid = daemon.running_pid()
    if pid:
        raise RestoreError(f"a supervisor is running (pid {pid}); stop it with "
                           "`halo-forge supervisor stop` before restoring")
    if not source.is_file():
        raise RestoreError(f"{source} does not exist")
    problems = check(source)
    if problems:
        raise RestoreError(f"{source} is not a sound SQLite database ({problems[0]}); "
                           "nothing was changed")
    target = paths.ledger_path()
    if source.resolve() == target.resolve():
        raise RestoreError(f"{source} is the ledger itself; nothing was changed")
    staged = target.with_name(target.name + ".restoring")
    try:
        _copy(source, staged)
        ledger.open_file(staged)  # refuses a foreign or newer file; migrates an older one
    except ledger.LedgerError as exc:
        staged.unlink(missing_ok=True)
        raise RestoreError(f"{source} cannot be restored: {exc}") from None
    kept = target.with_name(f"ledger.replaced-{time.strftime('%Y%m%d-%H%M%S')}.db")
    ledger.reset_engines()
    if target.exists():
        for suffix in ("", "-wal", "-shm"):  # the replaced file stays whole with its WAL
            part = Path(str(target) + suffix)
            if part.exists():
                os.replace(part, Path(str(kept) + suffix))
    for suffix in ("-wal", "-shm"):
        Path(str(staged) + suffix).unlink(missing_ok=True)
    os.replace(staged, target)
    ledger.reset_engines()
    return kept if kept.exists() else None


def _copy(source: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
            _single_file(out)
        finally:
            out.close()
    finally:
        src.close()


def size_bytes(path: Path | None = None) -> int:
    """The ledger's size on disk, its WAL included."""
    path = Path(path) if path else paths.ledger_path()
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal")
               if Path(str(path) + s).exists())


def rotation_loop(stop, keep: int, every_s: float, report=None, check_s: float = 60.0) -> None:
    """The supervisor's backup thread: a backup when the newest is older than `every_s`,
    keeping `keep`; checks every `check_s` until `stop` (a threading.Event) is set. A failed
    backup (a full disk) is logged and tried again at the next check."""
    import logging

    log = logging.getLogger("halo_forge.supervisor")
    while not stop.is_set():
        try:
            made = rotate(keep, every_s)
            if made is not None:
                log.info("ledger backup written: %s", made)
                if report:
                    report(made)
        except Exception as exc:  # noqa: BLE001 - the supervisor keeps running
            log.error("ledger backup failed: %s", exc)
        stop.wait(check_s)


def startup_check(path: Path | None = None) -> None:
    """What the supervisor runs before it starts: the file opens as a ledger of ours (or is
    created or migrated) and passes SQLite's quick_check. Raises ledger.LedgerError."""
    from core import ledger

    path = Path(path) if path else paths.ledger_path()
    with ledger.reader(path):
        pass
    problems = check(path, quick=True)
    if problems:
        more = f", and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise ledger.damaged_error(path, f"quick_check: {problems[0]}{more}")
