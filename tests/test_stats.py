"""Closed-form checks of core.stats and interval coverage on simulated data."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core import stats


def test_wilson_textbook_values():
    # Wilson 95 % intervals as tabulated (Newcombe 1998, Table I): 0/10 and 5/10 and 81/263
    lo, hi = stats.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-5)
    lo, hi = stats.wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.2366, abs=5e-5), pytest.approx(0.7634, abs=5e-5))
    lo, hi = stats.wilson(81, 263)
    assert (lo, hi) == (pytest.approx(0.2553, abs=5e-5), pytest.approx(0.3662, abs=5e-5))


def test_wilson_rejects_bad_counts():
    with pytest.raises(ValueError, match="n >= 1"):
        stats.wilson(0, 0)
    with pytest.raises(ValueError, match="successes"):
        stats.wilson(11, 10)


def test_mcnemar_exact_closed_forms():
    # two-sided binomial tail: 2 * sum_{i<=min} C(n, i) / 2^n
    assert stats.mcnemar_exact(1, 9) == pytest.approx(2 * (1 + 10) / 1024)
    assert stats.mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert stats.mcnemar_exact(3, 3) == 1.0
    assert stats.mcnemar_exact(0, 0) == 1.0
    # Agresti (Categorical Data Analysis, Table 10.1, presidential approval): 150 vs 86
    # discordant; chi-square 17.36 (p = 3.1e-5); the exact test agrees to the same order
    p = stats.mcnemar_exact(150, 86)
    exact = 2 * sum(math.comb(236, i) for i in range(87)) / 2 ** 236
    assert p == pytest.approx(exact, rel=1e-9)
    assert 1e-5 < p < 1e-4
    # symmetric in its arguments, large counts do not overflow
    assert stats.mcnemar_exact(9, 1) == stats.mcnemar_exact(1, 9)
    assert 0 < stats.mcnemar_exact(50_000, 49_000) < 0.01


def test_permutation_p_exact_enumeration():
    # all five differences positive: only the identity and the full flip are as extreme
    assert stats.permutation_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    assert stats.permutation_p([0, 0, 0]) == 1.0
    # one of two signs matters: {+1,-1} flips give |sum| in {0, 2}; observed 0 -> p = 1
    assert stats.permutation_p([1, -1]) == 1.0


def test_permutation_p_monte_carlo_close_to_exact():
    rng = np.random.default_rng(3)
    d = rng.normal(0.4, 1.0, size=16)
    exact = stats.permutation_p(d)
    # 17 items would be Monte Carlo: append a zero (it does not move the statistic)
    mc = stats.permutation_p(np.append(d, 0.0), n_perm=20_000, seed=1)
    assert mc == pytest.approx(exact, abs=0.01)


def test_paired_binary_counts_discordant_pairs_and_says_so():
    a = [1] * 40 + [0] * 10 + [1] * 5 + [0] * 45   # A passes 45
    b = [1] * 40 + [1] * 10 + [0] * 5 + [0] * 45   # B passes 50: 10 fail->pass, 5 pass->fail
    r = stats.paired(a, b)
    assert (r.n, r.a_only, r.b_only, r.test) == (100, 5, 10, "exact McNemar")
    assert r.delta == pytest.approx(0.05)
    assert r.p_value == pytest.approx(stats.mcnemar_exact(5, 10))
    assert r.ci_low < r.delta < r.ci_high
    # normal approximation of the paired difference: sd = sqrt((b+c)/n - delta^2) / sqrt(n)
    se = math.sqrt((15 / 100 - 0.05 ** 2) / 100)
    assert r.ci_high - r.ci_low == pytest.approx(2 * 1.96 * se, rel=0.1)
    text = r.sentence()
    assert text.startswith("Δ +5.0 pts [") and "not significant at 0.05 (n = 100)" in text


def test_paired_identical_runs_have_a_zero_interval():
    r = stats.paired([0.5, 0.25, 1.0], [0.5, 0.25, 1.0])
    assert (r.delta, r.ci_low, r.ci_high, r.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert r.sentence() == "Δ 0.0 pts [0.0, 0.0], p = 1.00, not significant at 0.05 (n = 3)"


def test_paired_weighted_is_a_corpus_rate():
    # WER: edits / reference words; A makes 10 edits in 100 words, B 5
    edits_a, edits_b, words = [4, 6, 0], [2, 3, 0], [40, 50, 10]
    r = stats.paired(edits_a, edits_b, weights=words)
    assert (r.a, r.b, r.delta) == (pytest.approx(0.10), pytest.approx(0.05), pytest.approx(-0.05))
    assert r.test == "paired permutation"
    assert r.p_value == pytest.approx(2 / 4)  # two non-zero differences, exact enumeration


def test_paired_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="equal-length"):
        stats.paired([1, 0], [1])
    with pytest.raises(ValueError, match="common item"):
        stats.paired([], [])


def test_interval_uses_wilson_for_proportions_and_bootstrap_otherwise():
    iv = stats.interval([1, 0, 1, 1])
    assert iv.method == "wilson" and (iv.low, iv.high) == stats.wilson(3, 4)
    iv = stats.interval([0.2, 0.4, 0.9, 0.5, 0.7])
    assert iv.method == "bootstrap" and iv.value == pytest.approx(0.54)
    assert iv.low < iv.value < iv.high
    iv = stats.interval([1, 2], weights=[10, 10])
    assert iv.method == "bootstrap" and iv.value == pytest.approx(0.15)


def test_significance_wording():
    r = stats.Paired(164, 0.30, 0.343, 0.043, -0.012, 0.098, 0.21, "exact McNemar")
    assert r.sentence() == "Δ +4.3 pts [−1.2, +9.8], p = 0.21, not significant at 0.05 (n = 164)"
    r = stats.Paired(500, 0.3, 0.4, 0.1, 0.05, 0.15, 0.0004, "exact McNemar")
    assert r.sentence().endswith("p < 0.001, significant at 0.05 (n = 500)")


def test_paired_bootstrap_coverage_binary():
    # 1000 simulated pairs of runs on 200 items; the true difference is P(B) - P(A) = 0.05
    rng = np.random.default_rng(11)
    n, reps, hits = 200, 1000, 0
    for rep in range(reps):
        both = rng.random(n)
        a = (both < 0.50).astype(float)
        b = (both < 0.55).astype(float)
        flip = rng.random(n) < 0.2  # some items disagree in both directions
        b[flip] = 1 - b[flip]
        true = 0.55 * 0.8 + 0.45 * 0.2 - 0.50
        r = stats.paired(a, b, n_boot=1000, seed=rep)
        hits += r.ci_low <= true <= r.ci_high
    assert abs(hits / reps - 0.95) <= 0.02


def test_bootstrap_coverage_continuous():
    # a continuous per-item score (ANLS-like): the mean of Beta(2, 3) is 0.4
    rng = np.random.default_rng(5)
    reps, hits = 1000, 0
    for rep in range(reps):
        lo, hi = stats.bootstrap_ci(rng.beta(2, 3, size=150), n_boot=1000, seed=rep)
        hits += lo <= 0.4 <= hi
    assert abs(hits / reps - 0.95) <= 0.02
