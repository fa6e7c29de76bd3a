"""Verifiers: pick a verifier and a problem (an example, a dataset record or your own tests),
write a completion in the editor, run it in the sandbox, see the verdict.

A thin view over core.verifiers (registry, custom, sandbox) and core.datasets. The page runs
code, so it renders only for a session that passed the access check. State keys: `ver_*`.
The editor's text lives in `ver_code`. The editor runs with auto_update, so it hands back its
text on every change: what is on screen is what Run verifies (with Apply / Ctrl+Enter only,
an unapplied edit was silently ignored). Tests set `ver_code` or use the plain text area.
"""
from __future__ import annotations

import streamlit as st

from core import access

access.require_access()  # before anything else: this page executes what you type

from core.theme import PALETTE  # noqa: E402
from core.verifiers import custom, languages, registry  # noqa: E402
from core.verifiers.base import ProblemError  # noqa: E402

SOURCES = ("Example", "Dataset", "Your own tests")
ACE_MODES = {"python": "python", "c": "c_cpp", "cpp": "c_cpp", "rust": "rust", "go": "golang",
             "javascript": "javascript"}
STATUS_COLOURS = {"pass": PALETTE["success"], "fail": PALETTE["error"],
                  "timeout": PALETTE["warning"], "error": PALETTE["error"],
                  "compile_error": PALETTE["error"], "toolchain_missing": PALETTE["warning"]}
ACE_THEME = "tomorrow_night"


@st.cache_data(ttl=900, show_spinner="Loading problems…")
def _dataset(verifier: str) -> list[dict]:
    from core import datasets as ds

    name = registry.default_dataset(verifier)
    return ds.load_records(name, source="sample").records if name else []


def _language(name: str) -> str:
    langs = registry.languages(name)  # the registry says which verifiers run code, and how
    if len(langs) < 2:
        return langs[0] if langs else "text"
    labels = {lang: lang if languages.toolchain(lang).available else f"{lang} (not installed)"
              for lang in langs}
    return st.selectbox("Language", langs, key="ver_language",
                        format_func=labels.get)


def _example(name: str, lang: str) -> tuple[dict, str, str]:
    examples = registry.example_problems(name)
    i = st.selectbox("Example", range(len(examples)), key=f"ver_example_{name}",
                     format_func=lambda k: examples[k]["title"])
    ex = examples[i]
    code = ex.get("completions", {}).get(lang, ex["completion"])
    return ex["problem"], code, f"example {i}"


def _record_label(name: str, record: dict, i: int) -> str:
    for key in ("task_id", "question_title", "problem", "question"):
        if record.get(key):
            return f"{i}: {str(record[key])[:70]}"
    return str(i)


def _from_dataset(name: str) -> tuple[dict | None, str, str]:
    try:
        records = _dataset(name)
    except Exception as exc:  # noqa: BLE001 - shown, nothing else depends on it
        st.error(f"Could not load the {name} problems: {exc}")
        return None, "", "dataset"
    if not records:
        st.info("This verifier has no dataset of its own: use an example or your own tests.")
        return None, "", "dataset"
    i = st.selectbox("Problem", range(len(records)), key=f"ver_record_{name}",
                     format_func=lambda k: _record_label(name, records[k], k))
    record = records[i]
    starter = record.get("prompt", "") if name == "humaneval" else record.get("starter_code", "")
    return record, starter or "", f"record {i}"


def _own_tests(name: str) -> tuple[dict | None, str, str]:
    fields = {}
    for field, default in custom.template(name).items():
        key = f"ver_c_{name}_{field}"
        if field == "testtype":
            fields[field] = st.radio("Test type", ("stdin", "functional"), key=key,
                                     horizontal=True)
        elif "\n" in default or field in ("prompt", "test", "test_list", "tests",
                                            "test_setup_code"):
            fields[field] = st.text_area(field, value=default, key=key, height=140)
        else:
            fields[field] = st.text_input(field, value=default, key=key)
    try:
        return custom.custom_problem(name, fields), custom.STARTER_CODE[name], "own tests"
    except ProblemError as exc:
        st.error(str(exc))
        return None, custom.STARTER_CODE[name], "own tests"


def _show_problem(name: str, problem: dict) -> None:
    from core import datasets as ds

    with st.expander("Problem", expanded=False):
        try:
            st.markdown(ds.to_prompt(registry.default_dataset(name) or name, problem))
        except Exception:  # noqa: BLE001 - a custom record may not render as a prompt
            st.json(problem, expanded=False)


