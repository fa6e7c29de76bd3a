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


def _migrated_and_fresh(home: Path) -> tuple[Path, Path]:
    """The v1 fixture opened (so migrated) as the ledger, and a ledger created fresh."""
    shutil.copy(FIXTURE, home / "ledger.db")
    ledger.list_jobs()
    fresh = home / "fresh"
    fresh.mkdir()
    with ledger.reader(fresh / "ledger.db"):
        pass
    return home / "ledger.db", fresh / "ledger.db"


def test_every_migration_step_adds_what_the_tables_declare(home):
    """A migrated ledger has exactly the columns a fresh one has."""
    migrated, fresh = _migrated_and_fresh(home)
    for table in ("job", "metric", "log_line", "event", "gpu_sample", "result"):
        assert _columns(migrated, table) == _columns(fresh, table), table


def _indexes(path: Path) -> dict[str, str]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                "AND sql IS NOT NULL"))
    finally:
        con.close()


def test_old_ledger_gets_the_indexes_a_fresh_one_has(home):
    assert "ix_event_not_telemetry" not in _indexes(FIXTURE)
    migrated, fresh = _migrated_and_fresh(home)
    assert "ix_event_not_telemetry" in _indexes(migrated)
    assert _indexes(migrated) == _indexes(fresh)


def test_migration_backs_up_first_and_runs_in_one_transaction(home, monkeypatch):
    from core import ledger_backup

    shutil.copy(FIXTURE, home / "ledger.db")
    original = FIXTURE.read_bytes()
    # a step that fails half-way: the earlier ALTERs of the same migration must not stay
    steps = ledger.MIGRATIONS[2]
    monkeypatch.setitem(ledger.MIGRATIONS, 2, steps + ("ALTER TABLE nope ADD x",))
    try:
        ledger.list_jobs()
        raise AssertionError("the broken migration was accepted")
    except sqlite3.OperationalError as exc:
        assert "nope" in str(exc)
    assert "endpoint" not in _columns(home / "ledger.db", "job")
    backups = sorted((home / "backups").glob("ledger-v1-*.db"))
    assert len(backups) == 1 and ledger_backup.check(backups[0]) == []
    assert _columns(backups[0], "job") == _columns(FIXTURE, "job")
    monkeypatch.setitem(ledger.MIGRATIONS, 2, steps)
    ledger.reset_engines()
    assert {j["name"] for j in ledger.list_jobs()} == {"v1-sft", "v1-bench", "v1-queued"}
    assert ledger_backup.newest_backup().name.startswith("ledger-v1-")
    assert ledger_backup.list_backups() == []  # never rotated away
    assert FIXTURE.read_bytes() == original
