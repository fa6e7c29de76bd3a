"""After a run: kill everything of the run's uids and remove every file they left.

Kill by uid (a fork bomb or a setsid/double-fork escapee cannot hide from a scan of /proc by
uid, and kill(-1) as that uid hits all of them in one kernel pass), or, without uids, walk the
subreaper's process subtree. Files: the run's workdir, then anything the uids own in the
private world-writable directories. Only then is the uid slot released."""
from __future__ import annotations

import os
import signal
import time


def workdir_for(uids: list[int]) -> str:
    """A run's working directory: one per uid slot, so a leftover is found and removed."""
    return f"/tmp/halo-run-{uids[0]}"


def cleanup_uids(uids: list[int], program_gone: bool = False,
                 known: dict[int, int] | None = None) -> None:
    """After a run: kill what is left of its uids, remove its workdir and what the uids left
    in the private tmp dirs. `program_gone`: the program process has exited, so anything of
    the run still alive was re-parented to us (subreaper): our children list is enough to
    know whether the full look through /proc is needed. `known`: pid -> pidfd of our own
    long-lived children (forker, harness workers), not looked up while alive."""
    if not uids:
        return  # same-uid mode: the monitor cleaned its own subtree
    if not (program_gone and children_clear(uids, known)):
        kill_uids(uids)
    rmtree(workdir_for(uids))
    sweep(uids)


def kill_uids(uids: list[int]) -> None:
    """Kill every process of the run's uids, wherever it is. Normally a no-op: the subtree
    kill already got them all. If any is left, kill(-1) from a throwaway child running as
    that uid signals all of the uid's processes in one kernel pass (a fork bomb cannot
    outrun it) without ever exposing the monitor to signals from the uid."""
    killed = False
    for attempt in range(10000):
        left = [pid for pid, _, uid in proc_table() if uid in uids] if uids else []
        if not left:
            return
        if attempt < 20 or killed:
            # Root can signal them directly: cheaper than a fork when a few are left (the
            # usual case: the program's server process). Killed processes cannot fork.
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not reap():
                time.sleep(0.0002)
            continue
        killed = True
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                for uid in uids:
                    os.setresgid(uid, uid, 0)
                    os.setresuid(uid, uid, 0)
                    try:
                        os.kill(-1, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    os.setresuid(0, 0, 0)
                    os.setresgid(0, 0, 0)
            finally:
                os._exit(0)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # the zygote ignores SIGCHLD: the wait ends with ECHILD
            pass
        reap()


def kill_descendants() -> None:
    """SIGKILL and reap everything below us. As a child subreaper we inherit every orphan
    of the run, so nothing that double-forked or called setsid can leave this tree."""
    me = os.getpid()
    for _ in range(10000):
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not reap():
            time.sleep(0.0005)  # dying, not yet zombies


def reap() -> int:
    """Collect exited children without waiting; how many there were."""
    n = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return n
        if not pid:
            return n
        n += 1


def read_small(path: str, size: int = 4096) -> bytes:
    """One read of a /proc file with plain fds: run after every run, where a buffered file
    object would cost several times more."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def uid_of(pid: int) -> int | None:
    try:
        return int(read_small(f"/proc/{pid}/status").split(b"\nUid:", 1)[1].split(None, 1)[0])
    except (OSError, IndexError, ValueError):
        return None


def children_clear(uids: list[int], known: dict[int, int] | None = None) -> bool:
    """True when none of our direct children runs as one of `uids` (False if unknown).
    A child in `known` (pid -> pidfd) whose pidfd says it is alive is that process, not one
    of the run's (a live process's pid is never reused): one signal-0 call instead of
    reading its /proc status, which is most of the cleanup's cost."""
    me = os.getpid()
    try:
        kids = read_small(f"/proc/{me}/task/{me}/children", 1 << 16).split()
    except OSError:
        return False
    for raw in kids:
        pid = int(raw)
        if known and pid in known and alive(known[pid]):
            continue
        if uid_of(pid) in uids:
            return False
    return True


def alive(pidfd: int) -> bool:
    try:
        signal.pidfd_send_signal(pidfd, 0)
        return True
    except OSError:
        return False


def proc_table() -> list[tuple[int, int, int]]:
    """(pid, ppid, real uid) of every visible process (few inside the sandbox's pid
    namespace). From /proc/PID/status: the owner of /proc/PID files is root for processes
    that are not dumpable, which is every process that changed uid."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{entry}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 4096)
            finally:
                os.close(fd)
            ppid = int(status.split(b"\nPPid:", 1)[1].split(None, 1)[0])
            uid = int(status.split(b"\nUid:", 1)[1].split(None, 1)[0])
        except (OSError, IndexError, ValueError):
            continue
        table.append((int(entry), ppid, uid))
    return table


def descendants(root: int) -> list[int]:
    out, frontier = [], [root]
    children: dict[int, list[int]] = {}
    for pid, ppid, _ in proc_table():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, ()):
            out.append(child)
            frontier.append(child)
    return out


def rmtree(path: str) -> None:
    """Remove a file or a tree without following symlinks (shutil is not preloaded)."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    import stat as _stat
    if not _stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    if flat_rmdir(path):
        return
    if os.geteuid() != 0:  # without root, a chmod 000 directory would stop the walk
        for root, dirs, _ in os.walk(path, followlinks=False):
            for name in dirs:
                try:
                    os.chmod(os.path.join(root, name), 0o700, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
    for root, dirs, files in os.walk(path, topdown=False, followlinks=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            full = os.path.join(root, name)
            try:
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def flat_rmdir(path: str) -> bool:
    """The usual case after a run, without os.walk: a directory of plain files (the output
    files and whatever the program wrote next to them). False, having removed what it could,
    when there is more (a subdirectory): rmtree then walks the rest."""
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    return False
                try:
                    os.unlink(entry.path)
                except OSError:
                    return False
        os.rmdir(path)
        return True
    except OSError:
        return False


def sweep(uids: list[int]) -> None:
    """Remove what the run's uids left in the (private) world-writable directories."""
    for top in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in uids:
                    rmtree(entry.path)
            except OSError:
                pass
