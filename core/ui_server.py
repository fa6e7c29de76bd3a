"""Start the Streamlit server for app.py: `python -m core.ui_server [streamlit flags]`.

Why not plain `streamlit run app.py`: with a `pages/` folder beside the entry point, Streamlit
starts in its legacy multipage mode until some session has run app.py (which calls
st.navigation). Until then a first visitor who opens /monitor directly gets pages/monitor.py
run on its own -- without the access check in app.py. Declaring up front that the app does
not use the legacy pages directory makes every session run app.py first.
"""
from __future__ import annotations

import sys

from core.paths import REPO_ROOT


def main(argv: list[str]) -> int:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as stcli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(REPO_ROOT / "app.py"), *argv]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
