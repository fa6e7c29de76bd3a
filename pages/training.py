"""Training: SFT, RAFT, GRPO and DPO forms that validate through core.configs and queue a job.

A thin view over core.forms (form <-> config, errors per field) and core.jobs (queueing).
State keys: `train_*` (widgets `train_<kind>_<field>`); the Datasets page hands over
`train_dataset` / `train_kind`, and Monitor opens on `monitor_job`.
"""
from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import contamination, credentials, forms, jobs, notify
from core.benchmarks import catalogue
from core.paths import REPO_ROOT, datasets_dir

MONITOR_PAGE = REPO_ROOT / "pages" / "monitor.py"
CONFIG_PAGE = REPO_ROOT / "pages" / "config.py"
TABS = {"sft": "SFT", "raft": "RAFT", "grpo": "GRPO", "dpo": "DPO"}
EXPORT_AFTER = ["none", "merged", "gguf-f16", "gguf-q8_0", "gguf-q4_k_m"]
EXPORT_AFTER_LABELS = {"none": "no export", "merged": "merged safetensors", "gguf-f16": "GGUF f16",
                       "gguf-q8_0": "GGUF q8_0", "gguf-q4_k_m": "GGUF q4_k_m"}
LABELS = {
    "model": "Model", "gradient_checkpointing": "Gradient checkpointing",
    "trust_remote_code": "Trust remote code",
    "dataset": "Dataset", "limit": "Records to use", "watch_benchmarks": "Benchmarks to watch",
    "epochs": "Epochs", "batch_size": "Batch size", "learning_rate": "Learning rate",
    "max_steps": "Max steps", "lora_r": "LoRA rank", "lora_alpha": "LoRA alpha",
    "export_after": "Merge / export GGUF after training",
    "executor": "Executor", "profile": "Profile",
    "preset": "RAFT preset", "verifier": "Verifier", "cycles": "Cycles",
    "samples_per_prompt": "Samples per prompt", "temperature": "Temperature",
    "keep_percent": "Keep percent", "reward_threshold": "Reward threshold",
    "grpo_preset": "GRPO recipe", "steps": "Steps", "num_generations": "Generations per prompt",
    "max_completion_length": "Max completion tokens", "beta": "KL beta", "loss_type": "Loss",
    "epsilon": "Clip epsilon", "dpo_beta": "DPO beta", "dpo_loss_type": "DPO loss",
}
HELP = {
    "model": "Pick a preset, or type any Hugging Face model id or local model directory.",
    "dataset": "Catalogue datasets for this kind of training, and JSONL files from "
               f"{datasets_dir()}; a path to any other file can be typed.",
    "limit": "Use at most this many records; empty = all.",
    "watch_benchmarks": "Before training starts, the data is checked against these benchmarks' "
                        "items (word 13-grams shared); findings go to the job's log and "
                        "overlap.json. Check now to see them before launching (a catalogue "
                        "dataset is checked here on its shipped sample; the job checks the "
                        "data it trains on).",
    "learning_rate": "Peak learning rate; write it as you like: 2e-4, 0.0002.",
    "max_steps": "Stop after this many optimizer steps; -1 = the epochs decide.",
    "preset": "Fills samples, temperature, keep percent and threshold; editing any of them "
              "makes it Custom.",
    "executor": "Where the job runs: this machine, a Ray cluster or Slurm.",
    "grpo_preset": "dapo: TRL's default (token-level loss, no KL). grpo: DeepSeekMath's (KL "
                   "beta 0.04). dr_grpo: no length or difficulty bias. Editing the loss, beta, "
                   "epsilon or temperature makes it Custom.",
    "num_generations": "Completions sampled per prompt; each is rewarded against its group. "
                       "Batch size must be a multiple of it.",
    "beta": "Weight of the KL penalty to the starting model; 0 = no reference model in memory.",
    "dpo_beta": "How close the model stays to the reference; higher = closer.",
}


def _key(kind: str, field: str) -> str:
    return f"train_{kind}_{field}"


@st.cache_data(ttl=60, show_spinner=False)
def _model_extras() -> tuple[list[str], list[str]]:
    # Scanning the hub cache and model folders costs a moment: once a minute is enough.
    from core.models.loading import cached_hub_models, local_model_dirs

    return cached_hub_models(), local_model_dirs()


