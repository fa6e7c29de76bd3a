"""Batched generation for the benchmark runner: causal LMs, vision-language models, Whisper.

Heavy (torch, transformers); only the job process imports it. Every `generate` returns
(texts, new_token_count) so the runner can report tokens per second.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A ChatML template that renders tools (as JSON schemas) into the system turn, for models whose
# own template ignores `tools` (the tiny model, many base models).
TOOLS_CHAT_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\nYou are a function-calling assistant. Answer with a JSON list of "
    "calls, each {\"name\": ..., \"arguments\": {...}}, using only these tools:\\n' }}"
    "{%- for t in tools %}{{- t | tojson }}{{- '\\n' }}{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

_XLAM_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer",
               "float": "number", "number": "number", "bool": "boolean", "boolean": "boolean",
               "list": "array", "array": "array", "tuple": "array", "set": "array",
               "dict": "object", "object": "object"}


def xlam_tools_to_schemas(tools: list[dict]) -> list[dict]:
    """xLAM tool definitions ({"name", "description", "parameters": {arg: {"type",
    "description", "default"?}}}) as the JSON schemas chat templates expect."""
    schemas = []
    for tool in tools:
        props, required = {}, []
        for arg, spec in (tool.get("parameters") or {}).items():
            spec = spec if isinstance(spec, dict) else {}
            raw = str(spec.get("type", "string"))
            base = re.split(r"[\[,\s]", raw.strip(), maxsplit=1)[0].lower()
            prop = {"type": _XLAM_TYPES.get(base, "string"), "description": spec.get("description", "")}
            if "default" in spec:
                prop["default"] = spec["default"]
            props[arg] = prop
            if "optional" not in raw.lower() and "default" not in spec:
                required.append(arg)
        schemas.append({"type": "function", "function": {
            "name": tool.get("name", ""), "description": tool.get("description", ""),
            "parameters": {"type": "object", "properties": props, "required": required}}})
    return schemas


def _device_dtype(dtype: str):
    from core.models.loading import pick_device, pick_dtype

    device = pick_device()
    return device, pick_dtype(device, dtype)


def _with_adapter(model, adapter: str | None):
    if not adapter:
        return model
    from pathlib import Path

    from peft import PeftModel

    from core.models.loading import ModelNotFoundError

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise ModelNotFoundError(f"model.adapter: no LoRA adapter (adapter_config.json) in {adapter}")
    return PeftModel.from_pretrained(model, adapter)


def _sampling(temperature: float) -> dict:
    if temperature > 0:
        return {"do_sample": True, "temperature": temperature, "top_p": 0.95}
    return {"do_sample": False}


def _count_new(tokens, pad_id: int | None, eos_ids: set[int]) -> int:
    """Generated tokens up to and including the first EOS of each row."""
    total = 0
    for row in tokens.tolist():
        n = 0
        for t in row:
            if t == pad_id and t not in eos_ids:
                break
            n += 1
            if t in eos_ids:
                break
        total += n
    return total


def _eos_ids(generation_config, tokenizer) -> set[int]:
    eos = generation_config.eos_token_id if generation_config is not None else None
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


# ---------------------------------------------------------------------------- text


@dataclass
class TextGenerator:
    model: Any
    tokenizer: Any
    device: str

    @classmethod
    def load(cls, path: str, adapter: str | None = None, dtype: str = "auto",
             trust_remote_code: bool = False) -> "TextGenerator":
        from transformers import AutoModelForCausalLM

        from core.models.loading import load_tokenizer

        device, torch_dtype = _device_dtype(dtype)
        tokenizer = load_tokenizer(path, trust_remote_code)
        tokenizer.padding_side = "left"  # generation continues from the right edge
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype,
                                                     trust_remote_code=trust_remote_code)
        model = _with_adapter(model, adapter).to(device).eval()
        return cls(model, tokenizer, device)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render(self, prompt: str) -> tuple[str, bool]:
        """(text to encode, templated?) for one user prompt."""
        if not self.has_chat_template:
            return prompt, False
        messages = [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), True

    def render_tools_prompt(self, query: str, tools: list[dict]) -> str:
        """The query with the tools in the model's own template when it renders tools, else
        in a ChatML template that lists them in the system turn."""
        messages = [{"role": "user", "content": query}]
        template = getattr(self.tokenizer, "chat_template", None)
        if isinstance(template, str) and "tools" in template:
            return self.tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
                                                      add_generation_prompt=True)
        return self.tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
                                                  add_generation_prompt=True,
                                                  chat_template=TOOLS_CHAT_TEMPLATE)

    def generate(self, prompts: list[str], temperature: float = 0.0, max_new_tokens: int = 256,
                 templated: bool | None = None) -> tuple[list[str], int]:
        """One batched `generate` call over the prompts (left-padded)."""
        import torch

        if templated is None:
            rendered = [self.render(p) for p in prompts]
            texts = [t for t, _ in rendered]
            templated = rendered[0][1] if rendered else False
        else:
            texts = prompts
        # A rendered template already holds its special tokens; a raw prompt gets the
        # tokenizer's own (e.g. Llama's BOS).
        enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                             add_special_tokens=not templated).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens,
                                      pad_token_id=self.tokenizer.pad_token_id,
                                      **_sampling(temperature))
        new = out[:, enc["input_ids"].shape[1]:]
        count = _count_new(new, self.tokenizer.pad_token_id,
                           _eos_ids(getattr(self.model, "generation_config", None), self.tokenizer))
        return self.tokenizer.batch_decode(new, skip_special_tokens=True), count


# ---------------------------------------------------------------------------- vision-language


@dataclass
class VLMGenerator:
    model: Any
    processor: Any
    device: str

    @classmethod
    def load(cls, path: str, adapter: str | None = None, dtype: str = "auto",
             trust_remote_code: bool = False) -> "VLMGenerator":
        from transformers import AutoModelForImageTextToText, AutoProcessor

        device, torch_dtype = _device_dtype(dtype)
        processor = AutoProcessor.from_pretrained(path, trust_remote_code=trust_remote_code)
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch_dtype,
                                                            trust_remote_code=trust_remote_code)
        model = _with_adapter(model, adapter).to(device).eval()
        return cls(model, processor, device)

    def render(self, question: str) -> str:
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def generate(self, pairs: list[tuple[Any, str]], max_new_tokens: int = 32) -> tuple[list[str], int]:
        """Greedy answers for (image, question) pairs in one batched call."""
        import torch

        texts = [self.render(q) for _, q in pairs]
        enc = self.processor(images=[img for img, _ in pairs], text=texts, padding=True,
                             return_tensors="pt").to(self.device)
        if "pixel_values" in enc and self.model.dtype != enc["pixel_values"].dtype:
            enc["pixel_values"] = enc["pixel_values"].to(self.model.dtype)
        tok = self.processor.tokenizer
        with torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=tok.pad_token_id)
        new = out[:, enc["input_ids"].shape[1]:]
        count = _count_new(new, tok.pad_token_id, _eos_ids(self.model.generation_config, tok))
        return [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)], count


# ---------------------------------------------------------------------------- speech


@dataclass
class ASRGenerator:
    model: Any
    processor: Any
    device: str

    @classmethod
    def load(cls, path: str, adapter: str | None = None, dtype: str = "auto",
             trust_remote_code: bool = False) -> "ASRGenerator":
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        device, torch_dtype = _device_dtype(dtype)
        processor = AutoProcessor.from_pretrained(path, trust_remote_code=trust_remote_code)
        model = AutoModelForSpeechSeq2Seq.from_pretrained(path, dtype=torch_dtype,
                                                          trust_remote_code=trust_remote_code)
        model = _with_adapter(model, adapter).to(device).eval()
        return cls(model, processor, device)

    def generate(self, audios: list, max_new_tokens: int = 128) -> tuple[list[str], int]:
        """Greedy English transcripts of 16 kHz mono arrays, one batched call."""
        import torch

        fe = self.processor.feature_extractor
        enc = fe(audios, sampling_rate=fe.sampling_rate, return_tensors="pt",
                 return_attention_mask=True)
        features = enc["input_features"].to(self.device, dtype=self.model.dtype)
        # The decoder prompt (start, language, task, no-timestamps) counts against the
        # model's maximum target length.
        limit = int(getattr(self.model.config, "max_target_positions", 448)) - 4
        kwargs: dict = {"max_new_tokens": max(1, min(max_new_tokens, limit)), "num_beams": 1,
                        "do_sample": False}
        if getattr(self.model.generation_config, "is_multilingual", False):
            kwargs.update(language="en", task="transcribe")
        with torch.inference_mode():
            out = self.model.generate(features, attention_mask=enc["attention_mask"].to(self.device),
                                      **kwargs)
        tok = self.processor.tokenizer
        texts = tok.batch_decode(out, skip_special_tokens=True)
        count = int((out != tok.pad_token_id).sum().item()) if tok.pad_token_id is not None else out.numel()
        return [t.strip() for t in texts], count
