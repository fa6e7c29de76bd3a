"""Benchmark metrics on hand-computed cases."""
from __future__ import annotations

import math

import pytest

from core.benchmarks import metrics as m


# ---- pass@k ---------------------------------------------------------------------------------

def _closed_form(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20])
def test_pass_at_k_matches_closed_form(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert m.pass_at_k(n, c, k) == pytest.approx(_closed_form(n, c, k), abs=1e-12)


def test_pass_at_k_hand_values():
    assert m.pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert m.pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert m.pass_at_k(5, 0, 5) == 0.0
    assert m.pass_at_k(5, 1, 5) == 1.0
    # large n: the product form stays finite where the binomials are astronomically large
    assert m.pass_at_k(2000, 1, 1) == pytest.approx(1 / 2000)


def test_pass_at_k_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k <= n"):
        m.pass_at_k(3, 1, 4)
    with pytest.raises(ValueError, match="c <= n"):
        m.pass_at_k(3, 4, 1)


def test_pass_at_k_table_skips_k_above_smallest_n():
    counts = [(5, 1), (5, 5), (5, 0)]
    table = m.pass_at_k_table(counts, [1, 5, 10])
    assert set(table) == {"pass@1", "pass@5"}
    assert table["pass@1"] == pytest.approx((0.2 + 1.0 + 0.0) / 3)
    assert table["pass@5"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)


# ---- VQA accuracy ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("Two.", "2"),
    ("The Red Car", "red car"),
    ("dont", "don't"),
    ("don't", "don't"),
    ("1,000", "1000"),
    ("3.5", "3.5"),
    ("yes!", "yes"),
    ("St. Louis", "st louis"),
    ("  none\n", "0"),
])
def test_vqa_normalisation(text, expected):
    assert m.normalize_vqa_answer(text) == expected


def test_vqa_accuracy_known_pairs():
    answers = ["2"] * 3 + ["3"] * 7
    assert m.vqa_accuracy("two", answers, leave_one_out=False) == 1.0
    # official leave-one-out: 3 subsets lose a match (2/3 each), 7 keep all three (1.0)
    assert m.vqa_accuracy("two", answers) == pytest.approx((3 * 2 / 3 + 7) / 10)
    assert m.vqa_accuracy("Three", answers) == 1.0
    assert m.vqa_accuracy("four", answers) == 0.0
    one = ["cat"] + ["dog"] * 9
    assert m.vqa_accuracy("a cat", one, leave_one_out=False) == pytest.approx(1 / 3)
    assert m.vqa_accuracy("a cat", one) == pytest.approx((9 * 1 / 3 + 0) / 10)


# ---- ANLS -----------------------------------------------------------------------------------

def test_levenshtein():
    assert m.levenshtein("kitten", "sitting") == 3
    assert m.levenshtein("", "abc") == 3
    assert m.levenshtein(["a", "b"], ["a", "b"]) == 0


def test_anls_known_pairs():
    assert m.anls("Invoice 42", ["invoice 42"]) == 1.0
    # one substitution in 8 chars: 1 - 1/8
    assert m.anls("acme ltd", ["acme ltc"]) == pytest.approx(1 - 1 / 8)
    # distance 3 of 5 -> NL 0.6 >= 0.5 -> 0
    assert m.anls("abxyz", ["abcde"]) == 0.0
    # best over the reference answers
    assert m.anls("12 may", ["may 12", "12 may 2020"]) == pytest.approx(1 - 5 / 11)
    # exactly at the threshold counts as 0
    assert m.anls("ab", ["ac"]) == 0.0


# ---- WER / CER ------------------------------------------------------------------------------

def test_wer_known_edits():
    assert m.wer("hello word", "hello world") == 0.5
    # one deletion + one insertion + one substitution over 6 reference words
    assert m.wer("the cat sat on a red mat", "the cat sat on the mat") == pytest.approx(2 / 6)
    assert m.wer("cat sat on the mat", "the cat sat on the mat") == pytest.approx(1 / 6)
    # normalisation: case and punctuation are not errors
    assert m.wer("Hello, World!", "hello world") == 0.0
    assert m.wer("well known", "Well-known.") == 0.0


def test_corpus_error_rate_weights_by_reference_length():
    pairs = [m.word_errors("a b c d", "a b c d"), m.word_errors("x", "y z")]
    assert m.error_rate(pairs) == pytest.approx(2 / 6)


def test_cer_known_edits():
    assert m.cer("abd", "abc") == pytest.approx(1 / 3)
    assert m.cer("Hi there.", "hi there") == 0.0


# ---- multiple choice ------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("B", "B"),
    ("The answer is C.", "C"),
    ("(D) a triangle", "D"),
    ("A. red", "A"),
    ("Answer: b", None),  # a lower-case letter is a word, not an option letter
    ("I cannot tell", None),
])
def test_extract_choice(text, expected):
    assert m.extract_choice(text, {"A": "red", "B": "blue", "C": "green", "D": "yellow"}) == expected


