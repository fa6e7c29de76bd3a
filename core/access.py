"""Access control for the UI: open on loopback, a token everywhere else.

`halo-forge ui` puts the token in HALO_FORGE_TOKEN for the Streamlit process; when it is set,
every page render checks it (constant-time) before anything else is drawn.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import secrets

SESSION_KEY = "access_ok"


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def required_token() -> str | None:
    return os.environ.get("HALO_FORGE_TOKEN") or None


def check(given: str | None, expected: str | None = None) -> bool:
    expected = expected if expected is not None else required_token()
    if not expected:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


def require_access() -> None:
    """Stop the script run unless this session presented the token (no-op without a token)."""
    import streamlit as st

    if not required_token() or st.session_state.get(SESSION_KEY):
        return
    given = st.query_params.get("token")
    if given is None:
        given = st.session_state.get("access_token_input")
    if check(given):
        st.session_state[SESSION_KEY] = True
        return
    st.title("halo-forge")
    st.text_input("Access token", type="password", key="access_token_input")
    if given:
        st.error("Wrong token.")
    else:
        st.info("This halo-forge is reachable from the network: enter the token that "
                "`halo-forge ui` printed.")
    st.stop()
