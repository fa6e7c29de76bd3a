"""Results: benchmark results (filter, sort, compare, export) and training-run comparison.

A thin view over core.results. State keys: `res_*`. The results table and the training
curves are kept in session state until the ledger says they changed (core.live): a rerun for a
click, a filter or another tab redraws from them.
"""
from __future__ import annotations

import streamlit as st

from core import comparison, inspector, live, results
from core.charts import grouped_bars, metric_chart

st.title("Results")

HOW_TO_GET_RESULTS = (
    "No benchmark results yet. Run a benchmark from the **Benchmark** page, or from a shell: "
    "`halo-forge benchmark run --model MODEL --benchmark humaneval`. Each completed benchmark job adds one "
    "row per model and benchmark here.")
HOW_TO_GET_RUNS = (
    "No training runs with metrics yet. Start one from the **Training** page or with "
    "`halo-forge train sft --config my-sft.yaml`; any job whose output prints `loss: …` lines "
    "shows up here too.")

# Kept in the data and the exports, left off the screen: at 1440 px every shown column fits
# without sideways scrolling (the Model column shows short names; the full path is exported;
# the primary value repeats the score column that "Primary metric" names).
HIDDEN = ("ID", "Model path", "Primary value")


def _shown_columns(df) -> list[str]:
    """Every column but HIDDEN and the optional columns with no value in any shown row: a
    column that is empty throughout (Pass@5 of single-sample runs, energy where no tool
    reports power) is left off the screen; the exports keep it. Cells empty in some rows
    only show results.EMPTY_CELL (st.dataframe's placeholder; without it Streamlit writes
    "None", whatever a Styler's na_rep says)."""
    optional = [*results.metric_columns(df), "ci_low", "ci_high", "Overlap", "Energy (Wh)",
                "Peak memory (MiB)"]
    empty = {c for c in optional if c in df and df[c].isna().all()}
    return [c for c in df.columns if c not in HIDDEN and c not in empty]


def _column_config(df) -> dict:
    # Formats here rather than in a pandas Styler: a Styler renders every cell to text on
    # each rerun (most of this page's time at a few hundred results, bench/pages.py).
    config = {c: st.column_config.NumberColumn(c, width="small", format="percent")
              for c in [*results.metric_columns(df), "Primary value"]}
    config["ci_low"] = st.column_config.NumberColumn("CI low", width="small", format="percent",
                                                     help="95 % interval of the primary value from the per-item "
                                                          "details (Wilson for a proportion, bootstrap otherwise)")
    config["ci_high"] = st.column_config.NumberColumn("CI high", width="small", format="percent")
    config["Overlap"] = st.column_config.TextColumn(
        "Overlap", width="small",
        help="Benchmark items sharing a word 13-gram with the adapter's training data, "
             "of the items checked (empty: no check ran)")
    config["Date"] = st.column_config.DatetimeColumn("Date", format="MM-DD HH:mm", timezone="UTC",
                                                     help="UTC")
    config["Duration (s)"] = st.column_config.NumberColumn("Duration (s)", format="%.1f",
                                                           width="small")
    config["Samples"] = st.column_config.NumberColumn("Samples", width="small")
    config["Energy (Wh)"] = st.column_config.NumberColumn(
        "Energy (Wh)", width="small", format="%.2f", help="Integrated from the power samples of the GPUs the "
        "job held; 'not reported' where the GPU tools give no power (or there is no GPU).")
    config["Peak memory (MiB)"] = st.column_config.NumberColumn(
        "Peak mem (MiB)", width="small", format="%.0f", help="Peak VRAM + GTT of the job's GPUs; for a CPU "
        "job the peak resident memory of its process.")
    config["Job"] = st.column_config.NumberColumn("Job", format="%d", width="small")
    config["Model"] = st.column_config.TextColumn("Model", help="Full path in the exports")
    config["Primary metric"] = st.column_config.TextColumn("Primary", width="small",
                                                           help="The benchmark's main metric")
    config["Data"] = st.column_config.TextColumn("Data", width="small")
    return config


def _layout(opts: dict) -> dict:
    """Bar charts: the legend on top, like metric_chart's, so it never covers the labels."""
    opts["legend"] = {**opts.get("legend", {}), "top": 0, "left": "center"}
    opts["grid"] = {**opts.get("grid", {}), "top": 40}
    return opts


def _table():
    """Every result, rebuilt only when a result was added or removed."""
    return live.cached(st.session_state, "res_cache_table", results.stamp(), results.table)


