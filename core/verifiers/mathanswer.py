"""Final answers of math completions: extraction, normalisation, comparison.

Extraction order (the first that finds something wins):
1. the last \\boxed{...} / \\fbox{...} (nested braces balanced), or `\\boxed 5`;
2. the last "final answer is / the answer is / answer:" phrase, up to the end of its line;
3. the last number in the text.
Normalisation: drops $, \\( \\), \\left/\\right, spacing commands, \\text{...} units, degrees,
a trailing period, thousands separators (1,234), "x =" prefixes; \\dfrac/\\tfrac become \\frac;
\\frac{a}{b}, \\sqrt{x}, \\cdot, \\times, ^ and \\pi become plain expressions.
Comparison: equal strings; else numbers within 1e-6 (relative) including fractions and
percentages; else element by element for tuples/lists of the same length and brackets; else
sympy decides (lazily imported) when both sides parse as small, whitelisted expressions; else
math-verify (the field's checker: sets, mixed numbers, intervals, relations) decides on the
LaTeX of both sides. On our table of 44 equivalent / non-equivalent pairs
(data/eval/math_pairs.jsonl, scripts/compare_scorers.py) math-verify alone is right on 44, our
rules alone on 41; together on 44, and our rules keep what math-verify's LaTeX reading drops
(units in words, "x = 5").
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_PHRASE = re.compile(r"(?:final answer(?: is)?|the answer is|answer\s*(?:is)?\s*[:=])\s*[:=]?\s*"
                     r"(.+?)(?:\n|$)", re.IGNORECASE)
_UNITS = ("cm", "m", "km", "mm", "inches", "inch", "in", "feet", "foot", "ft", "yards",
          "yard", "miles", "mile", "meters", "meter", "cents", "cent", "dollars", "dollar",
          "units", "unit", "degrees", "degree", "seconds", "second", "minutes", "minute",
          "hours", "hour", "days", "day", "weeks", "years", "sq", "square", "cubic", "pounds",
          "ounces", "grams", "kg", "liters", "people", "apples", "students", "percent")


# ------------------------------------------------------------------ extraction

def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced, stripped.

    The one implementation: datasets (reference answers) and verifiers (predictions) both
    call it."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = text.index("x", start) + 1 if text.startswith("\\fbox", start) else start + len("\\boxed")
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] != "{":  # \boxed 5
        m = re.match(r"[^\s$]+", text[i:])
        return m.group(0) if m else None
    depth, j = 0, i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
        j += 1
    return None  # unbalanced


def extract_answer(text: str) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    phrases = _PHRASE.findall(text)
    if phrases:
        answer = phrases[-1].strip()
        answer = re.sub(r"^\*+|\*+$", "", answer).strip()  # markdown bold
        if answer:
            return answer
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def strip_thousands(text: str) -> str:
    """1,234,567 -> 1234567 (a comma between digits in groups of three only)."""
    return _THOUSANDS.sub("", text)


def gsm8k_gold(answer: str) -> str | None:
    """The number after the last '####' of a GSM8K answer, without thousands separators.

    The one implementation: datasets.reference_answer and the GSM8K verifier both call it."""
    _, sep, tail = answer.rpartition("####")
    return strip_thousands(tail.strip()) if sep else None


def extract_gsm8k(text: str) -> str | None:
    """A GSM8K prediction: '#### N' first, then the general rules, reduced to a number."""
    if not isinstance(text, str):
        return None
    hashes = re.findall(r"####\s*([^\n]+)", text)
    candidate = hashes[-1] if hashes else extract_answer(text)
    if candidate is None:
        return None
    numbers = _NUMBER.findall(normalise(candidate))
    return numbers[0] if len(numbers) == 1 else (numbers[-1] if numbers else candidate)


# ------------------------------------------------------------------ normalisation

def _replace_frac(s: str) -> str:
    out, i = [], 0
    while True:
        j = s.find("\\frac", i)
        if j < 0:
            return "".join(out) + s[i:]
        out.append(s[i:j])
        k = j + len("\\frac")
        num, k = _group(s, k)
        den, k = _group(s, k)
        if num is None or den is None:
            out.append(s[j:k])
        else:
            out.append(f"({_replace_frac(num)})/({_replace_frac(den)})")
        i = k


def _group(s: str, k: int) -> tuple[str | None, int]:
    """A {...} group or a single character at s[k] (\\frac12 shorthand)."""
    while k < len(s) and s[k] == " ":
        k += 1
    if k >= len(s):
        return None, k
    if s[k] != "{":
        return s[k], k + 1
    depth = 0
    for j in range(k, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return s[k + 1:j], j + 1
    return None, len(s)


def _replace_sqrt(s: str) -> str:
    s = re.sub(r"\\sqrt\s*\[(\d+)\]\s*\{([^{}]*)\}", r"(\2)**(1/\1)", s)
    s = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"sqrt(\1)", s)
    return re.sub(r"\\sqrt\s*(\w)", r"sqrt(\1)", s)


def normalise(answer: str) -> str:
    s = str(answer).strip()
    s = s.replace("\\$", "").replace("$", "")
    s = re.sub(r"\\\(|\\\)|\\\[|\\\]", "", s)
    s = re.sub(r"\\(left|right|big|Big|bigl|bigr|Bigl|Bigr)\b", "", s)
    s = re.sub(r"\\[!,;: ]|~", "", s)
    s = re.sub(r"\\(?:text|textbf|mathrm|mbox|textit)\{([^{}]*)\}", r" \1 ", s)
    s = re.sub(r"\^\s*\{?\\circ\}?|°|\\degree", "", s)
    s = s.replace("\\%", "%").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\displaystyle", "")
    s = s.strip().rstrip(".").strip()
    if re.fullmatch(r"[A-Za-z]\s*=\s*.+", s):  # "x = 5"
        s = s.split("=", 1)[1].strip()
    s = strip_thousands(s)
    words = s.split()
    while len(words) > 1 and words[-1].lower().strip(".") in _UNITS:
        words.pop()  # "12 cm", "5 square units"
    s = " ".join(words)
    s = _replace_sqrt(_replace_frac(s))
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/")
    s = s.replace("\\pi", "pi").replace("\\infty", "oo").replace("^", "**")
    s = s.replace("{", "(").replace("}", ")")
    s = re.sub(r"\s+", "", s)
    return s


# ------------------------------------------------------------------ comparison

def to_number(s: str) -> float | None:
    """A normalised answer as a number: integers, decimals, a/b, (a)/(b), percentages."""
    t = s.strip()
    if t.endswith("%"):
        t = t[:-1]
    t = t.replace("(", "").replace(")", "") if re.fullmatch(r"\(?-?[\d.]+\)?/\(?[\d.]+\)?", t) else t
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            return float(Fraction(num) / Fraction(den))
        return float(Fraction(t))
    except (ValueError, ZeroDivisionError):
        return None


def numbers_close(a: float, b: float, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=rel,
                                                                 abs_tol=abs_tol)


def answers_match(pred: str | None, gold: str | None) -> bool:
    if pred is None or gold is None:
        return False
    p, g = normalise(pred), normalise(gold)
    if not p or not g:
        return False
    if p == g or p.rstrip("%") == g.rstrip("%"):
        return True
    pn, gn = to_number(p), to_number(g)
    if pn is not None and gn is not None:
        return numbers_close(pn, gn)
    pp, gp = _parts(p), _parts(g)
    if len(pp) > 1 and len(pp) == len(gp) and p[:1] == g[:1] and p[-1:] == g[-1:]:
        if all(answers_match(a, b) for a, b in zip(pp, gp)):
            return True
    return symbolic_equal(p, g) or math_verify_equal(pred, gold)


def _mv_safe(s: str) -> bool:
    """Short LaTeX without huge powers: math-verify runs without its signal timeout in worker
    threads, so nothing that could make sympy compute for long goes near it."""
    if len(s) > 160:
        return False
    exps = re.findall(r"\^\s*\{?\s*(\d+)", s)
    return s.count("^") <= 3 and all(len(e) <= 3 for e in exps)


def math_verify_equal(pred: str, gold: str) -> bool:
    """math-verify's verdict on the LaTeX of both answers (False when it is not installed,
    cannot parse either side, or the input is too big to hand it)."""
    if not (_mv_safe(pred) and _mv_safe(gold)):
        return False
    try:
        import logging
        import threading

        from math_verify import LatexExtractionConfig, parse, verify
    except ImportError:
        return False
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    # signal-based timeouts only work in the main thread; verify_batch runs in a pool
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    config = [LatexExtractionConfig()]
    try:
        g = parse(f"${gold}$", extraction_config=config, parsing_timeout=timeout)
        p = parse(f"${pred}$", extraction_config=config, parsing_timeout=timeout)
        return bool(g and p and verify(g, p, timeout_seconds=timeout))
    except Exception:  # noqa: BLE001 - anything it raises means "not shown equal"
        return False


def _parts(s: str) -> list[str]:
    inner = s[1:-1] if len(s) > 1 and s[0] in "([{" and s[-1] in ")]}" else s
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


_SAFE = re.compile(r"[0-9A-Za-z+\-*/().]*")
_FUNCS = {"sqrt", "pi", "sin", "cos", "tan", "log", "ln", "exp", "oo"}


def _safe_expr(s: str) -> bool:
    """Only short expressions of numbers, single-letter symbols and a few functions; no huge
    powers. (sympy's parser evaluates Python, so nothing else goes near it.)"""
    if len(s) > 80 or not _SAFE.fullmatch(s) or "__" in s:
        return False
    for word in re.findall(r"[A-Za-z]+", s):
        if word not in _FUNCS and len(word) > 1:
            return False
    if s.count("**") > 2:
        return False
    for m in re.finditer(r"\*\*\(?(\d+)", s):
        if len(m.group(1)) > 3:
            return False
    return True


def symbolic_equal(a: str, b: str) -> bool:
    if not (_safe_expr(a) and _safe_expr(b)):
        return False
    try:
        import sympy
        from sympy.parsing.sympy_parser import (implicit_multiplication_application,
                                                parse_expr, standard_transformations)
    except ImportError:
        return False
    names = {"sqrt": sympy.sqrt, "pi": sympy.pi, "e": sympy.E, "ln": sympy.log,
             "log": sympy.log, "exp": sympy.exp, "sin": sympy.sin, "cos": sympy.cos,
             "tan": sympy.tan, "oo": sympy.oo}
    transforms = standard_transformations + (implicit_multiplication_application,)
    try:
        ea = parse_expr(a, local_dict=dict(names), transformations=transforms)
        eb = parse_expr(b, local_dict=dict(names), transformations=transforms)
        diff = sympy.simplify(ea - eb)
        if diff == 0:
            return True
        if not diff.free_symbols:
            value = complex(diff.evalf())
            return abs(value) < 1e-9
    except Exception:  # noqa: BLE001 - anything sympy raises means "not shown equal"
        return False
    return False
