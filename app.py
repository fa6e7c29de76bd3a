"""halo-forge: the Streamlit entry point. Page config, access check, navigation, sidebar."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import access
from core.theme import PALETTE

ROOT = Path(__file__).resolve().parent

# (file, title, icon, url path); a page appears once its file exists.
PAGES = [
    ("pages/dashboard.py", "Dashboard", ":material/dashboard:", "dashboard"),
    ("pages/training.py", "Training", ":material/model_training:", "training"),
    ("pages/benchmark.py", "Benchmark", ":material/speed:", "benchmark"),
    ("pages/monitor.py", "Monitor", ":material/monitoring:", "monitor"),
    ("pages/jobs.py", "Jobs", ":material/list_alt:", "jobs"),
    ("pages/config.py", "Config", ":material/tune:", "config"),
    ("pages/verifiers.py", "Verifiers", ":material/fact_check:", "verifiers"),
    ("pages/datasets.py", "Datasets", ":material/dataset:", "datasets"),
    ("pages/results.py", "Results", ":material/leaderboard:", "results"),
    ("pages/chat.py", "Chat", ":material/chat:", "chat"),
    ("pages/models.py", "Models", ":material/deployed_code:", "models"),
    ("pages/settings.py", "Settings", ":material/settings:", "settings"),
]

# A shipped file, not a ":material/" or emoji icon: those make the browser fetch the favicon
# from a font/CDN host, which fails offline on every page.
FAVICON = ROOT / "assets" / "favicon.png"
st.set_page_config(page_title="halo-forge", page_icon=str(FAVICON), layout="wide")
access.require_access()

existing = [p for p in PAGES if (ROOT / p[0]).exists()]
pages = [st.Page(f, title=t, icon=i, url_path=u, default=(n == 0))
         for n, (f, t, i, u) in enumerate(existing)]
nav = st.navigation(pages)


def _sidebar() -> None:
    from core.runner import daemon

    with st.sidebar:
        st.markdown(f"<span style='color:{PALETTE['accent']};font-weight:600;font-size:1.2rem'>"
                    "halo-forge</span>", unsafe_allow_html=True)
        status = daemon.status()
        if status["running"]:
            st.markdown(f":green[●] Supervisor running · pid {status['pid']}")
        else:
            st.markdown(":red[●] Supervisor not running")
            st.caption("Queued jobs wait until it runs.")
            if st.button("Start supervisor", key="app_start_supervisor"):
                try:
                    daemon.start_detached()
                except Exception as exc:  # noqa: BLE001 - shown to the user, nothing lost
                    st.error(f"Could not start the supervisor: {exc}")
                st.rerun()


def _ledger_usable() -> bool:
    """A damaged or foreign ledger stops every page with one sentence (nothing is written)."""
    from core import ledger

    try:
        ledger.check_usable()
    except ledger.LedgerError as exc:
        st.error(f"The job ledger cannot be used: {exc}")
        return False
    return True


_sidebar()
if _ledger_usable():
    nav.run()
