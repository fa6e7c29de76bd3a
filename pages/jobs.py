"""Jobs: every job, filtered and paged, with its actions one at a time or in bulk; the GPU
slots and the queue, reorderable.

A thin view over core.joblist (what to show), core.job_actions (which actions a job allows)
and core.jobs (the actions). State keys: `jobs_*`.
"""
from __future__ import annotations

import html
import time

import streamlit as st

from core import job_actions, joblist, jobs, monitor, pagelinks
from core.dashboard import monitor_link
from core.theme import status_badge

st.title("Jobs")

BULK_LABELS = {"stop": "Stop", "retry": "Retry", "resume": "Resume", "delete": "Delete…"}


# ----------------------------------------------------------------------------- callbacks


def _flash(kind: str, text: str) -> None:
    st.session_state["jobs_flash"] = (kind, text)


def _report(action: str, results: dict[int, str]) -> None:
    done = [i for i, r in results.items() if r.startswith("ok")]
    refused = {i: r for i, r in results.items() if not r.startswith("ok")}
    lines = []
    if done:
        lines.append(f"{job_actions.LABELS[action]}: " + ", ".join(f"#{i}" for i in done) + ".")
    lines += [f"#{i}: {why}" for i, why in refused.items()]
    _flash("error" if refused and not done else "warning" if refused else "success",
           "  \n".join(lines))


def _bulk(action: str, ids: list[int]) -> None:
    if action == "delete":  # never at once: ask first
        st.session_state["jobs_confirm_delete"] = ids
        return
    _report(action, jobs.bulk(action, ids))


def _confirm_delete() -> None:
    ids = st.session_state.pop("jobs_confirm_delete", [])
    _report("delete", jobs.bulk("delete", ids))
    st.session_state.pop("jobs_table", None)  # the rows it pointed at are gone


def _cancel_delete() -> None:
    st.session_state.pop("jobs_confirm_delete", None)


def _move(job_id: int, direction: str) -> None:
    try:
        jobs.move(job_id, direction)
    except jobs.JobError as exc:
        _flash("error", str(exc))


def _set_priority(job_id: int) -> None:
    try:
        jobs.set_priority(job_id, int(st.session_state[f"jobs_priority_{job_id}"]))
        _flash("success", f"Job #{job_id} now has priority "
                          f"{st.session_state[f'jobs_priority_{job_id}']}.")
    except (jobs.JobError, ValueError) as exc:
        _flash("error", str(exc))


def _to_page_one() -> None:
    st.session_state["jobs_page"] = 1


# ----------------------------------------------------------------------------- parts


def _filters() -> dict:
    facets = joblist.facets()
    cols = st.columns([2, 2, 1, 2, 1])
    statuses = cols[0].multiselect("Status", facets["statuses"], key="jobs_status",
                                   placeholder="any status", on_change=_to_page_one)
    kinds = cols[1].multiselect("Kind", facets["kinds"], key="jobs_kind",
                                placeholder="any kind", on_change=_to_page_one)
    executors = cols[2].multiselect("Executor", facets["executors"], key="jobs_executor",
                                    placeholder="any", on_change=_to_page_one)
    name = cols[3].text_input("Name", key="jobs_name", placeholder="part of the name",
                              on_change=_to_page_one)
    per_page = cols[4].selectbox("Per page", joblist.PAGE_SIZES, key="jobs_per_page",
                                 on_change=_to_page_one)
    return {"statuses": statuses, "kinds": kinds, "executors": executors, "name": name,
            "per_page": per_page}


def _rows(found: list[dict]) -> list[dict]:
    out = []
    for j in found:
        prog = j["progress"]
        out.append({
            "job": monitor_link(j["id"]), "name": j["name"], "status": j["status"],
            "kind": j["kind"], "executor": j["executor"], "progress": prog["fraction"],
            "priority": j["priority"], "GPUs": j["gpus"],
            "created": time.strftime("%m-%d %H:%M", time.localtime(j["created_at"])),
            "duration": monitor.format_duration(prog.get("elapsed_s")),
        })
    return out


def _table(found: dict) -> list[dict]:
    """The page of jobs; returns the selected ones."""
    event = st.dataframe(
        _rows(found["jobs"]), hide_index=True, width="stretch", key="jobs_table",
        on_select="rerun", selection_mode="multi-row",
        column_order=("job", "name", "status", "kind", "executor", "progress", "priority",
                      "GPUs", "created", "duration"),
        column_config={
            "job": st.column_config.LinkColumn("job", display_text=r"job=(\d+)$",
                                               help="open in Monitor", width="small"),
            "name": st.column_config.TextColumn("name", width="medium"),
            "progress": st.column_config.ProgressColumn("progress", min_value=0.0,
                                                        max_value=1.0, format="percent",
                                                        width="small"),
            "priority": st.column_config.NumberColumn("priority", width="small"),
            "GPUs": st.column_config.NumberColumn("GPUs", width="small"),
            "executor": st.column_config.TextColumn("executor", width="small"),
            "created": st.column_config.TextColumn("created", width="small"),
            "duration": st.column_config.TextColumn("duration", width="small"),
        })
    rows = [r for r in event.selection.rows if r < len(found["jobs"])]
    return [found["jobs"][r] for r in rows]


def _pager(found: dict) -> None:
    if found["pages"] <= 1:
        return
    st.session_state["jobs_page"] = found["page"]  # clamped: deletions may remove pages
    cols = st.columns([1, 4])
    cols[0].number_input("Page", min_value=1, max_value=found["pages"], step=1, key="jobs_page")
    cols[1].caption(f"page {found['page']} of {found['pages']}")


