"""The SQLite job ledger: tables, connections, and the one place where job status changes.

Everything that writes goes through `writer()` (BEGIN IMMEDIATE: a read-then-write under the
default deferred BEGIN fails with "database is locked" when two processes race, see
FIELD-NOTES). Status changes go through `transition()` only, as compare-and-set on the status
the caller expected, so a stop request and a job finishing can never overwrite each other.

Light module: the UI and the supervisor import it. pandas is imported inside the DataFrame
helpers only.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from sqlalchemy import Index, event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel, create_engine

from core import kinds, paths

SCHEMA_VERSION = 2

# How a ledger of each older version becomes the next one: statements run in order, inside the
# same BEGIN IMMEDIATE that checks the version. A fresh ledger is created from the tables below
# at SCHEMA_VERSION and skips these. Add a column to the table class AND a step here.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (  # 1 -> 2: served models, energy accounting, contamination findings
        "ALTER TABLE job ADD COLUMN endpoint VARCHAR",
        "ALTER TABLE job ADD COLUMN energy_wh FLOAT",
        "ALTER TABLE job ADD COLUMN peak_mem_mb FLOAT",
        "ALTER TABLE result ADD COLUMN overlap VARCHAR",
    ),
}


class LedgerVersionError(RuntimeError):
    pass


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


# ---- tables -------------------------------------------------------------------------------

class Job(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    name: str
    status: str = Field(default=QUEUED, index=True)
    config: str = "{}"  # the full validated config as JSON
    priority: int = 0  # higher runs first
    queue_pos: float = 0.0  # order within a priority; lower runs first
    gpus: int = 0  # GPU slots the job asks for
    executor: str = "local"
    profile: Optional[str] = None
    external_id: Optional[str] = None  # Ray job id, Slurm job id; locally "pid:start_ticks"
    pid: Optional[int] = None
    pid_start: Optional[int] = None  # /proc/PID/stat field 22: tells a live job from a reused pid
    job_dir: str = ""
    created_at: float = Field(default_factory=time.time)
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    updated_at: float = Field(default_factory=time.time)
    exit_code: Optional[int] = None
    exit_signal: Optional[str] = None
    error: Optional[str] = None
    step: Optional[int] = None
    total_steps: Optional[int] = None
    epoch: Optional[float] = None
    total_epochs: Optional[int] = None
    cycle: Optional[int] = None
    total_cycles: Optional[int] = None
    log_offset: int = 0  # bytes of output.log already turned into rows
    log_seq: int = 0  # number of log lines stored
    stop_requested_at: Optional[float] = None
    env: Optional[str] = None  # JSON of the environment variables the job was given on top
    retry_of: Optional[int] = None
    endpoint: Optional[str] = None  # a served model's OpenAI-compatible base URL, once it answers
    energy_wh: Optional[float] = None  # GPU energy of the run, from the power samples (None: not reported)
    peak_mem_mb: Optional[float] = None  # peak GPU (or host) memory during the run


class Metric(SQLModel, table=True):
    __table_args__ = (Index("ix_metric_job_name_step", "job_id", "name", "step"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: int
    step: Optional[int] = None
    time: float
    name: str
    value: float


class LogLine(SQLModel, table=True):
    __tablename__ = "log_line"
    __table_args__ = (Index("ix_log_line_job_seq", "job_id", "seq"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: int
    seq: int
    time: float
    stream: str = "output"
    text: str


class Event(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    time: float = Field(default_factory=time.time)
    job_id: Optional[int] = Field(default=None, index=True)
    kind: str
    payload: str = "{}"


class GpuSample(SQLModel, table=True):
    __tablename__ = "gpu_sample"
    id: Optional[int] = Field(default=None, primary_key=True)
    time: float = Field(index=True)
    device: str
    name: Optional[str] = None
    utilization: Optional[float] = None
    mem_used: Optional[float] = None
    mem_total: Optional[float] = None
    gtt_used: Optional[float] = None
    gtt_total: Optional[float] = None
    temperature: Optional[float] = None
    power: Optional[float] = None
    source: str = ""


class Result(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: Optional[int] = Field(default=None, index=True)
    model: str
    benchmark: str
    pass_at_1: Optional[float] = None
    pass_at_5: Optional[float] = None
    primary_metric: Optional[str] = None
    primary_value: Optional[float] = None
    metrics: str = "{}"  # every metric the benchmark defines, JSON
    samples: int = 0
    duration_s: Optional[float] = None
    details_path: Optional[str] = None  # per-sample JSONL in the job dir
    source: Optional[str] = None  # where the data came from: hub, sample (ours), package, file
    overlap: Optional[str] = None  # JSON: contamination findings between training data and items
    created_at: float = Field(default_factory=time.time)


# ---- connections --------------------------------------------------------------------------

_engines: dict[tuple[str, bool], Engine] = {}
_engines_lock = threading.Lock()


def _make_engine(path: Path, immediate: bool) -> Engine:
    eng = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @event.listens_for(eng, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take transaction control away from pysqlite so that BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        _use_wal(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(eng, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return eng


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


def _engine(immediate: bool, path: Path | None = None) -> Engine:
    path = Path(path) if path else paths.ledger_path()
    key = (str(path), immediate)
    eng = _engines.get(key)
    if eng is None:
        with _engines_lock:
            eng = _engines.get(key)
            if eng is None:
                _ensure_schema(path)
                eng = _engines[key] = _make_engine(path, immediate)
    return eng


def _ensure_schema(path: Path) -> None:
    """Create the tables, or refuse a ledger written by a newer halo-forge.

    The DDL runs inside one BEGIN IMMEDIATE so that a supervisor and a page opening a new
    ledger at the same moment cannot both try to create it.
    """
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        _use_wal(con)
        con.execute("BEGIN IMMEDIATE")
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            con.execute("ROLLBACK")
            raise LedgerVersionError(
                f"the ledger {path} was written by a newer halo-forge (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}); upgrade halo-forge or point "
                "HALO_FORGE_HOME elsewhere -- the file was left untouched"
            )
        if 0 < version < SCHEMA_VERSION:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    con.execute(statement)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version == 0:
            dialect = sqlite_dialect.dialect()
            for table in SQLModel.metadata.sorted_tables:
                con.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
                for index in table.indexes:
                    con.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        con.execute("COMMIT")
    finally:
        con.close()


def reset_engines() -> None:
    """Forget cached engines (tests switch HALO_FORGE_HOME between cases)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


