"""The supervisor's reactions to a full disk and to a damaged ledger, pass by pass."""
from __future__ import annotations

import sqlite3

from core import jobs, ledger
from core.runner import diskguard, health
from core.runner.supervisor import Supervisor


def test_a_full_disk_pauses_launching_until_a_write_commits_again(home, monkeypatch):
    sup = Supervisor()
    job_id = jobs.submit("command", {"command": ["true"]})
    full = sqlite3.OperationalError("database or disk is full")
    assert sup.disk.failed(full) and sup.disk.paused
    assert "full" in health.read()["paused"]
    sup._launch()
    assert jobs.get(job_id)["status"] == "QUEUED"  # nothing launched while paused
    monkeypatch.setattr(diskguard, "PROBE_EVERY_S", 0.0)
    sup.tick()  # space is there: the probe write commits, launching resumes in the same pass
    assert not sup.disk.paused and health.read()["paused"] is None
    assert jobs.get(job_id)["status"] in ("STARTING", "RUNNING", "COMPLETED")
    assert "LEDGER_WRITABLE" in set(ledger.events_df()["kind"])
    assert not sup.disk.failed(ValueError("something else"))


def test_a_damaged_ledger_stops_the_supervisor_before_any_further_write(home, monkeypatch):
    sup = Supervisor()
    job_id = jobs.submit("command", {"command": ["true"]})
    calls = []

    def damaged():
        calls.append("refresh")
        raise ledger.LedgerDamaged("the ledger X is damaged (malformed); restore ...")

    monkeypatch.setattr(sup, "_refresh", damaged)
    monkeypatch.setattr(sup, "_follow", lambda: calls.append("follow"))
    sup.tick()
    assert calls == ["refresh"] and sup._stop.is_set()
    assert isinstance(sup.disk.damaged, ledger.LedgerDamaged)
    assert jobs.get(job_id)["status"] == "QUEUED"
