"""The SQLite job ledger: connections, and the one place where job status changes.

Everything that writes goes through `writer()` (BEGIN IMMEDIATE: a read-then-write under the
default deferred BEGIN fails with "database is locked" when two processes race, see
FIELD-NOTES). Status changes go through `transition()` only, as compare-and-set on the status
the caller expected, so a stop request and a job finishing can never overwrite each other.

Light module: the UI, the CLI and the supervisor import it. Reads and writes go through the
standard library's sqlite3; the SQLModel table classes (core/ledger_schema.py, the declared
schema) are imported only to create or migrate a file, and pandas only in the DataFrame
helpers. A file that is not a ledger (damaged, another program's database, a newer schema) is
refused with one sentence and never written to.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from core import kinds, paths

SCHEMA_VERSION = 3

# Events that only say telemetry was stored (the supervisor's sampler writes one every few
# seconds). Views of jobs key on the newest event outside them (core.live.newest_job_event),
# read through a partial index whose WHERE must match the query's text for SQLite to use it.
TELEMETRY_EVENTS = ("GPU_UPDATE",)
NOT_TELEMETRY = "kind NOT IN (%s)" % ", ".join(f"'{k}'" for k in TELEMETRY_EVENTS)

# How a ledger of each older version becomes the next one: statements run in order, inside one
# BEGIN IMMEDIATE after a backup of the file (see migrate()). A fresh ledger is created from the
# tables in core/ledger_schema.py at SCHEMA_VERSION and skips these. Add a column (or an index)
# to the table class AND a step here.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (  # 1 -> 2: served models, energy accounting, contamination findings
        "ALTER TABLE job ADD COLUMN endpoint VARCHAR",
        "ALTER TABLE job ADD COLUMN energy_wh FLOAT",
        "ALTER TABLE job ADD COLUMN peak_mem_mb FLOAT",
        "ALTER TABLE result ADD COLUMN overlap VARCHAR",
    ),
    3: (  # 2 -> 3: the newest job-related event in one index seek, however much telemetry
        f"CREATE INDEX IF NOT EXISTS ix_event_not_telemetry ON event (id) WHERE {NOT_TELEMETRY}",
    ),
}
TABLES = ("job", "metric", "log_line", "event", "gpu_sample", "result")


class LedgerError(RuntimeError):
    """The ledger file cannot be used; the message says what is wrong and what to do."""


class LedgerVersionError(LedgerError):
    pass


class LedgerDamaged(LedgerError):
    pass


class LedgerForeign(LedgerError):
    pass


class LedgerFull(LedgerError):
    """A write failed for lack of space; it was rolled back, nothing was stored."""


# ---- job states ---------------------------------------------------------------------------

QUEUED, STARTING, RUNNING, STOPPING = "QUEUED", "STARTING", "RUNNING", "STOPPING"
COMPLETED, FAILED, STOPPED = "COMPLETED", "FAILED", "STOPPED"
ACTIVE = (STARTING, RUNNING, STOPPING)
FINAL = (COMPLETED, FAILED, STOPPED)
ALL_STATUSES = (QUEUED, STARTING, RUNNING, STOPPING, COMPLETED, FAILED, STOPPED)
JOB_KINDS = kinds.names()

# The event each status change emits, so pages can follow one stream.
_STATUS_EVENT = {
    QUEUED: "JOB_CREATED",
    RUNNING: "JOB_STARTED",
    COMPLETED: "JOB_COMPLETED",
    FAILED: "JOB_FAILED",
    STOPPED: "JOB_STOPPED",
    STOPPING: "JOB_STOPPING",
    STARTING: "JOB_STARTING",
}


# ---- connections --------------------------------------------------------------------------

class Cursor(sqlite3.Cursor):
    """A sqlite3 cursor with the result helpers callers use (first row, all rows, a scalar)."""

    def first(self):
        return self.fetchone()

    def all(self):
        return self.fetchall()

    def scalar(self):
        row = self.fetchone()
        return None if row is None else row[0]


class Row(sqlite3.Row):
    """Indexable, unpackable, and `dict(row)` gives column -> value."""

    @property
    def _mapping(self) -> dict:  # the SQLAlchemy spelling, for code written against it
        return dict(self)


class Conn(sqlite3.Connection):
    """One ledger connection. `execute` takes qmark (`?`, tuple) or named (`:x`, dict) params."""

    def execute(self, sql, params=()):
        return self.cursor(Cursor).execute(sql if isinstance(sql, str) else str(sql), params)

    def executemany(self, sql, rows):
        return self.cursor(Cursor).executemany(sql, rows)

    def exec_driver_sql(self, sql, params=()):
        """The SQLAlchemy spelling kept for callers written against it: a list of rows runs
        as executemany."""
        if isinstance(params, list):
            return self.executemany(sql, params)
        return self.execute(sql, params)


_lock = threading.Lock()
# Idle connections per (pid, file), shared by the process's threads (SQLite is built
# serialized here, and a connection serves one transaction at a time). Not per thread: the UI
# runs each rerun in a new thread, and per-thread connections would pile up, never closed.
_idle: dict[tuple[int, str], list[Conn]] = {}
POOL_MAX = 8  # idle connections kept per file; more are closed on release
_opened: list[Conn] = []  # every connection, so that reset_engines() can close them all
_checked: dict[tuple[int, str], int] = {}  # (pid, path) checked in this process -> its inode


def _connect(path: Path) -> Conn:
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False,
                          factory=Conn)
    con.row_factory = Row
    _use_wal(con)
    con.execute("PRAGMA busy_timeout=30000")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    with _lock:
        _opened.append(con)
    return con


def _use_wal(con) -> None:
    """Switch the file to WAL once. The mode is stored in the file, so later connections only
    read it; switching needs a lock that SQLite does not wait for (no busy handler), so a
    process opening a new ledger while another creates it retries for a while."""
    deadline = time.monotonic() + 30
    while True:
        if con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _acquire(path: Path | None) -> Conn:
    """An idle connection to the ledger, or a new one (nested use gets a second one).

    The file is checked once per process, and again when it was replaced (a restore): a
    connection to the replaced file is dropped rather than reused."""
    path = Path(path) if path else paths.ledger_path()
    key = (os.getpid(), str(path))
    try:
        ino = os.stat(path).st_ino
    except FileNotFoundError:
        ino = None
    if _checked.get(key) != ino or ino is None:
        with _lock:
            if _checked.get(key) != ino or ino is None:
                open_file(path)
                _checked[key] = ino = os.stat(path).st_ino
    stale = []
    with _lock:
        idle = _idle.setdefault(key, [])
        while idle:
            con = idle.pop()
            if con.ino == ino:
                break
            stale.append(con)
        else:
            con = None
    for old in stale:  # connections to a file that was replaced (a restore)
        _discard(old)
    if con is not None:
        return con
    con = _connect(path)
    con.ino, con.key = ino, key
    return con


def _release(con: Conn) -> None:
    with _lock:
        idle = _idle.setdefault(con.key, [])
        if len(idle) < POOL_MAX:
            idle.append(con)
            return
    _discard(con)


def _discard(con: Conn) -> None:
    with _lock:
        if con in _opened:
            _opened.remove(con)
    try:
        con.close()
    except sqlite3.Error:
        pass


def _end(con: Conn) -> None:
    """Roll back whatever is left open and give the connection back (or drop a broken one)."""
    try:
        if con.in_transaction:
            con.execute("ROLLBACK")
    except sqlite3.Error:
        _discard(con)
        return
    _release(con)


_DAMAGED_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and \
        (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGED_CODES


def is_disk_full(exc: BaseException) -> bool:
    """A write that failed for lack of space (SQLITE_FULL, or ENOSPC from the OS)."""
    if isinstance(exc, LedgerFull):
        return True
    if isinstance(exc, sqlite3.Error):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == 13 or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno == 28


def damaged_error(path: Path, detail: str) -> LedgerDamaged:
    from core import ledger_backup  # light: stdlib only

    newest = ledger_backup.newest_backup()
    hint = (f"restore the newest backup with `halo-forge ledger restore {newest}`" if newest
            else "move it aside to start a new ledger (no backup was found)")
    what = ("is not a SQLite database (damaged, or another program's file)"
            if "not a database" in detail else f"is damaged ({detail})")
    return LedgerDamaged(f"the ledger {path} {what}; {hint} -- the file was left untouched")


@contextmanager
def _guard(path: Path | None):
    """Turn SQLite's damage and disk-full errors into one sentence that says what to do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        path = Path(path) if path else paths.ledger_path()
        if is_damage(exc):
            _checked.pop((os.getpid(), str(path)), None)
            raise damaged_error(path, str(exc)) from exc
        if is_disk_full(exc):
            raise LedgerFull(f"the disk holding {path.parent} is full ({exc}); free some space "
                             "and try again -- nothing was written") from exc
        raise


