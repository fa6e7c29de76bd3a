"""The sandbox server: runs inside the zygote process that core.verifiers.sandbox starts.

Standard library only, and loaded by file path as a top-level package (no `core` import):
the zygote starts in tens of milliseconds and every sandboxed process is a cheap fork of it.
Every module is imported here, at load time, because the zygote then covers the repository
with an empty tmpfs and drops to unprivileged uids: nothing can be imported lazily later.

Per Python test-suite run:

    zygote (root, pid 1 of its namespaces) -- event loop, cleanup, verdict forwarding
      |- forker (root)  -- forks U:
      |    `- U: the program under test, its own uid, limits, new session, workdir
      `- harness workers (pooled, each its own uid, not dumpable): run the problem's test
         code, call U's functions over a pipe (values cross as plain tagged JSON; anything
         else stays in U and is only referenced), report each test to the zygote.

Other runs (stdio programs, compiled languages, hand-written tests) get a monitor process
forked from the zygote that does the same with per-test program processes or a fresh harness.

The verdict comes only from the harness's report (pytests) or from the monitor's own
comparison of the program's output (stdio), so nothing the program prints, exits early with,
patches in its own process (builtins, AssertionError, ...) or returns (an object that claims
to equal everything: remote objects compare by identity) can make a test pass.

Modules, by concern (each says why it is as it is):
    libc        unshare, mount, prctl through ctypes
    wire        length-prefixed JSON frames, the blocking Channel
    codec       plain values across the U/T boundary (pure)
    state       CONFIG and the debug marks shared by all modules
    isolation   namespaces, hidden directories, the scrubbed environment (once, at start)
    zygote      main(), the event loop, pooled pytests runs
    forker      the quiet process that forks programs
    worker      pooled test harness workers
    monitor     non-pooled runs: stdio tests, compiled languages, fresh harness
    reaper      kill by uid or subtree, remove what a run left
    childsetup  fds, rlimits (limits_plan, pure), uid, environment of a fresh fork
    program     U: the program's side
    harness     T: the tests' side
    asserts     what a failed assert compared (expected vs actual; pure)
    results     output comparison and verdict fields (pure)
"""
from __future__ import annotations

from . import (asserts, childsetup, codec, forker, harness, isolation, libc,  # noqa: F401
               monitor, program, reaper, results, state, wire, worker, zygote)
from .zygote import main

__all__ = ["main"]
