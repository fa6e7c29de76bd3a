"""Monitor: one job live -- progress, loss curve, metrics, log, stop and retry.

The live fragment ticks every second but reads the job's rows only when the job's newest
event id moved (core.live: one index seek per tick); durations and the ETA are recomputed
from the kept row when drawn. Kept data: `mon_cache_*`.
"""
from __future__ import annotations

import html
import time
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import energy, job_actions, jobs, monitor
from core.charts import metric_chart
from core.ledger import FINAL
from core.live import cached, stamp
from core.theme import PALETTE, status_badge

st.title("Monitor")

choices = monitor.job_choices()
if not choices:
    st.info("No jobs yet. Queue one from Training or Benchmark, or from a shell: "
            "`halo-forge submit -- python my_script.py`.")
    st.stop()

ids = [c["id"] for c in choices]
# No status in the labels: the picker sits outside the live fragment and would go stale.
labels = {c["id"]: f"#{c['id']} · {c['name']} · {c['kind']}" for c in choices}
# The URL's ?job= is applied only when it changed since this page last wrote it: otherwise
# every rerun after a pick would read the old id back and snap the picker to it.
url_job = st.query_params.get("job")
wanted = st.session_state.pop("monitor_job", None)
# A picker with no state (the page was left, then opened again) also takes the URL's job.
if wanted is None and (url_job != st.session_state.get("mon_url_job")
                       or "mon_job" not in st.session_state):
    wanted = url_job
try:
    wanted = int(wanted) if wanted is not None else None
except ValueError:
    wanted = None
if wanted is not None and wanted not in ids:
    try:
        job = jobs.get(wanted)
        ids.insert(0, wanted)
        labels[wanted] = f"#{wanted} · {job['name']} · {job['kind']}"
    except jobs.JobError:
        st.warning(f"There is no job #{wanted}; showing the newest instead.")
        wanted = None
if wanted is not None:
    st.session_state["mon_job"] = wanted
elif st.session_state.get("mon_job") not in ids:
    st.session_state["mon_job"] = monitor.default_job_id()

job_id = st.selectbox("Job", ids, key="mon_job", format_func=lambda i: labels.get(i, f"#{i}"))
st.query_params["job"] = str(job_id)
st.session_state["mon_url_job"] = str(job_id)


def _header(job: dict) -> None:
    prog = monitor.progress(job)
    cols = st.columns([2, 1, 1, 1])
    cols[0].markdown(f"### {html.escape(job['name'])}\n{status_badge(job['status'])} · "
                     f"{job['kind']} · {_where(job)}")
    cols[1].metric("Duration", monitor.format_duration(prog.get("elapsed_s")))
    done = f"{prog['fraction'] * 100:.1f} %" if prog["fraction"] is not None else None
    cols[2].metric("Progress", done or (f"step {job['step']}" if job.get("step") else "–"))
    cols[3].metric("ETA", monitor.format_duration(prog.get("eta_s")) if prog.get("eta_s") else "–")
    if prog["fraction"] is not None:
        st.progress(prog["fraction"], text=prog["label"])
    if job["status"] in FINAL:
        st.caption(f"Energy: {energy.format_energy(job.get('energy_wh'))} · Peak memory: "
                   f"{energy.format_mem(job.get('peak_mem_mb'))}",
                   help="Energy is integrated from the power samples of the GPUs the job held; "
                        "peak memory is their VRAM + GTT (a CPU job: its process's peak RSS).")
    if job.get("endpoint") and job["status"] == "RUNNING":  # a served model
        try:
            st.page_link(str(Path(__file__).resolve().parent / "chat.py"),
                         label=f"Serving at {job['endpoint']} · open in Chat")
        except StreamlitAPIException:  # page run outside the app's navigation
            st.caption(f"Serving at `{job['endpoint']}` (the Chat page talks to it)")
    if job.get("error") and job["status"] in FINAL:
        st.error(job["error"])


def _where(job: dict) -> str:
    if job["executor"] == "local":
        return f"local pid {job['pid']}" if job.get("pid") else "local"
    return f"{job['executor']} {job.get('external_id') or '(pending)'}"


def _set(key: str, value) -> None:
    st.session_state[key] = value


def _confirm_stop(job_id: int) -> None:
    st.session_state["mon_confirm_stop"] = False
    try:
        jobs.request_stop(job_id)
    except jobs.JobError as exc:
        st.session_state["mon_action_error"] = str(exc)


