"""Tiny LLaVA and Whisper: deterministic builds that reload through the Auto classes and run
the real processors and `generate`. Random weights: assert shapes and reproducibility, never
text."""
from __future__ import annotations

import pytest

from core.benchmarks import catalogue, data
from core.benchmarks.generation import ASRGenerator, VLMGenerator
from core.benchmarks.tiny_models import build_tiny_llava, build_tiny_whisper, ensure_tiny, is_tiny_dir


def _weights(path):
    return (path / "model.safetensors").read_bytes()


@pytest.mark.parametrize("builder,fixture", [(build_tiny_llava, "tiny_llava"), (build_tiny_whisper, "tiny_whisper")])
def test_same_seed_same_bytes(builder, fixture, request, tmp_path):
    first = request.getfixturevalue(fixture)
    again = builder(tmp_path / "again", seed=0)
    other = builder(tmp_path / "other", seed=1)
    assert _weights(again) == _weights(first)
    assert (again / "tokenizer.json").read_bytes() == (first / "tokenizer.json").read_bytes()
    assert _weights(other) != _weights(first)


def test_ensure_tiny_reuses_a_complete_build(tiny_llava):
    kind = "build_tiny_llava"
    assert is_tiny_dir(tiny_llava, kind)
    before = (tiny_llava / "model.safetensors").stat().st_mtime_ns
    assert ensure_tiny("tiny-llava", tiny_llava) == tiny_llava
    assert (tiny_llava / "model.safetensors").stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="unknown tiny model"):
        ensure_tiny("tiny-video", tiny_llava)


def test_llava_reload_generates_the_same_batched_tokens(tiny_llava):
    items = data._from_sample(catalogue.get("textvqa"), 3).items
    pairs = [(it.image, it.prompt) for it in items]
    a = VLMGenerator.load(str(tiny_llava))
    b = VLMGenerator.load(str(tiny_llava))
    texts_a, n_a = a.generate(pairs, max_new_tokens=6)
    texts_b, n_b = b.generate(pairs, max_new_tokens=6)
    assert len(texts_a) == 3 and texts_a == texts_b and n_a == n_b
    assert 0 < n_a <= 3 * 6
    # the processor expands <image> into one token per patch (32 px / 8 px = 16)
    enc = a.processor(images=[items[0].image], text=[a.render(items[0].prompt)], return_tensors="pt")
    image_id = a.model.config.image_token_index
    assert int((enc["input_ids"] == image_id).sum()) == 16
    assert tuple(enc["pixel_values"].shape) == (1, 3, 32, 32)


def test_whisper_reload_generates_the_same_tokens(tiny_whisper):
    items = data._from_sample(catalogue.get("librispeech"), 2).items
    a = ASRGenerator.load(str(tiny_whisper))
    b = ASRGenerator.load(str(tiny_whisper))
    out_a = a.generate([it.audio for it in items], max_new_tokens=8)
    out_b = b.generate([it.audio for it in items], max_new_tokens=8)
    assert out_a == out_b and len(out_a[0]) == 2
    gen = a.model.generation_config
    sot = a.processor.tokenizer.convert_tokens_to_ids("<|startoftranscript|>")
    assert gen.lang_to_id["<|en|>"] == sot + 1  # language id right after start-of-transcript
    feats = a.processor.feature_extractor([items[0].audio], sampling_rate=16_000, return_tensors="pt")
    assert tuple(feats["input_features"].shape) == (1, 80, 2 * a.model.config.max_source_positions)
