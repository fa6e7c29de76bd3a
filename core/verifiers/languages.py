"""Toolchains for the code verifiers: how to compile and run each language in the sandbox.

Resolved once per process from PATH. A language whose compiler or interpreter is not installed
gives the verdict `toolchain_missing`, never a silent pass.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field

LANGUAGES = ("python", "c", "cpp", "rust", "go", "javascript")
ALIASES = {"py": "python", "python3": "python", "c++": "cpp", "cxx": "cpp", "cc": "cpp",
           "rs": "rust", "golang": "go", "js": "javascript", "node": "javascript",
           "nodejs": "javascript"}
FENCE_TAGS = {  # code fence info strings that name each language
    "python": ("python", "py", "python3"), "c": ("c",), "cpp": ("cpp", "c++", "cxx", "cc"),
    "rust": ("rust", "rs"), "go": ("go", "golang"), "javascript": ("javascript", "js", "node"),
}


@dataclass(frozen=True)
class Toolchain:
    language: str
    binary: str | None  # absolute path of the compiler / interpreter; None: not installed
    source_name: str
    compile: tuple[str, ...] | str | None  # argv template ({workdir}), "python", or None
    run: tuple[str, ...] | None
    memory_kind: str = "as"  # "data" for runtimes that reserve huge address space (V8, Go)
    env: dict = field(default_factory=dict)
    roots: tuple[str, ...] = ()  # directories the sandbox must be able to read
    missing: str = ""

    @property
    def available(self) -> bool:
        return self.binary is not None


def normalise(language: str) -> str:
    lang = (language or "python").strip().lower()
    lang = ALIASES.get(lang, lang)
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{language}'; known: {', '.join(LANGUAGES)}")
    return lang


@functools.lru_cache(maxsize=None)
def toolchain(language: str) -> Toolchain:
    lang = normalise(language)
    return _BUILDERS[lang]()


def available_languages() -> list[str]:
    return [lang for lang in LANGUAGES if toolchain(lang).available]


def toolchain_roots() -> list[str]:
    roots: list[str] = []
    for lang in LANGUAGES:
        roots.extend(toolchain(lang).roots)
    return roots


def _which(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return os.path.realpath(path)
    return None


def _python() -> Toolchain:
    return Toolchain("python", "python", "main.py", "python", None)


def _gcc(lang: str) -> Toolchain:
    if lang == "c":
        binary = _which("gcc", "cc", "clang")
        flags = ("-O2", "-std=gnu17", "-pipe")
        src = "main.c"
    else:
        binary = _which("g++", "c++", "clang++")
        flags = ("-O2", "-std=gnu++17", "-pipe")
        src = "main.cpp"
    if binary is None:
        return Toolchain(lang, None, src, None, None, missing=f"no {lang} compiler on PATH")
    return Toolchain(lang, binary, src,
                     (binary, *flags, "-o", "{workdir}/main", f"{{workdir}}/{src}", "-lm"),
                     ("{workdir}/main",))


def _rust() -> Toolchain:
    found = shutil.which("rustc")
    if found is None:
        return Toolchain("rust", None, "main.rs", None, None, missing="rustc is not on PATH")
    rustc = os.path.realpath(found)
    roots: tuple[str, ...] = ()
    # rustup installs a proxy (a link to rustup) that needs RUSTUP_HOME/HOME; ask it for the
    # toolchain's sysroot and call that rustc directly.
    try:
        sysroot = subprocess.run([found, "--print", "sysroot"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
        real = os.path.join(sysroot, "bin", "rustc")
        if os.path.isfile(real):
            rustc, roots = real, (sysroot,)
    except (OSError, subprocess.SubprocessError):
        pass
    return Toolchain("rust", rustc, "main.rs",
                     (rustc, "--edition", "2021", "-O", "-o", "{workdir}/main",
                      "{workdir}/main.rs"),
                     ("{workdir}/main",), roots=roots)


def _go() -> Toolchain:
    go = _which("go")
    if go is None:
        return Toolchain("go", None, "main.go", None, None, memory_kind="data",
                         missing="go is not on PATH")
    goroot = os.path.dirname(os.path.dirname(go))
    env = {"GOCACHE": "{workdir}/.gocache", "GOPATH": "{workdir}/.gopath", "GO111MODULE": "off",
           "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "", "GOROOT": goroot}
    return Toolchain("go", go, "main.go", (go, "build", "-o", "{workdir}/main", "{workdir}/main.go"),
                     ("{workdir}/main",), memory_kind="data", env=env, roots=(goroot,))


def _node() -> Toolchain:
    node = _which("node", "nodejs")
    if node is None:
        return Toolchain("javascript", None, "main.js", None, None, memory_kind="data",
                         missing="node is not on PATH")
    return Toolchain("javascript", node, "main.js", (node, "--check", "{workdir}/main.js"),
                     (node, "{workdir}/main.js"), memory_kind="data",
                     roots=(os.path.dirname(os.path.dirname(node)),))


_BUILDERS = {"python": _python, "c": lambda: _gcc("c"), "cpp": lambda: _gcc("cpp"),
             "rust": _rust, "go": _go, "javascript": _node}
