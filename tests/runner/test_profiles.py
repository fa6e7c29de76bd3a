"""Cluster profiles: the JSON store, its validation, the CLI, and the checks at submit time.
Also what the executors build from a profile (sbatch options, the batch script, Ray's env)."""
from __future__ import annotations

import json
import os
import stat

import pytest

from core import cli, jobs, ledger, paths
from core.runner import profiles


def test_add_list_get_and_remove(home):
    assert profiles.load_all() == {}
    saved = profiles.add("lab", "ray", address="http://head:8265", python="/opt/py/bin/python")
    assert saved == {"name": "lab", "executor": "ray", "address": "http://head:8265",
                     "python": "/opt/py/bin/python"}
    profiles.add("hpc", "slurm", partition="gpu", nodes=4, gpus_per_node=8, time_limit="1-00:00:00",
                 account="ml-team")
    assert list(profiles.load_all()) == ["hpc", "lab"]
    assert profiles.get("hpc")["gpus_per_node"] == 8
    assert profiles.names("slurm") == ["hpc"]
    assert profiles.executor_section("lab") == {"name": "ray", "profile": "lab"}
    on_disk = json.loads(paths.profiles_path().read_text())
    assert on_disk["lab"] == {"executor": "ray", "address": "http://head:8265",
                              "python": "/opt/py/bin/python"}
    # Saving a name again replaces it.
    profiles.add("lab", "ray", address="10.0.0.5:8265")
    assert profiles.get("lab") == {"name": "lab", "executor": "ray", "address": "http://10.0.0.5:8265"}
    profiles.remove("lab")
    assert list(profiles.load_all()) == ["hpc"]


@pytest.mark.parametrize("name, executor, fields, message", [
    ("bad name", "ray", {"address": "http://h:1"}, "name: a profile name"),
    ("x", "kubernetes", {}, "executor: expected one of ray, slurm"),
    ("x", "ray", {}, "address: a ray profile needs"),
    ("x", "ray", {"address": "http://h:8265/ x"}, "address: expected the Ray dashboard URL"),
    ("x", "ray", {"address": "http://h", "partition": "gpu"}, "partition: a slurm setting"),
    ("x", "slurm", {"address": "http://h"}, "address: a ray setting"),
    ("x", "slurm", {"colour": "red"}, "colour: not a profile setting"),
    ("x", "slurm", {"time_limit": "2 hours"}, "time_limit: expected minutes"),
    ("x", "slurm", {"nodes": 0}, "nodes: expected a whole number >= 1"),
    ("x", "slurm", {"gpus_per_node": "two"}, "gpus_per_node: expected a whole number"),
    ("x", "slurm", {"partition": "gpu; rm -rf /"}, "partition: expected a Slurm name"),
    ("x", "slurm", {"python": "/my python"}, "python: expected an interpreter path"),
])
def test_bad_profiles_are_refused_naming_the_field(home, name, executor, fields, message):
    with pytest.raises(ValueError, match=message):
        profiles.add(name, executor, **fields)
    assert profiles.load_all() == {}  # nothing half-saved


def test_time_limits_in_every_slurm_format_are_accepted(home):
    for value in ("30", "30:00", "04:00:00", "2-0", "2-12:00", "2-12:00:00", "UNLIMITED"):
        assert profiles.add("t", "slurm", time_limit=value)["time_limit"] == value


def test_a_corrupt_profiles_file_is_reported_not_overwritten(home):
    paths.profiles_path().write_text("{not json")
    with pytest.raises(ValueError, match="profiles.json is not valid JSON"):
        profiles.load_all()
    with pytest.raises(ValueError, match="not valid JSON"):
        profiles.add("lab", "ray", address="http://h:8265")
    assert paths.profiles_path().read_text() == "{not json"


