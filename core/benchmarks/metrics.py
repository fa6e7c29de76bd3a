"""Benchmark metrics in plain Python (no torch, no numpy): safe to import from pages and the CLI.

Each scorer takes one prediction and its reference(s) and returns a float in [0, 1] (or an edit
count for WER/CER, which aggregate over the corpus). `aggregate` averages per-sample scores.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any, Iterable, Sequence

# --------------------------------------------------------------------------------------------
# pass@k


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with n samples of which c passed (Chen et al. 2021).

    1 - C(n-c, k) / C(n, k), computed as a product so that large n does not overflow.
    """
    if n < 1 or k < 1 or k > n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got n={n}, k={k}")
    if c < 0 or c > n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got n={n}, c={c}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over problems given (n, c) per problem."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def pass_at_k_table(counts: Sequence[tuple[int, int]], ks: Iterable[int]) -> dict[str, float]:
    """{"pass@1": .., "pass@5": ..} for every k that does not exceed the smallest n."""
    if not counts:
        return {}
    n_min = min(n for n, _ in counts)
    return {f"pass@{k}": mean_pass_at_k(counts, k) for k in sorted(set(ks)) if 1 <= k <= n_min}


# --------------------------------------------------------------------------------------------
# VQA accuracy (TextVQA) with the standard answer normalisation

_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've",
    "couldnt": "couldn't", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't",
    "hadnt": "hadn't", "hasnt": "hasn't", "havent": "haven't", "hed": "he'd", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "im": "i'm",
    "ive": "i've", "isnt": "isn't", "itd": "it'd", "itll": "it'll", "lets": "let's",
    "mightnt": "mightn't", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "shant": "shan't", "shed": "she'd", "shes": "she's",
    "shouldve": "should've", "shouldnt": "shouldn't", "thats": "that's", "thered": "there'd",
    "theres": "there's", "theyd": "they'd", "theyll": "they'll", "theyre": "they're",
    "theyve": "they've", "wasnt": "wasn't", "wed": "we'd", "weve": "we've", "werent": "weren't",
    "whatll": "what'll", "whatre": "what're", "whats": "what's", "whatve": "what've",
    "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've",
    "whod": "who'd", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
    "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've",
    "wouldnt": "wouldn't", "yall": "y'all", "youd": "you'd", "youll": "you'll",
    "youre": "you're", "youve": "you've",
}
_NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_ARTICLES = {"a", "an", "the"}
_VQA_PUNCT = re.compile(r"[;/\[\]\"{}()=+\\_\-><@`,?!*#%^&$:~|]")
# A comma between digits is a thousands separator ("1,000"), not punctuation to split on.
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")
# A period that is not a decimal point.
_LONE_PERIOD = re.compile(r"(?<!\d)\.|\.(?!\d)")


def _vqa_punctuation(text: str) -> str:
    # Apostrophes are deleted so that "what's" and "whats" meet in the contraction table;
    # other punctuation becomes a space so that words do not merge.
    text = text.replace("'", "")
    text = _DIGIT_COMMA.sub("", text)
    text = _LONE_PERIOD.sub(" ", text)
    return _VQA_PUNCT.sub(" ", text)


def _vqa_digits_articles(text: str) -> str:
    words = []
    for word in text.lower().split():
        word = _NUMBER_WORDS.get(word, word)
        if word in _ARTICLES:
            continue
        words.append(_CONTRACTIONS.get(word, word))
    return " ".join(words)


def normalize_vqa_answer(text: str) -> str:
    """The VQA answer normalisation: case, whitespace, punctuation, number words, articles,
    contractions."""
    text = text.replace("\n", " ").replace("\t", " ").strip().lower()
    return _vqa_digits_articles(_vqa_punctuation(text))


def vqa_accuracy(prediction: str, answers: Sequence[str], leave_one_out: bool = True) -> float:
    """VQA accuracy: min(#annotators who gave the prediction / 3, 1).

    With `leave_one_out` (the official evaluation), the score is averaged over the subsets of
    len(answers) - 1 annotators, so 3 matching answers out of 10 give 0.9 rather than 1.0.
    """
    if not answers:
        raise ValueError("vqa_accuracy needs at least one reference answer")
    pred = normalize_vqa_answer(prediction)
    gts = [normalize_vqa_answer(a) for a in answers]
    if not leave_one_out or len(gts) == 1:
        return min(sum(g == pred for g in gts) / 3.0, 1.0)
    scores = []
    for i in range(len(gts)):
        others = gts[:i] + gts[i + 1:]
        scores.append(min(sum(g == pred for g in others) / 3.0, 1.0))
    return sum(scores) / len(scores)


