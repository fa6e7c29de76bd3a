"""Dataset catalogue: samples load offline in their own schema, formatting, validation
errors, and the shipped code problems are correct (reference code passes its tests)."""
from __future__ import annotations

import base64
import json
import pickle
import re
import socket
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

import core.datasets as ds
from core.datasets import DatasetError

REPO = Path(__file__).resolve().parent.parent
NAMES = ["alpaca", "metamath", "gsm8k", "xlam", "humaneval", "mbpp", "livecodebench", "math", "ultrafeedback"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


# ---------------------------------------------------------------- catalogue

def test_catalogue_has_the_nine_datasets_with_their_uses():
    assert list(ds.CATALOGUE) == NAMES
    assert {e.name for e in ds.entries("grpo")} == {e.name for e in ds.entries("raft")}
    assert [e.name for e in ds.entries("dpo")] == ["ultrafeedback"]
    assert {e.name for e in ds.entries("sft")} == {"alpaca", "metamath", "gsm8k", "xlam"}
    assert {e.name for e in ds.entries("raft")} == {"humaneval", "mbpp", "livecodebench",
                                                    "gsm8k", "math"}
    for entry in ds.entries("raft"):
        assert entry.verifier == entry.name
    assert ds.get("humaneval").sample_path is None
    for entry in ds.entries():
        assert set(entry.uses) <= set(ds.USES)
        if entry.sample_path:
            assert (REPO / entry.sample_path).is_file()


def test_get_accepts_hub_names_and_aliases_and_suggests_on_typos():
    assert ds.get("openai/gsm8k").name == "gsm8k"
    assert ds.get("competition_math").name == "math"
    assert ds.get("GSM8K").name == "gsm8k"
    with pytest.raises(ValueError, match=r"unknown dataset 'gsm8'; known: alpaca, .*"
                                         r"\(did you mean 'gsm8k'\?\)"):
        ds.get("gsm8")
    with pytest.raises(ValueError, match="unknown use 'rl'"):
        ds.entries("rl")


# ---------------------------------------------------------------- offline loading

@pytest.mark.parametrize("name", NAMES)
def test_sample_loads_offline_in_its_own_schema(name):
    entry = ds.get(name)
    loaded = ds.load_records(name)
    assert loaded.name == name
    assert loaded.note and loaded.note.startswith("offline:")
    if name == "humaneval":
        assert loaded.source == "package" and len(loaded.records) == 164
    else:
        assert loaded.source == "sample"
        assert 16 <= len(loaded.records) <= 40
        assert f"{len(loaded.records)} records" in loaded.note
    for record in loaded.records:
        assert set(entry.fields) <= set(record), record


@pytest.mark.parametrize("name", NAMES)
def test_to_messages_and_to_prompt_on_every_record(name):
    for record in ds.load_records(name, source="sample").records:
        messages = ds.to_messages(name, record)
        assert all(m["role"] in ("system", "user", "assistant") for m in messages)
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages)
        roles = [m["role"] for m in messages]
        assert roles[-1] == ("user" if name == "livecodebench" else "assistant")
        assert roles.count("user") == 1
        prompt = ds.to_prompt(name, record)
        assert isinstance(prompt, str) and prompt.strip()


def test_formatting_details():
    gsm = ds.load_records("gsm8k", source="sample").records[5]
    chat = ds.to_messages("gsm8k", gsm)
    assert gsm["question"] in chat[0]["content"]
    assert "<<" not in chat[1]["content"] and chat[1]["content"].endswith("#### 16")
    he = ds.load_records("humaneval", limit=1).records[0]
    assert he["prompt"] in ds.to_prompt("humaneval", he)
    assert ds.reference_answer("humaneval", he) == he["prompt"] + he["canonical_solution"]
    xlam = ds.load_records("xlam", source="sample").records[0]
    system, user, assistant = ds.to_messages("xlam", xlam)
    assert json.loads(system["content"].split("\n", 1)[1]) == json.loads(xlam["tools"])
    assert user["content"] == xlam["query"]
    assert json.loads(assistant["content"]) == json.loads(xlam["answers"])
    lcb = {r["question_title"]: r for r in ds.load_records("livecodebench").records}
    assert "standard input" in ds.to_prompt("livecodebench", lcb["Sum of Two"])
    assert "class Solution" in ds.to_prompt("livecodebench", lcb["Running Maximum"])
    mbpp = ds.load_records("mbpp").records[0]
    assert mbpp["test_list"][0] in ds.to_prompt("mbpp", mbpp)
    alpaca = ds.load_records("alpaca").records[1]  # empty input: no trailing blank lines
    assert ds.to_prompt("alpaca", alpaca) == alpaca["instruction"]


