"""The test harness (T): runs the problem's (trusted) tests against the program (U).

Runs in a pooled worker or in a monitor that gave up root. The program's functions appear to
the tests as Remote objects: calls go over the channel, plain results come back decoded,
anything else stays a handle that compares by identity (an object "equal to everything"
cannot pass a test). The verdict is built from what happened here, never from what the
program printed, returned as text, or did to its own process."""
from __future__ import annotations

import base64
import builtins
import json
import marshal
import signal
import sys
import time

from .asserts import HELPER, Comparisons, compile_test, show
from .codec import NotPlain, decode, encode
from .state import U_CPU, U_PHASES, mark
from .wire import Channel, RpcBroken


class RemoteError(Exception):
    """An exception raised inside the program under test (type not a builtin)."""


class HarnessTimeout(BaseException):
    """The run's wall-clock limit passed (BaseException: test code cannot swallow it)."""


class Client:
    """The harness's side of the calls into the program.

    Prefetch: the tests' leading `assert f(<literals>) <op> <literal>` statements each make
    exactly one call, known before they run (codeutil.precompile predicts them). Those calls
    go to the program in one "batch" request and their replies stream back in order, so a
    run costs one round trip instead of one per test: under load each round trip is two
    waits in the scheduler's queue, and they were most of a run's wall time. A test still
    only reads its own call's reply when it makes that call, in order, so what it sees is
    what it would have seen one call at a time; the program learns nothing more than the
    arguments of calls it would have been asked anyway (never an expected value)."""

    def __init__(self, chan: Channel) -> None:
        self.chan = chan
        self.pending: list[tuple[int, str]] = []  # (handle, encoded args) of batched calls

    def start_batch(self, calls: list[tuple[int, dict]]) -> None:
        """Send predicted calls (handle, {"a", "k", "ak"}) to the program in one request."""
        self.chan.send({"op": "batch", "calls": [{"h": h, "a": p["a"], "k": p["k"]}
                                                 for h, p in calls]})
        self.pending = [(h, p["ak"]) for h, p in reversed(calls)]  # next one last

    def request(self, req: dict):
        if self.pending:
            h, ak = self.pending[-1]
            if req.get("op") == "call" and req.get("h") == h and \
                    json.dumps([req["a"], req["k"]], separators=(",", ":")) == ak:
                self.pending.pop()
                return self.reply(self.chan.recv())
            # Not the predicted call (cannot happen for the statements predicted): the
            # program answers it after the batch, whose remaining replies are dropped.
            left, self.pending = len(self.pending), []
            self.chan.send(req)
            for _ in range(left):
                self.chan.recv()
            return self.reply(self.chan.recv())
        self.chan.send(req)
        return self.reply(self.chan.recv())

    def reply(self, reply):
        if not isinstance(reply, dict):
            raise RpcBroken("malformed reply")
        U_CPU[0] = reply.get("cpu")
        if "v" in reply:
            return decode(reply["v"], self.remote)
        if reply.get("stop"):
            raise StopIteration
        if "e" in reply and isinstance(reply["e"], list) and len(reply["e"]) == 2:
            name, message = str(reply["e"][0]), str(reply["e"][1])
            cls = getattr(builtins, name, None)
            if isinstance(cls, type) and issubclass(cls, Exception) and \
                    not issubclass(cls, AssertionError):
                raise cls(message)
            raise RemoteError(f"{name}: {message}")
        raise RpcBroken("malformed reply")

    def remote(self, h: int) -> "Remote":
        return Remote(self, h)


TESTS_MODULE = "__halo_tests__"  # the __name__ of the tests' namespace (see Harness._run)


def enc_arg(value, depth: int = 0):
    """An argument of a call into the program. Remote objects (inside containers too) go back
    as handles. An instance of a class the problem's own setup or tests define (MBPP's
    test_setup_code, say) goes as its class's name and attributes: the program process runs
    that setup too and rebuilds it from its own copy of the class (codec.decode's `build`),
    as the reference harnesses' one namespace would have it."""
    if isinstance(value, Remote):
        return {"r": object.__getattribute__(value, "_h")}
    if depth > 200:
        raise NotPlain("nested too deeply")
    t, d = type(value), depth + 1
    if t is list:
        return [enc_arg(v, d) for v in value]
    if t is tuple:
        return {"t": [enc_arg(v, d) for v in value]}
    if t is dict:
        return {"d": [[enc_arg(k, d), enc_arg(v, d)] for k, v in value.items()]}
    if getattr(t, "__module__", None) == TESTS_MODULE and t.__qualname__.isidentifier() and \
            type(getattr(value, "__dict__", None)) is dict and not hasattr(t, "__slots__"):
        return {"o": [t.__qualname__, enc_arg(dict(value.__dict__), d)]}
    return encode(value)


