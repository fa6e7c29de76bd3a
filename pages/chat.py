"""Chat: talk to a served model, or to two side by side (A/B), over its OpenAI-compatible API.

A thin view: the served models are supervised `serve` jobs (core.serving.service), the
conversation is HTTP (core.chat). No model loads in this process.
"""
from __future__ import annotations

import streamlit as st

from core import chat, datasets, jobs
from core.live import cached, stamp
from core.serving import service

ENGINES = ["auto", "transformers", "vllm", "llamacpp"]

st.title("Chat")
st.caption("Talk to a served model through its OpenAI-compatible endpoint. The model's own chat "
           "template is applied by the engine; A/B mode sends one prompt to two models.")


def _label(row: dict) -> str:
    return f"#{row['id']} · {row['name']} ({row.get('engine') or '?'})"


def _start_form() -> None:
    choices = service.servable()
    pick = st.selectbox("What to serve", range(len(choices)), key="chat_start_pick",
                        format_func=lambda i: f"{choices[i].group} · {choices[i].label}")
    left, right = st.columns(2)
    engine = left.selectbox("Engine", ENGINES, key="chat_start_engine",
                            help="auto: llama.cpp for GGUF files, vLLM on a GPU when installed, "
                                 "else transformers serve.")
    idle = right.number_input("Idle timeout (minutes, 0 = never)", 0, 7 * 24 * 60, 30,
                              key="chat_start_idle")
    if st.button("Start serving", key="chat_start", type="primary"):
        try:
            job_id = service.start(**choices[pick].args, engine=engine, idle_minutes=float(idle))
        except (jobs.JobError, ValueError) as exc:
            st.error(str(exc))
            return
        st.session_state["chat_started"] = job_id
        st.rerun()


@st.fragment(run_every="1s")
def _starting(rows: list[dict]) -> None:
    """Served models that are loading; the page reruns when one becomes ready or fails."""
    # Read again only when an event arrived (a status change, MODEL_READY): core.live.
    served = cached(st.session_state, "chat_cache_served", stamp(every_s=10.0),
                    lambda: service.served(service.LIVE))
    now = {r["id"]: r for r in served}
    for row in rows:
        current = now.get(row["id"])
        if current is None or current["status"] not in ("QUEUED", "STARTING"):
            st.rerun(scope="app")  # ready, failed or stopped: the page shows which
        st.info(f"#{row['id']} {row['name']}: {current['status'].lower()} — loading the model, "
                f"the chat opens when its endpoint answers.")


def _failure_note() -> None:
    """Say why a model picked earlier is gone (the engine died, the idle timeout, a stop)."""
    for key in ("chat_a", "chat_b"):
        job_id = st.session_state.get(key)
        if job_id is None:
            continue
        try:
            row = jobs.get(job_id)
        except jobs.JobError:
            continue
        if row["status"] == "FAILED":
            st.error(f"Served model #{job_id} failed: {row.get('error') or 'no reason recorded'}")
        elif row["status"] in ("STOPPED", "COMPLETED"):
            st.warning(f"Served model #{job_id} is {row['status'].lower()}.")


rows = service.served(service.LIVE)
running = [r for r in rows if r["status"] == "RUNNING" and r.get("endpoint")]
starting = [r for r in rows if r["status"] in ("STARTING", "QUEUED")]
with st.expander("Start a served model", expanded=not running and not starting):
    _start_form()
if starting:
    _starting(starting)
_failure_note()
if not running:
    st.info("No served model is running yet. Start one above, or from the command line: "
            "`halo-forge serve --model tiny --wait`.")
    st.stop()

by_id = {r["id"]: r for r in running}
ids = list(by_id)
for key in ("chat_a", "chat_b"):
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = ids[0] if key == "chat_a" or len(ids) == 1 else ids[1]

mode = st.segmented_control("Mode", ["Chat", "A/B"], key="chat_mode", default="Chat",
                            required=True) or "Chat"