def test_limit_is_honoured():
    assert len(ds.load_records("gsm8k", limit=5).records) == 5
    assert len(ds.load_records("humaneval", limit=3).records) == 3
    with pytest.raises(ValueError, match="limit must be at least 1"):
        ds.load_records("gsm8k", limit=0)


def test_auto_falls_back_to_the_sample_when_the_hub_fails(monkeypatch):
    monkeypatch.setattr(ds, "is_offline", lambda: False)

    def broken(entry, limit, split):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub")

    monkeypatch.setattr(ds, "_load_hub", broken)
    loaded = ds.load_records("gsm8k", limit=4)
    assert loaded.source == "sample" and len(loaded.records) == 4
    assert loaded.note.startswith("hub unavailable (ConnectionError: Couldn't reach")
    assert loaded.note.endswith("using the shipped sample of 4 records")
    with pytest.raises(DatasetError, match="could not load 'openai/gsm8k' from the hub"):
        ds.load_records("gsm8k", source="hub")


def test_hub_calls_match_each_upstream_layout():
    assert ds._hub_calls(ds.get("gsm8k"), "test") == [
        {"path": "openai/gsm8k", "name": "main", "split": "test"}]
    math_calls = ds._hub_calls(ds.get("math"), "test")
    assert len(math_calls) == 7 and math_calls[0]["name"] == "algebra"
    lcb = ds._hub_calls(ds.get("livecodebench"), "test")[0]
    assert lcb["path"] == "json" and lcb["data_files"][0].startswith(
        "hf://datasets/livecodebench/code_generation_lite/")


def test_hub_loader_runs_the_real_datasets_streaming_path(tmp_path):
    # The hub is unreachable here; a local JSON file through the same `datasets` call
    # (json builder, streaming, limit) proves the loader code itself works.
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}", "answer": f"#### {i}"}) + "\n"
                            for i in range(5)))
    entry = ds.DatasetEntry(name="gsm8k", title="t", description="d", uses=("sft",),
                            hub_name="x/y", hub_config=None, hub_split="train",
                            fields=("question", "answer"), verifier=None, sample_path=None,
                            license="MIT", hub_data_files=(str(data),))
    rows = ds._load_hub(entry, 3, "train")
    assert rows == [{"question": f"q{i}", "answer": f"#### {i}"} for i in range(3)]


def test_module_stays_light():
    code = ("import sys, core.datasets as d; d.load_records('gsm8k', source='sample'); "
            "bad = [m for m in ('datasets', 'torch', 'transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_is_offline_env_and_reachability(monkeypatch):
    assert ds.is_offline() is True
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    ds._OFFLINE_CACHE.clear()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        assert ds.is_offline() is False
    closed_port = port  # the listener is gone now: connection refused
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}/")
    ds._OFFLINE_CACHE.clear()
    assert ds.is_offline() is True
    ds._OFFLINE_CACHE.clear()


# ---------------------------------------------------------------- reference answers

def test_gsm8k_annotations_are_arithmetically_right_and_match_the_answer():
    for record in ds.load_records("gsm8k").records:
        notes = re.findall(r"<<([^=<>]+)=([^<>]+)>>", record["answer"])
        assert notes, record["question"]
        for expr, result in notes:
            assert re.fullmatch(r"[\d+\-*/(). ]+", expr), expr
            assert eval(expr) == pytest.approx(float(result)), expr  # digits/operators only
        final = ds.reference_answer("gsm8k", record)
        assert float(final) == pytest.approx(float(notes[-1][1]))


def test_math_and_metamath_answers_are_extractable():
    for record in ds.load_records("math").records:
        assert ds.reference_answer("math", record), record["problem"]
        assert record["level"] in {f"Level {i}" for i in range(1, 6)}
    answers = [ds.reference_answer("metamath", r) for r in ds.load_records("metamath").records]
    assert all(a and re.fullmatch(r"-?\d+(\.\d+)?", a) for a in answers), answers
    assert ds.last_boxed(r"so $x = \boxed{\frac{3}{4}}$ and \boxed{7}") == "7"
    assert ds.last_boxed(r"it is \boxed{\frac{3}{4}}.") == r"\frac{3}{4}"
    assert ds.last_boxed("no box") is None


