"""Before training: the data is checked against the benchmarks the config watches."""
from __future__ import annotations

import json

from core import contamination
from core.configs import parse_config
from core.training import common


def _cfg(dataset: str, watch) -> object:
    return parse_config({"kind": "sft", "model": {"name": "tiny"},
                         "data": {"dataset": dataset, "watch_benchmarks": watch}})


def test_watched_benchmark_overlap_is_written_to_the_job_dir(tmp_path, capsys):
    text = dict(contamination.benchmark_items("humaneval"))["HumanEval/7"]
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"instruction": "Write it.", "output": text}) + "\n")
    reports = common.watch_overlap(_cfg(str(train), "humaneval"), tmp_path)
    saved = json.loads((tmp_path / "overlap.json").read_text())
    assert saved == reports and "HumanEval/7" in [o["id"] for o in saved[0]["overlapping"]]
    out = capsys.readouterr().out
    assert out.startswith("overlap: ") and "of 164 humaneval items share a 13-gram" in out


def test_nothing_watched_nothing_written(tmp_path, capsys):
    assert common.watch_overlap(_cfg("alpaca", []), tmp_path) is None
    assert not (tmp_path / "overlap.json").exists() and capsys.readouterr().out == ""


def test_suite_names_expand_and_unknown_names_are_config_errors():
    import pytest

    from core.configs import ConfigError

    assert _cfg("alpaca", ["code-suite"]).data.watch_benchmarks == ["humaneval", "mbpp", "livecodebench"]
    with pytest.raises(ConfigError, match="humanevl"):
        _cfg("alpaca", ["humanevl"])