# ----------------------------------------------------------------------------- state


def _init(kind: str) -> None:
    """Widget values live in `train_<kind>_saved` too: Streamlit forgets a widget's state when
    its page is left, and the form should come back as the user left it."""
    saved = st.session_state.setdefault(f"train_{kind}_saved", forms.defaults(kind))
    for field in forms.field_paths(kind):
        st.session_state.setdefault(_key(kind, field), saved.get(field))
    st.session_state.setdefault(_key(kind, "name"), saved.get("name", ""))


def _values(kind: str) -> dict[str, Any]:
    return {f: st.session_state.get(_key(kind, f)) for f in forms.field_paths(kind)}


def _apply_request() -> None:
    """"Train on this" on the Datasets page: select its dataset in the matching tab, once."""
    request = (st.session_state.get("train_dataset"), st.session_state.get("train_kind"))
    if not request[0] or request == st.session_state.get("train_request_applied"):
        return
    kind = request[1] if request[1] in forms.FORM_KINDS else "sft"
    _init(kind)
    st.session_state[_key(kind, "dataset")] = request[0]
    st.session_state[f"train_{kind}_saved"]["dataset"] = request[0]
    st.session_state.pop(f"train_{kind}_errors", None)
    st.session_state["train_tab"] = TABS[kind]
    st.session_state["train_request_applied"] = request


def _go(flag: str, page) -> None:
    """Switch page after a callback asked for it (st.switch_page cannot run in a callback)."""
    if not st.session_state.pop(flag, None):
        return
    # Monitor itself shows the new job: the "Queued job #N" note is only for when the page
    # cannot switch, or it would greet the user on their next visit, long after.
    note = st.session_state.pop("train_last_job", None)
    try:
        st.switch_page(str(page))
    except StreamlitAPIException:
        # run on its own (outside the app's navigation): the page says what happened
        if note is not None:
            st.session_state["train_last_job"] = note


# ----------------------------------------------------------------------------- callbacks


def _edited(kind: str, field: str) -> None:
    st.session_state.pop(f"train_{kind}_errors", None)  # launch errors describe old values
    if kind not in forms.PRESET_FIELD:
        return
    preset_key = _key(kind, forms.PRESET_FIELD[kind])
    if field == forms.PRESET_FIELD[kind]:
        for name, value in forms.preset_values(st.session_state[preset_key], kind).items():
            st.session_state[_key(kind, name)] = value
    elif field in forms.PRESET_FILLS[kind]:
        st.session_state[preset_key] = forms.preset_after_edit(
            st.session_state[preset_key], _values(kind), kind)


def _executor_changed(kind: str) -> None:
    _edited(kind, "executor")
    choices = forms.profile_choices(st.session_state[_key(kind, "executor")])
    st.session_state[_key(kind, "profile")] = choices[0] if choices else None


def _launch(kind: str) -> None:
    hook = st.session_state.get(_key(kind, "notify_url"), "")
    try:
        if hook.strip():
            credentials.check_url(hook, "webhook")
        job_id = forms.launch(kind, _values(kind), st.session_state.get(_key(kind, "name")))
    except forms.FormError as exc:
        st.session_state[f"train_{kind}_errors"] = exc.errors
        return
    except credentials.CredentialError as exc:
        st.session_state[f"train_{kind}_errors"] = {forms.GENERAL: [str(exc)]}
        return
    notify.attach(job_id, hook)
    st.session_state[_key(kind, "notify_url")] = ""  # a secret: not kept in the form
    st.session_state["monitor_job"] = job_id
    st.session_state["train_last_job"] = job_id
    st.session_state["train_go_monitor"] = True


def _open_in_config(kind: str) -> None:
    try:
        text = forms.to_yaml(kind, _values(kind))
    except forms.FormError as exc:
        st.session_state[f"train_{kind}_errors"] = exc.errors
        return
    st.session_state["cfg_incoming"] = text
    st.session_state["train_go_config"] = True


# ----------------------------------------------------------------------------- widgets


