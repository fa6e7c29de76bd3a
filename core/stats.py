"""Statistics for benchmark scores: intervals for one score, paired tests for two runs.

Pure numpy + stdlib (no scipy); light enough for pages and the CLI. Every function takes plain
per-item values, so the same code serves pass@1, accuracy, ANLS, pass@k from n samples and
corpus-level WER (a ratio of sums: pass `weights`).

- One score: Wilson interval for a proportion of 0/1 items; percentile bootstrap otherwise.
- Two runs on the same items: the difference b - a with a paired bootstrap interval, and a
  p-value from the exact McNemar test (0/1 items: a binomial test on the discordant pairs) or a
  paired sign-flip permutation test (anything else; exact enumeration up to 16 items).

A score is sum(values) / sum(weights); weights default to 1 (a mean). For WER, values are
word edits per item and weights reference words per item, so the score is the corpus rate.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

LEVEL = 0.95
ALPHA = 0.05
N_BOOT = 2000
N_PERM = 2000
SEED = 0
# Resampling draws this many replicate rows at a time, bounding memory at 10^5+ items.
_CHUNK_CELLS = 4_000_000
# At most this many distinct values: resample category counts (multinomial) instead of items,
# which is the same distribution at a fraction of the cost (0/1 items, pairs of verdicts).
_FEW_VALUES = 64
_EXACT_PERM_MAX = 16


# ---- one score ------------------------------------------------------------------------------


def _z(level: float) -> float:
    """Two-sided standard normal quantile for `level` (statistics.NormalDist: no scipy)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for a proportion successes / n."""
    if n <= 0:
        raise ValueError(f"wilson needs n >= 1, got n={n}")
    if not 0 <= successes <= n:
        raise ValueError(f"wilson needs 0 <= successes <= n, got {successes} of {n}")
    z = _z(level)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at 0 or n successes the bound is exactly 0 or 1 (rounding would leave 1e-17)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def is_binary(values: Sequence[float] | np.ndarray) -> bool:
    v = np.asarray(values, dtype=float)
    return v.size > 0 and bool(np.all((v == 0) | (v == 1)))


def _weights(values: np.ndarray, weights: Sequence[float] | None) -> np.ndarray:
    if weights is None:
        return np.ones_like(values)
    w = np.asarray(weights, dtype=float)
    if w.shape != values.shape:
        raise ValueError(f"weights has {w.size} entries for {values.size} values")
    return w


def _resample_sums(columns: list[np.ndarray], n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    """For each bootstrap replicate (items drawn with replacement), the sum of each column.

    Returns one array of n_boot sums per column. Items with identical rows are pooled and
    their counts drawn from a multinomial, which is exactly the item-resampling distribution.
    """
    rows = np.stack(columns, axis=1)
    n = rows.shape[0]
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    if len(uniq) <= _FEW_VALUES:
        draws = rng.multinomial(n, counts / n, size=n_boot)  # (n_boot, len(uniq))
        sums = draws @ uniq
        return [sums[:, j] for j in range(rows.shape[1])]
    out = np.empty((n_boot, rows.shape[1]))
    step = max(1, _CHUNK_CELLS // n)
    for start in range(0, n_boot, step):
        m = min(step, n_boot - start)
        idx = rng.integers(0, n, size=(m, n))
        for j in range(rows.shape[1]):
            out[start:start + m, j] = rows[idx, j].sum(axis=1)
    return [out[:, j] for j in range(rows.shape[1])]


def _percentile(x: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def score(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    v = np.asarray(values, dtype=float)
    w = _weights(v, weights)
    total = w.sum()
    return float(v.sum() / total) if total else float("nan")


def bootstrap_ci(values: Sequence[float], weights: Sequence[float] | None = None,
                 level: float = LEVEL, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of sum(values) / sum(weights), resampling items."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    w = _weights(v, weights)
    rng = np.random.default_rng(seed)
    sv, sw = _resample_sums([v, w], n_boot, rng)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = sv / sw
    return _percentile(ratio[np.isfinite(ratio)], level)


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float
    n: int
    method: str  # "wilson" | "bootstrap"
    level: float = LEVEL


def interval(values: Sequence[float], weights: Sequence[float] | None = None,
             level: float = LEVEL, n_boot: int = N_BOOT, seed: int = SEED) -> Interval:
    """A score with its interval: Wilson for a mean of 0/1 items, bootstrap otherwise."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("interval needs at least one value")
    if weights is None and is_binary(v):
        lo, hi = wilson(int(v.sum()), int(v.size), level)
        return Interval(float(v.mean()), lo, hi, int(v.size), "wilson", level)
    lo, hi = bootstrap_ci(v, weights, level, n_boot, seed)
    return Interval(score(v, weights), lo, hi, int(v.size), "bootstrap", level)


