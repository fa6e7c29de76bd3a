"""Where a job can run: the one table of executors.

Adding an executor is one entry here (its class lives in core/runner/); the config schema,
the Training and Benchmark forms, cluster profiles, the CLI and the supervisor read this.
Light module: no executor class is imported until a job runs on it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ExecutorKind:
    name: str
    cls: str  # "module:Class" implementing core.runner.executors.Executor
    label: str
    remote: bool = False  # needs a saved cluster profile
    multi_node: bool = False  # can run one job on several nodes
    required: tuple[str, ...] = ()  # profile fields a profile of it must have
    profile_hint: str = ""  # what `profiles add` needs, for error messages


EXECUTORS: dict[str, ExecutorKind] = {}


def register(kind: ExecutorKind) -> ExecutorKind:
    EXECUTORS[kind.name] = kind
    return kind


register(ExecutorKind("local", "core.runner.executors:LocalExecutor", "This machine"))
register(ExecutorKind("ray", "core.runner.ray_executor:RayExecutor", "Ray cluster (Jobs API)",
                      remote=True, required=("address",), profile_hint="--address URL"))
register(ExecutorKind("slurm", "core.runner.slurm_executor:SlurmExecutor", "Slurm (sbatch)",
                      remote=True, multi_node=True, profile_hint="--partition P"))


def names() -> tuple[str, ...]:
    return tuple(EXECUTORS)


def remote_names() -> tuple[str, ...]:
    return tuple(k.name for k in EXECUTORS.values() if k.remote)


def get(name: str) -> ExecutorKind:
    try:
        return EXECUTORS[name]
    except KeyError:
        raise ValueError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}") from None


def executor_class(name: str):
    module, _, cls = get(name).cls.partition(":")
    return getattr(importlib.import_module(module), cls)