# --------------------------------------------------------------------------------------------
# Edit distance, ANLS (DocVQA), WER / CER


def levenshtein(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Edit distance between two sequences (characters or words), O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def anls(prediction: str, answers: Sequence[str], threshold: float = 0.5) -> float:
    """Average Normalised Levenshtein Similarity for one question: best over the answers of
    1 - NL(pred, answer), where NL >= threshold counts as 0."""
    if not answers:
        raise ValueError("anls needs at least one reference answer")
    pred = " ".join(prediction.strip().lower().split())
    best = 0.0
    for answer in answers:
        gt = " ".join(answer.strip().lower().split())
        longest = max(len(pred), len(gt))
        nl = levenshtein(pred, gt) / longest if longest else 0.0
        best = max(best, 1.0 - nl if nl < threshold else 0.0)
    return best


_ASR_PUNCT = re.compile(r"[^\w\s']|_")
_ENGLISH = None


def basic_normalise(text: str) -> str:
    """Lowercase, drop punctuation (hyphens split words, apostrophes are kept inside words),
    collapse whitespace: the fallback when transformers is not installed."""
    text = text.lower().replace("-", " ")
    text = _ASR_PUNCT.sub(" ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes
    return " ".join(text.split())


def normalize_transcript(text: str) -> str:
    """The usual English normaliser for WER (Whisper's EnglishTextNormalizer from
    transformers: case, punctuation, numbers "twenty five" -> 25, "mr." -> mister, fillers
    dropped), without its British-to-American spelling table (it ships with Whisper model
    repos, not with transformers). On our table (data/eval/wer_pairs.jsonl) it is right on
    16 of 16 pairs, our plain rules on 9 (scripts/compare_scorers.py); the edit distance is the
    same as jiwer's on every pair. Imported on first use (no torch), so this module stays
    light."""
    global _ENGLISH
    if _ENGLISH is None:
        try:
            from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

            _ENGLISH = EnglishTextNormalizer({})
        except ImportError:
            _ENGLISH = basic_normalise
    return " ".join(_ENGLISH(text).split())


def word_errors(prediction: str, reference: str) -> tuple[int, int]:
    """(word edit count, reference word count) after normalisation."""
    ref = normalize_transcript(reference).split()
    hyp = normalize_transcript(prediction).split()
    return levenshtein(hyp, ref), len(ref)


def char_errors(prediction: str, reference: str) -> tuple[int, int]:
    """(character edit count, reference character count) after normalisation."""
    ref = normalize_transcript(reference)
    hyp = normalize_transcript(prediction)
    return levenshtein(hyp, ref), len(ref)


def error_rate(pairs: Iterable[tuple[int, int]]) -> float:
    """Corpus error rate: total edits / total reference length (as jiwer computes it)."""
    edits = total = 0
    for e, n in pairs:
        edits += e
        total += n
    if total == 0:
        return 0.0 if edits == 0 else float("inf")
    return edits / total


def wer(prediction: str, reference: str) -> float:
    return error_rate([word_errors(prediction, reference)])


def cer(prediction: str, reference: str) -> float:
    return error_rate([char_errors(prediction, reference)])


# --------------------------------------------------------------------------------------------
# Multiple choice (MMStar)

_CHOICE_PATTERNS = [
    re.compile(r"(?i:answer)\s*(?i:is)?\s*[:\s]*\(?([A-Z])\)?(?![A-Za-z])"),
    re.compile(r"^\s*\(?([A-Z])\)?(?:[.:)\s]|$)"),
    re.compile(r"\(([A-Z])\)"),
    re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])"),
]


def extract_choice(text: str, options: dict[str, str] | None = None) -> str | None:
    """The option letter a free-form answer chose, or None.

    Tries "answer is B" / "B." / "(B)" / a lone capital letter, restricted to the option
    letters when known; otherwise an answer that quotes exactly one option's text picks it.
    """
    letters = set(options) if options else None
    for pattern in _CHOICE_PATTERNS:
        for match in pattern.finditer(text):
            letter = match.group(1).upper()
            if letters is None or letter in letters:
                return letter
    if options:
        low = text.lower()
        hits = [k for k, v in options.items() if v and v.lower() in low]
        if len(hits) == 1:
            return hits[0]
    return None


