"""The ray executor against a real Ray head (one per module), through a real supervisor.

The head listens on every interface, so the whole module runs inside a loopback-only
network namespace: test_in_namespace re-runs this file there (see tests/runner/engines.py).
"""
from __future__ import annotations

import pytest

from core.runner import profiles
from core.runner.ray_executor import RayError, RayJobsAPI
from tests.runner import engines
from tests.runner import executor_cases as cases

RAY_ID = r"halo-forge-\d+-[0-9a-f]{10}"


def test_in_namespace():
    engines.run_module_in_netns(__file__)


@pytest.fixture(scope="module")
def ray_head():
    why = engines.RayHead.available()
    if why:
        engines.engine_missing(why)
    head = engines.RayHead(num_cpus=2)
    try:
        head.start()
    except Exception as exc:
        head.cleanup()
        engines.engine_missing(f"the Ray head did not start: {exc}")
    yield head
    head.cleanup()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def profile(home, ray_head):
    profiles.add("test-ray", "ray", address=ray_head.address)
    yield "test-ray"
    api = RayJobsAPI(ray_head.address)
    from core import ledger

    for job in ledger.list_jobs(ledger.ACTIVE):  # a failed test must not leave Ray jobs behind
        if job.get("external_id"):
            try:
                api.stop(job["external_id"])
            except RayError:
                pass


def _ray_state(head):
    api = RayJobsAPI(head.address)
    return lambda job: bool(job.get("external_id")) and api.info(job["external_id"])["status"]


@engines.inside_netns
def test_command_job_runs_on_ray_with_metrics_in_the_ledger(profile, supervisor, tmp_path, ray_head):
    cases.command_job_completes(profile, tmp_path, RAY_ID)


@engines.inside_netns
def test_failing_command_fails_with_its_exit_code(profile, supervisor, tmp_path):
    cases.failing_command_fails(profile, tmp_path)


@engines.inside_netns
def test_sft_job_on_the_tiny_model_runs_on_ray(profile, supervisor, tiny, tmp_path):
    job = cases.sft_job_completes(profile, tiny, tmp_path, gpus=0)
    assert "Runtime env is setting up" in cases.output(job)  # the log came through Ray's API


@engines.inside_netns
def test_stop_reaches_the_job_on_ray(profile, supervisor, tmp_path):
    cases.stop_running_job(profile, tmp_path)


@engines.inside_netns
def test_supervisor_restart_reattaches_the_ray_job(profile, supervisor, tmp_path, home):
    cases.restart_supervisor_midway(profile, tmp_path, supervisor, home)


@engines.inside_netns
def test_cancel_while_pending_on_ray(profile, supervisor, tmp_path, ray_head):
    # A GPU on a CPU-only cluster: Ray holds the job PENDING (waiting for resources).
    job_id = cases.submit_command(profile, cases.script(tmp_path, n=3, sleep=0.01), gpus=1)
    state = _ray_state(ray_head)
    cases.cancel_while_pending(job_id, lambda job: state(job) == "PENDING")


@engines.inside_netns
def test_cancel_while_pending_and_no_supervisor_running(profile, supervisor, tmp_path, home,
                                                        ray_head):
    job_id = cases.submit_command(profile, cases.script(tmp_path, n=3, sleep=0.01), gpus=1)
    state = _ray_state(ray_head)
    cases.cancel_while_pending(job_id, lambda job: state(job) == "PENDING", (supervisor, home))


@engines.inside_netns
def test_a_restarted_ray_cluster_has_forgotten_the_job(profile, supervisor, tmp_path, ray_head):
    def forget(job):
        ray_head.stop()  # Ray keeps job history in memory only: a new head knows nothing
        ray_head.start()

    job = cases.engine_forgets(profile, tmp_path, forget, "Ray no longer knows job")
    assert job["external_id"] in job["error"]
