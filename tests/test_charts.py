"""core.charts: option builders."""
from __future__ import annotations

from core.charts import metric_chart


def _drawn(series: list[dict]) -> list[dict]:
    return [s for s in series if not s.get("silent")]


def test_a_one_point_series_is_drawn_as_a_dot():
    one = {"name": "verification_rate", "x": [3], "y": [0.25]}
    for smoothing in (0.0, 0.6):
        opts = metric_chart([one], smoothing=smoothing)
        (line,) = _drawn(opts["series"])
        assert line["data"] == [[3, 0.25]] and line["showSymbol"] is True


def test_long_series_stay_plain_lines():
    many = {"name": "loss", "x": list(range(50)), "y": [1.0 / (i + 1) for i in range(50)]}
    (line,) = metric_chart([many])["series"]
    assert line["showSymbol"] is False


def test_one_sample_among_empty_buckets_is_drawn_too():
    """The Dashboard's GPU history buckets a window: one stored sample, the rest None."""
    gappy = {"name": "power", "x": [1, 2, 3, 4], "y": [None, None, 95.0, None]}
    (line,) = metric_chart([gappy], time_axis=True)["series"]
    assert line["showSymbol"] is True