# ---- two runs, paired -----------------------------------------------------------------------


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (binomial test, p = 1/2)."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    # log-space terms: exact for small n, no overflow at 10^5 discordant pairs
    log_half_n = n * math.log(0.5)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half_n
             for i in range(k + 1)]
    top = max(terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in terms)
    return min(1.0, 2.0 * tail)


def permutation_p(diffs: Sequence[float], weights: Sequence[float] | None = None,
                  n_perm: int = N_PERM, seed: int = SEED) -> float:
    """Two-sided paired sign-flip permutation p-value for sum(diffs) / sum(weights) = 0.

    Under the null the two runs' labels are exchangeable within each item, so each item's
    difference keeps or flips its sign. Exact (all 2^n flips) up to 16 items; Monte Carlo
    with the +1 correction otherwise.
    """
    d = np.asarray(diffs, dtype=float)
    n = d.size
    if n == 0:
        raise ValueError("permutation_p needs at least one pair")
    observed = abs(d.sum())
    if observed == 0:
        return 1.0
    tol = 1e-12 * max(1.0, observed)
    if n <= _EXACT_PERM_MAX:
        signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2 - 1
        stats = np.abs(signs @ d)
        return float(np.mean(stats >= observed - tol))
    rng = np.random.default_rng(seed)
    nz = d[d != 0]  # zero differences do not move the statistic
    hits = 0
    step = max(1, _CHUNK_CELLS // max(1, nz.size))
    for start in range(0, n_perm, step):
        m = min(step, n_perm - start)
        signs = rng.integers(0, 2, size=(m, nz.size), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ nz) >= observed - tol))
    return (hits + 1) / (n_perm + 1)


@dataclass(frozen=True)
class Paired:
    """Run B against run A on the same n items (score = sum(values) / sum(weights))."""

    n: int
    a: float
    b: float
    delta: float  # b - a, as a fraction (x100 for points)
    ci_low: float
    ci_high: float
    p_value: float
    test: str  # "exact McNemar" | "paired permutation"
    a_only: int | None = None  # 0/1 items: passed in A only (A pass -> B fail)
    b_only: int | None = None  # passed in B only (fail -> pass)
    level: float = LEVEL
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def sentence(self, points: bool = True) -> str:
        """"Δ +4.3 pts [−1.2, +9.8], p = 0.21, not significant at 0.05 (n = 164)"."""
        return describe(self, points)

    def to_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "sentence": self.sentence()}


def paired(a: Sequence[float], b: Sequence[float], weights: Sequence[float] | None = None,
           level: float = LEVEL, alpha: float = ALPHA, n_boot: int = N_BOOT, n_perm: int = N_PERM,
           seed: int = SEED) -> Paired:
    """Compare two runs item by item. `a[i]` and `b[i]` are the same item's values."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.shape != vb.shape or va.ndim != 1:
        raise ValueError(f"paired needs two equal-length lists, got {va.size} and {vb.size}")
    if va.size == 0:
        raise ValueError("paired needs at least one common item")
    w = _weights(va, weights)
    total = w.sum()
    if total <= 0:
        raise ValueError("paired needs a positive total weight")
    rng = np.random.default_rng(seed)
    sa, sb, sw = _resample_sums([va, vb, w], n_boot, rng)
    with np.errstate(invalid="ignore", divide="ignore"):
        deltas = (sb - sa) / sw
    lo, hi = _percentile(deltas[np.isfinite(deltas)], level)
    score_a, score_b = float(va.sum() / total), float(vb.sum() / total)
    if weights is None and is_binary(va) and is_binary(vb):
        a_only = int(np.sum((va == 1) & (vb == 0)))
        b_only = int(np.sum((va == 0) & (vb == 1)))
        p, test = mcnemar_exact(a_only, b_only), "exact McNemar"
    else:
        a_only = b_only = None
        p, test = permutation_p(vb - va, None, n_perm, seed), "paired permutation"
    return Paired(int(va.size), score_a, score_b, score_b - score_a, lo, hi, p, test, a_only,
                  b_only, level, alpha)


# ---- wording --------------------------------------------------------------------------------


def _signed(x: float, digits: int = 1) -> str:
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return f"{0:.{digits}f}"
    return ("+" if x > 0 else "\u2212") + text


def format_p(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def describe(r: Paired, points: bool = True) -> str:
    scale, unit = (100.0, " pts") if points else (1.0, "")
    verdict = (f"significant at {r.alpha:g}" if r.significant
               else f"not significant at {r.alpha:g}")
    return (f"\u0394 {_signed(r.delta * scale)}{unit} [{_signed(r.ci_low * scale)}, "
            f"{_signed(r.ci_high * scale)}], {format_p(r.p_value)}, {verdict} (n = {r.n})")