class Remote:
    """An object that lives in the program's process. Equality is identity: the program
    cannot hand the tests an object that claims to equal everything."""

    __slots__ = ("_c", "_h")

    def __init__(self, client: Client, h: int) -> None:
        object.__setattr__(self, "_c", client)
        object.__setattr__(self, "_h", h)

    def _rq(self, op: str, **kw):
        c = object.__getattribute__(self, "_c")
        return c.request({"op": op, "h": object.__getattribute__(self, "_h"), **kw})

    def __call__(self, *args, **kwargs):
        return self._rq("call", a=[enc_arg(a) for a in args],
                        k=[[k, enc_arg(v)] for k, v in kwargs.items()])

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._rq("getattr", n=name)

    def __getitem__(self, key):
        return self._rq("getitem", a=enc_arg(key))

    def __len__(self):
        n = self._rq("len")
        if type(n) is not int:
            raise TypeError("len() of a remote object was not an int")
        return n

    def __bool__(self):
        return self._rq("bool") is True

    def __contains__(self, item):
        return self._rq("contains", a=enc_arg(item)) is True

    def __iter__(self):
        return self._rq("iter")

    def __next__(self):
        return self._rq("next")

    def __repr__(self):
        return str(self._rq("repr"))

    def __str__(self):
        return str(self._rq("str"))

    def __eq__(self, other):
        return isinstance(other, Remote) and \
            object.__getattribute__(other, "_h") == object.__getattribute__(self, "_h")

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(("remote", object.__getattribute__(self, "_h")))


UNSAFE_MODULES = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}


class Harness:
    """T: runs the problem's (trusted) test code, calling into the program over the channel.
    Runs inside the monitor after it gave up root; its results go straight into the verdict
    the monitor sends, so nothing the program does in its own process can add a pass."""

    def __init__(self, spec: dict, chan: Channel) -> None:
        self.spec = spec
        self.chan = chan
        self.client = Client(chan)
        self.results: list[dict] = []
        self.status = "error"
        self.message = "the tests did not run"

    def run(self, deadline: float) -> None:
        """Run the tests until `deadline` (a SIGALRM then raises HarnessTimeout wherever the
        harness is, waiting on the program included)."""
        self.chan.deadline = deadline

        def on_alarm(signum, frame):
            raise HarnessTimeout()

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()))
        try:
            self._run()
        except HarnessTimeout:
            self.status = "timeout"
            self.message = f"timed out after {self.spec['timeout_s']:g} s"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _finish(self, status: str, message: str = "") -> None:
        self.status, self.message = status, message[:1000]

    def _run(self) -> None:
        spec = self.spec
        sys.setrecursionlimit(3000)
        # A copy of the builtins per run: a test that rebinds one cannot leak into the next
        # run of a pooled harness.
        ns: dict = {"__name__": TESTS_MODULE, "__builtins__": dict(builtins.__dict__)}
        try:
            exec(load_code(spec, spec.get("setup", ""), spec.get("setup_code"), "<setup>"), ns)
        except HarnessTimeout:
            raise
        except BaseException as exc:
            return self._finish("error", f"the problem's test setup failed: "
                                         f"{type(exc).__name__}: {exc}")
        mark("setup run")
        try:
            hello = self.chan.recv()
            U_PHASES[0] = hello.get("phases") if isinstance(hello, dict) else None
        except RpcBroken:
            return self._finish("error", "the program exited before the tests ran")
        if not isinstance(hello, dict) or not hello.get("ok"):
            kind = hello.get("kind") if isinstance(hello, dict) else "error"
            message = str(hello.get("message", "")) if isinstance(hello, dict) else ""
            return self._finish(kind if kind in ("compile_error", "error") else "error",
                                message or "the program failed to load")
        names = hello.get("names") if isinstance(hello.get("names"), dict) else {}
        bind = spec.get("bind", {})
        self._bind(ns, names, set(bind.values()))
        for alias, key in bind.items():
            if key not in names:
                return self._finish("fail", f"the program does not define {key!r}")
            ns[alias] = ns[key]
        self._prefetch(ns, hello.get("batch"))
        stop = spec.get("stop_on_fail", True)
        status, message = "pass", ""
        compared = Comparisons()
        ns[HELPER] = compared
        for i, test in enumerate(spec["tests"]):
            try:
                code = load_code(spec, test["code"], test.get("code_obj"), f"<test {i}>",
                                 test=True)
                got = run_one_test(code, ns, test["code"], compared, test["name"])
            except (SyntaxError, ValueError) as exc:
                got = {"outcome": "error", "message": f"the test does not compile: {exc}"}
            outcome, why = got["outcome"], got["message"]
            if test.get("kind", "test") == "step":
                if outcome != "pass":
                    return self._finish("fail" if outcome == "fail" else "error",
                                        f"{test['name']}: {why}")
                continue
            self.results.append({"name": test["name"], "passed": outcome == "pass",
                                 "message": why,
                                 "status": "error" if outcome == "broken" else outcome,
                                 **{k: got[k] for k in ("line", "expected", "actual")
                                    if got.get(k)}})
            if outcome != "pass" and status == "pass":
                status, message = outcome, f"{test['name']}: {why}"
                if stop or outcome == "broken":
                    break
        self._finish("error" if status == "broken" else status, message)

    def _prefetch(self, ns: dict, early) -> None:
        """Batch the predicted calls (see Client) whose function is the program's. The
        prediction lists the leading tests in order; it stops at the first whose name is
        not bound to the program here (a helper of the problem's own, say). `early`: the
        handles of the calls the program said (in its hello) it makes on its own."""
        predicted = [p for p in self.spec.get("prefetch") or () if isinstance(p, dict)]
        if isinstance(early, list) and early and len(early) <= len(predicted) and \
                all(type(h) is int for h in early):
            # Their replies come whatever our tests do: expect them in this order (a test
            # making another call first drops them, see Client.request).
            self.client.pending = [(h, p["ak"]) for h, p in reversed(list(zip(early, predicted)))]
            return
        calls = []
        for p in predicted:
            target = ns.get(p.get("name")) if isinstance(p, dict) else None
            if not isinstance(target, Remote):
                break
            calls.append((object.__getattribute__(target, "_h"), p))
        if len(calls) >= 2:
            self.client.start_batch(calls)

    def _bind(self, ns: dict, names: dict, override: set) -> None:
        """Put the program's names into the tests' namespace: plain values decoded, objects as
        Remote, stdlib modules re-imported here. The problem's own definitions and the builtins
        win over the program's, except for the names the spec binds on purpose."""
        for key, desc in names.items():
            if not isinstance(desc, dict) or not isinstance(key, str):
                continue
            if key in ns and key not in override:
                continue  # the problem's own (trusted) definitions win
            if key not in override and (hasattr(builtins, key) or key.startswith("__")):
                continue  # a program defining `abs` or `len` must not change what tests call
            try:
                if "ref" in desc and type(desc["ref"]) is int:
                    ns[key] = Remote(self.client, desc["ref"])
                elif "value" in desc:
                    ns[key] = decode(desc["value"], self.client.remote)
                elif "module" in desc and isinstance(desc["module"], str):
                    mod = desc["module"]
                    top = mod.split(".")[0]
                    if top in sys.stdlib_module_names and top not in UNSAFE_MODULES:
                        ns[key] = __import__(mod, fromlist=["_"])
            except (RpcBroken, ImportError):
                continue


