"""Multi-GPU jobs: the launch commands, and a real 2-process SFT job under torchrun on CPU (gloo)
through the supervisor, its stop included.

torchrun's rendezvous store and gloo listen on sockets, so the end-to-end tests run inside a
loopback-only network namespace like the engine tests (tests/runner/engines.py).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from core import jobs, ledger
from core.runner import launch
from tests.conftest import wait_for
from tests.runner import engines
from tests.runner import executor_cases as cases


def _spec(kind="sft", name="local", gpus=1, nodes=1, **extra) -> dict:
    spec = {"id": 7, "kind": kind, "config": {"executor": {"name": name, "gpus": gpus, "nodes": nodes}}}
    spec.update(extra)
    return spec


# ---- commands -----------------------------------------------------------------------------

def test_one_gpu_runs_the_job_module_in_one_process(tmp_path):
    assert launch.child_command(_spec(gpus=1), tmp_path) == [
        sys.executable, "-u", "-m", "core.runner.job", str(tmp_path)]
    assert launch.child_command(_spec(gpus=0), tmp_path)[-3:] == ["-m", "core.runner.job", str(tmp_path)]


def test_several_gpus_run_sft_under_torchrun_on_this_machine(tmp_path):
    cmd = launch.child_command(_spec(gpus=4), tmp_path)
    assert cmd[:4] == [sys.executable, "-u", "-m", "torch.distributed.run"]
    assert "--standalone" in cmd
    assert cmd[cmd.index("--nproc_per_node") + 1] == "4"
    assert cmd[-4:] == ["-m", "core.runner.launch", "worker", str(tmp_path)]


def test_single_process_kinds_stay_single_with_several_gpus(tmp_path):
    for kind in ("raft", "benchmark", "verify"):
        cmd = launch.child_command(_spec(kind=kind, gpus=4), tmp_path)
        assert "torch.distributed.run" not in cmd, kind


def test_slurm_runs_one_launcher_per_node_under_srun(tmp_path):
    cmd = launch.child_command(_spec(name="slurm", gpus=2, nodes=3), tmp_path)
    assert cmd[0] == "srun"
    assert "--nodes=3" in cmd and "--ntasks-per-node=1" in cmd and "--kill-on-bad-exit=1" in cmd
    assert cmd[-5:] == ["-u", "-m", "core.runner.launch", "node", str(tmp_path)]
    # One GPU on one Slurm node needs no srun step.
    assert launch.child_command(_spec(name="slurm", gpus=1), tmp_path)[0] == sys.executable


def test_a_command_job_on_several_slurm_nodes_runs_once_per_node(tmp_path):
    spec = _spec(kind="command", name="slurm", nodes=2, command=["python", "train.py"])
    cmd = launch.child_command(spec, tmp_path)
    assert cmd[0] == "srun" and cmd[-2:] == ["python", "train.py"]
    assert launch.child_command(_spec(kind="command", command=["echo", "hi"]), tmp_path) == ["echo", "hi"]


def test_several_nodes_without_slurm_fail_with_a_reason(tmp_path):
    import subprocess

    cmd = launch.child_command(_spec(name="local", gpus=2, nodes=2), tmp_path)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "executor.nodes is 2, but only the slurm executor" in proc.stderr


def test_rendezvous_comes_from_the_slurm_allocation():
    env = {"SLURM_JOB_ID": "4242", "SLURM_NODEID": "1", "SLURM_NNODES": "3",
           "SLURM_JOB_NODELIST": "gpu[07-09]"}
    rdzv = launch.slurm_rendezvous(env, hostnames=["gpu07", "gpu08", "gpu09"])
    assert rdzv == {"nnodes": 3, "node_rank": 1, "master_addr": "gpu07",
                    "master_port": launch.PORT_BASE + 4242 % launch.PORT_SPAN}
    cmd = launch.node_command(_spec(name="slurm", gpus=4, nodes=3), Path("/jobs/7"), rdzv)
    joined = " ".join(cmd)
    assert "--nnodes 3 --node_rank 1 --nproc_per_node 4" in joined
    assert "--master_addr gpu07 --master_port 24242" in joined
    # An explicit MASTER_PORT / MASTER_ADDR wins.
    env.update(MASTER_PORT="29999", MASTER_ADDR="10.0.0.1")
    assert launch.slurm_rendezvous(env, hostnames=["gpu07"])["master_port"] == 29999
    with pytest.raises(RuntimeError, match="not inside a Slurm step"):
        launch.slurm_rendezvous({})


def _orphan_after_parent_killed(die_with_parent: bool) -> bool:
    """Start parent -> child (own session, like torchrun's workers), SIGKILL the parent:
    is the child still alive afterwards?"""
    import os
    import signal
    import subprocess

    from core.runner import procs

    child_code = ("from core.runner import launch; import time\n"
                  + ("launch.die_with_parent()\n" if die_with_parent else "")
                  + "print('ready', flush=True); time.sleep(60)")
    parent_code = ("import subprocess, sys, time; "
                   f"p = subprocess.Popen([sys.executable, '-c', {child_code!r}], start_new_session=True); "
                   "print(p.pid, flush=True); time.sleep(60)")
    env = dict(os.environ, PYTHONPATH=str(engines.REPO))
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE,
                              text=True, env=env)
    child = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "ready"
    parent.kill()
    parent.wait()
    try:  # the kernel acts at once; the control case is given a moment to show it survives
        wait_for(lambda: not procs.is_alive(child, None), 10 if die_with_parent else 1.5,
                 what="the child to die")
        return False
    except AssertionError:
        os.kill(child, signal.SIGKILL)
        return True


def test_a_torchrun_worker_dies_with_torchrun():
    assert _orphan_after_parent_killed(die_with_parent=False)  # what happens without it
    assert not _orphan_after_parent_killed(die_with_parent=True)


# ---- a real 2-process job ----------------------------------------------------------------

def test_in_namespace():
    engines.run_module_in_netns(__file__)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def two_slots(home, monkeypatch):  # after home, whose settings it overrides
    monkeypatch.setenv("HALO_FORGE_SLOTS", "2")  # no GPU here: two slots for two processes
    monkeypatch.setenv("HALO_FORGE_GRACE_S", "60")  # a stop must end by itself, not by SIGKILL


@engines.inside_netns
def test_sft_with_two_gpus_runs_two_processes_and_stops_them_together(two_slots, home, supervisor,
                                                                      tiny):
    cases.require_launch_wiring()
    config = {"model": {"name": str(tiny)},
              "data": {"dataset": "alpaca", "limit": 24, "source": "sample", "max_length": 64},
              "lora": {"r": 4, "alpha": 8},
              "training": {"epochs": 50, "batch_size": 1, "logging_steps": 1, "save_steps": 100000},
              "executor": {"gpus": 2}}
    job_id = jobs.submit("sft", config)
    wait_for(lambda: (jobs.get(job_id)["step"] or 0) >= 3, 180, what="two ranks to train")
    # 24 records, batch 1, 50 epochs: 1200 steps in one process, 600 when two split the data.
    assert jobs.get(job_id)["total_steps"] == 600
    assert jobs.request_stop(job_id) == "STOPPING"
    job = cases.final(job_id, timeout=90)
    assert job["status"] == "STOPPED", cases.describe(job)
    out = cases.output(job)
    assert out.count("halo-forge: sft job") == 2, out[-2000:]  # one line per rank
    steps = [s for s, _ in cases.losses(job_id)]
    assert steps == list(range(1, len(steps) + 1))  # progress from rank 0 only, once each
    saved = [line.split("checkpoint saved: ", 1)[1].strip() for line in out.splitlines()
             if "checkpoint saved: " in line]
    # Both ranks stopped after the same step and saved; had they disagreed, one would wait
    # in the next all-reduce until torchrun killed it, and no checkpoint would be written.
    assert saved, ("no checkpoint: the ranks did not stop together (the stop flag must be "
                   "agreed across ranks in core/training/common.py)\n" + out[-3000:])
    state = json.loads((Path(saved[-1]) / "trainer_state.json").read_text())
    assert state["global_step"] >= 3
    status = json.loads((Path(job["job_dir"]) / "exit_status.json").read_text())
    assert status["signal"] is None, status  # nothing had to be killed
    assert ledger.get_job(job_id)["exit_signal"] is None


def _rank_pids(job_dir: str) -> dict[int, int]:
    """LOCAL_RANK -> pid of the torchrun workers of a job (from /proc)."""
    import os

    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmdline and job_dir.encode() in cmdline:
            for item in environ:
                if item.startswith(b"LOCAL_RANK="):
                    ranks[int(item.split(b"=", 1)[1])] = int(entry)
    return ranks


@engines.inside_netns
def test_a_stop_seen_by_one_rank_stops_every_rank_after_the_same_step(two_slots, home,
                                                                      supervisor, tiny):
    # Signals reach the ranks of a real cluster job at different moments; here only rank 1
    # gets SIGTERM. Without agreement, rank 0 trains on into an all-reduce nobody joins.
    import os
    import signal

    cases.require_launch_wiring()
    config = {"model": {"name": str(tiny)},
              "data": {"dataset": "alpaca", "limit": 24, "source": "sample", "max_length": 64},
              "lora": {"r": 4, "alpha": 8},
              "training": {"epochs": 50, "batch_size": 1, "logging_steps": 1, "save_steps": 100000},
              "executor": {"gpus": 2}}
    job_id = jobs.submit("sft", config)
    wait_for(lambda: (jobs.get(job_id)["step"] or 0) >= 3, 180, what="two ranks to train")
    ranks = wait_for(lambda: len(_rank_pids(jobs.get(job_id)["job_dir"])) == 2
                     and _rank_pids(jobs.get(job_id)["job_dir"]), 30, what="both ranks")
    os.kill(ranks[1], signal.SIGTERM)
    job = cases.final(job_id, timeout=120)
    out = cases.output(job)
    # The runner treats SIGTERM as "save and finish": the job completes, early, with a checkpoint.
    assert job["status"] == "COMPLETED", cases.describe(job)
    assert "stop requested: stopped at step" in out
    saved = [line.split("checkpoint saved: ", 1)[1].strip() for line in out.splitlines()
             if "checkpoint saved: " in line]
    assert saved, out[-3000:]
    assert json.loads((Path(saved[-1]) / "trainer_state.json").read_text())["global_step"] >= 3
