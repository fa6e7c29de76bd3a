"""Benchmark: choose a type, a benchmark and a model; one click queues the job and opens Monitor."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import credentials, forms, notify
from core.benchmarks import catalogue, service
from core.forms import TRUST_WARNING

MONITOR_PAGE = Path(__file__).resolve().parent / "monitor.py"

st.title("Benchmark")
st.caption("Scores a model with each benchmark's own metric. Offline, a benchmark runs on the "
           "small sample halo-forge ships in the dataset's own format.")

types = catalogue.offered_types()
type_ = st.segmented_control("Type", types, key="bench_type", default=types[0], required=True,
                             format_func=lambda t: catalogue.TYPES[t].label) or types[0]
kind = catalogue.get_type(type_)

benches = catalogue.names(type_)
picked = [n for n in st.session_state.get("bench_names") or [] if n in benches]
if not picked:  # a new type starts from its first benchmark
    st.session_state["bench_names"] = [benches[0]]
names = st.multiselect("Benchmarks", benches, key="bench_names",
                       format_func=lambda n: catalogue.get(n).title,
                       help="Several benchmarks run as one job (one model load), with one "
                            "result row each.") or [benches[0]]
name = ",".join(names)
for bench in map(catalogue.get, names):
    metric_text = ", ".join(bench.metrics) + ("" if bench.higher_is_better else " (lower is better)")
    st.caption(f"**{bench.title}**: {bench.description}  \nMetric: {metric_text} · dataset "
               f"`{bench.hub_path}`" + (f" ({bench.hub_config})" if bench.hub_config else "")
               + f", split {bench.hub_split}")

choices = service.model_choices(type_)
if st.session_state.get("bench_model_type") != type_:  # a new type starts from its first preset
    st.session_state["bench_model"] = choices[0]
    st.session_state["bench_model_type"] = type_
typed = st.session_state.get("bench_model")
if typed and typed not in choices:  # a model typed earlier stays listed
    choices.append(typed)
trained = {t.path: t.label for t in service.training_outputs()}
model = st.selectbox("Model", choices, key="bench_model", accept_new_options=True,
                     format_func=lambda m: trained.get(m, m),
                     help="A hub id, a local model directory, a training run's output, or a tiny "
                          "offline model. Type to enter any other.")
adapter = st.text_input("LoRA adapter (optional)", key="bench_adapter",
                        help="Directory with adapter_config.json, loaded on top of the model.")
trust = st.checkbox("Trust remote code", key="bench_trust_remote_code",
                    help="Let the model's hub repository run its own Python code (some "
                         "architectures need it).")
if trust:
    st.warning(TRUST_WARNING, icon="⚠️")

left, right = st.columns(2)
with left:
    all_items = st.checkbox("All items", key="bench_all", value=False)
    limit = st.slider("Sample limit", 1, 500, 20, key="bench_limit", disabled=all_items,
                      help="Score the first N items of the benchmark.")
    batch_size = st.number_input("Batch size", 1, 512, 8, key="bench_batch_size",
                                 help="Sequences per generation call.")
with right:
    samples, temperature = 1, 0.0
    if kind.verified:
        samples = st.number_input("Samples per problem (n)", 1, 200, 1, key="bench_samples",
                                  help="pass@k is reported for k = 1, 5 and n (k <= n).")
        temperature = st.slider("Temperature", 0.0, 1.5, 0.0 if samples == 1 else 0.8, 0.05,
                                key="bench_temperature", help="0 = greedy.")
    max_new = st.number_input("Max new tokens", 1, 32_768, kind.max_new_tokens,
                              key=f"bench_max_new_tokens_{type_}")
output_dir = st.text_input("Output directory (optional)", key="bench_output_dir",
                           help="Where samples.jsonl and results.json go; empty = the job's folder.")
ex_col, profile_col = st.columns(2)
executor = ex_col.selectbox("Executor", list(forms.EXECUTORS), key="bench_executor",
                            help="Where the job runs: this machine, a Ray cluster or Slurm.")
profile = None
if executor != "local":
    profiles = forms.profile_choices(executor)
    if profiles:
        profile = profile_col.selectbox("Profile", profiles, key="bench_profile",
                                        help="Saved cluster profile (address, partition, ...).")
    else:
        profile_col.caption(f"No {executor} profile saved: add one with "
                            f"`halo-forge profiles add NAME --executor {executor} ...`.")
hook = st.text_input("Webhook for this job (optional)", key="bench_notify_url", type="password",
                     placeholder="https://…",
                     help="Gets a JSON POST when the job ends, instead of the global webhook "
                          "(Settings). Kept private; never shown again.")


def _config() -> dict | None:
    try:
        return service.build_config(benchmark=name, model=model or "", adapter=adapter,
                                    limit=None if all_items else int(limit), samples=int(samples),
                                    temperature=float(temperature), batch_size=int(batch_size),
                                    max_new_tokens=int(max_new), output_dir=output_dir,
                                    trust_remote_code=trust, executor=executor, profile=profile)
    except ValueError as exc:
        st.error(str(exc))
        return None


def _open_monitor(job_id: int) -> None:
    st.session_state["monitor_job"] = job_id
    st.query_params["job"] = str(job_id)
    try:
        st.switch_page(str(MONITOR_PAGE))
    except StreamlitAPIException:  # page run outside the app's navigation
        st.success(f"Queued job #{job_id}; open Monitor to follow it.")


run_col, compare_col = st.columns(2)
if run_col.button("Run benchmark", key="bench_run", type="primary", width="stretch"):
    config = _config()
    if config is not None:
        try:
            if hook.strip():
                credentials.check_url(hook, "webhook")
            job_id = service.queue(config)
        except ValueError as exc:  # ConfigError, JobError, a bad URL: one sentence each
            st.error(str(exc))
        else:
            notify.attach(job_id, hook)
            st.session_state["bench_last_jobs"] = [job_id]
            _open_monitor(job_id)

can_compare = bool((adapter or "").strip()) or service.adapter_base(model or "") is not None
if compare_col.button("Compare base vs adapter", key="bench_compare", disabled=not can_compare,
                      width="stretch",
                      help="Queues two jobs on the same benchmark: the base model alone and with "
                           "the adapter. Results shows them side by side."):
    config = _config()
    if config is not None:
        try:
            if hook.strip():
                credentials.check_url(hook, "webhook")
            ids = service.queue_comparison(config)
        except ValueError as exc:
            st.error(str(exc))
        else:
            for job_id in ids:
                notify.attach(job_id, hook)
            st.session_state["bench_last_jobs"] = list(ids)
            _open_monitor(ids[0])