def test_extract_choice_by_option_text():
    assert m.extract_choice("it is blue", {"A": "red", "B": "blue"}) == "B"
    assert m.extract_choice("red or blue", {"A": "red", "B": "blue"}) is None


def test_parse_options_and_accuracy():
    q = "Which shape is red?\nOptions: A: circle, B: square, C: triangle, D: star"
    opts = m.parse_options(q)
    assert opts == {"A": "circle", "B": "square", "C": "triangle", "D": "star"}
    assert m.multiple_choice_accuracy("C", "C", opts) == 1.0
    assert m.multiple_choice_accuracy("triangle", "C", opts) == 1.0
    assert m.multiple_choice_accuracy("A", "C", opts) == 0.0


# ---- relaxed accuracy -----------------------------------------------------------------------

def test_relaxed_accuracy():
    assert m.relaxed_accuracy("104", ["100"]) == 1.0          # 4 % off
    assert m.relaxed_accuracy("106", ["100"]) == 0.0          # 6 % off
    assert m.relaxed_accuracy("95.0", "100") == 1.0           # exactly 5 %
    assert m.relaxed_accuracy("1,050", ["1000"]) == 1.0
    assert m.relaxed_accuracy("45%", ["45"]) == 1.0
    assert m.relaxed_accuracy("0", ["0"]) == 1.0
    assert m.relaxed_accuracy("0.01", ["0"]) == 0.0
    assert m.relaxed_accuracy("Apples", ["apples"]) == 1.0     # text: exact, case-insensitive
    assert m.relaxed_accuracy("apple", ["apples"]) == 0.0
    assert m.relaxed_accuracy("12", ["ten", "12.5"]) == 1.0    # any label


# ---- function calls -------------------------------------------------------------------------

REF = '[{"name": "get_weather", "arguments": {"city": "Oslo", "units": "metric"}}, ' \
      '{"name": "get_time", "arguments": {"tz": "CET"}}]'


def test_call_match_ignores_key_and_call_order():
    pred = '[{"name": "get_time", "arguments": {"tz": "CET"}}, ' \
           '{"name": "get_weather", "arguments": {"units": "metric", "city": "Oslo"}}]'
    assert m.call_match(pred, REF) == {"call_exact_match": 1.0, "call_name_match": 1.0}


def test_call_match_wrong_argument_keeps_name_match():
    pred = '[{"name": "get_weather", "arguments": {"city": "Bergen", "units": "metric"}}, ' \
           '{"name": "get_time", "arguments": {"tz": "CET"}}]'
    assert m.call_match(pred, REF) == {"call_exact_match": 0.0, "call_name_match": 1.0}


def test_call_match_missing_call_and_garbage():
    pred = '[{"name": "get_weather", "arguments": {"city": "Oslo", "units": "metric"}}]'
    assert m.call_match(pred, REF) == {"call_exact_match": 0.0, "call_name_match": 0.0}
    assert m.call_match("no idea", REF) == {"call_exact_match": 0.0, "call_name_match": 0.0}


def test_call_match_tool_call_tags_string_arguments_and_numbers():
    ref = [{"name": "add", "arguments": {"a": 3, "b": [1, 2]}}]
    pred = 'Sure.<tool_call>\n{"name": "add", "arguments": "{\\"b\\": [1, 2], \\"a\\": 3.0}"}\n</tool_call>'
    assert m.call_match(pred, ref)["call_exact_match"] == 1.0
    # list order inside an argument value is data, not call order
    pred2 = '<tool_call>{"name": "add", "arguments": {"a": 3, "b": [2, 1]}}</tool_call>'
    assert m.call_match(pred2, ref) == {"call_exact_match": 0.0, "call_name_match": 1.0}


def test_call_match_duplicate_calls_are_counted():
    ref = '[{"name": "f", "arguments": {}}, {"name": "f", "arguments": {}}]'
    assert m.call_match('[{"name": "f", "arguments": {}}]', ref)["call_exact_match"] == 0.0
    assert m.call_match('[{"name": "f"}, {"name": "f", "arguments": {}}]', ref)["call_exact_match"] == 1.0


def test_wer_normalisation_is_right_on_our_table():
    """The adopted English normaliser against a careful reader's word-error counts."""
    from core import jsonl
    from core.paths import REPO_ROOT

    rows = jsonl.read(REPO_ROOT / "data" / "eval" / "wer_pairs.jsonl")
    wrong = [(r["reference"], r["hypothesis"]) for r in rows
             if m.word_errors(r["hypothesis"], r["reference"])[0] != r["errors"]]
    assert len(rows) >= 16 and wrong == []
