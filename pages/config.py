"""Config: a YAML editor validated against the job schema; templates, saved configs, launch.

A thin view over core.forms (templates, checks, launch) and core.config_store (saved files).
State keys: `cfg_*`. The editor's text lives in `cfg_text` (the editor widget only shows it).
The editor runs with auto_update, handing back its text on every change, so the status and
Launch always judge what is on screen (with Apply / Ctrl+Enter only, a misspelt key typed but
not applied still read "Valid"). Tests set `cfg_text` directly or type into the plain text
area that the "Plain text editor" toggle shows.
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import config_store, configs, forms
from core.paths import REPO_ROOT, configs_dir
from core.theme import PALETTE

MONITOR_PAGE = REPO_ROOT / "pages" / "monitor.py"
ACE_THEME = "tomorrow_night"  # the dark Ace theme closest to the app's palette


def _set_text(text: str, source: str) -> None:
    """Replace the editor's text (a new editor widget, so it shows the new text)."""
    st.session_state["cfg_text"] = text
    st.session_state["cfg_clean"] = text  # what "unsaved changes" compare against
    st.session_state["cfg_source"] = source
    st.session_state["cfg_ver"] = st.session_state.get("cfg_ver", 0) + 1


def _init() -> None:
    if "cfg_incoming" in st.session_state:  # "Edit as YAML" on the Training page
        _set_text(st.session_state.pop("cfg_incoming"), "the Training form")
    if "cfg_text" not in st.session_state:
        _set_text(forms.template_text("SFT"), "template SFT")
    st.session_state.setdefault("cfg_ver", 0)
    st.session_state.setdefault("cfg_source", "the editor")
    _sync()


def _sync() -> None:
    """A click right after typing in the plain text area arrives in the same rerun as the new
    text, and callbacks run before the script: take the text first."""
    area = st.session_state.get(f"cfg_area_{st.session_state.get('cfg_ver')}")
    if st.session_state.get("cfg_plain") and isinstance(area, str):
        st.session_state["cfg_text"] = area


def _dirty() -> bool:
    return st.session_state["cfg_text"] != st.session_state.get("cfg_clean")


# ----------------------------------------------------------------------------- actions


def _load_saved(name: str) -> None:
    try:
        _set_text(config_store.load(name), f"saved config {name}")
    except config_store.ConfigStoreError as exc:
        st.session_state["cfg_flash"] = ("error", str(exc))
        return
    st.session_state["cfg_save_name"] = name


def _use_template(label: str) -> None:
    _set_text(forms.template_text(label), f"template {label}")


def _save(overwrite: bool = False, name: str | None = None) -> None:
    _sync()
    name = name if name is not None else st.session_state.get("cfg_save_name", "")
    if not overwrite and _name_ok(name) and config_store.exists(name):
        st.session_state["cfg_pending"] = ("overwrite", name)  # ask first
        return
    try:
        path = config_store.save(name, st.session_state["cfg_text"], overwrite=overwrite)
    except config_store.ConfigStoreError as exc:
        st.session_state["cfg_flash"] = ("error", str(exc))
        return
    st.session_state["cfg_clean"] = st.session_state["cfg_text"]
    st.session_state["cfg_source"] = f"saved config {path.name}"
    st.session_state["cfg_flash"] = ("success", f"Saved to {path}")


def _name_ok(name: str) -> bool:
    try:
        config_store.file_name(name)
    except config_store.ConfigStoreError:
        return False
    return True


def _delete(name: str) -> None:
    try:
        config_store.delete(name)
        st.session_state["cfg_flash"] = ("success", f"Deleted {name}")
    except config_store.ConfigStoreError as exc:
        st.session_state["cfg_flash"] = ("error", str(exc))


def _ask(action: str, name: str) -> None:
    """Load and template replace the text; with unsaved changes they ask first."""
    _sync()
    if action in ("load", "template") and not _dirty():
        (_load_saved if action == "load" else _use_template)(name)
        return
    st.session_state["cfg_pending"] = (action, name)


def _confirm() -> None:
    action, name = st.session_state.pop("cfg_pending")
    {"load": _load_saved, "template": _use_template, "delete": _delete,
     "overwrite": lambda n: _save(overwrite=True, name=n)}[action](name)


def _cancel() -> None:
    st.session_state.pop("cfg_pending", None)


# ----------------------------------------------------------------------------- view