sides = ["chat_a", "chat_b"] if mode == "A/B" else ["chat_a"]
cols = st.columns(len(sides))
for col, key in zip(cols, sides):
    col.selectbox("Model A" if key == "chat_a" and mode == "A/B" else
                  ("Model B" if key == "chat_b" else "Model"), ids, key=key,
                  format_func=lambda i: _label(by_id[i]))
    col.caption(f"`{by_id[st.session_state[key]]['endpoint']}`")

with st.expander("System prompt and sampling", expanded=False):
    system = st.text_area("System prompt", "You are a helpful assistant.", key="chat_system")
    c1, c2, c3 = st.columns(3)
    temperature = c1.slider("Temperature", 0.0, 2.0, 0.7, 0.05, key="chat_temperature")
    top_p = c2.slider("Top-p", 0.05, 1.0, 1.0, 0.05, key="chat_top_p")
    max_tokens = c3.number_input("Max tokens", 1, 32_768, 256, key="chat_max_tokens")

history: dict[str, list[dict]] = st.session_state.setdefault(
    "chat_history", {"chat_a": [], "chat_b": []})

# A reply cut short by Stop (or any rerun mid-stream) keeps what had arrived.
for key, text in st.session_state.pop("chat_pending", {}).items():
    if text:
        history[key].append({"role": "assistant", "content": text, "meta": "stopped"})

b1, b2, b3, b4 = st.columns([1, 1, 3, 1])
if b1.button("New chat", key="chat_new"):
    st.session_state["chat_history"] = {"chat_a": [], "chat_b": []}
    st.rerun()
b2.button("Stop", key="chat_stop", help="Stops the reply being generated (keeps what arrived).")
save_path = b3.text_input("Save to", str(datasets.user_datasets_dir() / "chats.jsonl"),
                          key="chat_save_path", label_visibility="collapsed")
if b4.button("Save", key="chat_save", help="Append this conversation as a chat-format JSONL "
                                           "record (a training example)."):
    try:
        path = chat.save_conversation(chat.messages_with_system(system, history["chat_a"]),
                                      save_path)
        st.success(f"Saved to {path}")
    except (ValueError, OSError) as exc:
        st.error(str(exc))


def _stat_line(reply: chat.Reply) -> str:
    tps = reply.tokens_per_s
    ttft = f"TTFT {reply.ttft_s:.2f} s" if reply.ttft_s is not None else "TTFT -"
    return f"{ttft} · {f'{tps:.1f} tok/s' if tps else '- tok/s'} · {reply.tokens} tokens"


def _show(key: str) -> None:
    for msg in history[key]:
        with st.chat_message(msg["role"]):
            st.markdown(msg["content"])
            if msg.get("meta"):
                st.caption(msg["meta"])


def _reply(key: str) -> None:
    row = by_id[st.session_state[key]]
    params = chat.Params(temperature=temperature, top_p=top_p, max_tokens=int(max_tokens))
    reply = chat.Reply()
    pending = st.session_state.setdefault("chat_pending", {})

    def pieces():
        for piece in chat.stream(row["endpoint"], chat.messages_with_system(system, history[key]),
                                 params, reply, token=service.token_for(row)):
            pending[key] = reply.text
            yield piece

    with st.chat_message("assistant"):
        try:
            st.write_stream(pieces())
        except chat.ChatError as exc:
            pending.pop(key, None)
            history[key].pop()  # the prompt goes back, so a retry does not send it twice
            st.error(str(exc))
            return
        if not reply.text:
            st.caption("The model returned no text (only tokens that decode to nothing).")
        st.caption(_stat_line(reply))
    pending.pop(key, None)
    history[key].append({"role": "assistant", "content": reply.text, "meta": _stat_line(reply)})


prompt = st.chat_input("Message", key="chat_input")
cols = st.columns(len(sides))
for col, key in zip(cols, sides):
    with col:
        if mode == "A/B":
            st.markdown(f"**{'A' if key == 'chat_a' else 'B'}** · {_label(by_id[st.session_state[key]])}")
        _show(key)
        if prompt:
            history[key].append({"role": "user", "content": prompt})
            with st.chat_message("user"):
                st.markdown(prompt)
            _reply(key)
