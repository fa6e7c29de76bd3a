"""Served models: a `serve` job runs an existing OpenAI-compatible server as its child.

engines.py  which engine serves what, and the command line that starts it (light)
proxy.py    the stdlib forwarding proxy in front of the engine: last use, Bearer token, port
runner.py   the job process (kind `serve`): resolve, merge, start, wait for ready, supervise
service.py  what the CLI and the Chat page call: start a served model, list what can be served

The serve job says it is ready with one line in its output.log, which the supervisor's tailer
turns into the job's endpoint, a MODEL_READY event and the RUNNING state (STARTING before):

    halo-forge: MODEL_READY {"endpoint": "http://127.0.0.1:8000/v1", "model": ..., "engine": ...}
"""
from __future__ import annotations

import json

READY_PREFIX = "halo-forge: MODEL_READY "


def parse_ready(line: str) -> dict | None:
    """The ready line's fields, or None for any other line (or a ready line without endpoint)."""
    if not line.startswith(READY_PREFIX):
        return None
    try:
        info = json.loads(line[len(READY_PREFIX):])
    except ValueError:
        return None
    return info if isinstance(info, dict) and isinstance(info.get("endpoint"), str) else None
