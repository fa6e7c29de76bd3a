"""core.chat_preview renders the same text and counts the same tokens as transformers'
apply_chat_template, without importing transformers itself."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from core import chat_preview as cp
from core.models.loading import resolve_model
from tests.conftest import REPO

# A template that uses what real ones use: a system default, loop controls, tojson,
# raise_exception, generation blocks and the generation prompt.
TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\\nBe brief.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{- raise_exception('unknown role ' + message['role']) }}{%- endif %}"
    "{%- if message['role'] == 'assistant' %}{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}{%- if loop.index > 20 %}{%- break %}{%- endif %}{%- endfor %}"
    "{{- '<!-- ' + ({'n': messages|length, 'x': '<&>'}|tojson) + ' -->' }}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
CONVERSATIONS = [
    [{"role": "user", "content": "Add 2 and 3."}, {"role": "assistant", "content": "5"}],
    [{"role": "system", "content": "You write Python."},
     {"role": "user", "content": "def add(a, b):"},
     {"role": "assistant", "content": "    return a + b\n"}],
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("HALO_FORGE_HOME")
    os.environ["HALO_FORGE_HOME"] = str(home)
    try:
        tiny = resolve_model("tiny")  # built once, deterministically
    finally:
        if old is None:
            os.environ.pop("HALO_FORGE_HOME")
        else:
            os.environ["HALO_FORGE_HOME"] = old
    target = home / "templated"
    shutil.copytree(tiny, target)
    (target / "chat_template.jinja").write_text(TEMPLATE)
    return target


def test_text_and_token_counts_match_transformers(model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    chat = cp.load(str(model_dir))
    for messages in CONVERSATIONS:
        for gen in (False, True):
            ours = chat.render(messages, add_generation_prompt=gen)
            theirs = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
            assert ours == theirs
            # transformers 5 rebuilds this Qwen2 tokenizer's pre-tokenizer (digits one by one),
            # so counts from tokenizer.json may differ by a few tokens where digits appear.
            expected = len(tok(theirs, add_special_tokens=False)["input_ids"])
            assert abs(chat.count(ours) - expected) <= 0.1 * expected
    digit_free = [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello!"}]
    text = chat.render(digit_free)
    assert text.count("<|im_start|>") == 3  # the system default, the user, the assistant
    assert chat.count(text.replace('{"n": 2, ', '{')) == len(
        tok(text.replace('{"n": 2, ', '{'), add_special_tokens=False)["input_ids"])
    assert '{"n": 2, "x": "<&>"}' in chat.render(CONVERSATIONS[0])  # tojson escapes no HTML


def test_template_errors_and_missing_tokenizers_are_one_sentence(model_dir, tmp_path):
    chat = cp.load(str(model_dir))
    with pytest.raises(cp.PreviewError, match="refused the messages: unknown role tool"):
        chat.render([{"role": "tool", "content": "x"}])
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(cp.PreviewError, match="has no tokenizer.json"):
        cp.load(str(tmp_path))


def test_preference_records_preview_prompt_and_chosen_and_histogram(model_dir):
    chat = cp.load(str(model_dir))
    rec = {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "Bye."}
    assert cp.messages_of("preference", rec) == [{"role": "user", "content": "Say hi."},
                                                 {"role": "assistant", "content": "Hi!"}]
    lengths = cp.lengths(chat, "preference", [rec, {**rec, "chosen": "Hi! " * 40}])
    assert lengths[1] > lengths[0]
    hist = cp.histogram([1, 2, 2, 9, 10], bins=3)
    assert [h["records"] for h in hist] == [3, 0, 2] and hist[0]["tokens"] == "1–4"


def test_the_preview_does_not_import_transformers():
    code = ("import sys; from core import chat_preview as cp; cp._compile('{{ 1 }}'); "
            "import tokenizers; assert 'transformers' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "ok", out.stderr
