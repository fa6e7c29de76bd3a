"""Real cluster engines for tests and bench/: a Ray head, a one-node Slurm cluster, and the
loopback-only network namespace they run in.

Ray's servers (and slurmctld, slurmd, torch's TCPStore) listen on every interface, so they
never start on a real one: each engine test module re-runs itself inside
`unshare --net` with only `lo` up (we are root). The module's own tests carry
`@inside_netns` (skipped outside, with a reason pointing at the runner test); the runner
test `test_in_namespace` (skipped inside) launches the inner pytest and reports its result.
By hand: `unshare --net sh -c 'ip link set lo up && .venv/bin/python -m pytest FILE -k X'`.

An engine that cannot be installed or started skips its tests with the reason, except
under CI=true, where that is a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


# ---- the namespace ------------------------------------------------------------------------

def in_loopback_netns() -> bool:
    """True when this process sees no network interface but loopback."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


inside_netns = pytest.mark.skipif(
    not in_loopback_netns(),
    reason="runs inside a loopback-only network namespace: test_in_namespace of this module "
           "starts it there")


def engine_missing(reason: str) -> None:
    """Skip with the reason, or fail under CI (where every engine must be installed)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def netns_command(argv: list[str]) -> list[str]:
    """argv run in a fresh network namespace whose only interface, lo, is up."""
    return ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


def can_unshare() -> str | None:
    """None when a loopback-only namespace can be made here, else why not."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip (util-linux, iproute2) is not installed"
    try:
        proc = subprocess.run(netns_command(["true"]), capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "unshare --net did not return"
    if proc.returncode != 0:
        return f"cannot create a network namespace: {proc.stderr.strip()[-200:]} (needs root)"
    return None


def run_module_in_netns(test_file: str, timeout: float = 600) -> None:
    """The body of each engine module's test_in_namespace."""
    if in_loopback_netns():
        pytest.skip("already inside the loopback-only namespace")
    why = can_unshare()
    if why:
        engine_missing(why)
    cmd = netns_command([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                         str(test_file)])
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    print(output)  # visible with -s, and in the failure report
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    if proc.returncode != 0:
        pytest.fail(f"inside the namespace: {summary}\n{output[-6000:]}")
    if " passed" not in summary and "skipped" in summary:
        reasons = [line for line in output.splitlines() if line.startswith("SKIPPED")]
        pytest.skip("inside the namespace every test skipped: " + "; ".join(reasons)[:500])


# ---- Ray ----------------------------------------------------------------------------------

class RayHead:
    """`ray start --head` on 127.0.0.1 with a private temp dir; the Jobs API on :8265."""

    def __init__(self, num_cpus: int = 2, dashboard_port: int = 8265, gcs_port: int = 6379):
        self.num_cpus = num_cpus
        self.port = dashboard_port
        self.gcs_port = gcs_port
        self.address = f"http://127.0.0.1:{dashboard_port}"
        self.temp_dir = tempfile.mkdtemp(prefix="hf-ray-", dir="/tmp")
        self.ray = str(Path(sys.executable).with_name("ray"))

    @staticmethod
    def available() -> str | None:
        try:
            import ray  # noqa: F401
        except ImportError:
            return "the ray package is not installed (pip install 'ray[default]==2.60.0')"
        if not Path(sys.executable).with_name("ray").exists():
            return "the ray command is not installed next to this interpreter"
        return None

    def start(self, timeout: float = 90) -> "RayHead":
        assert in_loopback_netns(), "Ray listens on every interface: start it only in the namespace"
        cmd = [self.ray, "start", "--head", "--node-ip-address=127.0.0.1",
               f"--port={self.gcs_port}", "--dashboard-host=127.0.0.1",
               f"--dashboard-port={self.port}", f"--num-cpus={self.num_cpus}", "--num-gpus=0",
               "--object-store-memory=100000000", "--include-dashboard=true",
               "--disable-usage-stats", f"--temp-dir={self.temp_dir}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"ray start failed: {(proc.stdout + proc.stderr)[-2000:]}")
        self._wait_api(timeout)
        return self

    def _wait_api(self, timeout: float) -> None:
        from core.runner.ray_executor import RayError, RayJobsAPI

        api = RayJobsAPI(self.address, timeout=5)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                api._call("GET", "/api/jobs/")
                return
            except RayError:
                time.sleep(0.3)
        raise RuntimeError(f"the Ray Jobs API at {self.address} did not come up")

    def stop(self) -> None:
        subprocess.run([self.ray, "stop", "--force"], capture_output=True, timeout=120)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


# ---- Slurm --------------------------------------------------------------------------------

SLURM_CONF = """\
ClusterName=haloforge
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.sock
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
CommunicationParameters=EnableIPv6
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=5
MinJobAge=300
InactiveLimit=0
NodeName=localhost CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """A one-node Slurm cluster (munged, slurmctld, slurmd) in a private directory.

    Debian's slurm-wlm 22.05 with proctrack/linuxproc and task/none (no cgroups needed),
    EnableIPv6 (address lookup fails with only loopback otherwise: FIELD-NOTES).
    """

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hf-slurm-", dir="/tmp"))  # short: socket paths
        self.conf = self.dir / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}

    @staticmethod
    def available() -> str | None:
        missing = [c for c in ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue",
                               "scancel", "scontrol") if not shutil.which(c)]
        if missing:
            return (f"Slurm is not installed ({', '.join(missing)} missing): "
                    f"apt-get install -y slurm-wlm munge")
        return None

    def start(self, timeout: float = 60) -> "SlurmCluster":
        assert in_loopback_netns(), "slurmctld listens on every interface: namespace only"
        d = self.dir
        for sub in ("state", "spool"):
            (d / sub).mkdir(exist_ok=True)
        os.chmod(d, 0o700)
        self._check(["mungekey", "--create", "--force", f"--keyfile={d}/munge.key"])
        os.chmod(d / "munge.key", 0o400)
        self._check(["munged", f"--key-file={d}/munge.key", f"--socket={d}/munge.sock",
                     f"--pid-file={d}/munged.pid", f"--log-file={d}/munged.log",
                     f"--seed-file={d}/munged.seed", "--force"])
        mem_mb = int(_mem_total_kb() / 1024 * 0.8)
        self.conf.write_text(SLURM_CONF.format(d=d, cpus=os.cpu_count() or 1, mem=mem_mb))
        self.start_controller()
        self._check(["slurmd", "-f", str(self.conf)])
        self.wait_idle(timeout)
        return self

    def start_controller(self, clean: bool = False) -> None:
        self._check(["slurmctld", "-f", str(self.conf)] + (["-c"] if clean else []))

    def stop_controller(self) -> None:
        self._kill_pidfile(self.dir / "slurmctld.pid")

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = self.run(["sinfo", "-h", "-o", "%T"], check=False)
            if out.returncode == 0 and "idle" in out.stdout:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Slurm node did not become idle:\n{self.logs()}")

    def run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        env = dict(os.environ, **self.env)
        return subprocess.run(args, env=env, capture_output=True, text=True, check=check,
                              timeout=60)

    def _check(self, args: list[str]) -> None:
        proc = self.run(args, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {(proc.stdout + proc.stderr)[-1500:]}\n"
                               f"{self.logs()}")

    def logs(self) -> str:
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            path = self.dir / name
            if path.exists():
                out.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(out)

    def _kill_pidfile(self, path: Path, timeout: float = 20) -> None:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self.run(["scancel", "--full", "--signal=KILL", "--state=RUNNING", "--me"], check=False)
        for name in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            self._kill_pidfile(self.dir / name)
        shutil.rmtree(self.dir, ignore_errors=True)


def _mem_total_kb() -> int:
    text = Path("/proc/meminfo").read_text()
    return int(re.search(r"MemTotal:\s+(\d+)", text).group(1))


def kill_processes_mentioning(text: str, sig: int = signal.SIGKILL) -> int:
    """Kill every process whose command line mentions text (a job dir), and all their
    descendants: what a node crash or an OOM kill of the whole job looks like to the
    supervisor."""
    parents: dict[int, int] = {}
    targets: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parents[pid] = int(stat[stat.rfind(")") + 2:].split()[1])
        if text in cmdline:
            targets.add(pid)
    grew = True
    while grew:  # add the children of everything selected so far
        more = {pid for pid, ppid in parents.items() if ppid in targets} - targets
        targets |= more
        grew = bool(more)
    killed = 0
    for pid in targets:
        try:
            os.kill(pid, sig)
            killed += 1
        except ProcessLookupError:
            pass
    return killed
