"""Word n-gram overlap between training data and benchmark items."""
from __future__ import annotations

import json

import pytest

from core import contamination as cc


def test_planted_overlap_is_caught_with_its_item_id_and_text(tmp_path):
    items = dict(cc.benchmark_items("humaneval"))
    assert len(items) == 164
    words = cc.words(items["HumanEval/3"])
    planted = " ".join(words[5:25])  # 20 words of the item, somewhere inside a training record
    train = tmp_path / "train.jsonl"
    rows = [{"instruction": "Say hello.", "output": "Hello!"},
            {"instruction": "Explain this code.", "output": f"Sure. {planted.upper()} and so on."}]
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = cc.run_check(str(train), "humaneval")
    assert report.contaminated and [o.id for o in report.overlapping] == ["HumanEval/3"]
    hit = report.overlapping[0]
    assert hit.train_records == [2] and hit.ngrams == 20 - 13 + 1
    assert hit.text == planted.lower()
    assert report.summary().startswith("1 of 164 humaneval items share a 13-gram with file:")
    # a longer n-gram than the planted run finds nothing; a shorter one still finds it
    assert not cc.run_check(str(train), "humaneval", n=21).contaminated
    assert cc.run_check(str(train), "humaneval", n=8).overlapping[0].id == "HumanEval/3"


def test_a_clean_training_set_passes():
    report = cc.run_check("alpaca", "humaneval")
    assert report.train_records >= 20 and report.checked == 164
    assert not report.contaminated and report.overlapping == []
    assert report.summary().startswith("0 of 164 humaneval items")


def test_short_items_are_reported_as_not_checked():
    report = cc.check(["a b c d e"], [("long", "a b c d e f"), ("short", "a b")], n=3)
    assert report.too_short == ["short"] and report.checked == 1
    assert [o.id for o in report.overlapping] == ["long"]
    assert report.overlapping[0].fraction == pytest.approx(3 / 4)
    assert "1 items shorter than 3 words not checked" in report.summary()


def test_non_code_benchmarks_read_their_shipped_items():
    items = cc.benchmark_items("xlam")
    assert items and all(isinstance(i, str) and t for i, t in items)
    report = cc.run_check("xlam", "xlam", n=13)  # the SFT sample is not the benchmark sample
    assert report.items == len(items)


def test_bad_sources_are_one_sentence():
    with pytest.raises(cc.ContaminationError, match="--benchmark: unknown benchmark 'nope'"):
        cc.run_check("alpaca", "nope")
    with pytest.raises(cc.ContaminationError, match="--train"):
        cc.run_check("/no/such/file.jsonl", "humaneval")
    with pytest.raises(cc.ContaminationError, match="--ngram must be at least 1"):
        cc.check([], [], n=0)