def _open_new(fn, job_id: int) -> None:
    try:
        st.session_state["monitor_job"] = fn(job_id)
    except (jobs.JobError, ValueError) as exc:
        st.session_state["mon_action_error"] = str(exc)


def _actions(job: dict) -> None:
    # Callbacks (not st.rerun) so that a click works the same in a fragment rerun and a full one.
    # Which buttons exist is core.job_actions' decision, the same one the Jobs page and the CLI use.
    cols = st.columns([1, 1, 1, 4])
    if error := st.session_state.pop("mon_action_error", None):
        st.error(error)
    allowed = job_actions.available(job)
    if job["status"] == "STOPPING":
        asked = job.get("stop_requested_at")
        since = f" {monitor.format_duration(time.time() - asked)} ago" if asked else ""
        cols[3].info(f"Stop requested{since}: the job is saving and winding down; the supervisor "
                     "ends it for good after the grace period.")
    if "stop" in allowed:
        if not st.session_state.get("mon_confirm_stop"):
            cols[0].button("Stop", key="mon_stop", type="primary",
                           on_click=_set, args=("mon_confirm_stop", True))
        else:
            cols[3].warning("Stop this job? Training saves a checkpoint first.")
            cols[0].button("Confirm stop", key="mon_stop_confirm", type="primary",
                           on_click=_confirm_stop, args=(job["id"],))
            cols[1].button("Cancel", key="mon_stop_cancel",
                           on_click=_set, args=("mon_confirm_stop", False))
    else:
        st.session_state["mon_confirm_stop"] = False
    # A new job opens here: the picker sits outside this fragment, so rerun the whole page.
    if "retry" in allowed and cols[0].button("Retry", key="mon_retry", on_click=_open_new,
                                             args=(jobs.retry, job["id"])):
        st.rerun()
    if "resume" in allowed and cols[1].button("Resume", key="mon_resume", on_click=_open_new,
                                              args=(jobs.resume, job["id"]),
                                              help="From the newest checkpoint"):
        st.rerun()


def _resume_from(job_id: int, path: str) -> None:
    try:
        st.session_state["monitor_job"] = jobs.resume(job_id, checkpoint=path)
    except (jobs.JobError, ValueError) as exc:
        st.session_state["mon_action_error"] = str(exc)


def _checkpoints(job: dict, when: tuple) -> None:
    """The checkpoints the job reported, newest first, each resumable from here; a toast when
    a new one arrives while the page is open."""
    def read():
        total, newest = monitor.checkpoint_count(job["id"])
        return total, newest, monitor.checkpoints(job["id"], newest=20) if total else []

    total, newest, ckpts = cached(st.session_state, "mon_cache_ckpts", when, read)
    seen_key = f"mon_ckpt_seen_{job['id']}"
    seen = st.session_state.get(seen_key)
    if seen is not None and newest > seen:
        last = ckpts[-1]
        at = f"step {last['step']}" if last["step"] is not None else Path(last["path"]).name
        st.toast(f"Job #{job['id']}: checkpoint saved at {at}", icon="💾")
    st.session_state[seen_key] = newest
    if not ckpts:
        return
    st.subheader(f"Checkpoints ({total})")
    can_pick = "resume_from" in job_actions.available(job)
    for c in reversed(ckpts):
        cols = st.columns([1, 2, 1, 4, 2], vertical_alignment="center")
        cols[0].markdown(f"step **{c['step']}**" if c["step"] is not None else
                         (f"cycle **{c['cycle']}**" if c["cycle"] is not None else "–"))
        cols[1].caption(_when(c["time"]))
        cols[2].caption(monitor.format_bytes(c["size"]) if c["exists"] else "deleted")
        cols[3].code(_short(c["path"], job.get("job_dir")), language=None)
        problem = job_actions.checkpoint_problem(job["kind"], c["path"])
        if not can_pick:
            problem = job_actions.reason(job, "resume_from")
        if cols[4].button("Resume from this one", key=f"mon_resume_ckpt_{c['event_id']}",
                          disabled=problem is not None, help=problem,
                          on_click=_resume_from, args=(job["id"], c["path"])):
            st.rerun()
    if total > len(ckpts):
        st.caption(f"The newest {len(ckpts)} of {total} checkpoints "
                   f"(all of them: `halo-forge checkpoints {job['id']}`).")


