"""Fixtures for the verifier tests: the process-wide sandbox and a leftover check."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sandbox():
    from core.verifiers import sandbox as sb

    box = sb.get_sandbox()
    box.protections()  # starts the zygote
    return box


def run_uid_range():
    from core.verifiers import sandbox as sb

    return range(sb.UID_BASE, sb.UID_BASE + 2 * sb.UID_SLOTS)


def sandbox_processes(box) -> list[tuple[int, int, str]]:
    """(pid, uid, command) of every process of a run uid inside this sandbox's pid
    namespace (other test processes have sandboxes of their own)."""
    zp = box.protections()["zygote_pid"]
    try:
        ns = os.readlink(f"/proc/{zp}/ns/pid")
    except OSError:
        ns = None
    uids = run_uid_range()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            uid = int(status.split("\nUid:", 1)[1].split()[0])  # real uid
            if uid not in uids:
                continue
            if ns is not None and os.readlink(f"/proc/{entry}/ns/pid") != ns:
                continue
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found.append((int(entry), uid, cmd))
    return found


def sandbox_files(box) -> list[str]:
    """What is left in the sandbox's private tmp dirs (run workdirs and anything the runs'
    uids wrote there)."""
    root = box.namespace_root()
    left = []
    for top in ("tmp", "var/tmp", "dev/shm"):
        d = root / top
        try:
            for entry in os.scandir(d):
                st = entry.stat(follow_symlinks=False)
                if entry.name.startswith("halo-run-") or st.st_uid in run_uid_range():
                    left.append(str(d / entry.name))
        except OSError:
            continue
    return left


@pytest.fixture
def clean(sandbox):
    """Asserts, after the test, that no process and no file of any run is left."""
    yield sandbox
    assert sandbox_processes(sandbox) == []
    assert sandbox_files(sandbox) == []
