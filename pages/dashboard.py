"""Dashboard: GPUs, active jobs, counts, training history, benchmark scores, recent runs.

A thin view over core.dashboard. State keys: `dash_*`. The live parts refresh in fragments;
a tick asks the ledger for its newest event id (core.live) and redraws from what it kept when
nothing happened, so a quiet Dashboard costs an index seek or two per tick. The supervisor's
telemetry samples (GPU_UPDATE every few seconds) move only the GPU cards and history: the job
parts key on the newest event that is not telemetry. Durations and ETAs are
recomputed from the kept rows when drawn; what lives outside the ledger (the supervisor's
state, a GPU probe) is re-read every few seconds.
"""
from __future__ import annotations

import html

import streamlit as st

from core import cpuload, dashboard, monitor, pagelinks
from core.live import bucket, cached, newest_event, newest_job_event
from core.charts import grouped_bars, metric_chart
from core.theme import PALETTE, status_badge

st.title("Dashboard")


def _gpu_card(g: dict) -> None:
    with st.container(border=True):
        title = html.escape(g.get("name") or "GPU")
        st.markdown(f"**GPU {html.escape(str(g['device']))}** · {title} "
                    f"<span style='color:{PALETTE['muted']};font-size:0.8rem'>"
                    f"({html.escape(g.get('source') or '')})</span>", unsafe_allow_html=True)
        cols = st.columns(5)
        util = g.get("utilization")
        cols[0].metric("Utilisation", "–" if util is None else f"{util:.0f} %")
        if util is not None:
            cols[0].progress(max(0.0, min(1.0, util / 100)))
        _memory(cols[1], "VRAM", g.get("mem_used"), g.get("mem_total"), g.get("mem_fraction"))
        if g.get("gtt_total"):
            _memory(cols[2], "GTT", g.get("gtt_used"), g.get("gtt_total"), g.get("gtt_fraction"))
        else:
            cols[2].metric("GTT", "–", help="This device reports no GTT pool.")
        temp = g.get("temperature")
        cols[3].metric("Temperature", "–" if temp is None else f"{temp:.0f} °C")
        power = g.get("power")
        cols[4].metric("Power", "–" if power is None else f"{power:.0f} W")


def _memory(col, label: str, used, total, fraction) -> None:
    value = "–" if used is None else f"{dashboard.gib(used)}"
    col.metric(label, value, help=f"of {dashboard.gib(total)}" if total else None)
    if fraction is not None:
        col.progress(fraction, text=f"{fraction * 100:.0f} % of {dashboard.gib(total)}")


def _no_gpu_card(h: dict) -> None:
    with st.container(border=True):
        st.markdown("**No GPU detected**")
        st.caption("None of amd-smi, rocm-smi, NVML, nvidia-smi or /sys/class/drm reported a "
                   "GPU. Jobs run on the CPU. See Troubleshooting in the README.")
        cols = st.columns(3)
        cpu = h.get("cpu_percent")
        cols[0].metric("CPU", "–" if cpu is None else f"{cpu:.0f} %",
                       help=f"{h.get('cpu_count') or '?'} cores; busy share over the last {cpuload.WINDOW_S:.0f} s")
        if cpu is not None:
            cols[0].progress(max(0.0, min(1.0, cpu / 100)))
        _memory(cols[1], "RAM", h.get("ram_used"), h.get("ram_total"), h.get("ram_fraction"))
        load = h.get("load_1m")
        cols[2].metric("Load (1 min)", "–" if load is None else f"{load:.2f}")


def _counts(c: dict) -> None:
    cols = st.columns(5)
    cols[0].metric("Running", c["running"])
    cols[1].metric("Queued", c["queued"])
    cols[2].metric("Completed", c["completed"])
    cols[3].metric("Failed", c["failed"])
    cols[4].metric("Stopped", c["stopped"])


