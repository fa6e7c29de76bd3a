"""Saved job configs: YAML files in one folder (core.paths.configs_dir()).

LIGHT module (no torch, no SQL): the Config page and the CLI use it. A config's name is a
plain file name confined to that folder: no path separators, no `..`, no hidden names;
`.yaml` is appended when the name has no `.yaml` / `.yml` suffix.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from core.paths import configs_dir

SUFFIXES = (".yaml", ".yml")
MAX_NAME = 100
# Letters, digits, space, dot, dash and underscore; must start with a letter or digit.
_ALLOWED = re.compile(r"^[^\W_][\w .\-]*$")


class ConfigStoreError(ValueError):
    """A bad name, a missing config, or an overwrite nobody confirmed; one sentence."""


def file_name(name: str) -> str:
    """The file name a config is saved under, or ConfigStoreError saying what is wrong."""
    text = (name or "").strip()
    if not text:
        raise ConfigStoreError("config name must not be empty")
    if "/" in text or "\\" in text or os.sep in text:
        raise ConfigStoreError(f"config name {text!r} must not contain a path separator")
    if ".." in text:
        raise ConfigStoreError(f"config name {text!r} must not contain '..'")
    if text.startswith("."):
        raise ConfigStoreError(f"config name {text!r} must not start with '.' (hidden file)")
    if not _ALLOWED.match(text):
        raise ConfigStoreError(
            f"config name {text!r} may use only letters, digits, spaces, '.', '-' and '_', "
            "starting with a letter or digit")
    if not text.lower().endswith(SUFFIXES):
        text += ".yaml"
    if len(text) > MAX_NAME:
        raise ConfigStoreError(f"config name is {len(text)} characters long; at most {MAX_NAME}")
    return text


def path_for(name: str) -> Path:
    """Absolute path of a config in the configs folder (checked to stay inside it)."""
    root = configs_dir().resolve()
    path = (root / file_name(name)).resolve()
    if path.parent != root:  # a symlinked folder or anything else that escapes
        raise ConfigStoreError(f"config name {name!r} points outside {root}")
    return path


def list_configs() -> list[str]:
    """File names of the saved configs, sorted case-insensitively."""
    root = configs_dir()
    names = [p.name for p in root.iterdir()
             if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")]
    return sorted(names, key=str.lower)


def exists(name: str) -> bool:
    return path_for(name).is_file()


def load(name: str) -> str:
    path = path_for(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigStoreError(f"no saved config named {path.name!r}") from None
    except UnicodeDecodeError:
        raise ConfigStoreError(f"saved config {path.name!r} is not UTF-8 text") from None


def save(name: str, text: str, *, overwrite: bool = False) -> Path:
    """Write text to the config `name`; an existing one is replaced only with overwrite=True.

    The write is atomic (temporary file + rename): a crash never leaves half a config.
    """
    path = path_for(name)
    if path.exists() and not overwrite:
        raise ConfigStoreError(f"a config named {path.name!r} already exists; confirm to overwrite it")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text if text.endswith("\n") or not text else text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def delete(name: str) -> None:
    path = path_for(name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise ConfigStoreError(f"no saved config named {path.name!r}") from None
