"""The training text a record becomes under a model's chat template, and its length in tokens.

For the Datasets page, which must not import transformers. A tokenizer's files are plain data:
`tokenizer.json` (read by the `tokenizers` library, the Rust tokenizer transformers itself
wraps) and a Jinja chat template (`chat_template.jinja`, or `chat_template` in
tokenizer_config.json) rendered here with jinja2's sandbox, the way transformers renders it
(trim_blocks, lstrip_blocks, loop controls, `{% generation %}` blocks, raise_exception,
strftime_now, a tojson that does not escape HTML). Both packages are already installed
(transformers and streamlit depend on them); loading the tiny model's tokenizer takes a few
ms, so a subprocess or a job would only add latency. tests/test_chat_preview.py checks the
text against transformers' own apply_chat_template. Token counts come from tokenizer.json as
saved; transformers may rebuild a tokenizer class's pre-tokenizer on load (seen here: the tiny
Qwen2 model's digits are split one by one), so counts can differ by a few tokens per number:
fine for a length histogram, and said on the page.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from core import datasets as ds

TEMPLATE_FILE = "chat_template.jinja"


class PreviewError(ValueError):
    """The model's tokenizer or template cannot be used here; one sentence."""


@dataclass
class ChatFormat:
    model: str
    template: str | None
    tokenizer: Any  # tokenizers.Tokenizer
    special: dict[str, str]

    def render(self, messages: list[dict], add_generation_prompt: bool = False) -> str:
        if not self.template:
            raise PreviewError(f"{self.model} has no chat template; SFT needs one to format "
                               "chat records")
        try:
            return _compile(self.template).render(
                messages=messages, add_generation_prompt=add_generation_prompt, **self.special)
        except PreviewError:
            raise
        except Exception as exc:  # a template error is the model's, not ours: say which
            raise PreviewError(f"{self.model}'s chat template failed: {exc}") from None

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)


# ---- finding the files --------------------------------------------------------------------

def model_dir(model: str) -> Path:
    """A local directory holding the model's tokenizer files (the hub cache for hub ids)."""
    from core.models.loading import ModelNotFoundError, resolve_model  # light: no torch

    try:
        resolved = resolve_model(model, build_tiny=False)
    except ModelNotFoundError as exc:
        raise PreviewError(str(exc)) from None
    path = Path(resolved)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(resolved, "tokenizer_config.json")
    except Exception:  # noqa: BLE001
        hit = None
    if not isinstance(hit, str):
        raise PreviewError(f"{model}'s tokenizer is not downloaded; load the model once "
                           "(a training or benchmark job does) to preview with it")
    return Path(hit).parent


def load(model: str) -> ChatFormat:
    path = model_dir(model)
    stamp = tuple((path / f).stat().st_mtime if (path / f).exists() else 0.0
                  for f in ("tokenizer.json", "tokenizer_config.json", TEMPLATE_FILE))
    return _load(str(path), stamp, model)


@lru_cache(maxsize=8)
def _load(path_text: str, _stamp: tuple, model: str) -> ChatFormat:
    from tokenizers import Tokenizer

    path = Path(path_text)
    if not (path / "tokenizer.json").is_file():
        raise PreviewError(f"{model} has no tokenizer.json (a fast tokenizer is needed to count "
                           "tokens)")
    config = _json(path / "tokenizer_config.json")
    template = None
    if (path / TEMPLATE_FILE).is_file():
        template = (path / TEMPLATE_FILE).read_text(encoding="utf-8")
    elif config.get("chat_template"):
        template = _default_template(config["chat_template"])
    special = {k: _token_text(config.get(k)) for k in
               ("bos_token", "eos_token", "pad_token", "unk_token")}
    return ChatFormat(model, template, Tokenizer.from_file(str(path / "tokenizer.json")),
                      {k: v for k, v in special.items() if v is not None})


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _default_template(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # named templates: [{"name": "default", "template": ...}]
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        return named.get("default") or next(iter(named.values()), None)
    return None


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


# ---- the template engine ------------------------------------------------------------------

@lru_cache(maxsize=16)
def _compile(template: str):
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationBlock(Extension):
        # `{% generation %}…{% endgeneration %}` marks the assistant's tokens for
        # assistant-only loss; for the text it renders its body unchanged.
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    def raise_exception(message):
        raise PreviewError(f"the chat template refused the messages: {message}")

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise PreviewError(f"the chat template does not parse (line {exc.lineno}: "
                           f"{exc.message})") from None


# ---- records to text ----------------------------------------------------------------------

def messages_of(fmt: str, record: dict) -> list[dict]:
    """The conversation a training record becomes (preference: the prompt and the chosen
    reply, which is what DPO scores against the rejected one)."""
    if fmt == "preference":
        def turns(value, role):
            return value if isinstance(value, list) else [{"role": role, "content": value}]
        prompt = turns(record["prompt"], "user") if record.get("prompt") else []
        return prompt + turns(record["chosen"], "assistant")
    return ds.to_messages(fmt, record)


def lengths(chat: ChatFormat, fmt: str, records: list[dict], limit: int = 2000) -> list[int]:
    """Token lengths of the first `limit` records' training text."""
    return [chat.count(chat.render(messages_of(fmt, r))) for r in records[:limit]]


def histogram(values: list[int], bins: int = 20) -> list[dict]:
    """[{"tokens": "lo–hi", "records": n}] over equal-width bins."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    width = max(1, -(-(hi - lo + 1) // bins))
    counts: dict[int, int] = {}
    for v in values:
        counts[(v - lo) // width] = counts.get((v - lo) // width, 0) + 1
    def label(i):
        first, last = lo + i * width, lo + (i + 1) * width - 1
        return str(first) if first == last else f"{first}–{last}"

    return [{"tokens": label(i), "records": counts.get(i, 0)} for i in range(max(counts) + 1)]