def test_check_usable_explains_what_is_missing(home, tmp_path, monkeypatch):
    profiles.check_usable("local", None)
    with pytest.raises(ValueError, match="executor.profile: the ray executor needs a cluster profile"):
        profiles.check_usable("ray", None)
    with pytest.raises(ValueError, match="no cluster profile named 'nope' .known: none saved yet"):
        profiles.check_usable("ray", "nope")
    profiles.add("hpc", "slurm", partition="gpu")
    with pytest.raises(ValueError, match="profile 'hpc' is a slurm profile, not a ray one"):
        profiles.check_usable("ray", "hpc")
    with pytest.raises(ValueError, match="unknown executor 'k8s'"):
        profiles.check_usable("k8s", "hpc")
    # A Slurm profile needs the client commands on this machine.
    fake = tmp_path / "bin"
    fake.mkdir()
    monkeypatch.setenv("PATH", str(fake))
    with pytest.raises(ValueError, match="needs sbatch on this machine's PATH"):
        profiles.check_usable("slurm", "hpc")
    sbatch = fake / "sbatch"
    sbatch.write_text("#!/bin/sh\nexit 0\n")
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IXUSR)
    profiles.check_usable("slurm", "hpc")


def test_submit_refuses_an_unknown_profile_and_stores_nothing(home):
    with pytest.raises(ValueError, match="no cluster profile named 'ghost'"):
        jobs.submit("command", {"command": ["echo", "hi"],
                                "executor": {"name": "ray", "profile": "ghost"}})
    assert ledger.list_jobs() == []


def test_a_profile_in_use_cannot_be_removed(home):
    profiles.add("lab", "ray", address="http://h:8265")
    job_id = jobs.submit("command", {"command": ["echo", "hi"],
                                     "executor": {"name": "ray", "profile": "lab"}})
    with pytest.raises(ValueError, match=f"used by active job.s. {job_id}"):
        profiles.remove("lab")
    jobs.request_stop(job_id)  # queued -> stopped
    profiles.remove("lab")
    with pytest.raises(ValueError, match="no cluster profile named 'lab'"):
        profiles.remove("lab")


