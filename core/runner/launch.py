"""How the job wrapper starts a job's real work: one process, torchrun, or srun + torchrun.

    child_command(spec, job_dir) -> list[str]     # used by `python -m core.runner JOB_DIR`
    python -m core.runner.launch node JOB_DIR     # one per node under srun (multi-node)
    python -m core.runner.launch worker JOB_DIR   # what torchrun starts: one per rank

LIGHT module (no torch import): the wrapper imports it before anything heavy.

- A training job (kind sft) whose `executor.gpus` is N > 1 runs as N processes under
  `python -m torch.distributed.run --standalone --nproc_per_node N -m core.runner.job JOB_DIR`;
  TRL / accelerate read RANK, WORLD_SIZE and LOCAL_RANK from torchrun's environment, and on
  CPU transformers picks the gloo backend by itself.
- Under the slurm executor, when there are several processes or several nodes, the wrapper
  (in the batch step, on the first node) starts `srun --ntasks-per-node=1` over the
  allocation, and each node runs `core.runner.launch node`, which sets the rendezvous up from
  the allocation: MASTER_ADDR is the first host of `scontrol show hostnames
  $SLURM_JOB_NODELIST`, MASTER_PORT is derived from the Slurm job id (so two jobs sharing a
  node do not collide), `--nnodes $SLURM_NNODES --node_rank $SLURM_NODEID`.
- torchrun starts its workers in sessions of their own, out of reach of a signal to the
  job's process group; so each worker (`launch worker`) asks the kernel to SIGKILL it when
  torchrun dies. A stop (SIGTERM to the group) reaches torchrun, which forwards it to the
  workers and gives them at most 30 s (its own limit) to save; a forced stop (SIGKILL to the
  group) kills torchrun and so the workers with it, instead of leaving them orphaned.
- Other kinds (raft, benchmark, verify) are single-process programs: with N GPUs they run
  once and see all N devices. A command job runs as given (once per node under srun when
  it asks for several Slurm nodes).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core import kinds

DISTRIBUTED_KINDS = kinds.distributed_kinds()  # correct under torchrun (one process per GPU)
PORT_BASE, PORT_SPAN = 20000, 20000


def plan(spec: dict) -> tuple[str, int, int]:
    """(executor name, processes per node, nodes) a job spec asks for."""
    config = spec.get("config") or {}
    executor = config.get("executor") or {}
    name = executor.get("name") or "local"
    nodes = max(1, int(executor.get("nodes") or 1))
    procs = int(executor.get("gpus") or 0) if spec.get("kind") in DISTRIBUTED_KINDS else 1
    return name, max(1, procs), nodes


def job_module(job_dir: Path) -> list[str]:
    return ["-m", "core.runner.job", str(job_dir)]


def worker_module(job_dir: Path) -> list[str]:
    return ["-m", "core.runner.launch", "worker", str(job_dir)]


def child_command(spec: dict, job_dir: Path) -> list[str]:
    """The job wrapper's child for this spec. Never raises: a spec the machine cannot run
    becomes a command that prints why and exits 2 (so the job fails with that reason)."""
    job_dir = Path(job_dir)
    executor, procs, nodes = plan(spec)
    if nodes > 1 and executor != "slurm":
        return _refuse(f"executor.nodes is {nodes}, but only the slurm executor runs a job "
                       f"on several nodes")
    if spec.get("kind") == "command":
        command = list(spec["command"])
        return _srun(nodes) + command if executor == "slurm" and nodes > 1 else command
    if executor == "slurm" and (procs > 1 or nodes > 1):
        return _srun(nodes) + [sys.executable, "-u", "-m", "core.runner.launch", "node",
                               str(job_dir)]
    if procs > 1:
        return [sys.executable, "-u", "-m", "torch.distributed.run", "--standalone",
                "--nnodes", "1", "--nproc_per_node", str(procs)] + worker_module(job_dir)
    return [sys.executable, "-u"] + job_module(job_dir)


def _srun(nodes: int) -> list[str]:
    # One task per node; a node that fails takes the others down instead of leaving them
    # waiting in a collective until the time limit.
    return ["srun", f"--nodes={nodes}", f"--ntasks={nodes}", "--ntasks-per-node=1",
            "--kill-on-bad-exit=1"]


def _refuse(message: str) -> list[str]:
    return [sys.executable, "-c", "import sys; sys.exit(sys.argv[1])", f"halo-forge: {message}"]


# ---- multi-node: one `launch node` per node under srun ------------------------------------

def slurm_rendezvous(environ: dict[str, str], hostnames: list[str] | None = None) -> dict:
    """nnodes, node_rank, master_addr and master_port from a Slurm step's environment."""
    missing = [k for k in ("SLURM_JOB_ID", "SLURM_NODEID", "SLURM_JOB_NODELIST")
               if k not in environ]
    if missing:
        raise RuntimeError(f"not inside a Slurm step: {', '.join(missing)} not set")
    if hostnames is None:
        hostnames = _hostnames(environ["SLURM_JOB_NODELIST"])
    nnodes = int(environ.get("SLURM_NNODES") or environ.get("SLURM_JOB_NUM_NODES") or len(hostnames))
    port = environ.get("MASTER_PORT") or str(PORT_BASE + int(environ["SLURM_JOB_ID"]) % PORT_SPAN)
    return {"nnodes": nnodes, "node_rank": int(environ["SLURM_NODEID"]),
            "master_addr": environ.get("MASTER_ADDR") or hostnames[0], "master_port": int(port)}


def _hostnames(nodelist: str) -> list[str]:
    out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True,
                         text=True, check=True).stdout.split()
    if not out:
        raise RuntimeError(f"scontrol show hostnames {nodelist} printed nothing")
    return out


def node_command(spec: dict, job_dir: Path, rdzv: dict) -> list[str]:
    _, procs, _ = plan(spec)
    return [sys.executable, "-u", "-m", "torch.distributed.run",
            "--nnodes", str(rdzv["nnodes"]), "--node_rank", str(rdzv["node_rank"]),
            "--nproc_per_node", str(procs),
            "--master_addr", rdzv["master_addr"], "--master_port", str(rdzv["master_port"]),
            ] + worker_module(Path(job_dir))


# ---- one rank under torchrun ------------------------------------------------------------

def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent (torchrun) dies (Linux)."""
    import ctypes
    import signal

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(137)


def worker(job_dir: Path) -> int:
    die_with_parent()
    from core.runner import job

    return job.main([str(job_dir)])


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("node", "worker"):
        print("usage: python -m core.runner.launch node|worker JOB_DIR", file=sys.stderr)
        return 2
    job_dir = Path(argv[1]).resolve()
    if argv[0] == "worker":
        return worker(job_dir)
    spec = json.loads((job_dir / "job.json").read_text())
    rdzv = slurm_rendezvous(dict(os.environ))
    print(f"halo-forge: node {rdzv['node_rank']}/{rdzv['nnodes']} ({os.uname().nodename}), "
          f"rendezvous {rdzv['master_addr']}:{rdzv['master_port']}", flush=True)
    command = node_command(spec, job_dir, rdzv)
    os.execv(command[0], command)  # torchrun takes this task's place: srun signals reach it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