def _downloads(df, what: str, key: str) -> None:
    # Callables: the file is made when the button is clicked, not on every rerun.
    cols = st.columns([1, 1, 2])
    cols[0].download_button(f"{what} as CSV", lambda: results.export(df, "csv"),
                            file_name=f"results-{key}.csv",
                            mime="text/csv", key=f"res_dl_{key}_csv", on_click="ignore",
                            icon=":material/download:")
    cols[1].download_button(f"{what} as JSON", lambda: results.export(df, "json"),
                            file_name=f"results-{key}.json", mime="application/json",
                            key=f"res_dl_{key}_json", on_click="ignore",
                            icon=":material/download:")


def _compare(selected) -> None:
    from streamlit_echarts import st_echarts

    st.subheader(f"Comparison of {len(selected)} result{'s' if len(selected) != 1 else ''}")
    data = results.comparison(selected)
    table = data["table"]
    style = table.style.format("{:.1%}", subset=(data["categories"], table.columns), na_rep="–")
    style = style.format("{:,.0f}", subset=(["Samples"], table.columns), na_rep="–")
    style = style.format("{:,.1f}", subset=(["Duration (s)"], table.columns), na_rep="–")
    st.dataframe(style, width="stretch", key="res_compare_table", placeholder=results.EMPTY_CELL)
    if data["categories"]:
        st_echarts(_layout(grouped_bars(data["categories"], data["groups"], y_name="%")),
                   height="340px", key="res_compare_chart")
    _significance(selected)


def _significance(selected) -> None:
    entries = results.significance(selected)
    if not entries:
        st.caption("Select two results of the same benchmark to test the difference item by item.")
        return
    st.markdown("**Paired significance** (each result against the oldest selected one of its "
                "benchmark, item by item)")
    for entry in entries:
        st.markdown(f"- {results.significance_line(entry)}")
    frame = results.significance_frame(entries)
    cols = st.columns([1, 1, 2])
    cols[0].download_button("Significance as CSV", lambda: results.export(frame, "csv"),
                            file_name="significance.csv", mime="text/csv", key="res_dl_sig_csv",
                            on_click="ignore", icon=":material/download:")
    cols[1].download_button("Significance as JSON", lambda: results.export(frame, "json"),
                            file_name="significance.json", mime="application/json",
                            key="res_dl_sig_json", on_click="ignore", icon=":material/download:")
    for i, entry in enumerate(e for e in entries if not e.get("error")):
        _flips(entry, i)


def _flips(entry: dict, index: int) -> None:
    rows_a = comparison.read_details(results.details_path(entry["result_a"]))
    rows_b = comparison.read_details(results.details_path(entry["result_b"]))
    moved = comparison.changed_items(rows_a, rows_b, entry["metric"], entry.get("higher_is_better", True))
    binary = entry.get("a_only") is not None
    worse = f"pass \u2192 fail ({len(moved['worse'])})" if binary else f"worse ({len(moved['worse'])})"
    better = f"fail \u2192 pass ({len(moved['better'])})" if binary else f"better ({len(moved['better'])})"
    with st.expander(f"Flips #{entry['result_a']} \u2192 #{entry['result_b']}: {worse}, {better}"):
        for tab, side in zip(st.tabs([worse, better]), ("worse", "better")):
            with tab:
                items = moved[side]
                if not items:
                    st.caption("None.")
                    continue
                pick = st.selectbox("Item", range(len(items)), key=f"res_flip_{index}_{side}",
                                    format_func=lambda j: f"{items[j]['id']} ({items[j]['a']:.2f} \u2192 {items[j]['b']:.2f})")
                left, right = st.columns(2)
                for col, who, rows in ((left, f"A #{entry['result_a']}", items[pick]["rows_a"]),
                                       (right, f"B #{entry['result_b']}", items[pick]["rows_b"])):
                    with col:
                        st.markdown(f"**{who}**")
                        for row in rows[:3]:
                            st.caption(inspector.verdict_line(row))
                            st.code(str(row.get("output", "")), language=None)


def benchmark_results() -> None:
    everything = _table()
    if everything.empty:
        st.info(HOW_TO_GET_RESULTS)
        return
    choices = results.options(everything)
    cols = st.columns(2)
    models = cols[0].multiselect("Model", choices["models"], key="res_models",
                                 placeholder="all models")
    benchmarks = cols[1].multiselect("Benchmark", choices["benchmarks"], key="res_benchmarks",
                                     placeholder="all benchmarks")
    shown = results.filter_table(everything, models, benchmarks)
    st.caption(f"{len(shown)} of {len(everything)} results. Click a column header to sort; "
               "tick rows to compare them.")
    event = st.dataframe(shown, hide_index=True, width="stretch", key="res_table",
                         on_select="rerun", selection_mode="multi-row",
                         column_order=_shown_columns(shown), column_config=_column_config(shown),
                         placeholder=results.EMPTY_CELL)
    rows = [r for r in event.selection.rows if r < len(shown)]
    selected = shown.iloc[rows]
    if len(selected):
        _compare(selected)
        _downloads(selected, f"Selection ({len(selected)})", "selection")
    _downloads(shown, f"All {len(shown)} shown", "all")


