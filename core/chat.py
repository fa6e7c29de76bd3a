"""An HTTP client for OpenAI-compatible endpoints (stdlib only): what the Chat page talks to.

    models(endpoint)                         -> ["model id", ...]
    stream(endpoint, messages, params, stats) -> iterator of text pieces (SSE), fills `stats`
    complete(endpoint, messages, params)      -> Reply (one request, no stream)
    save_conversation(messages, path)         -> the JSONL record training datasets accept

`endpoint` is the base URL the job row records (http://127.0.0.1:PORT/v1). No model ever
loads in the calling process.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator


class ChatError(RuntimeError):
    """The endpoint refused or failed a request; the message is the server's own, one line."""


@dataclass
class Params:
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 256
    model: str | None = None  # None: the endpoint's first (usually only) model

    def body(self) -> dict:
        out = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
        if self.model:
            out["model"] = self.model
        return out


@dataclass
class Reply:
    text: str = ""
    ttft_s: float | None = None  # request sent → first piece of text
    duration_s: float | None = None
    tokens: int = 0  # completion tokens (the server's usage when it reports it, else pieces)
    finish_reason: str | None = None
    pieces: int = 0
    usage: dict = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed: tokens after the first over the time after the first."""
        if self.ttft_s is None or self.duration_s is None or self.tokens < 2:
            return None
        span = self.duration_s - self.ttft_s
        return (self.tokens - 1) / span if span > 0 else None


def _headers(token: str | None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
    except ValueError:
        data = {}
    detail = data.get("error") if isinstance(data, dict) else None
    if isinstance(detail, dict):
        detail = detail.get("message")
    detail = detail or (data.get("detail") if isinstance(data, dict) else None) or exc.reason
    if not isinstance(detail, str):
        detail = json.dumps(detail)[:300]
    return f"the server answered {exc.code}: {detail}"


def _open(url: str, body: dict | None, token: str | None, timeout: float):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=_headers(token),
                                 method="POST" if body is not None else "GET")
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise ChatError(_error_text(exc)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChatError(f"cannot reach {url}: {reason}") from None


def models(endpoint: str, token: str | None = None, timeout: float = 5.0) -> list[str]:
    with _open(endpoint.rstrip("/") + "/models", None, token, timeout) as resp:
        data = json.loads(resp.read())
    return [m["id"] for m in data.get("data") or [] if m.get("id")]


def messages_with_system(system: str, history: list[dict]) -> list[dict]:
    msgs = [{"role": "system", "content": system}] if system.strip() else []
    return msgs + [{"role": m["role"], "content": m["content"]} for m in history]


def complete(endpoint: str, messages: list[dict], params: Params | None = None,
             token: str | None = None, timeout: float = 600.0) -> Reply:
    params = params or Params()
    body = {**params.body(), "messages": messages, "stream": False}
    started = time.perf_counter()
    with _open(endpoint.rstrip("/") + "/chat/completions", body, token, timeout) as resp:
        data = json.loads(resp.read())
    choice = (data.get("choices") or [{}])[0]
    usage = data.get("usage") or {}
    text = (choice.get("message") or {}).get("content") or ""
    duration = time.perf_counter() - started
    return Reply(text=text, ttft_s=duration, duration_s=duration,
                 tokens=int(usage.get("completion_tokens") or 0),
                 finish_reason=choice.get("finish_reason"), usage=usage)


def stream(endpoint: str, messages: list[dict], params: Params | None = None,
           stats: Reply | None = None, token: str | None = None,
           timeout: float = 600.0) -> Iterator[str]:
    """Yield the reply's text as the server streams it (SSE). `stats` (if given) is filled as
    pieces arrive: text, time to first token, duration, tokens. Closing the iterator early
    (a Stop) closes the connection, which ends the generation on the server."""
    params = params or Params()
    stats = stats if stats is not None else Reply()
    body = {**params.body(), "messages": messages, "stream": True,
            "stream_options": {"include_usage": True}}
    started = time.perf_counter()
    resp = _open(endpoint.rstrip("/") + "/chat/completions", body, token, timeout)
    try:
        for raw in resp:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            chunk = json.loads(payload)
            if chunk.get("error"):
                err = chunk["error"]
                raise ChatError(f"the server failed mid-stream: "
                                f"{err.get('message') if isinstance(err, dict) else err}")
            if chunk.get("usage"):
                stats.usage = chunk["usage"]
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if choice.get("finish_reason"):
                    stats.finish_reason = choice["finish_reason"]
                if delta.get("content") is None:
                    continue
                # A token that decodes to nothing (a special token) still counts as one.
                now = time.perf_counter()
                if stats.ttft_s is None:
                    stats.ttft_s = now - started
                stats.pieces += 1
                stats.duration_s = now - started
                if delta["content"]:
                    stats.text += delta["content"]
                    yield delta["content"]
    finally:
        resp.close()
        stats.duration_s = time.perf_counter() - started
        stats.tokens = int(stats.usage.get("completion_tokens") or 0) or stats.pieces


def save_conversation(messages: list[dict], path: str | Path) -> Path:
    """Append one {"messages": [...]} record (the chat schema SFT datasets accept) to `path`."""
    clean = [{"role": m["role"], "content": m["content"]} for m in messages
             if m.get("role") in ("system", "user", "assistant") and isinstance(m.get("content"), str)]
    if not any(m["role"] == "assistant" for m in clean):
        raise ValueError("the conversation has no reply to save yet")
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"messages": clean}, ensure_ascii=False) + "\n")
    return path