def test_cli_profiles_and_submit_with_a_profile(home, capsys):
    assert cli.main(["profiles", "add", "lab", "--executor", "ray", "--address", "head:8265"]) == 0
    assert cli.main(["profiles", "add", "hpc", "--executor", "slurm", "--partition", "gpu",
                     "--nodes", "2", "--gpus-per-node", "4", "--time-limit", "04:00:00"]) == 0
    capsys.readouterr()
    assert cli.main(["profiles", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {p["name"]: p["executor"] for p in listed} == {"hpc": "slurm", "lab": "ray"}
    assert cli.main(["submit", "--profile", "lab", "--", "echo", "hi"]) == 0
    job_id = int(capsys.readouterr().out.strip())
    job = jobs.get(job_id)
    assert (job["executor"], job["profile"]) == ("ray", "lab")
    assert job["config"]["executor"] == {"name": "ray", "profile": "lab"}
    # Bad input: one sentence naming the field, exit code 2, nothing saved.
    assert cli.main(["profiles", "add", "x", "--executor", "slurm", "--time-limit", "soon"]) == 2
    assert "time_limit: expected minutes" in capsys.readouterr().err
    assert cli.main(["submit", "--profile", "ghost", "--", "echo"]) == 2
    assert "no cluster profile named 'ghost'" in capsys.readouterr().err
    assert "x" not in profiles.load_all()


# ---- what the executors build from a profile ------------------------------------------------

def _job(home, kind="command", gpus=0, executor=None, **config) -> dict:
    config = {"command": ["python", "train.py"], "gpus": gpus, **config} if kind == "command" else config
    if executor:
        config["executor"] = executor
    job_id = jobs.submit(kind, config)
    return ledger.get_job(job_id)


@pytest.fixture
def sbatch_on_path(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("sbatch", "squeue", "scancel"):
        (fake / name).write_text("#!/bin/sh\nexit 1\n")
        (fake / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")


def test_sbatch_options_come_from_the_profile_and_the_job(home, sbatch_on_path):
    from core.runner.slurm_executor import SlurmExecutor

    profiles.add("hpc", "slurm", partition="gpu", account="ml", time_limit="04:00:00",
                 nodes=2, gpus_per_node=4, python="/opt/venv/bin/python")
    job = _job(home, gpus=4, executor={"name": "slurm", "profile": "hpc"},
               env={"MY_FLAG": "a b"})
    ex = SlurmExecutor("hpc")
    spec = json.loads((paths.job_dir(job["id"]) / "job.json").read_text())
    args = ex.sbatch_args(job, spec, paths.job_dir(job["id"]))
    assert args[:2] == ["sbatch", "--parsable"]
    for option in ("--partition=gpu", "--account=ml", "--time=04:00:00", "--nodes=1",
                   "--gpus-per-node=4", "--open-mode=append", f"--job-name=halo-forge-{job['id']}",
                   f"--output={paths.job_dir(job['id']) / 'output.log'}"):
        assert option in args, option
    script = ex.batch_script(job, paths.job_dir(job["id"]), {"MY_FLAG": "a b"}, args)
    assert "export MY_FLAG='a b'" in script
    assert script.rstrip().endswith(f"exec /opt/venv/bin/python -u -m core.runner {paths.job_dir(job['id'])}")
    # More GPUs per node than the partition's nodes have: refused before sbatch runs.
    big = _job(home, gpus=8, executor={"name": "slurm", "profile": "hpc"})
    with pytest.raises(ValueError, match="executor.gpus is 8 per node but the nodes of profile 'hpc' have 4"):
        ex.sbatch_args(big, json.loads((paths.job_dir(big["id"]) / "job.json").read_text()),
                       paths.job_dir(big["id"]))


def test_a_cpu_partition_asks_for_cores_not_gpus(home, sbatch_on_path, tiny_config):
    from core.runner.slurm_executor import SlurmExecutor

    profiles.add("cpu", "slurm", gpus_per_node=0)
    job = _job(home, kind="sft", **tiny_config, executor={"name": "slurm", "profile": "cpu", "gpus": 2})
    spec = json.loads((paths.job_dir(job["id"]) / "job.json").read_text())
    args = SlurmExecutor("cpu").sbatch_args(job, spec, paths.job_dir(job["id"]))
    assert "--cpus-per-task=2" in args
    assert not any(a.startswith("--gpus") for a in args)
    assert not any(a.startswith("--partition") for a in args)  # the cluster's default


def test_sbatch_failure_is_reported_with_its_message(home, tmp_path, monkeypatch):
    from core.runner.slurm_executor import SlurmError, SlurmExecutor

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "sbatch").write_text("#!/bin/sh\necho 'sbatch: error: invalid partition specified: gpu' >&2\nexit 1\n")
    (fake / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    profiles.add("hpc", "slurm", partition="gpu")
    job = _job(home, executor={"name": "slurm", "profile": "hpc"})
    with pytest.raises(SlurmError, match="sbatch failed: sbatch: error: invalid partition specified: gpu"):
        SlurmExecutor("hpc").submit(job, paths.job_dir(job["id"]), {})


def test_ray_env_carries_the_job_env_the_home_and_our_grace(home, monkeypatch):
    from core.runner.ray_executor import RayExecutor

    monkeypatch.setenv("HALO_FORGE_GRACE_S", "45")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SECRET_TOKEN", "x")
    env = RayExecutor.remote_env({"HALO_FORGE_JOB_ID": "3", "MY_FLAG": "1"})
    assert env["HALO_FORGE_JOB_ID"] == "3" and env["MY_FLAG"] == "1"
    assert env["HALO_FORGE_HOME"] == str(home) and env["HF_HUB_OFFLINE"] == "1"
    assert env["RAY_JOB_STOP_WAIT_TIME_S"] == "45"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(paths.REPO_ROOT)
    assert "SECRET_TOKEN" not in env  # only what a job needs leaves this machine


def test_a_ray_cluster_that_does_not_answer_fails_the_launch_with_its_address(home):
    import socket

    from core.runner.ray_executor import RayError, RayExecutor

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profiles.add("gone", "ray", address=f"http://127.0.0.1:{port}")
    job = _job(home, executor={"name": "ray", "profile": "gone"})
    with pytest.raises(RayError, match=f"cannot reach the Ray cluster at http://127.0.0.1:{port}"):
        RayExecutor("gone").submit(job, paths.job_dir(job["id"]), {})


@pytest.fixture
def tiny_config():
    return {"model": {"name": "tiny"}, "data": {"dataset": "alpaca", "source": "sample"}}


# ---- how engine states map onto job states (the real engines: test_ray.py, test_slurm.py) --

def _write_status(job_dir, returncode, signal=None):
    (job_dir / "exit_status.json").write_text(json.dumps({"returncode": returncode, "signal": signal}))


def test_slurm_endings_that_are_not_a_clean_finish_fail_the_job(home, sbatch_on_path, tmp_path):
    from core.runner.slurm_executor import SlurmExecutor, _Seen

    profiles.add("hpc", "slurm")
    ex = SlurmExecutor("hpc")
    job = {"external_id": "12", "job_dir": str(tmp_path), "status": "RUNNING"}
    poll = lambda state, **kw: ex._map({**job, **kw}, _Seen(state=state, reason="r"), 100.0)  # noqa: E731
    assert poll("PENDING").state == "pending"
    assert poll("RUNNING").state == "running"
    _write_status(tmp_path, 0)  # the training loop saved and left 0 on Slurm's SIGTERM...
    timeout = poll("TIMEOUT")
    assert timeout.state == "lost" and "as TIMEOUT" in timeout.reason  # ...still not finished
    cancelled = poll("CANCELLED")
    assert cancelled.state == "lost" and "cancelled on Slurm outside halo-forge" in cancelled.reason
    assert poll("CANCELLED", status="STOPPING").state == "exited"  # our own stop
    assert (poll("COMPLETED").state, poll("COMPLETED").returncode) == ("exited", 0)
    (tmp_path / "exit_status.json").unlink()
    assert poll("COMPLETED").state == "running"  # a shared filesystem may lag behind
    ex.status_lag_s = 0
    lost = poll("COMPLETED")
    assert lost.state == "lost" and "left no exit status" in lost.reason


def test_ray_endings_map_onto_job_states(home, tmp_path):
    from core.runner.ray_executor import RayExecutor, _Seen

    profiles.add("lab", "ray", address="http://127.0.0.1:1")
    ex = RayExecutor("lab")
    job = {"external_id": "halo-forge-1-x", "job_dir": str(tmp_path), "status": "RUNNING"}
    poll = lambda state, seen=None, **kw: ex._map({**job, **kw}, seen or _Seen(), {"status": state, **info})  # noqa: E731
    info = {"message": "Job was intentionally stopped."}
    outside = poll("STOPPED")
    assert outside.state == "lost" and "stopped on the Ray cluster outside halo-forge" in outside.reason
    assert poll("STOPPED", status="STOPPING").state == "exited"
    # A stop asked of a PENDING job ends it once Ray took the request, not before.
    assert poll("PENDING", status="STOPPING").state == "pending"
    assert poll("PENDING", _Seen(cancelled_at=1.0, stop_delivered=True)).state == "exited"
    info = {"message": "Job entrypoint command failed with exit code 127", "driver_exit_code": 127}
    failed = poll("FAILED")
    assert (failed.state, failed.returncode) == ("exited", 127) and "exit code 127" in failed.reason
    _write_status(tmp_path, 3)
    assert (poll("SUCCEEDED").state, poll("SUCCEEDED").returncode) == ("exited", 3)