def test_xlam_calls_use_listed_tools_with_required_parameters():
    for record in ds.load_records("xlam").records:
        tools = {t["name"]: t["parameters"] for t in json.loads(record["tools"])}
        for call in json.loads(record["answers"]):
            params = tools[call["name"]]
            assert set(call["arguments"]) <= set(params), call
            required = {p for p, spec in params.items() if "optional" not in spec["type"]}
            assert required <= set(call["arguments"]), call


# ---------------------------------------------------------------- code problems are correct

def _run(code: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", code], input=stdin, text=True,
                          capture_output=True, timeout=30)


def _mbpp_program(record: dict, code: str) -> str:
    tests = record["test_list"] + record["challenge_test_list"]
    return "\n".join([record["test_setup_code"], code, *tests])


def test_mbpp_reference_code_passes_its_tests():
    records = ds.load_records("mbpp").records
    for record in records:
        result = _run(_mbpp_program(record, record["code"]))
        assert result.returncode == 0, (record["task_id"], result.stderr)
    wrong = _run(_mbpp_program(records[0], "def add(a, b):\n    return a - b"))
    assert wrong.returncode != 0 and "AssertionError" in wrong.stderr


# Reference solutions for data/datasets/livecodebench.jsonl, by question_id.
LCB_SOLUTIONS = {
    "hf001": "a, b = map(int, input().split())\nprint(a + b)",
    "hf002": "print(2 * int(input()))",
    "hf003": "input()\nprint(sum(1 for x in input().split() if int(x) % 2 == 0))",
    "hf004": "input()\nv = list(map(int, input().split()))\nprint(max(v) - min(v))",
    "hf005": "print(' '.join(reversed(input().split())))",
    "hf006": """
        n = int(input())
        count = 0
        for coin in (25, 10, 5, 1):
            count += n // coin
            n %= coin
        print(count)""",
    "hf007": """
        n = int(input())
        a, b = 1, 1
        for _ in range(n - 1):
            a, b = b, (a + b) % 1000000007
        print(b)""",
    "hf008": """
        pairs = {')': '(', ']': '[', '}': '{'}
        stack = []
        ok = True
        for ch in input().strip():
            if ch in '([{':
                stack.append(ch)
            elif not stack or stack.pop() != pairs[ch]:
                ok = False
                break
        print('Yes' if ok and not stack else 'No')""",
    "hf009": """
        import sys
        from collections import deque
        data = sys.stdin.read().split()
        h, w = int(data[0]), int(data[1])
        grid = data[2:2 + h]
        dist = {(0, 0): 0}
        queue = deque([(0, 0)])
        while queue:
            r, c = queue.popleft()
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nr, nc = r + dr, c + dc
                if 0 <= nr < h and 0 <= nc < w and grid[nr][nc] == '.' and (nr, nc) not in dist:
                    dist[(nr, nc)] = dist[(r, c)] + 1
                    queue.append((nr, nc))
        print(dist.get((h - 1, w - 1), -1))""",
    "hf010": """
        class Solution:
            def runningMax(self, nums: List[int]) -> List[int]:
                out, best = [], None
                for n in nums:
                    best = n if best is None or n > best else best
                    out.append(best)
                return out""",
    "hf011": """
        class Solution:
            def countPairs(self, nums: List[int], target: int) -> int:
                return sum(1 for i in range(len(nums)) for j in range(i + 1, len(nums))
                           if nums[i] + nums[j] == target)""",
    "hf012": """
        class Solution:
            def longestRun(self, s: str) -> int:
                best = run = 1
                for a, b in zip(s, s[1:]):
                    run = run + 1 if a == b else 1
                    best = max(best, run)
                return best""",
    "hf013": """
        class Solution:
            def digitalRoot(self, num: int) -> int:
                while num >= 10:
                    num = sum(int(d) for d in str(num))
                return num""",
    "hf014": """
        class Solution:
            def countMerged(self, intervals: List[List[int]]) -> int:
                count, end = 0, None
                for s, e in sorted(intervals):
                    if end is None or s > end:
                        count += 1
                        end = e
                    else:
                        end = max(end, e)
                return count""",
    "hf015": """
        class Solution:
            def firstMissing(self, nums: List[int]) -> int:
                seen = set(nums)
                k = 1
                while k in seen:
                    k += 1
                return k""",
    "hf016": """
        import math
        class Solution:
            def isSumOfSquares(self, n: int) -> bool:
                a = 0
                while a * a <= n:
                    b = math.isqrt(n - a * a)
                    if b * b == n - a * a:
                        return True
                    a += 1
                return False""",
}