def open_file(path: Path) -> None:
    """Check a ledger file before anything writes to it: create a new one, migrate an older
    one (after a backup), refuse a damaged, foreign or newer one untouched."""
    path = Path(path)
    # Only SQLite itself opens the file: closing any other descriptor of it would drop the
    # POSIX locks this process's connections hold on it (see FIELD-NOTES / SQLite's docs).
    if path.exists() and path.stat().st_size > 0:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
            try:
                version = con.execute("PRAGMA user_version").fetchone()[0]
                tables = {r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise damaged_error(path, str(exc)) from exc
            raise
        if version > SCHEMA_VERSION:
            raise LedgerVersionError(
                f"the ledger {path} was written by a newer halo-forge (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}); upgrade halo-forge or point "
                "HALO_FORGE_HOME elsewhere -- the file was left untouched")
        if tables and (version == 0 or not set(TABLES) <= tables):
            raise LedgerForeign(
                f"{path} is a SQLite database of another program (tables: "
                f"{', '.join(sorted(tables)[:5])}), not a halo-forge ledger; point "
                "HALO_FORGE_HOME elsewhere or move the file aside -- it was left untouched")
        if version == SCHEMA_VERSION:
            return
    _create_or_migrate(path)


def _create_or_migrate(path: Path) -> None:
    """Create a new ledger, or migrate an older one: first a backup of it (SQLite's backup
    API, under HOME/backups), then every step in one BEGIN IMMEDIATE, so a migration that fails
    half-way leaves the file as it was. One BEGIN IMMEDIATE also keeps a supervisor and a page
    opening a new ledger at the same moment from both creating it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if 0 < version < SCHEMA_VERSION:
            from core import ledger_backup

            ledger_backup.before_migration(con, path, version)
        _use_wal(con)
        con.execute("BEGIN IMMEDIATE")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:  # a newer halo-forge got there first
            con.execute("ROLLBACK")
            return open_file(path)
        if 0 < version < SCHEMA_VERSION:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    con.execute(statement)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version == 0:
            from core import ledger_schema

            ledger_schema.create_tables(con)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        con.execute("COMMIT")
    finally:
        con.close()


def reset_engines() -> None:
    """Close every cached connection and forget the checked files (tests switch
    HALO_FORGE_HOME between cases; restore replaces the file)."""
    with _lock:
        for con in _opened:
            try:
                con.close()
            except sqlite3.Error:
                pass
        _opened.clear()
        _checked.clear()
        _idle.clear()


@contextmanager
def reader(path: Path | None = None) -> Iterator[Conn]:
    """A read transaction: one consistent snapshot for the statements inside."""
    with _guard(path):
        con = _acquire(path)
        try:
            con.execute("BEGIN")
            yield con
        finally:
            _end(con)


@contextmanager
def writer(path: Path | None = None) -> Iterator[Conn]:
    """A BEGIN IMMEDIATE transaction, committed on exit, rolled back on error."""
    with _guard(path):
        con = _acquire(path)
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        finally:
            _end(con)


def check_usable(path: Path | None = None) -> None:
    """Raise LedgerError when the ledger is damaged, foreign or newer (creates a missing one)."""
    with reader(path) as conn:
        conn.execute("SELECT id FROM job ORDER BY id DESC LIMIT 1").fetchall()


@contextmanager
def connection(path: Path | None = None) -> Iterator[Conn]:
    """A connection outside any transaction: VACUUM, checkpoints."""
    with _guard(path):
        con = _acquire(path)
        try:
            yield con
        finally:
            _end(con)


def engine(path: Path | None = None):
    """A SQLAlchemy engine on the ledger, for ORM users and `pandas.read_sql` with SQLAlchemy
    (imports SQLAlchemy: the runtime itself does not need it)."""
    from sqlalchemy import create_engine

    path = Path(path) if path else paths.ledger_path()
    with reader(path):
        pass  # checks, creates or migrates the file first
    return create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


def __getattr__(name: str):
    # The table classes live in ledger_schema; `ledger.Job` keeps working for ORM users.
    if name in ("Job", "Metric", "LogLine", "Event", "GpuSample", "Result", "SQLModel"):
        from core import ledger_schema

        return getattr(ledger_schema, name)
    raise AttributeError(f"module 'core.ledger' has no attribute {name!r}")


# ---- rows as dicts ------------------------------------------------------------------------

def rows(conn: Conn, sql: str, params: Any = ()) -> list[dict]:
    """Every row of a query as a dict."""
    return [dict(r) for r in conn.execute(sql, params)]


def _rows(conn: Conn, sql: str, **params) -> list[dict]:
    return rows(conn, sql, params)


def get_job(job_id: int, conn: Conn | None = None) -> dict | None:
    if conn is None:
        with reader() as c:
            return get_job(job_id, c)
    rows = _rows(conn, "SELECT * FROM job WHERE id = :id", id=job_id)
    return rows[0] if rows else None


def list_jobs(statuses: Iterable[str] | None = None, limit: int | None = None,
              kinds: Iterable[str] | None = None) -> list[dict]:
    sql, params = "SELECT * FROM job", {}
    where = []
    if statuses:
        where.append("status IN (%s)" % ",".join(f":s{i}" for i, _ in enumerate(statuses)))
        params.update({f"s{i}": s for i, s in enumerate(statuses)})
    if kinds:
        where.append("kind IN (%s)" % ",".join(f":k{i}" for i, _ in enumerate(kinds)))
        params.update({f"k{i}": k for i, k in enumerate(kinds)})
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with reader() as conn:
        return _rows(conn, sql, **params)


def status_counts() -> dict[str, int]:
    with reader() as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM job GROUP BY status").all()
    return {s: n for s, n in rows}


# ---- writes -------------------------------------------------------------------------------

def add_event(conn: Conn, kind: str, job_id: int | None = None, payload: Any = None,
              at: float | None = None) -> None:
    conn.execute(
        "INSERT INTO event (time, job_id, kind, payload) VALUES (?, ?, ?, ?)",
        (at or time.time(), job_id, kind, json.dumps(payload or {})),
    )


# The job columns that are not NULL by default, as declared on ledger_schema.Job (a test
# keeps the two equal; the schema module is not imported at run time).
JOB_DEFAULTS = {"status": QUEUED, "config": "{}", "priority": 0, "queue_pos": 0.0, "gpus": 0,
                "executor": "local", "job_dir": "", "log_offset": 0, "log_seq": 0}


def insert_job(conn: Conn, **fields) -> int:
    now = time.time()
    fields.setdefault("created_at", now)
    fields["updated_at"] = now
    fields.setdefault("status", QUEUED)
    if "queue_pos" not in fields:
        top = conn.execute("SELECT MAX(queue_pos) FROM job").scalar()
        fields["queue_pos"] = (top or 0.0) + 1.0
    row = {**JOB_DEFAULTS, **fields}
    cols = ",".join(row)
    marks = ",".join("?" * len(row))
    cur = conn.execute(f"INSERT INTO job ({cols}) VALUES ({marks})", tuple(row.values()))
    job_id = cur.lastrowid
    add_event(conn, "JOB_CREATED", job_id, {"kind": fields.get("kind"), "name": fields.get("name")})
    return job_id


def update_job(conn: Conn, job_id: int, **fields) -> None:
    """Update fields other than status (status goes through transition)."""
    if "status" in fields:
        raise ValueError("status changes go through ledger.transition()")
    fields["updated_at"] = time.time()
    sets = ",".join(f"{k} = ?" for k in fields)
    conn.execute(f"UPDATE job SET {sets} WHERE id = ?", (*fields.values(), job_id))


def transition(job_id: int, expected: Iterable[str], new: str, conn: Conn | None = None,
               payload: dict | None = None, **fields) -> bool:
    """Compare-and-set a job's status. Returns False (and changes nothing) when the job is not
    in one of the `expected` statuses any more."""
    if conn is None:
        with writer() as c:
            return transition(job_id, expected, new, c, payload, **fields)
    expected = tuple(expected)
    now = time.time()
    if new in FINAL:
        fields.setdefault("finished_at", now)
    if new == RUNNING:
        fields.setdefault("started_at", now)
    fields["updated_at"] = now
    sets = ",".join(f"{k} = ?" for k in fields)
    marks = ",".join("?" * len(expected))
    cur = conn.execute(
        f"UPDATE job SET status = ?, {sets} WHERE id = ? AND status IN ({marks})",
        (new, *fields.values(), job_id, *expected),
    )
    if cur.rowcount != 1:
        return False
    info = dict(payload or {})
    for key in ("exit_code", "exit_signal", "error", "external_id"):
        if fields.get(key) is not None:
            info[key] = fields[key]
    add_event(conn, _STATUS_EVENT[new], job_id, {"status": new, **info}, at=now)
    return True


def claim_next(free_gpu_slots: int) -> dict | None:
    """Atomically move the best queued job that fits the free GPU slots to STARTING (a job
    for a cluster engine always fits: the engine schedules its GPUs)."""
    with writer() as conn:
        row = conn.execute(
            "SELECT id FROM job WHERE status = ? AND (gpus <= ? OR executor != 'local') "
            "ORDER BY priority DESC, queue_pos ASC, id ASC LIMIT 1",
            (QUEUED, max(free_gpu_slots, 0)),
        ).first()
        if row is None:
            return None
        if not transition(row[0], (QUEUED,), STARTING, conn):
            return None
        return get_job(row[0], conn)


def append_output(conn: Conn, job_id: int, *, log_offset: int, log_seq: int,
                  logs: list[tuple], metrics: list[tuple], progress: dict,
                  events: list[tuple]) -> None:
    """Store one batch of parsed output and the byte offset it ends at, in one transaction,
    so that a supervisor killed at any point neither loses nor duplicates a row."""
    if logs:
        conn.executemany(
            "INSERT INTO log_line (job_id, seq, time, stream, text) VALUES (?, ?, ?, ?, ?)", logs)
    if metrics:
        conn.executemany(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)", metrics)
    if events:
        conn.executemany(
            "INSERT INTO event (time, job_id, kind, payload) VALUES (?, ?, ?, ?)", events)
    update_job(conn, job_id, log_offset=log_offset, log_seq=log_seq, **progress)


def insert_gpu_samples(rows: list[dict]) -> None:
    if not rows:
        return
    cols = ("time", "device", "name", "utilization", "mem_used", "mem_total", "gtt_used",
            "gtt_total", "temperature", "power", "source")
    with writer() as conn:
        conn.executemany(
            f"INSERT INTO gpu_sample ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [tuple(r.get(c) for c in cols) for r in rows],
        )
        add_event(conn, "GPU_UPDATE", None, {"devices": len(rows)})


def prune_gpu_samples(older_than: float) -> None:
    with writer() as conn:
        conn.execute("DELETE FROM gpu_sample WHERE time < ?", (older_than,))


def insert_result(conn: Conn, job_id: int | None, r: dict) -> int:
    metrics = r.get("metrics") or {}
    primary = r.get("primary_metric")
    cur = conn.execute(
        "INSERT INTO result (job_id, model, benchmark, pass_at_1, pass_at_5, primary_metric, "
        "primary_value, metrics, samples, duration_s, details_path, source, overlap, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (job_id, str(r["model"]), str(r["benchmark"]), metrics.get("pass@1"),
         metrics.get("pass@5"), primary, metrics.get(primary) if primary else None,
         json.dumps(metrics), int(r.get("samples") or 0), r.get("duration_s"),
         r.get("details"), r.get("source"),
         json.dumps(r["overlap"]) if r.get("overlap") is not None else None,
         r.get("created_at") or time.time()),
    )
    return cur.lastrowid


# ---- DataFrame helpers (for notebooks, pages and exports) ---------------------------------

def _frame(sql: str, params: dict | None = None, dates: tuple[str, ...] = ()):
    import pandas as pd

    with reader() as conn:
        conn.row_factory = None  # pandas wants plain tuples
        try:
            df = pd.read_sql(sql, conn, params=params or {})
        finally:
            conn.row_factory = Row
    for col in dates:
        if col in df:
            df[col] = pd.to_datetime(df[col], unit="s", utc=True)
    return df


def jobs_df():
    """Every job, newest first, timestamps as UTC datetimes."""
    return _frame("SELECT * FROM job ORDER BY id DESC",
                  dates=("created_at", "started_at", "finished_at", "updated_at"))


def metrics_df(job_id: int, names: Iterable[str] | str | None = None):
    """Long-format metrics of one job: step, time, name, value."""
    if isinstance(names, str):
        names = [names]
    sql = "SELECT step, time, name, value FROM metric WHERE job_id = :job"
    params: dict[str, Any] = {"job": job_id}
    if names:
        names = list(names)
        sql += " AND name IN (%s)" % ",".join(f":n{i}" for i in range(len(names)))
        params.update({f"n{i}": n for i, n in enumerate(names)})
    return _frame(sql + " ORDER BY id", params, dates=("time",))


def results_df():
    """Benchmark results with their metrics JSON expanded into columns."""
    import pandas as pd

    df = _frame("SELECT * FROM result ORDER BY id DESC", dates=("created_at",))
    if df.empty:
        return df
    extra = pd.DataFrame([json.loads(m or "{}") for m in df["metrics"]], index=df.index)
    extra = extra[[c for c in extra.columns if c not in df.columns]]
    return pd.concat([df, extra], axis=1)


def events_df(after_id: int = 0, job_id: int | None = None):
    sql = "SELECT * FROM event WHERE id > :after"
    params: dict[str, Any] = {"after": after_id}
    if job_id is not None:
        sql += " AND job_id = :job"
        params["job"] = job_id
    return _frame(sql + " ORDER BY id", params, dates=("time",))


def gpu_df(since: float = 0.0):
    return _frame("SELECT * FROM gpu_sample WHERE time >= :since ORDER BY time", {"since": since},
                  dates=("time",))
