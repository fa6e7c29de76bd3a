"""The one metrics parser: what a line of job output says about progress and metrics.

Accepted shapes (case-insensitive, several facts per line separated by spaces, commas or
" | "):

- progress: ``Epoch X/Y``, ``Step X/Y``, ``Cycle X/Y`` (also ``Step [X/Y]``, ``step: X/Y``,
  ``Step X of Y``), and ``step: X`` / ``epoch: 1.5`` / ``cycle: X`` as plain values;
- ``name: value`` or ``name=value`` for the known metric names below, a trailing ``%``
  divides by 100 (``verification rate: 42%`` is 0.42);
- sampling progress of a RAFT cycle: ``sampled X/Y prompts`` and ``verified X/Y samples``
  give the metrics ``prompts_sampled`` and ``samples_verified`` (X);
- ``checkpoint saved: PATH`` (also ``checkpoint saved to PATH`` and the Trainer's
  ``Saving model checkpoint to PATH``);
- a JSON metric line ``{"metric": {"step": 12, "loss": 0.5, ...}}`` (or ``"metrics"``), whose
  every numeric field is kept, and a plain JSON object whose values are all numbers;
- the dicts that Hugging Face's Trainer prints, ``{'loss': '2.346', 'grad_norm': '1.23',
  'learning_rate': '4.5e-05', 'epoch': '0.5'}`` (transformers 5.x prints floats as ``.4g``
  strings; older versions printed bare floats; both work);
- tqdm bars ``45%|####5     | 45/100 [00:12<00:15,  3.6it/s]`` give step/total_steps. A line
  holding several carriage-return updates is read in order, so the last update wins. Bars
  that are not training progress are ignored: nested bars (drawn with a cursor-up escape,
  such as the Trainer's evaluation bar), bars counted in ``examples/s`` (datasets ``map`` and
  TRL's dataset preparation) and bars whose description starts with a loading / saving verb
  (``Loading checkpoint shards``, ``Writing model shards``, ...). A bar printed on the same
  line just before a Trainer dict shows tqdm's last redraw, which can lag the logged step when
  steps take under tqdm's 0.1 s redraw interval.

Canonical metric names (one set, whatever the source): lower snake case of the printed name
(``Train Loss`` -> ``train_loss``; ``/`` and other separators -> ``_``); a rate suffix ``/s``,
``/sec``, `` per second``, ``_per_second`` -> ``_per_s`` as our runners spell it (``tokens/s``
-> ``tokens_per_s``; the Trainer's ``train_samples_per_second`` -> ``train_samples_per_s``);
then these aliases: ``learning_rate`` -> ``lr``; ``gradient_norm``, ``gradnorm`` ->
``grad_norm``; ``tok_per_s`` -> ``tokens_per_s``. Every other name stays as printed, so
``train_loss`` and ``eval_loss`` stay distinct from ``loss``. Free text only yields the known
names (loss and its split variants, lr, grad_norm, verification_rate, reward*, accuracy,
perplexity, entropy, kl, pass@k, */s rates, throughput) so that "size: 1234" in a log line
is no metric; a JSON metric line carries any other name. An epoch reported as a value
(``epoch: 1.5``, a dict's ``epoch``) is also stored as the metric ``epoch``; ``Epoch 2/3`` is
progress only.

Non-finite values (nan, inf) and partial numbers (``0.5.3``, ``1e``, ``abc``) are skipped; a
line that says nothing gives None. parse_line never raises. Needs Python 3.11+ (slots).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

__all__ = ["Parsed", "parse_line", "canonical_name"]

MAX_LINE = 16384  # longer lines are only read for their last carriage-return updates
_MAX_INT = 2**63 - 1  # the ledger stores steps in SQLite INTEGER columns


@dataclass(slots=True)
class Parsed:
    """What one line says; every field is optional."""

    metrics: dict[str, float] = field(default_factory=dict)
    step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    total_epochs: int | None = None
    cycle: int | None = None
    total_cycles: int | None = None
    checkpoint: str | None = None

    def empty(self) -> bool:
        return not self.metrics and self.checkpoint is None and self.step is None \
            and self.total_steps is None and self.epoch is None and self.total_epochs is None \
            and self.cycle is None and self.total_cycles is None


# ---- text patterns -------------------------------------------------------------------------

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)\b"
_SPLIT = r"(?:train|eval|val|valid|validation|test|mean|avg|average|min|max|total)[ _]"
# Metric names read from free text. A closed list, because "size: 1234" in an ordinary log
# line must not become a metric; any other name travels in a JSON metric line.
_KEYS = "|".join([
    rf"(?:{_SPLIT})?(?:loss|accuracy|acc|perplexity|ppl|entropy|kl)",
    rf"(?:{_SPLIT})?rewards?(?:[ _](?:mean|std|min|max|avg))?",
    r"lr", r"learning[ _]rate",
    r"grad(?:ient)?[ _]?norm",
    r"verification[ _]rate",
    r"pass@\d+",
    r"(?:tokens|tok|samples|it|steps)(?:/s(?:ec)?\b|[ _]per[ _]s(?:ec(?:ond)?)?\b)",
    r"throughput",
])
_TOKEN = re.compile(
    rf"""
    \b(?P<pk>epoch|step|cycle)s?\b\s*[:#]?\s*\[?\s*(?P<pn>\d+(?:\.\d+)?)
        \s*(?:/|\bof\b)\s*(?P<pt>\d+)(?![/.]?\d)\s*\]?
   |\b(?P<vk>epoch|step|cycle)\s*[:=]\s*(?P<vn>{_NUM})(?!\w|\.\d)
   |(?<![\w@/.])(?P<key>{_KEYS})\s*[:=]\s*(?P<val>{_NUM})(?P<pct>\s*%)?(?!\w|\.\d)
   |\b(?P<ck>sampled|verified)\s+(?P<cn>\d+)\s*/\s*(?P<ct>\d+)\s+(?P<cu>prompts|samples)\b
   |\b(?:checkpoint\s+saved(?:\s+to)?|saved\s+checkpoint(?:\s+to)?|saving\s+model\s+checkpoint\s+to)
        \s*:?\s*(?P<path>[^\s|].*?)\s*(?=\s\|\s|$)
    """,
    re.VERBOSE,
)
# Where a _TOKEN can start, less its optional split prefix. Every alternative begins with a
# literal, so the regex engine scans a line for them quickly; _TOKEN itself (whose branches
# begin with look-behinds) is only tried at these places. It doubles as the pre-filter.
_ANCHOR = re.compile(r"epoch|step|cycle|checkpoint|saved|saving|sampled|verified|loss|acc"
                     r"|perplexity|ppl"
                     r"|entropy|kl|reward|lr|learning|grad|verification|pass@|tok|samples"
                     r"|it[/ _]|throughput")
_SPLIT_BEFORE = re.compile(rf"{_SPLIT}$")
_SPLITTABLE = {"loss", "acc", "perplexity", "ppl", "entropy", "kl", "reward"}
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")
# tqdm: "{desc}: {pct}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}{postfix}]"; the
# bar itself never contains "|".
_BAR = re.compile(r"(?P<pct>\d{1,3})%\|[^|]*\|\s*(?P<n>\d+)/(?P<t>\d+)(?:\s*\[(?P<rest>[^\]]*))?")
_NOT_TRAINING = ("loading", "writing", "saving", "downloading", "fetching", "uploading",
                 "map", "filter", "tokenizing", "generating train", "generating test",
                 "generating validation", "resolving", "extracting", "converting", "casting",
                 "computing checksums")

# ---- dict patterns (Trainer prints a Python dict, not JSON) --------------------------------

_PYSTR = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_PYVAL = rf"{_PYSTR}|[^,{{}}\[\]\s'\"]+"
_PYITEM = re.compile(rf"\s*({_PYSTR})\s*:\s*({_PYVAL})\s*")
_PYDICT = re.compile(rf"\{{(?:{_PYITEM.pattern}(?:,{_PYITEM.pattern})*,?)?\s*\}}")
_PY_CONST = {"None": None, "True": True, "False": False}

_ALIASES = {
    "learning_rate": "lr",
    "gradient_norm": "grad_norm", "gradnorm": "grad_norm", "gradientnorm": "grad_norm",
    "tok_per_s": "tokens_per_s",
}
_PER_S = re.compile(r"\s*/\s*s(?:ec)?$|[ _]per[ _]s(?:ec(?:ond)?)?$")
_NON_WORD = re.compile(r"[^a-z0-9@]+")
# Keys of a dict that are progress, not metrics.
_STEP_KEYS = {"step": "step", "global_step": "step", "total_steps": "total_steps",
              "max_steps": "total_steps", "cycle": "cycle", "total_cycles": "total_cycles",
              "num_cycles": "total_cycles", "total_epochs": "total_epochs",
              "num_epochs": "total_epochs", "num_train_epochs": "total_epochs"}
# A dict with one of these keys is a metrics dict even when some values are text.
_KNOWN_DICT_KEYS = {"loss", "lr", "grad_norm", "epoch", "step", "train_loss", "eval_loss"}

_name_cache: dict[str, str] = {}


def canonical_name(name: str) -> str:
    """The stored name of a metric: lower snake case, then the aliases above."""
    out = _name_cache.get(name)
    if out is None:
        n = _PER_S.sub("_per_s", name.strip().lower())
        n = _NON_WORD.sub("_", n).strip("_")
        out = _ALIASES.get(n, n)
        if len(_name_cache) > 4096:  # bounded: names come from untrusted output
            _name_cache.clear()
        _name_cache[name] = out
    return out


# ---- value helpers -------------------------------------------------------------------------

def _float(value: object) -> float | None:
    """A finite float from a number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _is_numeric(value: object) -> bool:
    """True for numbers and numeric strings, non-finite ones included."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        try:
            float(value.strip())
            return True
        except ValueError:
            return False
    return False


def _count(value: object) -> int | None:
    """A non-negative whole number that fits a SQLite INTEGER, else None."""
    f = _float(value)
    if f is None or f < 0 or f != int(f) or f > _MAX_INT:
        return None
    return int(f)


# ---- parsing -------------------------------------------------------------------------------

def metric_line(step: int | None, **values: object) -> str:
    """The JSON metric line of the output contract: the one writer for what `parse_line` reads
    (training, benchmark and verify jobs all print through it). None values are left out;
    floats are rounded to 6 decimals, which is finer than any chart shows."""
    clean = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()
             if v is not None}
    body = {"step": int(step), **clean} if step is not None else clean
    return json.dumps({"metric": body})


def parse_line(line: str) -> Parsed | None:
    """Parse one line of job output; None when it carries nothing. Never raises."""
    try:
        return _parse(line)
    except Exception:  # noqa: BLE001 -- one odd line must never stop the supervisor's ingest
        return None


def _parse(line: str | bytes) -> Parsed | None:
    if not line:
        return None
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    if len(line) > MAX_LINE:
        # A bar redrawn for hours is one huge line: its last updates are what matters.
        tail = line[-MAX_LINE:]
        cut = tail.find("\r")
        if cut < 0:
            return None
        line = tail[cut + 1:]
    if "\r" not in line and "\x1b" not in line:
        s = line.strip()
        if not s:
            return None
        if s[0] != "{" and "%|" not in s:  # the common case, kept lean: plain text
            low = s.lower()
            anchor = _ANCHOR.search(low)
            if anchor is None:
                return None
            out = Parsed()
            _parse_tokens(s, low, out, anchor)
            return None if out.empty() else out
        out = Parsed()
        _parse_segment(s, out, True)
        return None if out.empty() else out
    out = Parsed()
    bars = "\x1b[A" not in line  # a cursor-up draws a nested (evaluation) bar
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    for segment in line.split("\r"):
        if segment and not segment.isspace():
            _parse_segment(segment, out, bars)
    return None if out.empty() else out


def _parse_segment(text: str, out: Parsed, bars: bool) -> None:
    s = text.strip()
    if s.startswith("{") and s.endswith("}") and _parse_dict(s, out):
        return
    if bars and "%|" in s:
        _parse_bar(s, out)
    low = s.lower()
    anchor = _ANCHOR.search(low)
    if anchor is not None:
        _parse_tokens(s, low, out, anchor)


def _parse_tokens(s: str, low: str, out: Parsed, anchor: re.Match | None) -> None:
    """The text facts of a line. Patterns run on the lower-cased text (re.IGNORECASE is
    several times slower) and only where _ANCHOR found a keyword."""
    while anchor is not None:
        at = anchor.start()
        m = None
        if at and low[at - 1] in " _" and anchor.group() in _SPLITTABLE:
            split = _SPLIT_BEFORE.search(low, max(0, at - 12), at)
            if split is not None:
                m = _TOKEN.match(low, split.start())
        if m is None:
            m = _TOKEN.match(low, at)
            if m is None:
                anchor = _ANCHOR.search(low, anchor.end())
                continue
        kind = m.lastgroup  # the last group of each branch tells which branch matched
        if kind == "val" or kind == "pct":
            _take_value(*m.group("key", "val", "pct"), out)
        elif kind == "pt":
            _take_progress(*m.group("pk", "pn", "pt"), out)
        elif kind == "vn":
            _take_dict({m.group("vk"): m.group("vn")}, out)
        elif kind == "cu":
            _take_count(*m.group("ck", "cn", "cu"), out)
        else:  # the path keeps its case (lower() may change a string's length: then it can't)
            start, end = m.span("path")
            path = (s[start:end] if len(low) == len(s) else m.group("path")).strip("'\"")
            if path:
                out.checkpoint = path
        anchor = _ANCHOR.search(low, m.end())


def _take_value(key: str, text: str, pct: str | None, out: Parsed) -> None:
    value = float(text)
    if value - value != 0.0:  # nan or inf
        return
    out.metrics[canonical_name(key)] = value / 100.0 if pct else value


# (verb, unit) of a sampling progress line -> the metric it sets
_COUNTS = {("sampled", "prompts"): "prompts_sampled", ("verified", "samples"): "samples_verified"}


def _take_count(verb: str, number: str, unit: str, out: Parsed) -> None:
    name = _COUNTS.get((verb, unit))
    if name is not None:
        out.metrics[name] = float(number)


def _take_progress(kind: str, number: str, total_text: str, out: Parsed) -> None:
    """``Epoch X/Y``, ``Step X/Y``, ``Cycle X/Y`` (the regex guarantees the digits)."""
    total = int(total_text)
    total = total if 0 < total <= _MAX_INT else None  # a total of 0 says nothing
    if kind == "epoch":
        out.epoch, out.total_epochs = float(number), total
        return
    if "." in number or int(number) > _MAX_INT:
        return
    if kind == "step":
        out.step, out.total_steps = int(number), total
    else:
        out.cycle, out.total_cycles = int(number), total


def _parse_bar(s: str, out: Parsed) -> None:
    m = None
    for m in _BAR.finditer(s):
        pass
    if m is None:
        return
    rest = (m.group("rest") or "").lower()
    if rest and "it/s" not in rest and "s/it" not in rest:
        return  # examples/s, B/s, ...: a data or download bar, not training steps
    desc = s[: m.start()].strip().lower()
    if desc.startswith(_NOT_TRAINING):
        return
    n, total = _count(m.group("n")), _count(m.group("t"))
    if n is None:
        return
    out.step = n
    if total:
        out.total_steps = total


def _parse_dict(s: str, out: Parsed) -> bool:
    """A JSON or Trainer dict line; False when it is not a metrics dict."""
    data = _load_dict(s)
    if not isinstance(data, dict) or not data:
        return False
    inner = data.get("metric", data.get("metrics"))
    if isinstance(inner, dict):
        found = _take_dict(inner, out)
        found = _take_dict({k: v for k, v in data.items() if k in _STEP_KEYS or k == "epoch"},
                           out) or found
        return found
    if not any(canonical_name(str(k)) in _KNOWN_DICT_KEYS for k in data) and not all(
            v is None or _is_numeric(v) for v in data.values()):
        return False  # a structured log record, not metrics
    return _take_dict(data, out)


def _load_dict(s: str) -> object:
    if s.startswith('{"') or s == "{}":
        try:
            return json.loads(s)
        except ValueError:
            pass
    elif '"' not in s and "\\" not in s:
        # The Trainer's dict of quoted numbers (or bare floats) is JSON once its quotes are
        # doubled; the C JSON decoder is far faster than the fallback below.
        try:
            return json.loads(s.replace("'", '"'))
        except ValueError:
            pass
    if _PYDICT.fullmatch(s) is None:
        return None
    result = {}
    for key, raw in _PYITEM.findall(s[1:-1]):
        result[key[1:-1]] = _py_value(raw)
    return result


def _py_value(raw: str) -> object:
    if raw[0] in "'\"":
        return raw[1:-1]
    if raw in _PY_CONST:
        return _PY_CONST[raw]
    if raw.startswith("np.float") or raw.startswith("tensor("):  # np.float64(0.5) repr
        inner = raw[raw.find("(") + 1: raw.rfind(")")]
        return inner
    return raw if _is_numeric(raw) else object()


def _take_dict(data: dict, out: Parsed) -> bool:
    found = False
    for key, value in data.items():
        name = canonical_name(str(key))
        if name in _STEP_KEYS:
            n = _count(value)
            if n is not None and (n > 0 or not _STEP_KEYS[name].startswith("total")):
                setattr(out, _STEP_KEYS[name], n)
                found = True
            continue
        if name in ("checkpoint", "checkpoint_saved") and isinstance(value, str) and value:
            out.checkpoint = value
            found = True
            continue
        number = _float(value)
        if number is None:
            continue
        if name == "epoch":
            out.epoch = number
        out.metrics[name] = number
        found = True
    return found
