"""Charts as inline SVG, drawn by matplotlib (imported here only: it costs half a second).

Text is drawn as paths, so labels in Chinese show the same everywhere with no font in the
file and none needed by the reader (the Noto CJK font the screenshots need draws them here).
Axes and labels are drawn in a placeholder colour that becomes ``currentColor``, so the page's
light or dark text colour draws them; the series colours are the Okabe-Ito palette, which
people with colour-blindness tell apart and which reads on white and on near-black.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from newsletter.errors import NewsletterError

try:
    import matplotlib
except ImportError:
    raise NewsletterError(
        "the HTML report draws its charts with matplotlib, which is not installed: "
        "pip install 'newsletter[report]' (or leave out --html)"
    ) from None

matplotlib.use("svg")

import matplotlib.pyplot as plt  # after choosing the backend

__all__ = ["PALETTE", "bars", "lines"]

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
_INK = "#010203"
"""Drawn in this colour, replaced by currentColor in the SVG."""
_FONTS = ["DejaVu Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", "Noto Sans CJK JP"]
_STYLE: dict[Any, Any] = {
    "font.family": _FONTS,
    "font.size": 9,
    "svg.fonttype": "path",
    "svg.hashsalt": "newsletter",
    "text.color": _INK,
    "axes.edgecolor": _INK,
    "axes.labelcolor": _INK,
    "xtick.color": _INK,
    "ytick.color": _INK,
    "axes.facecolor": "none",
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def lines(
    key: str,
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    limits: Mapping[str, float] | None = None,
    percent: bool = False,
) -> str:
    """One line per series over ``x``; ``limits`` draws labelled dashed horizontal lines.

    ``key`` names the chart uniquely on its page."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 3.0))
        for (name, values), colour in zip(series.items(), _colours(), strict=False):
            ax.plot(
                x,
                values,
                label=name,
                color=colour,
                linewidth=1.6,
                marker="." if len(x) < 40 else None,
            )
        for name, value in (limits or {}).items():
            ax.axhline(value, color=_INK, linestyle="--", linewidth=0.8, alpha=0.6)
            ax.annotate(
                name,
                (1, value),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=8,
            )
        _finish(ax, xlabel, ylabel, percent, len(series) > 1)
        return _svg(fig, key)


def bars(
    key: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    horizontal: bool = False,
) -> str:
    """Stacked bars per label, one colour per series (horizontal for long labels)."""
    with plt.rc_context(_STYLE):
        height = max(2.4, 0.34 * len(labels) + 1.0) if horizontal else 3.0
        fig, ax = plt.subplots(figsize=(7.2, height))
        base = [0.0] * len(labels)
        positions = list(range(len(labels)))
        for (name, values), colour in zip(series.items(), _colours(), strict=False):
            if horizontal:
                ax.barh(positions, values, left=base, label=name, color=colour)
            else:
                ax.bar(positions, values, bottom=base, label=name, color=colour)
            base = [b + v for b, v in zip(base, values, strict=True)]
        if horizontal:
            ax.set_yticks(positions, labels)
            ax.invert_yaxis()
            _finish(ax, xlabel, "", False, len(series) > 1)
        else:
            step = max(1, len(labels) // 12)
            ax.set_xticks(positions[::step], labels[::step], rotation=30, ha="right")
            _finish(ax, "", xlabel, False, len(series) > 1)
        return _svg(fig, key)


def _colours() -> Sequence[str]:
    return PALETTE


def _finish(ax: Any, xlabel: str, ylabel: str, percent: bool, legend: bool) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if percent:
        ax.yaxis.set_major_formatter(lambda value, _: f"{value * 100:.2g} %")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.figure.tight_layout()


def _svg(fig: Any, key: str) -> str:
    """The figure as SVG for inlining: ids prefixed with ``key``, so charts on one page
    never point at each other's clip paths or glyphs."""
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'(\bid="|href="#|url\(#)', rf"\g<1>{key}-", svg)
    return svg.replace(_INK, "currentColor")