def _errors(kind: str) -> dict[str, list[str]]:
    """Launch errors (full checks) while nothing changed since; else the live type/range checks."""
    launch = st.session_state.get(f"train_{kind}_errors")
    if launch is not None:
        return launch
    return forms.validate(kind, _values(kind), full=False)[1]


def _show_errors(errors: dict[str, list[str]], field: str) -> None:
    for message in errors.get(field, []):
        st.error(message, icon=":material/error:")


def _select(kind: str, field: str, choices: forms.Choices, errors, *, new: bool = False,
            on_change=None) -> None:
    key = _key(kind, field)
    choices = choices.with_value(st.session_state.get(key))
    st.selectbox(LABELS[field], choices.options, key=key, format_func=choices.label,
                 index=_index(choices.options, st.session_state.get(key)),
                 accept_new_options=new, help=HELP.get(field),
                 on_change=on_change or _edited, args=(kind,) if on_change else (kind, field))
    _show_errors(errors, field)


# Each widget is also given its current value as its default (value=, index=). The value set
# through Session State reaches the browser once, with the run that set it; a tab the browser
# had not drawn yet missed it and fell back to the widget's own default (0 for a number),
# then sent that 0 back: under load, Epochs and LoRA rank came back as 0 after switching tabs.
def _index(options, value) -> int | None:
    try:
        return list(options).index(value)
    except ValueError:
        return 0 if options else None


def _number(kind: str, field: str, errors, *, step: float | int = 1, fmt: str | None = None,
            **kw) -> None:
    kw.setdefault("value", st.session_state.get(_key(kind, field)))
    st.number_input(LABELS[field], key=_key(kind, field), step=step, format=fmt,
                    help=HELP.get(field), on_change=_edited, args=(kind, field), **kw)
    _show_errors(errors, field)


def _model_and_data(kind: str, errors) -> None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        _select(kind, "model", forms.model_choices(*_model_extras()), errors, new=True)
    with right:
        st.checkbox(LABELS["gradient_checkpointing"], key=_key(kind, "gradient_checkpointing"),
                    help="Recompute activations in the backward pass: less memory, more time.",
                    on_change=_edited, args=(kind, "gradient_checkpointing"))
        _show_errors(errors, "gradient_checkpointing")
        st.checkbox(LABELS["trust_remote_code"], key=_key(kind, "trust_remote_code"),
                    help="Let the model's hub repository run its own Python code (some "
                         "architectures need it).",
                    on_change=_edited, args=(kind, "trust_remote_code"))
    if st.session_state.get(_key(kind, "trust_remote_code")):
        st.warning(forms.TRUST_WARNING, icon="⚠️")
    left, right = st.columns([3, 1])
    with left:
        _select(kind, "dataset", forms.dataset_choices(kind, datasets_dir()), errors, new=True)
    with right:
        _number(kind, "limit", errors, value=None, placeholder="all")
    _watch(kind, errors)


def _check_overlap(kind: str) -> None:
    dataset = (st.session_state.get(_key(kind, "dataset")) or "").strip()
    watched = st.session_state.get(_key(kind, "watch_benchmarks")) or []
    try:
        reports = contamination.run_checks(dataset, watched, source="sample")
    except (contamination.ContaminationError, ValueError) as exc:
        st.session_state[f"train_{kind}_overlap"] = {"error": str(exc)}
        return
    st.session_state[f"train_{kind}_overlap"] = {"dataset": dataset, "reports": reports}


def _watch(kind: str, errors) -> None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        st.multiselect(LABELS["watch_benchmarks"], catalogue.names(), key=_key(kind, "watch_benchmarks"),
                       format_func=lambda n: catalogue.get(n).title, help=HELP["watch_benchmarks"],
                       on_change=_edited, args=(kind, "watch_benchmarks"), placeholder="none")
        _show_errors(errors, "watch_benchmarks")
    with right:
        st.button("Check overlap now", key=f"train_{kind}_overlap_check", on_click=_check_overlap,
                  args=(kind,), disabled=not st.session_state.get(_key(kind, "watch_benchmarks")),
                  width="stretch")
    found = st.session_state.get(f"train_{kind}_overlap")
    if not found:
        return
    if found.get("error"):
        st.error(found["error"])
        return
    for report in found["reports"]:
        if report["contaminated"]:
            st.warning(f"Overlap: {report['summary']}", icon="⚠️")
        else:
            st.success(f"No overlap: {report['summary']}")