def _bulk_bar(selected: list[dict]) -> None:
    ids = [j["id"] for j in selected]
    st.markdown(f"**{len(ids)} selected:** " + ", ".join(f"#{i}" for i in ids))
    cols = st.columns(len(BULK_LABELS) + 1)
    for n, (action, label) in enumerate(BULK_LABELS.items()):
        able = [j["id"] for j in selected if job_actions.can(j, action)]
        cols[n].button(f"{label} ({len(able)})" if len(ids) > 1 else label,
                       key=f"jobs_bulk_{action}", disabled=not able, on_click=_bulk,
                       args=(action, able), width="stretch",
                       help=None if able else "none of the selected jobs allows this")


def _confirm() -> None:
    ids = st.session_state.get("jobs_confirm_delete")
    if not ids:
        return
    with st.container(border=True):
        st.warning(f"Delete {len(ids)} job{'s' if len(ids) != 1 else ''} "
                   f"({', '.join(f'#{i}' for i in ids)}) with their logs, metrics, results and "
                   "job directories? This cannot be undone.")
        cols = st.columns([1, 1, 4])
        cols[0].button("Delete", key="jobs_delete_confirm", type="primary",
                       on_click=_confirm_delete, width="stretch")
        cols[1].button("Cancel", key="jobs_delete_cancel", on_click=_cancel_delete,
                       width="stretch")


def _one(job: dict) -> None:
    """The one selected job: its queue controls besides the bulk buttons."""
    if not ({"move", "priority"} & set(job["actions"])):
        if job["status"] in ("FAILED",) and job.get("error"):
            st.caption(f"#{job['id']} failed: {job['error'].splitlines()[-1][:200]}")
        return
    cols = st.columns([1, 1, 2, 1, 3], vertical_alignment="bottom")
    cols[0].button("Move up", key=f"jobs_one_up_{job['id']}", on_click=_move,
                   args=(job["id"], "up"), width="stretch")
    cols[1].button("Move down", key=f"jobs_one_down_{job['id']}", on_click=_move,
                   args=(job["id"], "down"), width="stretch")
    st.session_state.setdefault(f"jobs_priority_{job['id']}", job["priority"])
    cols[2].number_input("Priority (higher runs first)", step=1,
                         key=f"jobs_priority_{job['id']}")
    cols[3].button("Set", key=f"jobs_priority_set_{job['id']}", on_click=_set_priority,
                   args=(job["id"],), width="stretch")


def _slots() -> None:
    st.subheader("GPU slots and queue")
    info = joblist.slots()
    if info["supervisor"]:
        st.markdown(f"**{info['used']} of {info['slots']}** GPU slot"
                    f"{'s' if info['slots'] != 1 else ''} held · {info['free']} free · "
                    f"{info['gpus'] or 0} GPU{'s' if info['gpus'] != 1 else ''} detected")
    else:
        st.caption("The supervisor is not running: nothing holds a slot and the queue waits. "
                   "Start it from the sidebar or with `halo-forge supervisor start`.")
    for h in info["holders"]:
        devices = ", ".join(h["devices"]) or "(not pinned)"
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(f"GPU **{html.escape(devices)}**")
            pagelinks.monitor(h["job"], f"#{h['job']} {h['name']}")
            st.markdown(f"{status_badge(h['status'])} · {h['gpus']} slot"
                        f"{'s' if h['gpus'] != 1 else ''}")
    for r in info["remote"]:
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(f"{r['executor']}")
            pagelinks.monitor(r["job"], f"#{r['job']} {r['name']}")
            st.markdown(f"{status_badge(r['status'])} · on the cluster's GPUs")
    if not info["queue"]:
        st.caption("Nothing queued.")
        return
    st.markdown("**Queue** (claimed top first: higher priority, then order)")
    for q in info["queue"]:
        cols = st.columns([1, 12, 5, 1, 1], vertical_alignment="center", gap="small")
        cols[0].markdown(f"**{q['place']}.**")
        pagelinks.monitor(q["id"], f"#{q['id']} {q['name']} · {q['kind']}", container=cols[1])
        cols[2].caption(f"priority {q['priority']} · {q['gpus']} GPU slot"
                        f"{'s' if q['gpus'] != 1 else ''}")
        cols[3].button("↑", key=f"jobs_up_{q['id']}", on_click=_move, args=(q["id"], "up"),
                       help="move up (within its priority)", disabled=q["place"] == 1)
        cols[4].button("↓", key=f"jobs_down_{q['id']}", on_click=_move,
                       args=(q["id"], "down"), help="move down (within its priority)",
                       disabled=q["place"] == len(info["queue"]))


def render() -> None:
    if flash := st.session_state.pop("jobs_flash", None):
        {"success": st.success, "warning": st.warning, "error": st.error}[flash[0]](flash[1])
    filters = _filters()
    found = joblist.search(statuses=filters["statuses"], kinds=filters["kinds"],
                           executors=filters["executors"], name=filters["name"],
                           page=st.session_state.get("jobs_page", 1),
                           per_page=filters["per_page"])
    if not found["total"]:
        st.info("No jobs match." if any(filters[k] for k in ("statuses", "kinds", "executors",
                                                              "name"))
                else "No jobs yet. Queue one from Training or Benchmark, or from a shell: "
                     "`halo-forge submit -- python my_script.py`.")
    else:
        st.caption(f"{found['total']} job{'s' if found['total'] != 1 else ''}, newest first. "
                   "Tick rows to act on them.")
        selected = _table(found)
        _pager(found)
        _confirm()
        if selected:
            _bulk_bar(selected)
            if len(selected) == 1:
                _one(selected[0])
    _slots()


render()
