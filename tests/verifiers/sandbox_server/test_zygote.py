"""The zygote's bookkeeping: which run an event belongs to, and which of its children may be
killed when its forker dies."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from core.verifiers.sandbox_server.zygote import PoolRun, Zygote
from tests.conftest import REPO


def bare_zygote() -> Zygote:
    z = object.__new__(Zygote)  # no forker, no poller: only the tables
    z.runs, z.workers, z.monitors = {}, {}, {}
    return z


def test_a_finished_run_is_not_the_run_that_reused_its_socket_number():
    z = bare_zygote()
    old = PoolRun(7, [7], {"uids": [1700000000, 1700000001]})
    new = PoolRun(7, [7], {"uids": [1700000002, 1700000003]})
    z.runs[7] = new  # `old` finished, its fd 7 closed and handed to `new`
    assert z.live(new) and not z.live(old)


@pytest.mark.skipif(os.geteuid() != 0, reason="tells programs apart by their root uid")
def test_only_unknown_root_children_are_killed_when_the_forker_dies():
    # In a child process of its own: the test runner's other children (the sandbox's
    # zygote) are root too. It forks a "monitor" (known), an unreported program (root,
    # unknown) and a program that already runs as its uid (the cleanup kills by uid).
    script = textwrap.dedent("""
        import os, signal, time
        from core.verifiers.sandbox_server.zygote import Zygote
        from core.verifiers.sandbox_server.reaper import uid_of

        signal.signal(signal.SIGCHLD, signal.SIG_IGN)

        def child(uid=None):
            pid = os.fork()
            if pid == 0:
                if uid is not None:
                    os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
                time.sleep(30)
                os._exit(0)
            return pid

        monitor, unreported, as_uid = child(), child(), child(1700000010)
        time.sleep(0.2)
        z = object.__new__(Zygote)
        z.runs, z.workers, z.monitors = {}, {}, {os.pidfd_open(monitor): ([], {}, monitor)}
        z.forker = type("F", (), {"pidfd": None, "pid": -1})()
        z.kill_unreported_programs()
        time.sleep(0.2)
        alive = lambda pid: uid_of(pid) is not None
        print(alive(monitor), alive(unreported), alive(as_uid))
        for pid in (monitor, as_uid):
            os.kill(pid, signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True"]