@contextmanager
def reader(path: Path | None = None) -> Iterator[Connection]:
    with _engine(False, path).connect() as conn:
        yield conn


@contextmanager
def writer(path: Path | None = None) -> Iterator[Connection]:
    """A BEGIN IMMEDIATE transaction, committed on exit, rolled back on error."""
    with _engine(True, path).begin() as conn:
        yield conn


def engine(path: Path | None = None) -> Engine:
    """A read engine, for pandas.read_sql and other plain queries."""
    return _engine(False, path)


# ---- rows as dicts ------------------------------------------------------------------------

def _rows(conn: Connection, sql: str, **params) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def get_job(job_id: int, conn: Connection | None = None) -> dict | None:
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
        rows = conn.execute(text("SELECT status, COUNT(*) FROM job GROUP BY status")).all()
    return {s: n for s, n in rows}


# ---- writes -------------------------------------------------------------------------------

def add_event(conn: Connection, kind: str, job_id: int | None = None, payload: Any = None,
              at: float | None = None) -> None:
    conn.exec_driver_sql(
        "INSERT INTO event (time, job_id, kind, payload) VALUES (?, ?, ?, ?)",
        (at or time.time(), job_id, kind, json.dumps(payload or {})),
    )


def insert_job(conn: Connection, **fields) -> int:
    now = time.time()
    fields.setdefault("created_at", now)
    fields["updated_at"] = now
    fields.setdefault("status", QUEUED)
    if "queue_pos" not in fields:
        top = conn.exec_driver_sql("SELECT MAX(queue_pos) FROM job").scalar()
        fields["queue_pos"] = (top or 0.0) + 1.0
    row = Job(**fields).model_dump(exclude={"id"})  # every column, with the model's defaults
    cols = ",".join(row)
    marks = ",".join("?" * len(row))
    cur = conn.exec_driver_sql(f"INSERT INTO job ({cols}) VALUES ({marks})", tuple(row.values()))
    job_id = cur.lastrowid
    add_event(conn, "JOB_CREATED", job_id, {"kind": fields.get("kind"), "name": fields.get("name")})
    return job_id


