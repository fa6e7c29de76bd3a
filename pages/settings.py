"""Settings: the Hugging Face token and the job-end webhook, stored once, never shown back.

A thin view over core.credentials and core.notify. State keys: `settings_*`. The inputs are
password fields that start empty: what is stored is only ever shown masked.
"""
from __future__ import annotations

import streamlit as st

from core import credentials, notify

st.title("Settings")


def _token() -> None:
    st.subheader("Hugging Face token")
    st.caption("For gated models and datasets. Stored with 0600 permissions under the "
               "halo-forge home and given only to job processes (as HF_TOKEN); this page "
               "never shows it again. Cluster jobs use the cluster's own login.")
    st.markdown(f"Token: **{credentials.mask_token(credentials.hf_token())}**")
    value = st.text_input("New token", type="password", key="settings_hf_token",
                          placeholder="hf_…")
    left, right = st.columns(2)
    if left.button("Save token", key="settings_save_token", disabled=not value.strip()):
        try:
            credentials.set_hf_token(value)
            st.session_state["settings_msg"] = ("success", "Token saved.")
        except credentials.CredentialError as exc:
            st.session_state["settings_msg"] = ("error", str(exc))
        st.session_state.pop("settings_hf_token", None)
        st.rerun()
    if right.button("Remove token", key="settings_clear_token",
                    disabled=credentials.hf_token() is None):
        credentials.set_hf_token(None)
        st.session_state["settings_msg"] = ("success", "Token removed.")
        st.rerun()


def _webhook() -> None:
    st.subheader("Notifications")
    st.caption("When a job ends, the supervisor POSTs JSON (id, name, kind, status, duration, "
               "key metrics, error) to this URL, retrying with back-off. A job can have its own "
               f"URL (`--notify` on the CLI); {credentials.NOTIFY_ENV} overrides this one.")
    source = credentials.global_notify_source()
    shown = credentials.mask_url(credentials.notify_url())
    st.markdown(f"Webhook: **{shown}**" + (" (from the environment)" if source == "environment"
                                            else ""))
    value = st.text_input("New webhook URL", type="password", key="settings_notify_url",
                          placeholder="https://…")
    cols = st.columns(3)
    if cols[0].button("Save URL", key="settings_save_url", disabled=not value.strip()):
        try:
            credentials.set_notify_url(value)
            st.session_state["settings_msg"] = ("success", "Webhook saved.")
        except credentials.CredentialError as exc:
            st.session_state["settings_msg"] = ("error", str(exc))
        st.session_state.pop("settings_notify_url", None)
        st.rerun()
    if cols[1].button("Remove URL", key="settings_clear_url", disabled=source != "settings"):
        credentials.set_notify_url(None)
        st.session_state["settings_msg"] = ("success", "Webhook removed.")
        st.rerun()
    if cols[2].button("Send a test", key="settings_test_url", disabled=source == "none"):
        try:
            st.session_state["settings_msg"] = ("success", f"Test sent to {notify.send_test()}.")
        except Exception as exc:  # noqa: BLE001 -- the endpoint's answer, in one sentence
            st.session_state["settings_msg"] = ("error", f"The test failed: {notify.describe(exc)}")
        st.rerun()


_token()
_webhook()
kind, text = st.session_state.pop("settings_msg", (None, None))
if kind:
    (st.success if kind == "success" else st.error)(text)