def _active(jobs: list[dict]) -> None:
    st.subheader("Active jobs")
    if not jobs:
        st.caption("Nothing running. Queue a job from Training or Benchmark.")
        return
    for job in jobs:
        prog = monitor.progress(job)  # now, not when the row was read
        with st.container(border=True):
            cols = st.columns([3, 1, 1, 1])
            with cols[0].container(horizontal=True, vertical_alignment="center", gap="small"):
                pagelinks.monitor(job["id"], f"#{job['id']} {job['name']}")
                st.markdown(f"{status_badge(job['status'])} · {job['kind']}")
            cols[1].caption(f"elapsed {monitor.format_duration(prog.get('elapsed_s'))}")
            cols[2].caption(f"ETA {monitor.format_duration(prog['eta_s'])}" if prog.get("eta_s")
                            else "ETA –")
            cols[3].caption("loss –" if job["loss"] is None else f"loss {job['loss']:.4g}")
            if prog["fraction"] is not None:
                st.progress(prog["fraction"], text=prog["label"])
            else:
                st.caption("no progress reported yet")


def _queued(queue: list[dict], slots: dict) -> None:
    st.subheader("Queued")
    if not queue:
        st.caption("Nothing waiting.")
        return
    where = (f"{slots['free']} of {slots['slots']} GPU slots free" if slots["supervisor"]
             else "the supervisor is not running, so nothing starts")
    st.caption(f"{len(queue)} waiting, claimed top first; {where}. Reorder them on "
               "[Jobs](/jobs).")
    for q in queue[:8]:
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(f"{q['place']}.")
            pagelinks.monitor(q["id"], f"#{q['id']} {q['name']}")
            st.markdown(f"{q['kind']} · priority {q['priority']} · {q['gpus']} GPU slot"
                        f"{'s' if q['gpus'] != 1 else ''}")
    if len(queue) > 8:
        st.caption(f"and {len(queue) - 8} more on Jobs.")


def _md(text: str) -> str:
    """Text safe inside a markdown link label."""
    return html.escape(text).replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")


@st.fragment(run_every="2s")
def live() -> None:
    top, jobs_top = newest_event(), newest_job_event()
    # GPU cards: the supervisor's samples come with GPU_UPDATE events; without a supervisor
    # a live probe is reused for LIVE_TTL_S anyway.
    status = cached(st.session_state, "dash_cache_gpu",
                    (top, bucket(dashboard.LIVE_TTL_S)), dashboard.gpu_status)
    if status["gpus"]:
        for g in status["gpus"]:
            _gpu_card(g)
    else:
        _no_gpu_card(status["host"])
    state = cached(st.session_state, "dash_cache_state", (jobs_top, bucket(dashboard.STATE_S)),
                   dashboard.live_state)
    if state["health"]["paused"]:
        st.error(f"New jobs are not starting: {state['health']['paused']}.")
    _counts(state["counts"])
    _active(state["active"])
    slots = state["slots"]
    _queued(slots["queue"], slots)


def _layout(opts: dict, zoom_slider: bool = False) -> dict:
    """Legend on top and room below the x axis for its name (and the zoom slider, if kept)."""
    opts["legend"] = {**opts.get("legend", {}), "top": 0, "left": "center"}
    opts["grid"] = {**opts.get("grid", {}), "top": 40, "bottom": 72 if zoom_slider else 48}
    if not zoom_slider and "dataZoom" in opts:
        opts["dataZoom"] = [z for z in opts["dataZoom"] if z.get("type") != "slider"]
    return opts


def _training_chart(top: int) -> None:
    from streamlit_echarts import st_echarts

    st.subheader("Training history")
    curves = cached(st.session_state, "dash_cache_history", top,
                    dashboard.training_history)
    if not curves:
        st.caption("No training run has logged a loss yet.")
        return
    st_echarts(_layout(metric_chart(curves, x_name="step", y_name="loss", band=False)),
               height="320px", key="dash_loss_chart")
    if any(c["thinned"] for c in curves):
        st.caption("Long runs are thinned to about 300 points each; Monitor and Results show "
                   "every run averaged with its min–max band.")


def _benchmark_chart(top: int) -> None:
    from streamlit_echarts import st_echarts

    st.subheader("Benchmark scores")
    scores = cached(st.session_state, "dash_cache_scores", top,
                    dashboard.benchmark_scores)
    if not scores["categories"]:
        st.caption("No benchmark results yet. Run one from Benchmark or with "
                   "`halo-forge benchmark run`.")
        return
    st_echarts(_layout(grouped_bars(scores["categories"], scores["groups"],
                                    y_name="main metric (%)")),
               height="320px", key="dash_bench_chart")
    if any(c.endswith("↓") for c in scores["categories"]):
        st.caption("↓: lower is better (error rates).")


