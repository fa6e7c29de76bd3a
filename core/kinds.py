"""The job kinds: the one table that says what each kind is and how it runs.

Adding a kind is one entry here, naming its config model (a module in `core/configs/`) and
its runner module. Everything else (the ledger's kind check, the runner dispatch, resume, the training
tables on the Dashboard and Results, which kinds run under torchrun) reads this table.

Light module: the UI and the supervisor import it; runner modules are named, never imported.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    name: str
    runner: str | None  # module with run(config, job_dir); None: the job runs its own command
    config: str  # "module:Class" of its pydantic config model (core/configs/)
    training: bool = False  # produces an adapter/checkpoints; shown with the training runs
    resumable: bool = False  # a stopped or failed job can continue from its last checkpoint
    distributed: bool = False  # correct under torchrun (one process per GPU)
    long_running: bool = False  # runs until stopped (a served model); RUNNING once ready
    label: str = ""


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


register(JobKind("sft", runner="core.training.sft", config="core.configs.sft:SFTConfig",
                 training=True, resumable=True, distributed=True,
                 label="Supervised fine-tuning"))
register(JobKind("raft", runner="core.training.raft", config="core.configs.raft:RAFTConfig",
                 training=True, resumable=True, label="RAFT (reward-ranked fine-tuning)"))
register(JobKind("benchmark", runner="core.benchmarks.runner",
                 config="core.configs.benchmark:BenchmarkConfig", label="Benchmark"))
register(JobKind("verify", runner="core.verifiers.job", config="core.configs.verify:VerifyConfig",
                 label="Verification batch"))
register(JobKind("serve", runner="core.serving.runner", config="core.configs.serve:ServeConfig",
                 long_running=True, label="Served model"))
register(JobKind("command", runner=None, config="core.configs.command:CommandConfig",
                 label="Command"))
register(JobKind("grpo", runner="core.training.grpo", config="core.configs.grpo:GRPOConfig",
                 training=True, resumable=True, label="GRPO (verifier rewards)"))
register(JobKind("dpo", runner="core.training.dpo", config="core.configs.dpo:DPOConfig",
                 training=True, resumable=True, label="DPO (preference pairs)"))
register(JobKind("export", runner="core.export.job", config="core.configs.export:ExportConfig",
                 label="Export (merged / GGUF)"))


def get(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown job kind {name!r}; expected one of {', '.join(KINDS)}") from None


def names() -> tuple[str, ...]:
    return tuple(KINDS)


def training_kinds() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.training)


def resumable_kinds() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.resumable)


def distributed_kinds() -> tuple[str, ...]:
    return tuple(k.name for k in KINDS.values() if k.distributed)


def runners() -> dict[str, str]:
    return {k.name: k.runner for k in KINDS.values() if k.runner}
