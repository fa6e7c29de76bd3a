"""Our scorers against the field's libraries, on tables we wrote (data/eval/).

Math: core.verifiers.mathanswer (our rules alone, and the adopted combination) against
math-verify on equivalent / non-equivalent answer pairs. WER: core.benchmarks.metrics against
jiwer with the usual English normaliser on reference / hypothesis pairs with the word-error
count a careful reader assigns. Prints how often each is right.
Run: PYTHONPATH=. .venv/bin/python scripts/compare_scorers.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rows(name: str) -> list[dict]:
    from core import jsonl

    return jsonl.read(ROOT / "data" / "eval" / name)


def math_table() -> None:
    from core.verifiers import mathanswer

    rows = _rows("math_pairs.jsonl")
    ours_only = lambda p, g: _ours_alone(mathanswer, p, g)  # noqa: E731
    judges = {"ours (rules alone)": ours_only,
              "math-verify 0.9.0": lambda p, g: mathanswer.math_verify_equal(p, g),
              "adopted (rules, then math-verify)": mathanswer.answers_match}
    print(f"math equivalence, {len(rows)} pairs "
          f"({sum(r['equivalent'] for r in rows)} equivalent):")
    for name, judge in judges.items():
        wrong = [r for r in rows if judge(r["pred"], r["gold"]) != r["equivalent"]]
        print(f"  {name:36s} right {len(rows) - len(wrong)}/{len(rows)}")
        for r in wrong:
            print(f"      wrong on {r['gold']!r} vs {r['pred']!r} (equivalent: {r['equivalent']})")


def _ours_alone(mathanswer, pred: str, gold: str) -> bool:
    saved = mathanswer.math_verify_equal
    mathanswer.math_verify_equal = lambda p, g: False
    try:
        return mathanswer.answers_match(pred, gold)
    finally:
        mathanswer.math_verify_equal = saved


def wer_table() -> None:
    from core.benchmarks import metrics

    rows = _rows("wer_pairs.jsonl")
    plain = metrics.basic_normalise

    def ours(norm):
        return lambda r, h: metrics.levenshtein(norm(h).split(), norm(r).split())

    judges = {"our edit distance + our plain rules": ours(plain),
              "adopted: our edit distance + English normaliser": ours(metrics.normalize_transcript)}
    try:
        import jiwer

        judges["jiwer 4.0.0 + our plain rules"] = \
            lambda r, h: _jiwer_errors(jiwer, plain(r), plain(h))
        judges["jiwer 4.0.0 + English normaliser"] = lambda r, h: _jiwer_errors(
            jiwer, metrics.normalize_transcript(r), metrics.normalize_transcript(h))
    except ImportError as exc:
        print(f"  (jiwer is not installed: {exc})")
    print(f"word errors, {len(rows)} reference/hypothesis pairs:")
    for name, judge in judges.items():
        wrong = [r for r in rows if judge(r["reference"], r["hypothesis"]) != r["errors"]]
        print(f"  {name:44s} right {len(rows) - len(wrong)}/{len(rows)}")
        for r in wrong:
            print(f"      wrong on {r['reference']!r} / {r['hypothesis']!r}: "
                  f"{judge(r['reference'], r['hypothesis'])} errors, expected {r['errors']}")


def _jiwer_errors(jiwer, ref: str, hyp: str) -> int:
    if not ref.strip():
        return len(hyp.split())
    out = jiwer.process_words(ref, hyp if hyp.strip() else "")
    return out.substitutions + out.deletions + out.insertions


if __name__ == "__main__":
    math_table()
    wer_table()