_OPTION_LINE = re.compile(r"(?:^|\n|\s)([A-H])\s*[:.)]\s*(.+?)(?=(?:\s*,?\s*[A-H]\s*[:.)]\s)|\n|$)")


def parse_options(question: str) -> dict[str, str]:
    """Options written into an MMStar-style question ("Options: A: red, B: blue ...")."""
    _, sep, tail = question.partition("Options:")
    text = tail if sep else question
    return {m.group(1): m.group(2).strip().rstrip(",") for m in _OPTION_LINE.finditer(text)}


def multiple_choice_accuracy(prediction: str, answer: str, options: dict[str, str] | None = None) -> float:
    choice = extract_choice(prediction, options)
    return float(choice is not None and choice == answer.strip().upper())


# --------------------------------------------------------------------------------------------
# Relaxed accuracy (ChartQA)

_NUMBER = re.compile(r"^[-+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)$")


def _to_float(text: str) -> float | None:
    text = text.strip().rstrip(".").strip()
    if text.startswith("$"):
        text = text[1:]
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if not _NUMBER.match(text):
        return None
    value = float(text.replace(",", ""))
    # ChartQA labels write percentages without the sign; "45%" and "45" must compare equal,
    # so the sign is dropped instead of dividing by 100.
    return value


def relaxed_match(prediction: str, target: str, tolerance: float = 0.05) -> bool:
    """ChartQA relaxed accuracy: numbers within `tolerance` relative error, else exact match
    (case- and whitespace-insensitive)."""
    p, t = _to_float(prediction), _to_float(target)
    if p is not None and t is not None:
        if t == 0:
            return p == 0
        return abs(p - t) / abs(t) <= tolerance
    return " ".join(prediction.lower().split()) == " ".join(target.lower().split())


def relaxed_accuracy(prediction: str, targets: Sequence[str] | str, tolerance: float = 0.05) -> float:
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise ValueError("relaxed_accuracy needs at least one reference answer")
    return float(any(relaxed_match(prediction, t, tolerance) for t in targets))


# --------------------------------------------------------------------------------------------
# Function calling (xLAM)


def _canonical(value: Any) -> Any:
    """JSON value with integral floats as ints, so 3 and 3.0 compare equal."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def normalize_call(call: Any) -> dict[str, Any] | None:
    """{"name": str, "arguments": dict} from the common call shapes, or None."""
    if not isinstance(call, dict):
        return None
    if "function" in call and isinstance(call["function"], dict):  # OpenAI tool_calls entry
        call = call["function"]
    name = call.get("name")
    if not isinstance(name, str) or not name:
        return None
    args = call.get("arguments", call.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None
    return {"name": name, "arguments": _canonical(args)}


def _json_values(text: str) -> list[Any]:
    """Every top-level JSON object or array embedded in free text, left to right."""
    decoder = json.JSONDecoder()
    values, i = [], 0
    while i < len(text):
        if text[i] in "[{":
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError:
                i += 1
                continue
            values.append(value)
            i = end
        else:
            i += 1
    return values


def parse_calls(text: str | list) -> list[dict[str, Any]]:
    """Function calls in a model output: a JSON list of calls, JSON objects (e.g. inside
    <tool_call> tags), or an already-parsed list. Unparseable pieces are ignored."""
    if isinstance(text, list):
        values: list[Any] = [text]
    else:
        values = _json_values(text)
    calls = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            call = normalize_call(item)
            if call is not None:
                calls.append(call)
    return calls


def _call_key(call: dict[str, Any]) -> str:
    return json.dumps(call, sort_keys=True, ensure_ascii=False)


def call_match(prediction: str | list, reference: str | list) -> dict[str, float]:
    """Exact match of the call multiset (order of calls and of argument keys ignored) and
    name-only match. `reference` is the xLAM `answers` field (JSON string or list)."""
    ref_value = json.loads(reference) if isinstance(reference, str) else reference
    ref = parse_calls(ref_value if isinstance(ref_value, list) else [ref_value])
    pred = parse_calls(prediction)
    exact = Counter(map(_call_key, pred)) == Counter(map(_call_key, ref))
    names = Counter(c["name"] for c in pred) == Counter(c["name"] for c in ref)
    return {"call_exact_match": float(exact), "call_name_match": float(names)}


# --------------------------------------------------------------------------------------------


def aggregate(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
