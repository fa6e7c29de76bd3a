"""The app's entry point on a ledger it must not use: one sentence, no traceback, no write."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import paths
from tests.conftest import REPO


def test_app_on_a_foreign_file_says_what_to_do_and_writes_nothing(home):
    path = paths.ledger_path()
    path.write_text("name,amount\nrent,1200\n")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "not a SQLite database" in errors[0], errors
    assert "halo-forge ledger restore" in errors[0] or "move it aside" in errors[0]
    assert path.read_text() == "name,amount\nrent,1200\n"
    assert not path.with_name("ledger.db-wal").exists()


def test_dashboard_shows_the_ledger_size_and_newest_backup(home, monkeypatch):
    from core import dashboard, hardware, jobs, ledger_backup

    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    jobs.submit("command", {"command": ["true"]})
    page = str(REPO / "pages/dashboard.py")
    at = AppTest.from_file(page, default_timeout=60).run()
    line = [c.value for c in at.caption if c.value.startswith("Ledger ")]
    assert line and " MB on disk" in line[0] and "no backup yet" in line[0], line
    ledger_backup.backup()
    at = AppTest.from_file(page, default_timeout=60).run()
    line = [c.value for c in at.caption if c.value.startswith("Ledger ")]
    assert "newest backup" in line[0] and not at.error, line
