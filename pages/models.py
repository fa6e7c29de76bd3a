"""Models: everything known here with its provenance, and what to do with it (a thin view over
core.model_catalog and the export / benchmark services)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import jobs, kinds, model_catalog as catalog
from core.benchmarks import catalogue as bench_catalogue, service as bench_service
from core.configs.export import QUANTS
from core.export import service as export_service
from core.live import cached, newest_job_event

PAGES = Path(__file__).resolve().parent
MONITOR_PAGE = PAGES / "monitor.py"
CHAT_PAGE = PAGES / "chat.py"



def _link(page: Path, label: str) -> None:
    try:
        st.page_link(str(page), label=label)
    except StreamlitAPIException:  # page run outside the app's navigation (tests)
        st.caption(f"{label}: the {page.stem.title()} page")


st.title("Models")
st.caption("The tiny offline model, cached hub models, training outputs and exports, with where "
           "each came from. Exports are verified by loading them back with their consumer.")

flash = st.session_state.pop("models_flash", None)
if flash:
    st.success(flash)
entries = catalog.list_models()
shown_kinds = st.multiselect("Show", list(catalog.KINDS), default=list(catalog.KINDS), key="models_kinds",
                             format_func=lambda k: catalog.KIND_LABELS[k])
entries = [e for e in entries if e.kind in shown_kinds]
if not entries:
    st.info("No models yet: build the tiny one with `halo-forge models tiny`, train one on the "
            "Training page, or download one below.")
else:
    st.dataframe(catalog.rows(entries), key="models_table", hide_index=True, width="stretch")


def _read_activity() -> tuple[list[dict], list[dict]]:
    active = [j for j in jobs.list_jobs(statuses=("QUEUED", "STARTING", "RUNNING", "STOPPING"), kinds=["export", "command"])
              if j["kind"] == "export" or j["name"].startswith("download ")]
    recent = [j for j in jobs.list_jobs(kinds=["export"], limit=5) if j not in active]
    return active, recent


@st.fragment(run_every="2s")
def _activity() -> None:
    # Re-read only when the ledger has a newer event (a status change, an output batch).
    active, recent = cached(st.session_state, "models_cache_activity", newest_job_event(),
                            _read_activity)
    for j in active:
        total = j.get("total_steps") or 0
        frac = min(1.0, (j.get("step") or 0) / total) if total else 0.0
        st.progress(frac, text=f"#{j['id']} {j['name']}: {j['status'].lower()}")
    for j in recent[:3]:
        tail = f" ({j['error']})" if j.get("error") and j["status"] != "COMPLETED" else ""
        st.caption(f"#{j['id']} {j['name']}: {j['status'].lower()}{tail}")


with st.container(key="models_activity"):
    _activity()

if entries:
    keys = [e.key for e in entries]
    if st.session_state.get("models_selected") not in keys:
        st.session_state["models_selected"] = keys[0]
    by_key = {e.key: e for e in entries}
    key = st.selectbox("Model", keys, key="models_selected", format_func=lambda k: by_key[k].label)
    entry = by_key[key]

    cols = st.columns(4)
    cols[0].metric("Kind", catalog.KIND_LABELS[entry.kind])
    cols[1].metric("Size", catalog.human_size(entry.size_bytes))
    cols[2].metric("Steps", entry.steps if entry.steps is not None else "–")
    cols[3].metric("Verification", entry.verdict or "–")
    st.caption(f"Path: `{entry.key}`" + (f" · base `{entry.base}`" if entry.base else "")
               + (f" · job #{entry.job}" if entry.job else "")
               + (f" · dataset {entry.dataset}" if entry.dataset else ""))
    v = entry.verification
    if v and not v.get("skipped"):
        with st.expander("Verification details", expanded=True):
            line = (f"**{entry.verdict}** with {v.get('consumer')}: token agreement "
                    f"{v.get('token_agreement', 0):.4f} (minimum {v.get('min_token_agreement')}), "
                    f"max abs logit diff {v.get('max_abs_logit_diff', 0):.3g}")
            if "tokenizer_agreement" in v:
                line += f", prompts tokenised identically {v['tokenizer_agreement']:.0%}"
            st.markdown(line)
            if v.get("tensor_types"):
                st.caption("Tensor types: " + ", ".join(f"{k} ×{n}" for k, n in v["tensor_types"].items()))
            st.caption("Engines: " + ", ".join(f"{k} {x}" for k, x in (v.get("engine_versions") or {}).items()))
    if entry.scores:
        st.caption("Latest scores: " + ", ".join(f"{s['benchmark']} {s['metric']} {s['value']:.3f}"
                                                  for s in entry.scores[:5]))

    export_tab, bench_tab, chat_tab, delete_tab = st.tabs(["Export", "Benchmark", "Chat", "Delete"])
    with export_tab:
        if not entry.exportable:
            st.info("A GGUF file is already an export; export its source instead.")
        else:
            fmt = st.radio("Format", ["merged", "gguf"], key="models_export_format", horizontal=True,
                           format_func=lambda f: {"merged": "merged safetensors", "gguf": "GGUF (llama.cpp)"}[f])
            quant = st.selectbox("GGUF type", QUANTS, key="models_export_quant", disabled=fmt != "gguf",
                                 help="k-quants (q4_k_m, ...) need rows divisible by 256; llama.cpp "
                                      "falls back to another type for the others.")
            out_dir = st.text_input("Output directory (empty = HALO_FORGE_HOME/exports/…)", key="models_export_out")
            c1, c2 = st.columns(2)
            overwrite = c1.checkbox("Overwrite if it exists", key="models_export_overwrite")
            verify = c2.checkbox("Verify (load back and compare)", value=True, key="models_export_verify")
            if st.button("Export", key="models_export_run", type="primary"):
                source = {"job": entry.job} if entry.kind in ("adapter", "model") and entry.job else (
                    {"adapter": entry.key} if entry.kind in ("adapter", "checkpoint") and
                    (Path(entry.key) / "adapter_config.json").is_file() else {"model": entry.key})
                try:
                    job_id = export_service.queue(export_service.build_config(
                        **source, fmt=fmt, quant=quant if fmt == "gguf" else None, out_dir=out_dir or None,
                        overwrite=overwrite, verify=verify))
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Export queued as job #{job_id}; its verdict appears here when it finishes.")
    with bench_tab:
        if not entry.benchmarkable:
            st.info("The benchmark runner loads transformers models; benchmark this GGUF's merged "
                    "source instead.")
        else:
            names = bench_catalogue.verified_names()
            bench = st.selectbox("Benchmark", names, key="models_bench_name")
            limit = st.number_input("Problems", 1, 500, 10, key="models_bench_limit")
            if st.button("Benchmark", key="models_bench_run"):
                model = entry.key if entry.kind != "adapter" else entry.base or entry.key
                adapter = entry.key if entry.kind == "adapter" else None
                try:
                    job_id = bench_service.queue(bench_service.build_config(
                        benchmark=bench, model=model, adapter=adapter, limit=int(limit)))
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Benchmark queued as job #{job_id}.")
                    _link(MONITOR_PAGE, "Follow it on Monitor")
    with chat_tab:
        if "serve" not in kinds.KINDS or not CHAT_PAGE.exists():
            st.info("Chat needs the `serve` job kind and the Chat page, which are not part of this "
                    "installation yet.")
        else:
            st.caption("Serves the model behind an OpenAI-compatible endpoint (llama.cpp for GGUF, "
                       "transformers or vLLM otherwise); talk to it on the Chat page.")
            if st.button("Serve it", key="models_serve_run"):
                from core.serving import service as serve_service

                try:
                    job_id = serve_service.start(**catalog.serve_args(entry))
                except ValueError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Serving as job #{job_id}; it shows on Chat once it answers.")
            _link(CHAT_PAGE, "Open Chat")
    with delete_tab:
        busy = catalog.users(entry)
        if busy:
            st.warning(f"In use by job {', '.join(map(str, busy))}: it cannot be deleted now.")
        sure = st.checkbox(f"Yes, delete {entry.name} ({catalog.human_size(entry.size_bytes)}) from disk",
                           key="models_delete_sure", disabled=bool(busy))
        if st.button("Delete", key="models_delete_run", disabled=not sure or bool(busy)):
            try:
                st.session_state["models_flash"] = catalog.delete(entry.key)
            except (catalog.CatalogError, OSError) as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("models_selected", None)
                st.rerun()

st.subheader("Download a hub model")
if catalog.hub_offline():
    st.info("Downloads are off: HF_HUB_OFFLINE is set, so nothing can be fetched from the Hugging "
            "Face hub here (use a cached model or the tiny one).")
else:
    repo = st.text_input("Hub id (owner/name)", key="models_download_repo")
    if st.button("Download", key="models_download_run"):
        try:
            job_id = catalog.queue_download(repo)
        except (catalog.CatalogError, ValueError) as exc:
            st.error(str(exc))
        else:
            st.success(f"Download queued as job #{job_id}; its progress shows above.")