def training_comparison() -> None:
    from streamlit_echarts import st_echarts

    runs = results.training_runs()
    if not runs:
        st.info(HOW_TO_GET_RUNS)
        return
    by_id = {r["id"]: r for r in runs}
    picked = st.multiselect("Runs", list(by_id), default=list(by_id)[:3], key="res_runs",
                            format_func=lambda i: f"{results.run_label(by_id[i])} · {by_id[i]['status']}")
    if not picked:
        st.caption("Pick one or more runs to compare.")
        return
    names = results.metric_names(picked)
    default = next((n for n in ("loss", "train_loss") if n in names), names[0] if names else None)
    cols = st.columns([2, 1, 2])
    metric = cols[0].selectbox("Metric", names, index=names.index(default) if default else 0,
                               key="res_metric")
    x = cols[1].radio("x axis", results.X_AXES, horizontal=True, key="res_x",
                      help="time: seconds since each run's first point, so runs overlay")
    smoothing = cols[2].slider("Smoothing", 0.0, 0.999, 0.6, step=0.001, format="%.3f",
                               key="res_smoothing",
                               help="debiased exponential moving average; the raw curve stays faded")
    # A run's curve changes only with its own events (a METRICS_UPDATE while it trains).
    when = (tuple(picked), metric, x, tuple(live.newest_event(i) for i in picked))
    curves = live.cached(st.session_state, "res_cache_curves", when,
                         lambda: results.curves([by_id[i] for i in picked], metric, x=x))
    if curves:
        # The options too: building them walks every point (smoothing, pairs) on each rerun.
        chart = live.cached(st.session_state, "res_cache_chart", (when, smoothing),
                            lambda: metric_chart(curves, y_name=metric, smoothing=smoothing,
                                                 x_name="step" if x == "step" else "seconds since start"))
        st_echarts(chart, height="360px", key="res_curves")
    missing = [i for i in picked if i not in {c["job_id"] for c in curves}]
    if missing:
        st.caption("No " + metric + " in " + ", ".join(f"#{i}" for i in missing) + ".")

    st.subheader("Config")
    only = st.toggle("Differences only", value=True, key="res_diff_only")
    diff = results.config_diff(picked, differences_only=only)
    if diff.empty:
        st.caption("The configs are identical." if only else "These runs have no config.")
    else:
        st.dataframe(diff, width="stretch", key="res_diff")


def sample_inspector() -> None:
    everything = _table()
    if everything.empty:
        st.info(HOW_TO_GET_RESULTS)
        return
    labels = results.labels(everything)
    rid = st.selectbox("Result", list(labels), key="res_inspect_result", format_func=labels.get)
    try:
        rows = comparison.read_details(results.details_path(rid))
    except comparison.ComparisonError as exc:
        st.warning(str(exc))
        return
    overview, metric = inspector.overview(rows)
    st.caption(f"{len(overview)} items, {len(rows)} completions; per-item {metric}. "
               "Tick an item to see its completions and the verifier's per-test output.")
    event = st.dataframe(overview, hide_index=True, width="stretch", key="res_inspect_items",
                         on_select="rerun", selection_mode="single-row",
                         placeholder=results.EMPTY_CELL)
    picked = [r for r in event.selection.rows if r < len(overview)]
    if not picked:
        return
    item = str(overview.iloc[picked[0]]["Item"])
    for row in comparison.rows_by_item(rows).get(item, []):
        label = f"{item}" + (f" · sample {row['sample']}" if "sample" in row else "")
        st.markdown(f"**{label}**: {inspector.verdict_line(row)}")
        if row.get("prompt"):
            with st.expander("Prompt"):
                st.code(row["prompt"], language=None)
        st.code(str(row.get("output", "")), language=None)
        ref = inspector.reference_text(row)
        if ref is not None:
            st.caption(f"Reference: {ref}")
        tests = inspector.tests_table(row)
        if len(tests):
            st.dataframe(tests, hide_index=True, width="stretch", key=f"res_inspect_tests_{label}",
                         placeholder=results.EMPTY_CELL)
        if row.get("stderr"):
            with st.expander("stderr"):
                st.code(row["stderr"], language=None)


bench_tab, samples_tab, runs_tab = st.tabs(["Benchmark results", "Samples", "Training runs"])
with bench_tab:
    benchmark_results()
with samples_tab:
    sample_inspector()
with runs_tab:
    training_comparison()
