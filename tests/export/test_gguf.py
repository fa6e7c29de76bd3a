"""GGUF export with llama.cpp's converter and quantizer: f16 agrees with base + adapter, q8_0
and q4_k_m export and load in llama.cpp."""
from __future__ import annotations

import json

import pytest

from core.export import service
from tests.export.conftest import run_export


@pytest.mark.parametrize("quant,minimum", [("f16", 0.95), ("q8_0", 0.90), ("q4_k_m", 0.70)])
def test_gguf_export_loads_in_llama_cpp(trained, tmp_path, quant, minimum):
    from llama_cpp import Llama

    out = tmp_path / f"gguf-{quant}"
    config, _ = service.check(service.build_config(adapter=str(trained.adapter), fmt="gguf",
                                                   quant=quant, out_dir=str(out)))
    assert run_export(config, tmp_path / "job") == 0
    files = sorted(p.name for p in out.iterdir())
    gguf = [f for f in files if f.endswith(".gguf")]
    assert gguf == [f"{trained.adapter.parent.parent.name}-{quant}.gguf"], files
    assert {"README.md", "verification.json", "export.json"} <= set(files)  # no leftover f16/HF copy

    v = json.loads((out / "verification.json").read_text())
    assert v["consumer"] == "llama.cpp" and v["passed"], v
    assert v["token_agreement"] >= minimum and v["tokenizer_agreement"] == 1.0
    assert "llama-cpp-python" in v["engine_versions"]
    types = v["tensor_types"]
    expected = {"f16": "F16", "q8_0": "Q8_0", "q4_k_m": "Q4_K"}[quant]
    assert expected in types, types  # q4_k_m: the 256-wide tensors are real k-quants
    if quant == "f16":
        assert v["max_abs_logit_diff"] < 0.05

    # A consumer other than our check: load and generate from the chat template's prompt.
    llm = Llama(model_path=str(out / gguf[0]), n_ctx=128, verbose=False)
    text = llm("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", max_tokens=8, temperature=0.0)
    assert text["usage"]["completion_tokens"] >= 1
    assert llm.tokenize(b"def add(a, b):", add_bos=False) == llm.tokenize(b"def add(a, b):", add_bos=False)
