"""A ledger written by the previous schema opens, migrates in place and keeps every row."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from core import ledger

FIXTURE = Path(__file__).parent / "fixtures" / "ledger_v1.db"


def _columns(path: Path, table: str) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    finally:
        con.close()


def test_fixture_is_schema_1():
    con = sqlite3.connect(FIXTURE)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        con.close()
    assert "endpoint" not in _columns(FIXTURE, "job")


def test_v1_ledger_migrates_and_keeps_rows(home):
    shutil.copy(FIXTURE, home / "ledger.db")
    jobs = {j["name"]: j for j in ledger.list_jobs()}
    assert set(jobs) == {"v1-sft", "v1-bench", "v1-queued"}
    assert jobs["v1-sft"]["status"] == "COMPLETED" and jobs["v1-queued"]["status"] == "QUEUED"
    assert jobs["v1-sft"]["endpoint"] is None and jobs["v1-sft"]["energy_wh"] is None
    assert len(ledger.metrics_df(jobs["v1-sft"]["id"], "loss")) == 10
    res = ledger.results_df()
    assert list(res["benchmark"]) == ["humaneval"] and res["overlap"].isna().all()
    con = sqlite3.connect(home / "ledger.db")
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == ledger.SCHEMA_VERSION
    finally:
        con.close()
    # the migrated ledger takes new rows with the new columns
    with ledger.writer() as conn:
        jid = ledger.insert_job(conn, kind="command", name="after", config="{}", job_dir="")
        ledger.update_job(conn, jid, endpoint="http://127.0.0.1:1234/v1", energy_wh=1.5)
    assert ledger.get_job(jid)["endpoint"] == "http://127.0.0.1:1234/v1"


def test_every_migration_step_adds_what_the_tables_declare(home):
    """A migrated ledger has exactly the columns a fresh one has."""
    shutil.copy(FIXTURE, home / "ledger.db")
    ledger.list_jobs()
    fresh = home / "fresh"
    fresh.mkdir()
    with ledger.reader(fresh / "ledger.db"):
        pass
    for table in ("job", "metric", "log_line", "event", "gpu_sample", "result"):
        assert _columns(home / "ledger.db", table) == _columns(fresh / "ledger.db", table), table
