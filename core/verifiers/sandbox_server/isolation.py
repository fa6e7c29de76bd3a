"""What the zygote does once at start to isolate everything it will fork.

"isolated" mode (root): new mount, network, IPC, UTS and pid namespaces; private tmpfs on
/tmp, /var/tmp, /dev/shm, /run/lock; home directories, the repository and the halo-forge home
covered by empty tmpfs with only the toolchains bound back in; reference data blanked.
"uid"/"basic" modes do what the kernel allows without a mount namespace and say what is not
active in the report (the Verifiers page shows it). Also scrubs the environment once, so
that nothing of the caller's (tokens, keys) reaches a program."""
from __future__ import annotations

import os

from .libc import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER,
                   CLONE_NEWUTS, MS_BIND, MS_MOVE, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_REC, mount,
                   sethostname, unshare)
from .state import CONFIG


def setup_isolated(report: dict) -> bool:
    """New mount, network, IPC, UTS and pid namespaces for everything the zygote forks."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    try:
        unshare(flags | CLONE_NEWPID)
        pidns = True
    except OSError:
        unshare(flags)
        pidns = False
    report["active"].append("network namespace with no interfaces up (no network)")
    report["active"].append("private IPC namespace")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    size = int(CONFIG.get("tmpfs_mb", 512))
    tmp_opts = f"size={size}m,nr_inodes=65536,mode=1777"
    # A checkout or venv may itself live under /tmp (CI clones do): keep those in view.
    cover("/tmp", tmp_opts, [p for p in CONFIG.get("expose", []) if under(p, "/tmp")],
           stash_root=next((d for d in ("/dev/shm", "/run", "/var/tmp") if os.path.isdir(d)
                            and not os.path.islink(d)), "/"))
    hidden = []
    for home in CONFIG.get("hide", []):
        if os.path.isdir(home):
            hide_dir(home, [p for p in CONFIG.get("expose", []) if under(p, home)])
            hidden.append(home)
    for blank in CONFIG.get("blank", []):
        if os.path.isdir(blank):
            mount("tmpfs", blank, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for extra in ("/var/tmp", "/dev/shm", "/run/lock"):
        if os.path.isdir(extra) and not os.path.islink(extra):
            try:
                mount("tmpfs", extra, "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)
            except OSError as exc:
                report["inactive"].append(f"private {extra}: {exc}")
    report["active"].append("private /tmp, /var/tmp, /dev/shm (tmpfs, swept after each run)")
    if hidden:
        report["active"].append(f"home directories hidden: {', '.join(hidden)}")
    try:
        sethostname("sandbox")
    except Exception:
        pass
    report["active"].append("per-run unprivileged uids (RLIMIT_NPROC enforced, kill by uid)")
    return pidns


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def hide_dir(home: str, expose: list[str]) -> None:
    """Cover `home` with an empty tmpfs, then bind the toolchain directories that live
    under it (the Python prefix, a rustup sysroot) back in at the same paths."""
    cover(home, "size=1m,mode=755", expose, stash_root="/tmp")


def cover(target: str, opts: str, expose: list[str], stash_root: str) -> None:
    """Mount a fresh tmpfs on `target`, keeping the directories in `expose` (under it) at
    their paths: each is bind-stashed under `stash_root` (outside `target`) and moved back."""
    stash = []
    paths = sorted(set(expose))
    paths = [p for p in paths if not any(q != p and under(p, q) for q in paths)]
    for i, path in enumerate(paths):
        if path == target or not os.path.isdir(path):
            continue
        spot = os.path.join(stash_root, f".halo-stash-{os.getpid()}-{i}")
        os.mkdir(spot, 0o700)
        mount(path, spot, None, MS_BIND | MS_REC)
        stash.append((spot, path))
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    for spot, path in stash:
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(spot, path, None, MS_MOVE)
        os.rmdir(spot)


def world_traversable(path: str) -> bool:
    """Whether a uid with no rights of its own can reach `path` (every directory on the way
    has the x bit for others)."""
    import stat as _stat
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        try:
            mode = os.stat("/".join(parts[:i]) or "/").st_mode
        except OSError:
            return False
        if _stat.S_ISDIR(mode) and not mode & 0o001:
            return False
    return True


def setup_basic(report: dict) -> None:
    """Not root: a user namespace with a private network where the kernel allows it."""
    uid, gid = os.getuid(), os.getgid()
    try:
        if CONFIG.get("uids"):  # root without mount namespaces: a user namespace would
            unshare(CLONE_NEWNET)  # leave the per-run uids unmapped
            report["active"].append("network namespace (no network)")
            raise StopIteration
        unshare(CLONE_NEWUSER | CLONE_NEWNET)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        report["active"].append("network namespace via a user namespace (no network)")
    except StopIteration:
        pass
    except OSError as exc:
        report["inactive"].append(f"network namespace: {exc} (the program can reach the network)")
    report["active"].append("process subtree kill through a child subreaper")
    if CONFIG.get("uids"):
        report["active"].append("per-run unprivileged uids (RLIMIT_NPROC enforced, kill by uid)")
        report["inactive"].append("private /tmp and hidden home directories (no mount namespace)")
        hidden = [p for p in CONFIG.get("expose", []) if not world_traversable(p)]
        if hidden:
            report["inactive"].append("modules the zygote did not preload cannot be imported: "
                                      f"{hidden[0]} is not readable by the sandbox uids (a "
                                      "longer list is preloaded for that reason)")
    else:
        report["inactive"].append("separate uid (not root): the program can write where this user can")


BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "USER": "sandbox", "LOGNAME": "sandbox", "HOME": "/", "TMPDIR": "/tmp",
            "HALO_SANDBOX_RUN": "1"}  # lets a program tell it runs here (set once, not per run)


def base_environment() -> None:
    """Called once in the zygote: nothing of the caller's environment reaches a program."""
    for key in list(os.environ):
        if key not in BASE_ENV:
            del os.environ[key]
    os.environ.update(BASE_ENV)
