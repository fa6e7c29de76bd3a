"""Results: benchmark results (filter, sort, compare, export) and training-run comparison.

A thin view over core.results. State keys: `res_*`.
"""
from __future__ import annotations

import streamlit as st

from core import results
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

def _column_config(df) -> dict:
    # every score is a fraction (pass@k, accuracy, ANLS, WER): shown as a percentage
    config = {c: st.column_config.NumberColumn(c, format="percent")
              for c in [*results.metric_columns(df), "Primary value"]}
    config["Date"] = st.column_config.DatetimeColumn("Date", format="YYYY-MM-DD HH:mm", timezone="UTC")
    config["Duration (s)"] = st.column_config.NumberColumn("Duration (s)", format="%.1f")
    config["ID"] = st.column_config.NumberColumn("ID", format="%d")
    config["Job"] = st.column_config.NumberColumn("Job", format="%d")
    return config


def _layout(opts: dict) -> dict:
    """Bar charts: the legend on top, like metric_chart's, so it never covers the labels."""
    opts["legend"] = {**opts.get("legend", {}), "top": 0, "left": "center"}
    opts["grid"] = {**opts.get("grid", {}), "top": 40}
    return opts


def _downloads(df, what: str, key: str) -> None:
    cols = st.columns([1, 1, 2])
    cols[0].download_button(f"{what} as CSV", results.export(df, "csv"), file_name=f"results-{key}.csv",
                            mime="text/csv", key=f"res_dl_{key}_csv", on_click="ignore",
                            icon=":material/download:")
    cols[1].download_button(f"{what} as JSON", results.export(df, "json"),
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
    st.dataframe(style, width="stretch", key="res_compare_table")
    if data["categories"]:
        st_echarts(_layout(grouped_bars(data["categories"], data["groups"], y_name="%")),
                   height="340px", key="res_compare_chart")


def benchmark_results() -> None:
    everything = results.table()
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
                         column_config=_column_config(shown))
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
    curves = results.curves([by_id[i] for i in picked], metric, x=x)
    if curves:
        st_echarts(metric_chart(curves, y_name=metric, smoothing=smoothing,
                                x_name="step" if x == "step" else "seconds since start"),
                   height="360px", key="res_curves")
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


bench_tab, runs_tab = st.tabs(["Benchmark results", "Training runs"])
with bench_tab:
    benchmark_results()
with runs_tab:
    training_comparison()
