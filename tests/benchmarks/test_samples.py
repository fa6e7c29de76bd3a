"""Our shipped samples: each dataset's schema, readable media, answers that score 1.0, small,
and reproducible from the generator."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.benchmarks import catalogue, data, metrics
from core.benchmarks.catalogue import SAMPLES_DIR
from core.benchmarks.runner import score_vlm

SCHEMAS = {
    "textvqa": {"image_id", "question_id", "question", "question_tokens", "image", "image_width",
                "image_height", "flickr_original_url", "flickr_300k_url", "answers",
                "image_classes", "set_name", "ocr_tokens"},
    "docvqa": {"questionId", "question", "question_types", "image", "docId", "ucsf_document_id",
               "ucsf_document_page_no", "answers", "data_split"},
    "mmstar": {"index", "question", "image", "answer", "category", "l2_category", "meta_info"},
    "chartqa": {"image", "query", "label", "human_or_machine"},
    "librispeech": {"file", "audio", "text", "speaker_id", "chapter_id", "id"},
    "commonvoice": {"client_id", "path", "audio", "sentence", "up_votes", "down_votes", "age",
                    "gender", "accent", "locale", "segment", "variant"},
    "xlam": {"id", "query", "tools", "answers"},
}
SHIPPED = sorted(SCHEMAS)


def _rows(name: str) -> list[dict]:
    path = catalogue.get(name).sample_path
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", SHIPPED)
def test_sample_rows_follow_the_dataset_schema(name):
    rows = _rows(name)
    assert len(rows) >= 4
    for row in rows:
        assert set(row) == SCHEMAS[name], name
    if name == "textvqa":
        assert all(len(r["answers"]) == 10 for r in rows)
    if name == "xlam":
        for r in rows:
            assert isinstance(json.loads(r["tools"]), list) and isinstance(json.loads(r["answers"]), list)


@pytest.mark.parametrize("name", SHIPPED)
def test_samples_load_with_media(name):
    loaded = data._from_sample(catalogue.get(name), None)
    assert loaded.source == "sample" and len(loaded.items) == len(_rows(name))
    for item in loaded.items:
        if catalogue.get(name).type == "vlm":
            assert item.image.mode == "RGB" and min(item.image.size) >= 100
            assert (Path(data.__file__).parents[2] / item.record["image"]["path"]).is_file()
        if catalogue.get(name).type == "audio":
            seconds = len(item.audio) / data.AUDIO_RATE
            assert 1.0 < seconds < 8.0
            assert item.audio.dtype == np.float32 and np.abs(item.audio).max() > 0.05


def test_limit_takes_the_first_items():
    loaded = data._from_sample(catalogue.get("docvqa"), 3)
    assert [i.id for i in loaded.items] == ["70001", "70002", "70003"]


@pytest.mark.parametrize("name", ["textvqa", "docvqa", "mmstar", "chartqa"])
def test_reference_answers_score_full_marks(name):
    """The shipped answers and the metric agree: answering with the reference scores 1."""
    bench = catalogue.get(name)
    for item in data._from_sample(bench, None).items:
        answer = item.reference if isinstance(item.reference, str) else item.reference[0]
        assert score_vlm(name, answer, item)[bench.primary_metric] == 1.0, (name, item.id)
        assert score_vlm(name, "zebra crossing", item)[bench.primary_metric] < 0.5


def test_mmstar_questions_carry_four_options():
    for item in data._from_sample(catalogue.get("mmstar"), None).items:
        assert sorted(item.extra["options"]) == ["A", "B", "C", "D"]
        assert item.reference in item.extra["options"]


@pytest.mark.parametrize("name", ["librispeech", "commonvoice"])
def test_transcripts_score_zero_wer(name):
    for item in data._from_sample(catalogue.get(name), None).items:
        assert metrics.wer(item.reference.lower(), item.reference) == 0.0
        assert metrics.wer("", item.reference) == 1.0


def test_xlam_answers_match_themselves_in_any_order():
    for item in data._from_sample(catalogue.get("xlam"), None).items:
        shuffled = json.dumps(list(reversed(item.reference)))
        assert metrics.call_match(shuffled, item.record["answers"])["call_exact_match"] == 1.0
        names = {t["name"] for t in item.extra["tools"]}
        assert {c["name"] for c in item.reference} <= names  # every answer uses a listed tool


def test_bad_sample_line_names_the_line(tmp_path, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    good = catalogue.get("xlam").sample_path.read_text().splitlines()[0]
    bad.write_text(good + "\n" + json.dumps({"id": 1, "tools": "[]", "answers": "[]"}) + "\n")
    bench = catalogue.Benchmark("xlam", "x", "agentic", "a/b", "train", ("call_exact_match",),
                                "call_exact_match", sample=str(bad))
    with pytest.raises(data.BenchmarkDataError, match="bad.jsonl line 2: missing field 'query'"):
        data._from_sample(bench, None)


def test_shipped_samples_are_small():
    total = sum(p.stat().st_size for p in SAMPLES_DIR.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024


def test_generator_reproduces_the_shipped_files(tmp_path):
    groups = ["vlm", "agentic"] + (["audio"] if shutil.which("espeak-ng") else [])
    cmd = [sys.executable, str(SAMPLES_DIR / "make_samples.py"), "--out", str(tmp_path)]
    for g in groups:
        cmd += ["--only", g]
    subprocess.run(cmd, check=True, capture_output=True)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (SAMPLES_DIR / rel).read_bytes(), rel
