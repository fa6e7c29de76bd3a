"""`halo-forge benchmark run` from flags: the job gets its benchmark type's generation budget,
the same one the Benchmark page fills in (catalogue.default_max_new_tokens)."""
from __future__ import annotations

import pytest

from core import jobs
from core.cli import main


def _queued(capsys, *words) -> dict:
    assert main(["benchmark", "run", *words]) == 0
    return jobs.get(int(capsys.readouterr().out.strip()))["config"]["benchmark"]


@pytest.mark.parametrize("bench,model,tokens", [
    ("docvqa", "tiny-llava", 32), ("librispeech", "tiny-whisper", 128), ("xlam", "tiny", 256),
    ("humaneval", "tiny", 512),
    ("xlam,humaneval", "tiny", 512),  # one budget per job: the largest of the types' defaults
])
def test_flags_take_the_type_default(home, capsys, bench, model, tokens):
    from core.benchmarks import service

    section = _queued(capsys, "--model", model, "--benchmark", bench)
    assert section["max_new_tokens"] == tokens
    page = service.build_config(benchmark=bench, model=model)["benchmark"]["max_new_tokens"]
    assert page == tokens  # the page's path asks the same function


def test_an_explicit_budget_still_wins(home, capsys):
    section = _queued(capsys, "--model", "tiny-whisper", "--benchmark", "librispeech",
                      "--set", "benchmark.max_new_tokens=40")
    assert section["max_new_tokens"] == 40