def _raft(kind: str, errors) -> None:
    st.markdown("**Reward-ranked fine-tuning**")
    cols = st.columns(3)
    with cols[0]:
        presets = ["conservative", "aggressive", "custom"]
        _select(kind, "preset", forms.Choices(presets, {p: p.capitalize() for p in presets}),
                errors)
    with cols[1]:
        dataset = st.session_state.get(_key(kind, "dataset")) or ""
        _select(kind, "verifier", forms.verifier_choices(dataset), errors)
    with cols[2]:
        _number(kind, "cycles", errors)
    cols = st.columns(4)
    with cols[0]:
        _number(kind, "samples_per_prompt", errors)
    with cols[1]:
        _number(kind, "temperature", errors, step=0.05, fmt="%.2f")
    with cols[2]:
        _number(kind, "keep_percent", errors, step=5.0, fmt="%.1f")
    with cols[3]:
        _number(kind, "reward_threshold", errors, step=0.05, fmt="%.2f")


def _grpo(kind: str, errors) -> None:
    st.markdown("**Group-relative policy optimisation, rewarded by a verifier**")
    cols = st.columns(3)
    with cols[0]:
        presets = ["dapo", "grpo", "dr_grpo", "custom"]
        _select(kind, "grpo_preset", forms.Choices(presets, {"custom": "Custom"}), errors)
    with cols[1]:
        dataset = st.session_state.get(_key(kind, "dataset")) or ""
        _select(kind, "verifier", forms.verifier_choices(dataset), errors)
    with cols[2]:
        _number(kind, "steps", errors)
    cols = st.columns(3)
    with cols[0]:
        _number(kind, "num_generations", errors)
    with cols[1]:
        _number(kind, "max_completion_length", errors)
    with cols[2]:
        _number(kind, "temperature", errors, step=0.05, fmt="%.2f")
    cols = st.columns(3)
    with cols[0]:
        losses = ["dapo", "grpo", "dr_grpo", "bnpo", "cispo"]
        _select(kind, "loss_type", forms.Choices(losses, {}), errors)
    with cols[1]:
        _number(kind, "beta", errors, step=0.01, fmt="%.3f")
    with cols[2]:
        _number(kind, "epsilon", errors, step=0.05, fmt="%.2f")


def _dpo(kind: str, errors) -> None:
    st.markdown("**Direct preference optimisation**")
    cols = st.columns(2)
    with cols[0]:
        _number(kind, "dpo_beta", errors, step=0.05, fmt="%.2f")
    with cols[1]:
        losses = ["sigmoid", "hinge", "ipo", "robust", "bco_pair", "sppo_hard", "apo_zero", "apo_down", "sigmoid_norm"]
        _select(kind, "dpo_loss_type", forms.Choices(losses, {"sigmoid": "sigmoid (DPO)"}), errors)


def _training(kind: str, errors) -> None:
    st.markdown({"raft": "**Fine-tuning in each cycle**", "grpo": "**Optimiser**"}.get(kind, "**Training**"))
    shown = [f for f in ("epochs", "batch_size", "learning_rate", "max_steps") if f in forms.field_paths(kind)]
    for col, field in zip(st.columns(4), shown):  # GRPO has no epochs or max_steps: no gaps
        with col:
            if field == "learning_rate":
                st.text_input(LABELS["learning_rate"], key=_key(kind, "learning_rate"),
                              value=st.session_state.get(_key(kind, "learning_rate")),
                              help=HELP["learning_rate"], on_change=_edited, args=(kind, "learning_rate"))
                _show_errors(errors, "learning_rate")
            else:
                _number(kind, field, errors)
    cols = st.columns(4)
    with cols[0]:
        _number(kind, "lora_r", errors)
    with cols[1]:
        _number(kind, "lora_alpha", errors)
    with cols[2]:
        st.selectbox(LABELS["export_after"], EXPORT_AFTER, key=_key(kind, "export_after"),
                     format_func=EXPORT_AFTER_LABELS.get, on_change=_edited, args=(kind, "export_after"),
                     help="When training completes, an export job merges the adapter (or converts "
                          "to GGUF), loads the result back and verifies it; see the Models page.")
        _show_errors(errors, "export_after")


