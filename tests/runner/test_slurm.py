"""The slurm executor against a real one-node Slurm cluster (munged, slurmctld, slurmd started
by the module fixture), through a real supervisor.

slurmctld and slurmd listen on every interface, so the module runs inside a loopback-only
network namespace: test_in_namespace re-runs this file there (see tests/runner/engines.py).
"""
from __future__ import annotations

import os

import pytest

from core.runner import profiles
from tests.runner import engines
from tests.runner import executor_cases as cases


def test_in_namespace():
    engines.run_module_in_netns(__file__)


@pytest.fixture(scope="module")
def cluster():
    why = engines.SlurmCluster.available()
    if why:
        engines.engine_missing(why)
    slurm = engines.SlurmCluster()
    try:
        slurm.start()
    except Exception as exc:
        logs = slurm.logs()
        slurm.stop()
        engines.engine_missing(f"the Slurm cluster did not start: {exc}\n{logs}")
    saved = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = slurm.env["SLURM_CONF"]  # for the supervisor and squeue here
    yield slurm
    slurm.stop()
    if saved is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = saved


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def profile(home, cluster, monkeypatch):
    # The supervisor counts every job's gpus against this machine's slots (even remote
    # ones, for now): give it room for the 2-process job.
    monkeypatch.setenv("HALO_FORGE_SLOTS", "4")
    # A CPU-only partition: a job's gpus count training processes, no GPU is requested.
    profiles.add("test-slurm", "slurm", partition="debug", time_limit="10", gpus_per_node=0,
                 nodes=1)
    yield "test-slurm"
    from core import ledger

    for job in ledger.list_jobs(ledger.ACTIVE):  # a failed test must not leave jobs behind
        if job.get("external_id"):
            cluster.run(["scancel", "--signal=KILL", "--full", job["external_id"]], check=False)
            cluster.run(["scancel", job["external_id"]], check=False)


def _squeue_state(cluster, job: dict) -> str:
    if not job.get("external_id"):
        return ""
    out = cluster.run(["squeue", "-h", "-t", "all", "-j", job["external_id"], "-o", "%T"],
                      check=False)
    return out.stdout.strip()


@engines.inside_netns
def test_command_job_runs_on_slurm_with_metrics_in_the_ledger(profile, supervisor, tmp_path):
    cases.command_job_completes(profile, tmp_path, r"\d+")


@engines.inside_netns
def test_failing_command_fails_with_its_exit_code(profile, supervisor, tmp_path):
    cases.failing_command_fails(profile, tmp_path)


@engines.inside_netns
def test_sft_job_runs_as_two_processes_with_the_rendezvous_from_the_allocation(
        profile, supervisor, tiny, tmp_path):
    # gpus: 2 under slurm -> srun over the allocation -> core.runner.launch node -> torchrun
    # with --nnodes $SLURM_NNODES --node_rank $SLURM_NODEID and MASTER_ADDR from scontrol.
    job = cases.sft_job_completes(profile, tiny, tmp_path, gpus=2)
    out = cases.output(job)
    assert "halo-forge: node 0/1 (" in out and "rendezvous localhost:" in out, out[-3000:]
    script = (cases.Path(job["job_dir"]) / "slurm.sh").read_text()
    assert "--cpus-per-task=2" in script and "--partition=debug" in script


@engines.inside_netns
def test_stop_reaches_the_job_on_slurm(profile, supervisor, tmp_path):
    cases.stop_running_job(profile, tmp_path)


@engines.inside_netns
def test_supervisor_restart_reattaches_the_slurm_job(profile, supervisor, tmp_path, home):
    cases.restart_supervisor_midway(profile, tmp_path, supervisor, home)


@engines.inside_netns
def test_cancel_while_pending_on_slurm(profile, supervisor, tmp_path, cluster):
    cluster.run(["scontrol", "update", "NodeName=localhost", "State=DRAIN", "Reason=halo-forge-test"])
    try:
        job_id = cases.submit_command(profile, cases.script(tmp_path, n=3, sleep=0.01))
        cases.cancel_while_pending(job_id, lambda job: _squeue_state(cluster, job) == "PENDING")
    finally:
        cluster.run(["scontrol", "update", "NodeName=localhost", "State=RESUME"])


@engines.inside_netns
def test_cancel_while_pending_and_no_supervisor_running(profile, supervisor, tmp_path, home,
                                                        cluster):
    # A new supervisor does not know the job is pending; signalling a pending job would
    # leave scancel retrying until it starts: it must cancel it outright.
    cluster.run(["scontrol", "update", "NodeName=localhost", "State=DRAIN", "Reason=halo-forge-test"])
    try:
        job_id = cases.submit_command(profile, cases.script(tmp_path, n=3, sleep=0.01))
        cases.cancel_while_pending(job_id, lambda job: _squeue_state(cluster, job) == "PENDING",
                                   (supervisor, home))
        assert "did not answer" not in supervisor.read_log()  # no scancel left retrying
    finally:
        cluster.run(["scontrol", "update", "NodeName=localhost", "State=RESUME"])


@engines.inside_netns
def test_a_job_slurm_purged_ends_failed_with_that_reason(profile, supervisor, tmp_path, cluster):
    def forget(job):
        # The controller goes away, the job's processes die without a trace (a node crash),
        # and the controller comes back with a clean state: nobody knows the job any more.
        cluster.stop_controller()
        assert engines.kill_processes_mentioning(job["job_dir"]) >= 1
        cluster.start_controller(clean=True)

    job = cases.engine_forgets(profile, tmp_path, forget, "Slurm no longer knows job")
    assert "sacct is not available" in job["error"]
    cluster.wait_idle()
