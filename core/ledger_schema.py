"""The ledger's declared schema: SQLModel table classes, and the DDL made from them.

Imported only where the schema is needed (creating or migrating a ledger file, ORM users):
the runtime reads and writes through the standard library's sqlite3 (core/ledger.py), so that
a read command does not pay about 0.4 s for importing SQLAlchemy.
"""
from __future__ import annotations

import time
from typing import Optional

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from core.ledger import NOT_TELEMETRY, QUEUED


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
    # core.live.newest_job_event: MAX(id) over the events that are not telemetry
    __table_args__ = (Index("ix_event_not_telemetry", "id", sqlite_where=text(NOT_TELEMETRY)),)
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



def create_tables(con) -> None:
    """Create every table and index that is missing, on a sqlite3 connection inside the
    caller's transaction."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = sqlite_dialect.dialect()
    for table in SQLModel.metadata.sorted_tables:
        con.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
        for index in table.indexes:
            con.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
