"""The sage palette: the one place pages and charts take their colours from."""
from __future__ import annotations

PALETTE = {
    "bg": "#0f1318",
    "bg2": "#161b22",
    "card": "#1c2128",
    "primary": "#7C9885",
    "secondary": "#8BA888",
    "accent": "#9BC4A8",
    "success": "#7C9885",
    "running": "#4C9AFF",
    "error": "#F85149",
    "warning": "#D29922",
    "text": "#E6EDF3",
    "muted": "#8B949E",
}

STATUS_COLOURS = {
    "QUEUED": PALETTE["muted"],
    "STARTING": PALETTE["running"],
    "RUNNING": PALETTE["running"],
    "STOPPING": PALETTE["warning"],
    "COMPLETED": PALETTE["success"],
    "FAILED": PALETTE["error"],
    "STOPPED": PALETTE["warning"],
}

# Series colours for charts with several runs, starting from the palette's greens.
SERIES = ["#9BC4A8", "#4C9AFF", "#D29922", "#F85149", "#8BA888", "#BC8CFF", "#56D4DD",
          "#E3B341", "#7C9885", "#FF7B72"]


def echarts_base() -> dict:
    """Options every echarts chart starts from, so charts match the app's theme."""
    return {
        "backgroundColor": "transparent",
        "textStyle": {"color": PALETTE["text"]},
        "color": SERIES,
        "grid": {"left": 56, "right": 24, "top": 36, "bottom": 48},
        "tooltip": {"trigger": "axis"},
        "legend": {"textStyle": {"color": PALETTE["text"]}, "type": "scroll"},
    }


def axis(name: str = "", kind: str = "value") -> dict:
    return {"type": kind, "name": name, "nameLocation": "middle", "nameGap": 28,
            "axisLine": {"lineStyle": {"color": PALETTE["muted"]}},
            "splitLine": {"lineStyle": {"color": "#262c36"}}, "scale": True}


def status_badge(status: str) -> str:
    """Markdown for a coloured status word (Streamlit's :color[] takes named colours only)."""
    colour = {"RUNNING": "blue", "STARTING": "blue", "COMPLETED": "green", "FAILED": "red",
              "STOPPING": "orange", "STOPPED": "orange", "QUEUED": "gray"}.get(status, "gray")
    return f":{colour}[**{status}**]"
