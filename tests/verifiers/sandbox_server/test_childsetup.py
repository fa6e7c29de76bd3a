"""The limits plan of a sandboxed child, computed before the fork."""
from __future__ import annotations

import resource

import pytest

from core.verifiers.sandbox_server import state
from core.verifiers.sandbox_server.childsetup import env_plan, limits_plan

MB = 1024 * 1024


@pytest.fixture
def own_uids(monkeypatch):
    monkeypatch.setitem(state.CONFIG, "uids", True)


def test_run_limits_from_the_spec(own_uids):
    plan = dict(limits_plan({"timeout_s": 2.5, "memory_mb": 256, "nproc": 7, "fsize_mb": 3},
                            "run"))
    assert plan[resource.RLIMIT_AS] == (256 * MB, 256 * MB)
    assert plan[resource.RLIMIT_CPU] == (4, 5)  # ceil(2.5) + 1, hard limit one more (SIGXCPU first)
    assert plan[resource.RLIMIT_NPROC] == (7, 7)
    assert plan[resource.RLIMIT_FSIZE] == (3 * MB, 3 * MB)
    assert plan[resource.RLIMIT_CORE] == (0, 0)
    assert plan[resource.RLIMIT_NOFILE] == (256, 256)


def test_defaults_and_data_limit_for_runtimes_that_reserve_address_space(own_uids):
    plan = dict(limits_plan({"timeout_s": 1, "memory_kind": "data"}, "run"))
    assert plan[resource.RLIMIT_DATA] == (1024 * MB, 1024 * MB)
    assert resource.RLIMIT_AS not in plan
    assert plan[resource.RLIMIT_NPROC] == (32, 32)
    assert plan[resource.RLIMIT_FSIZE] == (64 * MB, 64 * MB)


def test_compile_and_tests_kinds(own_uids):
    spec = {"timeout_s": 1, "compile_timeout_s": 30, "compile_memory_mb": 2048,
            "memory_kind": "data"}
    compile_plan = dict(limits_plan(spec, "compile"))
    assert compile_plan[resource.RLIMIT_DATA] == (2048 * MB, 2048 * MB)
    assert compile_plan[resource.RLIMIT_CPU] == (31, 32)
    assert compile_plan[resource.RLIMIT_NPROC] == (64, 64)
    tests_plan = dict(limits_plan(spec, "tests"))
    assert tests_plan[resource.RLIMIT_AS] == (1024 * MB, 1024 * MB)  # the harness is Python
    assert tests_plan[resource.RLIMIT_NPROC] == (4, 4)


def test_shared_uid_counts_the_users_own_processes(monkeypatch):
    monkeypatch.setitem(state.CONFIG, "uids", False)
    nproc = dict(limits_plan({"timeout_s": 1, "nproc": 5}, "run"))[resource.RLIMIT_NPROC][0]
    assert nproc > 5 + 64  # the limit counts every process of the uid, ours included


def test_env_plan_puts_home_in_the_workdir_and_fills_placeholders():
    env = dict(env_plan({"env": {"GOCACHE": "{workdir}/.cache", "N": 3}}, "/tmp/halo-run-1"))
    # HALO_SANDBOX_RUN is in the zygote's base environment, not set per run
    assert env == {"HOME": "/tmp/halo-run-1", "TMPDIR": "/tmp/halo-run-1",
                   "GOCACHE": "/tmp/halo-run-1/.cache", "N": "3"}
