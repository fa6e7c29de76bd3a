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