def update_job(conn: Connection, job_id: int, **fields) -> None:
    """Update fields other than status (status goes through transition)."""
    if "status" in fields:
        raise ValueError("status changes go through ledger.transition()")
    fields["updated_at"] = time.time()
    sets = ",".join(f"{k} = ?" for k in fields)
    conn.exec_driver_sql(f"UPDATE job SET {sets} WHERE id = ?", (*fields.values(), job_id))


def transition(job_id: int, expected: Iterable[str], new: str, conn: Connection | None = None,
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
    cur = conn.exec_driver_sql(
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
        row = conn.exec_driver_sql(
            "SELECT id FROM job WHERE status = ? AND (gpus <= ? OR executor != 'local') "
            "ORDER BY priority DESC, queue_pos ASC, id ASC LIMIT 1",
            (QUEUED, max(free_gpu_slots, 0)),
        ).first()
        if row is None:
            return None
        if not transition(row[0], (QUEUED,), STARTING, conn):
            return None
        return get_job(row[0], conn)


def append_output(conn: Connection, job_id: int, *, log_offset: int, log_seq: int,
                  logs: list[tuple], metrics: list[tuple], progress: dict,
                  events: list[tuple]) -> None:
    """Store one batch of parsed output and the byte offset it ends at, in one transaction,
    so that a supervisor killed at any point neither loses nor duplicates a row."""
    if logs:
        conn.exec_driver_sql(
            "INSERT INTO log_line (job_id, seq, time, stream, text) VALUES (?, ?, ?, ?, ?)", logs)
    if metrics:
        conn.exec_driver_sql(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)", metrics)
    if events:
        conn.exec_driver_sql(
            "INSERT INTO event (time, job_id, kind, payload) VALUES (?, ?, ?, ?)", events)
    update_job(conn, job_id, log_offset=log_offset, log_seq=log_seq, **progress)


def insert_gpu_samples(rows: list[dict]) -> None:
    if not rows:
        return
    cols = ("time", "device", "name", "utilization", "mem_used", "mem_total", "gtt_used",
            "gtt_total", "temperature", "power", "source")
    with writer() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO gpu_sample ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [tuple(r.get(c) for c in cols) for r in rows],
        )
        add_event(conn, "GPU_UPDATE", None, {"devices": len(rows)})


def prune_gpu_samples(older_than: float) -> None:
    with writer() as conn:
        conn.exec_driver_sql("DELETE FROM gpu_sample WHERE time < ?", (older_than,))


def insert_result(conn: Connection, job_id: int | None, r: dict) -> int:
    metrics = r.get("metrics") or {}
    primary = r.get("primary_metric")
    cur = conn.exec_driver_sql(
        "INSERT INTO result (job_id, model, benchmark, pass_at_1, pass_at_5, primary_metric, "
        "primary_value, metrics, samples, duration_s, details_path, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (job_id, str(r["model"]), str(r["benchmark"]), metrics.get("pass@1"),
         metrics.get("pass@5"), primary, metrics.get(primary) if primary else None,
         json.dumps(metrics), int(r.get("samples") or 0), r.get("duration_s"),
         r.get("details"), r.get("source"), r.get("created_at") or time.time()),
    )
    return cur.lastrowid


# ---- DataFrame helpers (for notebooks, pages and exports) ---------------------------------

def _frame(sql: str, params: dict | None = None, dates: tuple[str, ...] = ()):
    import pandas as pd

    with reader() as conn:
        df = pd.read_sql(text(sql), conn, params=params or {})
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