def load_code(spec: dict, source: str, compiled: str | None, filename: str,
              test: bool = False):
    """The caller may send the test code already compiled (marshal, cached per problem on
    its side): same interpreter, so loading it is safe and saves a compile per run. Tests
    are compiled with their comparisons instrumented (asserts.py), here as by the caller."""
    if compiled and spec.get("python") == sys.version:
        code = CODE_CACHE.get(compiled)
        if code is not None:
            return code
        try:
            code = marshal.loads(base64.b64decode(compiled))
        except (ValueError, EOFError, TypeError):
            code = None
        if code is not None:
            if len(CODE_CACHE) >= 4096:  # a pooled worker sees many problems: stay bounded
                CODE_CACHE.clear()
            CODE_CACHE[compiled] = code
            return code
    if test:
        return compile_test(source, filename)
    return compile(source, filename, "exec", dont_inherit=True)


# A pooled worker runs the same problems' tests again and again (RAFT, pass@k): their code
# objects are kept by their marshalled text. Code objects are immutable: sharing is safe.
CODE_CACHE: dict[str, object] = {}


def run_one_test(code, ns: dict, source: str = "", compared: Comparisons | None = None,
                 name: str = "") -> dict:
    """Run one test statement: {"outcome", "message", "line", "expected", "actual"}. `line`:
    the test's line the failure happened on; expected/actual: the two sides of the false
    comparison there, when the assert compared values (asserts.py)."""
    if compared is not None:
        compared.failed = None
    try:
        exec(code, ns)
        return {"outcome": "pass", "message": ""}
    except HarnessTimeout:
        raise
    except AssertionError as exc:
        lineno = failing_line(exc, code.co_filename)
        line = source_line(source, lineno)
        expected, actual, detail = compared.explain(lineno, show) if compared else ("", "", "")
        text = str(exc)[:300]
        where = f" at `{line[:160]}`" if line and line not in name else ""  # MBPP names hold it
        message = ("assertion failed" + where
                   + (f": {detail}" if detail else "") + (f" ({text})" if text else ""))
        return {"outcome": "fail", "message": message, "line": line,
                "expected": expected, "actual": actual}
    except RpcBroken as exc:
        return {"outcome": "broken",
                "message": f"the program under test died or broke the protocol ({exc})"}
    except RecursionError as exc:
        return {"outcome": "error", "message": "RecursionError",
                "line": source_line(source, failing_line(exc, code.co_filename))}
    except RemoteError as exc:
        return {"outcome": "error", "message": f"raised {str(exc)[:300]}",
                "line": source_line(source, failing_line(exc, code.co_filename))}
    except BaseException as exc:
        return {"outcome": "error", "message": f"raised {type(exc).__name__}: {str(exc)[:300]}",
                "line": source_line(source, failing_line(exc, code.co_filename))}


def failing_line(exc: BaseException, filename: str) -> int | None:
    """The line of the test's own code (not of what it called) the exception went through
    last."""
    lineno, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def source_line(source: str, lineno: int | None) -> str:
    lines = source.splitlines()
    return lines[lineno - 1].strip()[:300] if lineno and 0 < lineno <= len(lines) else ""
