"""AppTest for Settings: the token and the webhook are stored, then only ever shown masked."""
from __future__ import annotations

import os
import stat

from streamlit.testing.v1 import AppTest

from core import credentials
from tests.conftest import REPO
from tests.test_notify import Hook

PAGE = str(REPO / "pages/settings.py")
TOKEN = "hf_SuperSecretToken987"


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_token_saved_private_and_never_shown_back(home):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert "Token: **not set**" in _text(at)
    at.text_input(key="settings_hf_token").set_value(TOKEN).run()
    at.button(key="settings_save_token").click().run()
    assert not at.exception
    assert credentials.hf_token() == TOKEN
    assert stat.S_IMODE(os.stat(home / credentials.FILENAME).st_mode) == 0o600
    assert at.text_input(key="settings_hf_token").value == ""  # the field is emptied
    assert "SuperSecret" not in str(at._tree) and "Token: **set (hf_…87)**" in _text(at)
    at.text_input(key="settings_hf_token").set_value("bad token!").run()
    at.button(key="settings_save_token").click().run()
    assert at.error[0].value.startswith("hf_token must be")
    assert credentials.hf_token() == TOKEN


def test_webhook_saved_masked_and_tested_against_a_local_server(home):
    hook = Hook()
    try:
        at = AppTest.from_file(PAGE, default_timeout=30).run()
        at.text_input(key="settings_notify_url").set_value(hook.url).run()
        at.button(key="settings_save_url").click().run()
        assert credentials.notify_url() == hook.url
        assert "Webhook: **http://127.0.0.1/…**" in _text(at)
        assert "s3cr3t" not in str(at._tree)
        at.button(key="settings_test_url").click().run()
        assert at.success[0].value == "Test sent to http://127.0.0.1/…."
        assert hook.bodies[0]["event"] == "TEST"
    finally:
        hook.close()
    at.button(key="settings_test_url").click().run()  # the server is gone now
    assert at.error[0].value.startswith("The test failed: URLError")