# How a functional (LeetCode-style) test is run: arguments one JSON value per line,
# the result compared as JSON.
_FUNCTIONAL_DRIVER = """
import json, sys
from typing import *
{code}
case = json.loads(sys.stdin.read())
args = [json.loads(line) for line in case["input"].split("\\n")]
result = getattr(Solution(), case["func"])(*args)
sys.exit(0 if result == json.loads(case["output"]) else 1)
"""


def _lcb_passes(record: dict, code: str, case: dict) -> bool:
    func = ds.lcb_func_name(record)
    if case["testtype"] == "functional":
        program = _FUNCTIONAL_DRIVER.format(code=code)
        payload = json.dumps({"input": case["input"], "output": case["output"], "func": func})
        return _run(program, payload).returncode == 0
    result = _run(code, case["input"])
    return result.returncode == 0 and result.stdout.split() == case["output"].split()


def test_livecodebench_reference_solutions_pass_every_test():
    records = ds.load_records("livecodebench").records
    assert {r["question_id"] for r in records} == set(LCB_SOLUTIONS)
    for record in records:
        code = textwrap.dedent(LCB_SOLUTIONS[record["question_id"]]).strip()
        cases = ds.lcb_test_cases(record)
        assert len(cases) >= 3, record["question_id"]
        kinds = {c["testtype"] for c in cases}
        assert kinds == ({"functional"} if record["starter_code"] else {"stdin"})
        for case in cases:
            assert _lcb_passes(record, code, case), (record["question_id"], case)
    # The harness can fail: a wrong program fails a test.
    first = records[0]
    assert not _lcb_passes(first, "print(0)", ds.lcb_test_cases(first)[0])


class _RunsCode:
    # Unpickling this would call print(): hub data must never get that far.
    def __reduce__(self):
        return (print, ("unpickled code ran",))


def test_livecodebench_compressed_tests_decode_and_refuse_objects():
    records = ds.load_records("livecodebench").records
    compressed = [r for r in records if not r["private_test_cases"].startswith("[")]
    assert compressed, "some samples keep the upstream compressed form"
    tests = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert ds.decode_lcb_tests(ds.encode_lcb_tests(tests)) == tests

    evil = base64.b64encode(zlib.compress(pickle.dumps(_RunsCode()))).decode()
    with pytest.raises(DatasetError, match="refusing to unpickle"):
        ds.decode_lcb_tests(evil)


# ---------------------------------------------------------------- local files

def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_INSTRUCTION = json.dumps({"instruction": "Add 1 and 2.", "input": "", "output": "3"})
MISSING_OUTPUT = json.dumps({"instruction": "Add 2 and 2.", "input": ""})

