"""llama.cpp's HF -> GGUF converter, taken from the pinned llama-cpp-python source distribution.

LIGHT module (stdlib only). The converter (`convert_hf_to_gguf.py` with its `conversion/` and
`gguf-py/` packages) is not on PyPI as a package of its own; llama-cpp-python's sdist vendors
llama.cpp whole, at the same commit as the quantizer and loader we import from `llama_cpp`.
`install()` (run by `make install`) downloads that sdist with pip, checks its SHA-256, and
extracts just those files into `REPO/.llama-converter/<version>/`; after that, exports run
offline. Idempotent: a complete install (marker file naming the hash) is left alone.

The converter's own requirements pin an older torch and transformers: we never install them;
it runs with the project's pins plus `sentencepiece` (requirements.txt). Its vendored gguf-py
is put on sys.path by the converter itself.

    python -m core.export.converter install [--sdist FILE]
    python -m core.export.converter path
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from core.paths import REPO_ROOT

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
SDIST_NAME = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}.tar.gz"
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
_VENDOR = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp/"
# What the converter needs at run time (plus LICENSE, which must travel with the code).
_WANTED = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/gguf/", "LICENSE")
_MARKER = "halo_forge_converter.txt"
ENV_OVERRIDE = "HALO_FORGE_LLAMA_CONVERTER"


class ConverterMissing(RuntimeError):
    """The converter is not installed (and cannot be fetched offline)."""


def install_dir() -> Path:
    return REPO_ROOT / ".llama-converter" / LLAMA_CPP_PYTHON_VERSION


def converter_dir() -> Path:
    """The directory holding convert_hf_to_gguf.py (HALO_FORGE_LLAMA_CONVERTER overrides)."""
    override = os.environ.get(ENV_OVERRIDE, "").strip()
    return Path(override).expanduser() if override else install_dir()


def is_installed(path: Path | None = None) -> bool:
    path = path or converter_dir()
    if os.environ.get(ENV_OVERRIDE, "").strip() and path == converter_dir():
        return (path / "convert_hf_to_gguf.py").is_file()
    marker = path / _MARKER
    return marker.is_file() and SDIST_SHA256 in marker.read_text()


def script() -> Path:
    """convert_hf_to_gguf.py, or ConverterMissing with the command that installs it."""
    path = converter_dir()
    if not is_installed(path):
        raise ConverterMissing(
            f"llama.cpp's GGUF converter is not installed in {path}: run `make install` "
            f"(or `python -m core.export.converter install`, which needs PyPI once)")
    return path / "convert_hf_to_gguf.py"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_sdist(dest: Path) -> Path:
    """The pinned sdist via pip (its cache makes a second call cheap); checked by hash."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
           f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", "-d", str(dest)]
    subprocess.run(cmd, check=True)
    found = dest / SDIST_NAME
    if not found.is_file():
        raise ConverterMissing(f"pip download did not produce {SDIST_NAME} in {dest}")
    return found


def extract(sdist: Path, target: Path) -> Path:
    """Extract the converter files from the sdist into target (atomically: temp dir + rename)."""
    digest = sha256_of(sdist)
    if digest != SDIST_SHA256:
        raise ConverterMissing(f"{sdist} has SHA-256 {digest}, expected {SDIST_SHA256} "
                               f"(llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} from PyPI)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            members = []
            for m in tar.getmembers():
                if not m.name.startswith(_VENDOR) or not (m.isfile() or m.isdir()):
                    continue
                rel = m.name[len(_VENDOR):]
                if any(rel == w or (w.endswith("/") and rel.startswith(w)) for w in _WANTED):
                    m.name = rel
                    members.append(m)
            tar.extractall(tmp, members=members, filter="data")
        if not (tmp / "convert_hf_to_gguf.py").is_file():
            raise ConverterMissing(f"{sdist} holds no {_VENDOR}convert_hf_to_gguf.py")
        (tmp / _MARKER).write_text(
            f"llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} sdist sha256 {SDIST_SHA256}\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def install(sdist: Path | None = None, target: Path | None = None) -> Path:
    """Make the converter available offline; a no-op when it already is."""
    target = target or install_dir()
    if is_installed(target):
        return target
    if sdist is not None:
        return extract(Path(sdist), target)
    with tempfile.TemporaryDirectory(prefix="halo-forge-sdist-") as tmp:
        return extract(download_sdist(Path(tmp)), target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core.export.converter", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_install = sub.add_parser("install", help="fetch and extract the converter (idempotent)")
    p_install.add_argument("--sdist", help=f"use this local {SDIST_NAME} instead of pip download")
    sub.add_parser("path", help="print the converter script's path")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "install":
            print(f"llama.cpp converter ready in {install(args.sdist)}")
        else:
            print(script())
    except (ConverterMissing, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
