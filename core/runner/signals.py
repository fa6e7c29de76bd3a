"""Stop handling inside a job process.

Signal handlers only set a flag (a handler that saves a checkpoint could run in the middle of an
optimizer step); the training loops poll `stop_requested()` between steps.
"""
from __future__ import annotations

import signal

_stop = False


def _on_term(signum, frame):  # noqa: ARG001
    global _stop
    _stop = True


def install_stop_handler() -> None:
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)


def stop_requested() -> bool:
    return _stop


def request_stop() -> None:
    """For tests and in-process callers: behave as if SIGTERM had arrived."""
    global _stop
    _stop = True


def reset() -> None:
    global _stop
    _stop = False