BAD_FILES = [
    ("bad JSON on line 3", "x.jsonl",
     "\n".join([GOOD_INSTRUCTION, GOOD_INSTRUCTION, '{"instruction": "a", "output": }']),
     None, r"^line 3: invalid JSON \(Expecting value at column 32\)$"),
    ("missing field on line 7", "x.jsonl", "\n".join([GOOD_INSTRUCTION] * 6 + [MISSING_OUTPUT]),
     None, r"^line 7: missing field 'output'$"),
    ("empty file", "x.jsonl", "", None, r"^x\.jsonl is empty: no records found$"),
    ("blank lines only", "x.jsonl", "\n\n  \n", None, r"is empty: no records found"),
    ("not an object", "x.jsonl", GOOD_INSTRUCTION + "\n[1, 2]\n", None,
     r"^line 2: expected a JSON object, got a list$"),
    ("wrong type", "x.jsonl", json.dumps({"instruction": "a", "output": 3}), None,
     r"^line 1: field 'output' must be a string, got an integer$"),
    ("bad chat role", "x.jsonl",
     json.dumps({"messages": [{"role": "user", "content": "hi"},
                              {"role": "bot", "content": "hello"}]}), None,
     r"^line 1: messages\[1\] has role 'bot'; expected one of system, user, assistant, tool$"),
    ("empty chat", "x.jsonl", json.dumps({"messages": []}), None,
     r"^line 1: field 'messages' is empty$"),
    ("unrecognised record", "x.jsonl", json.dumps({"foo": 1}), None,
     r"^line 1: unrecognised record \(fields: foo\)"),
    ("named schema, missing field", "x.jsonl",
     json.dumps({"question": "1+1?", "answer": "#### 2"}) + "\n" +
     json.dumps({"question": "2+2?"}), "gsm8k", r"^line 2: missing field 'answer'$"),
    ("xlam tools not JSON", "x.jsonl",
     json.dumps({"id": 1, "query": "q", "tools": "[{oops", "answers": "[]"}), "xlam",
     r"^line 1: field 'tools' is not valid JSON"),
    ("json list with a bad record", "x.json",
     json.dumps([json.loads(GOOD_INSTRUCTION), json.loads(MISSING_OUTPUT)]), None,
     r"^record 2: missing field 'output'$"),
    ("json file that is not a list", "x.json", json.dumps({"a": 1}), None,
     r"^expected a JSON list of records, got an object$"),
    ("broken json file", "x.json", '[{"instruction": "a",\n "output": ]', None,
     r"^line 2: invalid JSON"),
]


@pytest.mark.parametrize("label,filename,text,schema,message", BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_validate_file_names_the_line_and_field(tmp_path, label, filename, text, schema,
                                                message):
    path = _write(tmp_path, filename, text)
    with pytest.raises(DatasetError, match=message):
        ds.validate_file(path, schema)


def test_validate_file_missing_path_and_unknown_schema(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        ds.validate_file(tmp_path / "nope.jsonl")
    path = _write(tmp_path, "ok.jsonl", GOOD_INSTRUCTION)
    with pytest.raises(ValueError, match="did you mean 'alpaca'"):
        ds.validate_file(path, "alpacca")


def test_local_chat_and_instruction_files_load_and_format(tmp_path):
    chat = _write(tmp_path, "chat.jsonl", json.dumps({"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"}]}) + "\n")
    loaded = ds.load_records(str(chat))
    assert (loaded.source, loaded.schema, loaded.name) == ("file", "chat", f"file:{chat}")
    assert ds.to_messages(loaded.name, loaded.records[0])[-1] == {"role": "assistant",
                                                                  "content": "4"}
    assert ds.to_prompt(loaded.name, loaded.records[0]) == "2+2?"
    assert ds.reference_answer(loaded.name, loaded.records[0]) == "4"
    inst = _write(tmp_path, "inst.jsonl", GOOD_INSTRUCTION + "\n\n" + GOOD_INSTRUCTION + "\n")
    loaded = ds.load_records(f"file:{inst}", limit=1)
    assert loaded.schema == "instruction" and len(loaded.records) == 1
    assert ds.to_messages(loaded.name, loaded.records[0]) == [
        {"role": "user", "content": "Add 1 and 2."}, {"role": "assistant", "content": "3"}]
    # A local file in a catalogue schema is recognised by its fields.
    gsm = _write(tmp_path, "mine.jsonl", json.dumps({"question": "1+1?", "answer": "#### 2"}))
    loaded = ds.load_records(str(gsm))
    assert loaded.schema == "gsm8k" and ds.reference_answer(loaded.name, loaded.records[0]) == "2"


def test_local_files_lists_jsonl_and_json_only(tmp_path):
    for name in ("b.jsonl", "a.json", "notes.txt", "sub/c.jsonl"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    assert [p.relative_to(tmp_path).as_posix() for p in ds.local_files(tmp_path)] == [
        "a.json", "b.jsonl", "sub/c.jsonl"]
    assert ds.local_files(tmp_path / "missing") == []


def test_shipped_samples_validate_against_their_schema():
    for entry in ds.entries():
        if entry.sample_path:
            records = ds.validate_file(REPO / entry.sample_path, entry.name)
            assert ds.detect_schema(records[0]) in (entry.name, "instruction")
