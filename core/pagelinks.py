"""Links between pages that stay in the same browser tab.

A markdown link opens in a new tab (Streamlit adds target=_blank), so following a job from the
Dashboard or the Jobs page used to leave the old tab behind; st.page_link switches page in
place and carries ?job=N, which Monitor applies because it changed.
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.paths import REPO_ROOT

MONITOR = str(REPO_ROOT / "pages" / "monitor.py")


def monitor(job_id: int, label: str, container=None) -> None:
    """A same-tab link to Monitor on job_id (a markdown link when the page runs outside the
    app's navigation, as in an AppTest of one page)."""
    where = container if container is not None else st
    try:
        where.page_link(MONITOR, label=label, query_params={"job": str(int(job_id))})
    except StreamlitAPIException:
        where.markdown(f"[{_md(label)}](/monitor?job={int(job_id)})")


def _md(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")