def _run_on(kind: str, errors) -> None:
    st.markdown("**Run**")
    cols = st.columns([1, 1, 2])
    with cols[0]:
        _select(kind, "executor", forms.Choices(list(forms.EXECUTORS), {}), errors,
                on_change=_executor_changed)
    executor = st.session_state.get(_key(kind, "executor"), "local")
    with cols[1]:
        profiles = forms.profile_choices(executor)
        if executor != "local" and profiles:
            _select(kind, "profile", forms.Choices(profiles, {}), errors)
        elif executor != "local":
            st.caption(f"No {executor} profile saved: add one with "
                       f"`halo-forge profiles add NAME --executor {executor} ...`.")
            _show_errors(errors, "profile")
    with cols[2]:
        placeholder = jobs.default_name(kind, forms.build_config(kind, _values(kind)))
        st.text_input("Job name", key=_key(kind, "name"), placeholder=placeholder,
                      help="Shown on Monitor and Results; empty = the placeholder.")


def _form(kind: str) -> None:
    _init(kind)
    errors = _errors(kind)
    _model_and_data(kind, errors)
    if kind == "raft":
        _raft(kind, errors)
    elif kind == "grpo":
        _grpo(kind, errors)
    elif kind == "dpo":
        _dpo(kind, errors)
    _training(kind, errors)
    _run_on(kind, errors)
    _show_errors(errors, forms.GENERAL)
    if errors and st.session_state.get(f"train_{kind}_errors") is not None:
        st.warning("Nothing was queued: fix the fields marked above.")
    st.text_input("Webhook for this job (optional)", key=_key(kind, "notify_url"),
                  type="password", placeholder="https://…", on_change=_edited,
                  args=(kind, "notify_url"),
                  help="Gets a JSON POST when this job ends, instead of the global webhook "
                       "(Settings). Kept private; never shown again.")
    with st.container(horizontal=True):
        st.button("Launch", key=_key(kind, "launch"), type="primary",
                  icon=":material/rocket_launch:", on_click=_launch, args=(kind,),
                  disabled=bool(errors))
        st.button("Edit as YAML", key=_key(kind, "yaml"), on_click=_open_in_config,
                  args=(kind,), help="Open this form as a config in the Config editor.")
    saved = st.session_state[f"train_{kind}_saved"]
    saved.update(_values(kind), name=st.session_state.get(_key(kind, "name"), ""))


def render() -> None:
    _go("train_go_monitor", MONITOR_PAGE)
    _go("train_go_config", CONFIG_PAGE)
    st.title("Training")
    if (job_id := st.session_state.pop("train_last_job", None)) is not None:
        st.success(f"Queued job #{job_id}. Monitor follows it live.")
    _apply_request()
    st.session_state.setdefault("train_tab", st.session_state.get("train_last_tab", TABS["sft"]))
    sft, raft, grpo, dpo = st.tabs(list(TABS.values()), key="train_tab", on_change="rerun")
    st.session_state["train_last_tab"] = st.session_state["train_tab"]
    with sft:
        st.caption("Supervised fine-tuning with a LoRA adapter on chat-formatted data.")
        _form("sft")
    with raft:
        st.caption("Sample from the model, score the samples with a verifier, keep the best, "
                   "fine-tune on them, repeat.")
        _form("raft")
    with grpo:
        st.caption("Sample a group of completions per prompt, reward each with a verifier in "
                   "its sandbox, and move the model towards those that beat their group "
                   "(TRL GRPOTrainer, LoRA). Generation uses transformers; vLLM is a config "
                   "switch (grpo.use_vllm) not exercised here.")
        _form("grpo")
    with dpo:
        st.caption("Learn from preference pairs (prompt, chosen, rejected), such as the pairs "
                   "the Datasets page builds from a RAFT or GRPO run's verdicts "
                   "(TRL DPOTrainer, LoRA).")
        _form("dpo")


render()
