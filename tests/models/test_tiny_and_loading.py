"""The tiny offline model (deterministic, real tokenizer and chat template) and model loading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.models import loading, presets
from core.models.tiny import build_tiny_model, is_tiny_model_dir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("m") / "tiny", seed=0)


def test_same_seed_gives_byte_identical_files(tiny, tmp_path):
    again = build_tiny_model(tmp_path / "again", seed=0)
    files = sorted(p.name for p in tiny.iterdir())
    assert "model.safetensors" in files and "tokenizer.json" in files
    assert "tokenizer.model" in files  # SentencePiece: what llama.cpp's converter reads
    assert files == sorted(p.name for p in again.iterdir())
    for name in files:
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name
    other = build_tiny_model(tmp_path / "other", seed=1)
    assert (other / "model.safetensors").read_bytes() != (tiny / "model.safetensors").read_bytes()
    assert is_tiny_model_dir(tiny)


def test_loads_with_auto_classes_and_generates(tiny):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny)
    assert model.config.model_type == "llama" and model.config.hidden_size == 128
    assert model.config.num_hidden_layers == 4
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    code = "def add(a, b):\n    return a + b\n"
    assert tok.decode(tok(code)["input_ids"]) == code  # byte fallback + identity normalisation: code round-trips
    ids = tok("Hello", return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_chat_template_marks_assistant_tokens(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    msgs = [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "hi"}]
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    marked = tok.decode([i for i, m in zip(ids, mask) if m])
    assert marked == "hi<|im_end|>"  # the reply and its end-of-turn, nothing of the prompt
    prompt = tok.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\nSay hi.<|im_end|>\n<|im_start|>assistant\n"


def test_resolve_model_local_tiny_alias_and_offline_hub(tiny, tmp_path, monkeypatch):
    assert loading.resolve_model(str(tiny)) == str(tiny.resolve())
    monkeypatch.setenv("HALO_FORGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    # "tiny" builds the preset model on first use, under HALO_FORGE_HOME.
    built = Path(loading.resolve_model("tiny"))
    assert built == presets.tiny_model_dir() and is_tiny_model_dir(built)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(loading.ModelNotFoundError) as exc:
        loading.resolve_model("Qwen/Qwen2.5-Coder-0.5B-Instruct")
    msg = str(exc.value)
    assert "not in the Hugging Face cache and the hub is offline" in msg
    assert "cached hub models: none" in msg and str(built) in msg  # names what IS available
    with pytest.raises(loading.ModelNotFoundError, match="model directory ./nowhere does not exist"):
        loading.resolve_model("./nowhere")


def test_pick_device_and_dtype_on_this_machine():
    import torch

    device = loading.pick_device()
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert loading.pick_dtype("cpu", "auto") == torch.float32
    assert loading.pick_dtype("cpu", "fp16") == torch.float32  # no fp16 training on CPU
    assert loading.pick_dtype("cpu", "bf16") == torch.bfloat16  # explicit wins


def test_load_model_and_tokenizer_with_adapter(tiny, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    peft.save_pretrained(tmp_path / "adapter")
    loaded = loading.load_model_and_tokenizer({"model": {"name": str(tiny), "adapter": str(tmp_path / "adapter")}})
    assert type(loaded.model).__name__ == "PeftModelForCausalLM"
    assert loaded.device == loading.pick_device() and not loaded.model.training
    with pytest.raises(loading.ModelNotFoundError, match="no LoRA adapter"):
        loading.load_model_and_tokenizer({"name": str(tiny), "adapter": str(tmp_path)})


def test_presets_and_loading_modules_are_light_and_list_the_tiny_model():
    code = (
        "import sys; import core.models.presets as p; import core.models.loading as l; "
        "assert 'tiny' in l.resolve_model.__doc__; "
        "assert p.model_presets()[0].name == 'tiny'; "
        "bad = [m for m in ('torch', 'transformers', 'peft', 'trl', 'datasets') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    labels = [p.label for p in presets.model_presets()]
    assert presets.TINY_PRESET_LABEL in labels
    assert any("Qwen2.5-Coder" in label for label in labels) and any("DeepSeek-Coder" in label for label in labels)
    assert presets.find_preset("Mistral 7B Instruct v0.3").name == "mistralai/Mistral-7B-Instruct-v0.3"


def test_cli_entry_builds_the_model(tmp_path):
    out = tmp_path / "cli-tiny"
    subprocess.run([sys.executable, "-m", "core.models.tiny", "--out", str(out)], cwd=REPO, check=True, capture_output=True)
    assert is_tiny_model_dir(out)
