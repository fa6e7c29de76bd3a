from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # The tests share 2 cores with other suites; OpenMP spin-waiting across busy cores makes
    # a 2-thread step ~10x slower than a 1-thread one there. Results do not depend on it.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The tiny offline model, built once per session."""
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def toy_problems(tmp_path_factory) -> Path:
    from core.training.toytask import problems, write_jsonl

    return write_jsonl(tmp_path_factory.mktemp("toy") / "problems.jsonl", problems())


@pytest.fixture(scope="session")
def toy_base(tiny_model, tmp_path_factory) -> str:
    """The tiny model after a short full fine-tune on the toy task (FIELD-NOTES): it solves
    the problems some of the time, the start RAFT and GRPO need to show a gain. Built once
    per session and shared by the RAFT, GRPO and pairs tests."""
    from core.training import sft
    from core.training.toytask import pretrain_config, pretrain_rows, write_jsonl

    work = tmp_path_factory.mktemp("toy-base")
    # 80 steps: with the SentencePiece tokenizer 100 steps already solve ~70 % of the
    # problems, leaving RAFT too little room to show its gain (measured: 0.33 -> 0.72 at 80).
    cfg = pretrain_config(str(tiny_model), write_jsonl(work / "pre.jsonl", pretrain_rows()), steps=80)
    assert sft.run(cfg, work / "pre") == 0
    return str(work / "pre" / "output" / "model")