def _short(path: str, job_dir: str | None) -> str:
    """A checkpoint path relative to the job directory when it lies inside it."""
    try:
        return str(Path(path).relative_to(job_dir)) if job_dir else path
    except ValueError:
        return path


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _metrics_panel(latest: dict) -> None:
    if not latest:
        st.caption("No metrics yet. The parser reads lines such as `Step 3/100`, "
                   "`loss: 0.52`, `lr: 2.0e-05`, or a JSON metric line.")
        return
    cols = st.columns(min(len(latest), 6))
    for i, (name, info) in enumerate(sorted(latest.items())):
        value = info["value"]
        text = f"{value:.3e}" if value and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.4g}"
        cols[i % len(cols)].metric(name, text, help=f"at step {info['step']}")


def _chart(job_id: int, names: list[str], when: tuple) -> None:
    from streamlit_echarts import st_echarts

    if not names:
        return
    # GRPO: the reward curve first (its loss hovers near 0 by construction); DPO: the margin.
    default = [n for n in ("reward", "rewards_margins", "loss", "train_loss", "reward_mean", "verification_rate")
               if n in names][:1] or names[:1]
    picked = st.multiselect("Metrics", names, default=default, key="mon_metrics")
    x = st.radio("x axis", ["step", "time"], horizontal=True, key="mon_x")
    series = cached(st.session_state, "mon_cache_series", (when, tuple(picked), x),
                    lambda: [{"name": name, **monitor.series(job_id, name, x=x)}
                             for name in picked])
    if series:
        if any(s.get("thinned") for s in series):
            st.caption("Long series: real points at about every k-th step are drawn.")
        elif any(s["downsampled"] for s in series):
            total = sum(s["count"] for s in series)
            st.caption(f"{total:,} points, averaged into buckets (band: min–max).")
        chart = cached(st.session_state, "mon_cache_chart", (when, tuple(picked), x),
                       lambda: metric_chart(series, x_name=x, time_axis=(x == "time")))
        st_echarts(chart, height="340px", key=f"mon_chart_{job_id}_{x}")


_LINE_COLOURS = {"error": PALETTE["error"], "warning": PALETTE["warning"],
                 "metric": PALETTE["accent"], "plain": PALETTE["text"]}


def _log(job_id: int, when: tuple) -> None:
    cols = st.columns([3, 1])
    needle = cols[0].text_input("Filter log", key="mon_log_filter", placeholder="text to find")
    count = cols[1].selectbox("Lines", [100, 200, 500, 1000], index=1, key="mon_log_lines")
    lines = cached(st.session_state, "mon_cache_log", (when, needle, count),
                   lambda: monitor.tail_log(job_id, count, needle or None))
    if not lines:
        st.caption("No output yet." if not needle else "No line matches the filter.")
        return
    body = "\n".join(
        f"<span style='color:{_LINE_COLOURS[monitor.classify_line(r['text'])]}'>"
        f"{html.escape(r['text'])}</span>" for r in lines)
    # column-reverse keeps the scroll position at the newest line as lines arrive
    st.html(f"<div style='max-height:420px;overflow:auto;display:flex;flex-direction:column-reverse;"
            f"background:{PALETTE['card']};border-radius:6px'><pre style='margin:0;padding:0.8rem;"
            f"font-size:0.8rem;white-space:pre-wrap'><code>{body}</code></pre></div>")


@st.fragment(run_every="1s")
def live(job_id: int) -> None:
    # Everything below changes with one of the job's events (status, output batch, checkpoint);
    # the time bucket re-reads what does not (a checkpoint folder deleted, the clock).
    when = (job_id, stamp(job_id, every_s=monitor.LIVE_STATE_S))
    try:
        job = cached(st.session_state, "mon_cache_job", when, lambda: jobs.get(job_id))
    except jobs.JobError:
        st.warning(f"Job #{job_id} was deleted.")
        return
    _header(job)
    _actions(job)
    latest = cached(st.session_state, "mon_cache_latest", when,
                    lambda: monitor.latest_metrics(job_id))
    _metrics_panel(latest)
    _chart(job_id, sorted(latest), when)
    _checkpoints(job, when)
    st.subheader("Log")
    _log(job_id, when)


live(job_id)