def _recent(top: int) -> None:
    st.subheader("Recent runs")
    runs = cached(st.session_state, "dash_cache_recent", top, dashboard.recent_runs)
    if not runs:
        st.info("No jobs yet. Queue a training run from Training, a benchmark from Benchmark, "
                "or any script from a shell: `halo-forge submit -- python my_script.py`.")
        return
    st.dataframe(
        [{"job": r["link"], "name": r["name"], "kind": r["kind"], "status": r["status"],
          "progress": r["fraction"],
          "duration": monitor.format_duration(monitor.progress(r).get("elapsed_s"))}
         for r in runs],
        hide_index=True, width="stretch", key="dash_recent",
        column_config={
            "job": st.column_config.LinkColumn("job", display_text=r"job=(\d+)$",
                                               help="open in Monitor"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0,
                                                        max_value=1.0, format="percent"),
        })


def _small(opts: dict) -> dict:
    """A quarter-width time chart: few, non-overlapping time labels; a legend only when it
    tells series apart (VRAM and GTT)."""
    opts = _layout(opts)
    opts["animation"] = False  # redrawn every 15 s: a replayed sweep only distracts
    opts["xAxis"] = {**opts["xAxis"], "splitNumber": 3,
                     "axisLabel": {**opts["xAxis"].get("axisLabel", {}), "hideOverlap": True}}
    if len(opts["series"]) < 2:
        opts["legend"] = {**opts["legend"], "show": False}
        opts["grid"] = {**opts["grid"], "top": 16}
    return opts


def _history(top: int) -> None:
    from streamlit_echarts import st_echarts

    st.subheader("GPU history")
    label = st.segmented_control("Window", list(dashboard.HISTORY_WINDOWS), key="dash_hist_window",
                                 default="last hour", label_visibility="collapsed")
    window = dashboard.HISTORY_WINDOWS[label or "last hour"]
    # New samples come with GPU_UPDATE events; the window itself slides with the clock.
    history = cached(st.session_state, "dash_cache_gpu_history",
                     (top, window, bucket(dashboard.HISTORY_SLIDE_S)),
                     lambda: dashboard.gpu_history(window))
    if not history["devices"]:
        st.caption("No telemetry stored for this window: the supervisor samples the GPUs (or, "
                   "without one, CPU and RAM) every few seconds while it runs.")
        return
    for device in history["devices"]:
        title = "CPU and RAM (no GPU detected)" if device["host"] else \
            f"GPU {device['device']} · {device.get('name') or ''}"
        st.markdown(f"**{html.escape(title)}**")
        charts = dashboard.history_charts(device)
        cols = st.columns(max(1, len(charts)))
        for col, (name, series, unit) in zip(cols, charts):
            with col:
                st.caption(name)
                opts = _small(metric_chart(series, x_name="", y_name=unit, band=False,
                                           time_axis=True))
                # the axis spans the chosen window: a lone sample then sits at its time
                # instead of in an axis echarts stretches over days around one point
                opts["xAxis"] = {**opts["xAxis"], "min": history["since"] * 1000,
                                 "max": history["until"] * 1000}
                if unit == "%":
                    opts["yAxis"] = {**opts["yAxis"], "min": 0, "max": 100}
                st_echarts(opts,
                           height="200px", key=f"dash_hist_{device['device']}_{name}")
        if not any(name == "Power" for name, _, _ in charts) and not device["host"]:
            st.caption("Power: not reported by this device's telemetry tool.")
    st.caption(f"Averaged over {history['bucket_s']:.0f} s buckets (memory: the bucket's peak).")


@st.fragment(run_every="15s")
def charts() -> None:
    jobs_top = newest_job_event()  # telemetry alone does not move the job charts
    left, right = st.columns(2)
    with left:
        _training_chart(jobs_top)
    with right:
        _benchmark_chart(jobs_top)
    _history(newest_event())
    _recent(jobs_top)
    _ledger_line()


def _ledger_line() -> None:
    health = dashboard.ledger_health()
    backup = ("no backup yet" if not health["backup"] else
              f"newest backup {monitor.format_duration(health['backup_age_s'])} ago")
    st.caption(f"Ledger {dashboard.size_text(health['size_bytes'])} on disk · {backup} · "
               "`halo-forge ledger info`, `halo-forge ledger prune`")


live()
charts()
