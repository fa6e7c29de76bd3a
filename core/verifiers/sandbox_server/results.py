"""Pure helpers that turn what a run produced into the verdict's fields.

Output comparison for stdio tests (compare_output), capped decoding of output bytes, exit
status descriptions, and filling in the tests that did not run. No I/O, no processes:
unit-tested in tests/verifiers/sandbox_server/test_results.py."""
from __future__ import annotations

import json
import math
import signal


def tests_verdict(spec: dict, harness: "Harness") -> dict:
    """The harness's outcome as a result: every test named, the ones that did not run
    filled in, and a pass only when every test reported a pass."""
    names = [t["name"] for t in spec["tests"] if t.get("kind", "test") == "test"]
    status, message = harness.status, harness.message
    if status == "timeout":
        fill_status, fill_msg = "timeout", message
    else:
        fill_status, fill_msg = "error", "not run: an earlier test did not pass"
    results = fill_tests(harness.results, names, fill_status, fill_msg)
    if status == "pass" and not (results and all(r["passed"] for r in results)):
        status = "fail"
    return {"status": status, "tests": results, "message": message}


def result_entry(name: str, status: str, message: str, **details: str) -> dict:
    """One test's record; `details`: line, expected, actual (kept when not empty)."""
    return {"name": name, "passed": status == "pass", "message": message, "status": status,
            **{k: v for k, v in details.items() if v}}


def fill_tests(results: list, names: list, status: str, message: str) -> list:
    """The tests after the last reported one: the first gets `status`/`message` (why the run
    stopped), the rest "not run"."""
    seen = len(results)
    results = list(results[:len(names)])
    for i, name in enumerate(names[seen:], start=seen):
        results.append(result_entry(name, status if i == seen else "error",
                            message if i == seen else "not run: an earlier test did not pass"))
    return results


def decode_capped(buf, cap: int) -> str:
    """At most `cap` bytes as text (bad UTF-8 replaced), marked when cut."""
    text = bytes(buf[:cap]).decode("utf-8", "replace")
    return text + ("\n... [output cut]" if len(buf) > cap else "")


def short(text: str, n: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= n else text[:n] + "...")


def describe_exit(code: int) -> str:
    """An exit status in words, naming the limit behind the usual signals."""
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
                "SIGKILL": " (killed, perhaps out of memory)", "SIGSEGV": " (crash)"}.get(name, "")
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def compare_output(got: str, expected: str, how: str = "tokens") -> bool:
    """stdio comparison: lines with trailing blanks ignored; in 'tokens' mode a token pair
    also matches when both are numbers within 1e-6 (absolute or relative)."""
    if how == "exact":
        return got == expected
    if how == "json":
        try:
            return listify(json.loads(got)) == listify(json.loads(expected))
        except ValueError:
            return False
    g = [ln.rstrip() for ln in got.strip().splitlines()]
    e = [ln.rstrip() for ln in expected.strip().splitlines()]
    if g == e:
        return True
    gt, et = " ".join(g).split(), " ".join(e).split()
    if len(gt) != len(et) or len(g) != len(e):
        return False
    for a, b in zip(gt, et):
        if a == b:
            continue
        try:
            fa, fb = float(a), float(b)
        except ValueError:
            return False
        if not (math.isfinite(fa) and math.isfinite(fb)):
            return False
        if abs(fa - fb) > 1e-6 * max(1.0, abs(fb)):
            return False
    return True


def listify(v):
    if isinstance(v, (list, tuple)):
        return [listify(e) for e in v]
    if isinstance(v, dict):
        return {k: listify(e) for k, e in v.items()}
    return v
