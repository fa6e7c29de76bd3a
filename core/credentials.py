"""Secrets: the Hugging Face token and the notification webhook URLs.

Stored once in HALO_FORGE_HOME/credentials.json with 0600 permissions (created that way, then
renamed into place, so it is never readable by others even for a moment). The token reaches
job processes only, as HF_TOKEN in their environment (never recorded on the job row); the
pages and the CLI only ever get a masked form back.

Per-job webhook URLs live beside the job, in JOB_DIR/notify_url (0600), and go with it when
the job is deleted.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from core import paths

FILENAME = "credentials.json"
JOB_URL_FILE = "notify_url"
NOTIFY_ENV = "HALO_FORGE_NOTIFY_URL"
_TOKEN = re.compile(r"^[A-Za-z0-9_\-.]{8,256}$")


class CredentialError(ValueError):
    """A token or URL that cannot be stored; the message is one sentence."""


def _path() -> Path:
    return paths.home() / FILENAME


def _read() -> dict:
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an umask cannot widen it, an old tmp file cannot either
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _update(**changes) -> None:
    data = _read()
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    _write_private(_path(), json.dumps(data, indent=2))


# ---- the Hugging Face token ---------------------------------------------------------------

def set_hf_token(token: str | None) -> None:
    """Store the token (None or "" removes it)."""
    token = (token or "").strip()
    if token and not _TOKEN.match(token):
        raise CredentialError("hf_token must be 8 to 256 letters, digits, '_', '-' or '.' "
                              "(paste the token from huggingface.co/settings/tokens)")
    _update(hf_token=token or None)


def hf_token() -> str | None:
    return _read().get("hf_token") or None


def job_env() -> dict[str, str]:
    """Secret variables for a job process's environment only."""
    token = hf_token()
    return {"HF_TOKEN": token} if token else {}


def mask_token(token: str | None) -> str:
    if not token:
        return "not set"
    return f"set ({token[:3]}…{token[-2:]})" if len(token) >= 12 else "set"


# ---- webhook URLs -------------------------------------------------------------------------

def check_url(url: str, field: str = "notify_url") -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CredentialError(f"{field} must be an http:// or https:// URL, got "
                              f"{mask_url(url) if url else 'nothing'}")
    return url


def set_notify_url(url: str | None) -> None:
    """The global webhook (None or "" removes it); HALO_FORGE_NOTIFY_URL overrides it."""
    _update(notify_url=check_url(url) if (url or "").strip() else None)


def set_job_notify_url(job_dir: str | Path, url: str | None) -> None:
    path = Path(job_dir) / JOB_URL_FILE
    if not (url or "").strip():
        path.unlink(missing_ok=True)
        return
    Path(job_dir).mkdir(parents=True, exist_ok=True)
    _write_private(path, check_url(url))


def notify_url(job_dir: str | Path | None = None) -> str | None:
    """Where a job's end is posted: its own URL, else HALO_FORGE_NOTIFY_URL, else the stored
    global one; None when none is set."""
    if job_dir:
        try:
            own = (Path(job_dir) / JOB_URL_FILE).read_text().strip()
        except OSError:
            own = ""
        if own:
            return own
    return os.environ.get(NOTIFY_ENV, "").strip() or _read().get("notify_url") or None


def global_notify_source() -> str:
    if os.environ.get(NOTIFY_ENV, "").strip():
        return "environment"
    return "settings" if _read().get("notify_url") else "none"


def mask_url(url: str | None) -> str:
    """Scheme and host only: the path and query of a webhook usually hold its secret."""
    if not url:
        return "not set"
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}/…" if parts.scheme else "…"