def _editor(starter: str, origin: str, lang: str) -> str:
    """The completion text; a new problem (origin) starts from its starter text."""
    if st.session_state.get("ver_origin") != origin:
        st.session_state["ver_origin"] = origin
        st.session_state["ver_code"] = starter
        st.session_state["ver_ver"] = st.session_state.get("ver_ver", 0) + 1
        st.session_state.pop("ver_verdict", None)  # it was about another problem
    code, ver = st.session_state.get("ver_code", starter), st.session_state.get("ver_ver", 0)
    plain = st.toggle("Plain text editor", key="ver_plain",
                      help="A plain text area instead of the code editor.")
    if plain:
        new = st.text_area("Completion", value=code, key=f"ver_area_{ver}", height=360)
    else:
        from streamlit_ace import st_ace

        new = st_ace(value=code, language=ACE_MODES.get(lang, "text"), theme=ACE_THEME,
                     key=f"ver_ace_{ver}", min_lines=14, max_lines=40, font_size=13,
                     tab_size=4, wrap=True, auto_update=True)
        st.caption("Run verifies exactly the text in the editor.")
    if new is not None and new != code:
        st.session_state["ver_code"] = new
        code = new
    return code


def _run(name: str, problem: dict, code: str, lang: str, own: bool) -> None:
    options = {"timeout_s": float(st.session_state.get("ver_timeout", 10.0)),
               "partial_credit": bool(st.session_state.get("ver_partial", False))}
    if len(registry.languages(name)) > 1:
        options["language"] = lang
    if registry.languages(name) and own:
        options["fresh_harness"] = True  # your tests do not share a harness with others
    with st.spinner("Running in the sandbox…"):
        verdict = registry.get(name, **options).verify(problem, code)
    st.session_state["ver_verdict"] = verdict.to_dict()
    st.session_state["ver_verdict_of"] = name


_TEST_KEYS = ("name", "passed", "status", "message")


def _extra(t: dict) -> dict:
    """Whatever else a test result carries (the failing line, expected and actual values...)."""
    return {k: v for k, v in t.items() if k not in _TEST_KEYS and v not in (None, "")}


def _test_row(t: dict) -> dict:
    return {"test": t["name"], "result": "pass" if t["passed"] else t["status"] or "fail",
            "message": t["message"], **{k: str(v) for k, v in _extra(t).items()}}


def _show_verdict() -> None:
    v = st.session_state.get("ver_verdict")
    if not v:
        return
    colour = STATUS_COLOURS.get(v["status"], PALETTE["muted"])
    st.markdown(f"<div style='font-size:1.3rem;font-weight:600;color:{colour}'>"
                f"{v['status'].upper().replace('_', ' ')}</div>", unsafe_allow_html=True)
    passed = sum(t["passed"] for t in v["tests"])
    a, b, c = st.columns(3)
    a.metric("Reward", f"{v['reward']:.2f}")
    b.metric("Tests passed", f"{passed}/{len(v['tests'])}")
    c.metric("Duration", f"{v['duration_s']:.3f} s")
    if v["message"]:
        st.caption(v["message"])
    if v["tests"]:
        rows = [_test_row(t) for t in v["tests"]]
        columns = list(dict.fromkeys(k for row in rows for k in row))  # blank, not "None"
        st.dataframe([{k: row.get(k, "") for k in columns} for row in rows], hide_index=True,
                     width="stretch", key="ver_tests")
        failing = [t for t in v["tests"] if not t["passed"] and (t.get("message") or _extra(t))]
        for t in failing[:5]:  # the table cuts long cells: the failing ones in full
            with st.expander(f"{t['name']}: {t.get('status') or 'fail'}", expanded=len(failing) == 1):
                body = "\n".join([t.get("message") or "", *(f"{k}: {val}" for k, val in _extra(t).items())])
                st.code(body.strip(), language="text")
    out, err = st.columns(2)
    with out:
        st.caption("stdout")
        st.code(v["stdout"] or "(empty)", language="text")
    with err:
        st.caption("stderr")
        st.code(v["stderr"] or "(empty)", language="text")
    if st.session_state.get("ver_verdict_of") in registry.code_verifiers():
        with st.expander("Sandbox protections on this machine"):
            from core.verifiers import sandbox

            report = sandbox.protections()
            st.markdown(f"Mode: **{report['mode']}**")
            for line in report["active"]:
                st.markdown(f"- {line}")
            for line in report["inactive"]:
                st.markdown(f"- not active: {line}")


def main() -> None:
    st.title("Verifiers")
    name = st.selectbox("Verifier", registry.names(), key="ver_name")
    st.caption(registry.description(name))
    lang = _language(name)
    source = st.radio("Problem", SOURCES, key="ver_source", horizontal=True)
    if source == "Example":
        problem, starter, origin = _example(name, lang)
    elif source == "Dataset":
        problem, starter, origin = _from_dataset(name)
    else:
        problem, starter, origin = _own_tests(name)
    if problem is not None:
        _show_problem(name, problem)
    left, right = st.columns(2)
    left.number_input("Timeout (s)", min_value=0.5, max_value=120.0, value=10.0, step=0.5,
                      key="ver_timeout")
    right.checkbox("Partial credit", key="ver_partial",
                   help="Reward = fraction of tests passed instead of all or nothing.")
    code = _editor(starter, f"{name}|{lang}|{source}|{origin}", lang)
    if st.button("Run", key="ver_run", type="primary", disabled=problem is None):
        _run(name, problem, code, lang, own=source == SOURCES[2])
    _show_verdict()


main()
