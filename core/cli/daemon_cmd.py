"""The daemon and the browser UI: supervisor start|stop|status|run, ui."""
from __future__ import annotations

import os
import sys

from core import jobs
from core.cli.common import duration, fail, port, positive_int

def cmd_supervisor(args) -> int:
    from core.runner import daemon

    # Flags become the settings' environment variables, so a detached daemon gets them too.
    if args.slots is not None:
        if args.slots < 1:
            fail(f"--slots must be at least 1, got {args.slots}")
        os.environ["HALO_FORGE_SLOTS"] = str(args.slots)
    if args.grace is not None:
        if args.grace < 0:
            fail(f"--grace must be >= 0 seconds, got {args.grace}")
        os.environ["HALO_FORGE_GRACE_S"] = str(args.grace)
    try:
        if args.action == "run":
            return daemon.run_foreground()
        if args.action == "start":
            pid = daemon.start_detached()
            print(f"supervisor started, pid {pid}")
            return 0
    except daemon.AlreadyRunning as exc:
        print(f"a supervisor is already running, pid {exc.pid}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # a ledger it refused, or a daemon that exited at once
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 1
    if args.action == "stop":
        pid = daemon.stop()
        print(f"supervisor {pid} stopped" if pid else "no supervisor was running")
        return 0
    st = daemon.status()
    if not st["running"]:
        print("supervisor: not running")
        return 3
    queue = jobs.summary()
    print(f"supervisor: running\npid: {st['pid']}\nuptime: {duration(st['uptime_s'])}\n"
          f"slots: {st.get('slots')}\nqueued: {queue['queued']}\nactive: {queue['active']}")
    return 0


def _check_host_port(host: str, port: int) -> None:
    import ipaddress
    import re
    import socket

    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", host):
            fail(f"--host {host!r} is neither an IP address nor a host name")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        fail(f"--host {host!r} does not resolve to an address on this machine")
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                 "(is another UI running there? choose another --port)", code=1)


def cmd_ui(args) -> int:
    from core import access
    from core.paths import REPO_ROOT
    from core.runner import daemon

    _check_host_port(args.host, args.port)  # before anything starts, a supervisor included
    env = dict(os.environ)
    url_token = ""
    if not access.is_loopback(args.host):
        token = env.get("HALO_FORGE_TOKEN") or access.new_token()
        env["HALO_FORGE_TOKEN"] = token
        url_token = f"/?token={token}"
        print(f"access token required for {args.host}; open the URL below (token included)")
    pid = daemon.ensure_running()
    print(f"supervisor: pid {pid}")
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"halo-forge UI: http://{shown_host}:{args.port}{url_token}", flush=True)
    cmd = [sys.executable, "-m", "core.ui_server",
           "--server.address", args.host, "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "auto" if args.reload else "none",
           "--server.runOnSave", "true" if args.reload else "false"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    os.chdir(REPO_ROOT)
    os.execvpe(cmd[0], cmd, env)
    return 0


def register(sub) -> None:
    s = sub.add_parser("supervisor", help="the job daemon")
    s.add_argument("action", choices=("start", "stop", "status", "run"))
    s.add_argument("--slots", type=positive_int, help="GPU slots (default: detected GPUs, at least 1)")
    s.add_argument("--grace", type=float, help="seconds from SIGTERM to SIGKILL on a stop (default 30)")
    s.set_defaults(fn=cmd_supervisor)

    s = sub.add_parser("ui", help="start the browser UI (and a supervisor if none runs)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=port, default=8080)
    s.add_argument("--reload", action="store_true", help="reload pages when files change")
    s.set_defaults(fn=cmd_ui)