def _pickers() -> None:
    left, right = st.columns(2, vertical_alignment="bottom")
    with left:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        label = cols[0].selectbox("Template", list(forms.TEMPLATES), key="cfg_template")
        cols[1].button("Use", key="cfg_use_template", on_click=_ask, args=("template", label),
                       width="stretch")
    with right:
        saved = config_store.list_configs()
        cols = st.columns([3, 1, 1], vertical_alignment="bottom")
        name = cols[0].selectbox("Saved configs", saved, key="cfg_saved", index=None,
                                 placeholder="none saved yet" if not saved else "pick one")
        cols[1].button("Load", key="cfg_load", disabled=name is None, on_click=_ask,
                       args=("load", name), width="stretch")
        cols[2].button("Delete", key="cfg_delete", disabled=name is None, on_click=_ask,
                       args=("delete", name), width="stretch")


def _pending() -> None:
    pending = st.session_state.get("cfg_pending")
    if not pending:
        return
    action, name = pending
    text = {"load": f"Discard your unsaved changes and load {name}?",
            "template": f"Discard your unsaved changes and start from the {name} template?",
            "delete": f"Delete the saved config {name}? This cannot be undone.",
            "overwrite": f"A config named {config_store.file_name(name)} already exists. "
                         "Overwrite it?"}[action]
    st.warning(text)
    cols = st.columns([1, 1, 4])
    cols[0].button({"overwrite": "Overwrite", "delete": "Delete"}.get(action, "Discard changes"),
                   key="cfg_confirm", type="primary", on_click=_confirm, width="stretch")
    cols[1].button("Cancel", key="cfg_cancel", on_click=_cancel, width="stretch")


def _flash() -> None:
    if flash := st.session_state.pop("cfg_flash", None):
        (st.success if flash[0] == "success" else st.error)(flash[1])


def _editor(issues: list[configs.ConfigIssue]) -> None:
    ver = st.session_state["cfg_ver"]
    text = st.session_state["cfg_text"]
    plain = st.toggle("Plain text editor", key="cfg_plain",
                      help="A plain text area instead of the code editor (no highlighting; "
                           "its text counts as soon as you leave it).")
    if plain:
        new = st.text_area("YAML", value=text, key=f"cfg_area_{ver}", height=520)
    else:
        from streamlit_ace import st_ace

        new = st_ace(value=text, language="yaml", theme=ACE_THEME, key=f"cfg_ace_{ver}",
                     min_lines=24, max_lines=48, font_size=13, tab_size=2, wrap=True,
                     annotations=forms.ace_annotations(issues) or None, auto_update=True)
        st.caption("Checked as you type: Launch and Save use exactly the text in the editor.")
    if new is not None and new != text:
        st.session_state["cfg_text"] = new
        st.rerun()  # validate the new text and mark its lines in the editor


def _status(cfg, issues: list[configs.ConfigIssue]) -> None:
    source = st.session_state.get("cfg_source", "")
    changed = " · unsaved changes" if _dirty() else ""
    st.caption(f"From {source}{changed}")
    if cfg is not None:
        st.success(f"Valid {cfg.kind} config.", icon=":material/check_circle:")
        return
    st.markdown(f"<span style='color:{PALETTE['error']}'>**{len(issues)} problem"
                f"{'s' if len(issues) != 1 else ''}**</span>", unsafe_allow_html=True)
    for issue in issues:
        where = f"line {issue.line}" if issue.line else "whole file"
        field = f" · `{issue.field}`" if issue.field else ""
        st.error(f"**{where}**{field} — {issue.message}", icon=":material/error:")


def _save_and_launch(cfg) -> None:
    left, right = st.columns(2, vertical_alignment="bottom")
    with left:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        cols[0].text_input("Save as", key="cfg_save_name",
                                  placeholder="my-run (saved as my-run.yaml)",
                                  help=f"Saved in {configs_dir()}.")
        cols[1].button("Save", key="cfg_save", on_click=_save, width="stretch")
    with right:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        job_name = cols[0].text_input("Job name", key="cfg_job_name",
                                      placeholder="empty = from the model and dataset")
        if cols[1].button("Launch", key="cfg_launch", type="primary", disabled=cfg is None,
                          icon=":material/rocket_launch:", width="stretch"):
            _launch(job_name)


def _launch(job_name: str) -> None:
    try:
        job_id = forms.launch_text(st.session_state["cfg_text"], job_name)
    except ValueError as exc:  # ConfigError, JobError, a profile error: one sentence each
        st.error(f"Nothing was queued: {exc}")
        return
    st.session_state["monitor_job"] = job_id
    try:
        st.switch_page(str(MONITOR_PAGE))
    except StreamlitAPIException:  # run on its own, outside the app's navigation
        st.success(f"Queued job #{job_id}; open Monitor to follow it.")


def render() -> None:
    st.title("Config")
    _init()
    cfg, issues = forms.check_text(st.session_state["cfg_text"])
    _pickers()
    _save_and_launch(cfg)
    _pending()
    _flash()
    _status(cfg, issues)  # above the editor: seen without scrolling after Apply
    _editor(issues)


render()
