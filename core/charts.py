"""echarts option builders shared by the pages: plain dicts in, plain dicts out."""
from __future__ import annotations

import math

from core.theme import PALETTE, SERIES, axis, echarts_base


def ema(values: list[float], weight: float) -> list[float]:
    """Debiased exponential moving average (TensorBoard's smoothing), weight in [0, 0.999]."""
    weight = min(max(float(weight), 0.0), 0.999)
    out, last, n = [], 0.0, 0
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(None)
            continue
        n += 1
        last = last * weight + (1 - weight) * v
        out.append(last / (1 - weight ** n))
    return out


def _points(xs, ys):
    return [[x, y] for x, y in zip(xs, ys)]


def metric_chart(series: list[dict], x_name: str = "step", y_name: str = "",
                 smoothing: float = 0.0, band: bool = True, time_axis: bool = False) -> dict:
    """Line chart of one or more series {"name", "x", "y", "lo"?, "hi"?}.

    With smoothing > 0 the raw curve stays faded behind the smoothed one; a downsampled series
    also draws its min/max band so spikes stay visible.
    """
    opts = echarts_base()
    xaxis = {**axis(x_name, "time" if time_axis else "value"), "nameGap": 24}
    opts.update(xAxis=xaxis, yAxis=axis(y_name), series=[],
                dataZoom=[{"type": "inside"}, {"type": "slider", "height": 16, "bottom": 6}])
    # legend on top, room at the bottom for the axis name and the zoom slider
    opts["legend"].update(data=[s["name"] for s in series], top=0)
    opts["grid"] = {**opts["grid"], "top": 40, "bottom": 72}
    for i, s in enumerate(series):
        colour = SERIES[i % len(SERIES)]
        xs = [x * 1000 for x in s["x"]] if time_axis else s["x"]
        # A line needs two points: a lone point (a benchmark's one verification rate, a RAFT
        # run's first cycle) is drawn as a dot, or the chart shows empty axes.
        lone = sum(v is not None for v in s["y"]) == 1  # buckets with no sample are None
        raw = {"name": s["name"], "type": "line", "showSymbol": lone, "symbolSize": 8,
               "sampling": "lttb",
               "data": _points(xs, s["y"]), "lineStyle": {"width": 1.5, "color": colour},
               "itemStyle": {"color": colour}}
        if smoothing > 0:
            raw["lineStyle"] = {"width": 1, "color": colour, "opacity": 0.25}
            raw["silent"] = True
            raw["name"] = s["name"]
            opts["series"].append(raw)
            opts["series"].append({"name": s["name"], "type": "line", "showSymbol": lone,
                                   "symbolSize": 8, "data": _points(xs, ema(s["y"], smoothing)),
                                   "lineStyle": {"width": 2, "color": colour},
                                   "itemStyle": {"color": colour}})
        else:
            opts["series"].append(raw)
        if band and s.get("lo") is not None and s.get("lo") is not s.get("y") and s.get("downsampled"):
            opts["series"].append({"name": s["name"], "type": "line", "showSymbol": False,
                                   "data": _points(xs, s["hi"]), "silent": True,
                                   "lineStyle": {"width": 0.5, "color": colour, "opacity": 0.3}})
            opts["series"].append({"name": s["name"], "type": "line", "showSymbol": False,
                                   "data": _points(xs, s["lo"]), "silent": True,
                                   "lineStyle": {"width": 0.5, "color": colour, "opacity": 0.3}})
    return opts


def grouped_bars(categories: list[str], groups: dict[str, list[float | None]],
                 y_name: str = "", percent: bool = True) -> dict:
    """Grouped bar chart: one bar per group within each category."""
    opts = echarts_base()
    opts["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}}
    opts.update(
        xAxis={"type": "category", "data": categories,
               "axisLabel": {"color": PALETTE["text"], "interval": 0, "rotate": 20 if len(categories) > 4 else 0},
               "axisLine": {"lineStyle": {"color": PALETTE["muted"]}}},
        yAxis={**axis(y_name), "scale": False, **({"max": 100} if percent else {})},
        series=[{"name": name, "type": "bar", "data": [
            None if v is None else round(v * 100 if percent else v, 2) for v in values],
            "label": {"show": len(categories) * len(groups) <= 24, "position": "top",
                      "color": PALETTE["text"], "fontSize": 10}}
            for name, values in groups.items()])
    opts["legend"].update(data=list(groups), top=0)  # on top: at the bottom it covers the labels
    opts["grid"] = {**opts["grid"], "top": 44, "bottom": 64}
    return opts


def gauge(value: float | None, name: str, max_value: float = 100.0, unit: str = "%") -> dict:
    return {"series": [{
        "type": "gauge", "min": 0, "max": max_value, "radius": "95%",
        "progress": {"show": True, "width": 10, "itemStyle": {"color": PALETTE["accent"]}},
        "axisLine": {"lineStyle": {"width": 10, "color": [[1, PALETTE["card"]]]}},
        "axisTick": {"show": False}, "splitLine": {"show": False}, "axisLabel": {"show": False},
        "pointer": {"show": False}, "title": {"offsetCenter": [0, "70%"], "color": PALETTE["muted"],
                                              "fontSize": 12},
        "detail": {"valueAnimation": False, "offsetCenter": [0, "5%"], "fontSize": 20,
                   "color": PALETTE["text"], "formatter": "{value}" + unit},
        "data": [{"value": None if value is None else round(value, 1), "name": name}]}]}
