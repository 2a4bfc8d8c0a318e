"""A small SVG writer: rectangles, lines, polylines and text in layers, and an axis's ticks.

Pure Python, so a notebook draws its pictures in any Jupyter front end without Qt; what it
writes stays within SVG Tiny 1.2, which Qt's QSvgRenderer draws for the PNG files.
"""

from __future__ import annotations

import math
from collections import defaultdict
from xml.sax.saxutils import escape, quoteattr

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.6  # a character's width in font sizes, about: enough to lay text out beside text


def _n(v: float) -> str:
    """A coordinate with at most one decimal ("12", "12.5"): short files, sub-pixel enough."""
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


class Svg:
    """An SVG document built element by element, in layers drawn in order (lower first).

    Within a layer the rectangles come first, those of one fill in one group, then the lines
    and text in the order given: a picture draws backgrounds on layer 0, bars on 1, and marks
    and words over them on :data:`TOP`; a layer between two (0.5) draws between them.
    """

    TOP = 3

    def __init__(self, width: float, background: str = "#FFFFFF") -> None:
        self.width = width
        self.background = background
        self._rects: dict[tuple[float, str, float], list[str]] = defaultdict(list)  # (layer, fill, opacity) -> rects
        self._other: dict[float, list[str]] = defaultdict(list)  # layer -> lines, text

    def rect(self, x: float, y: float, w: float, h: float, fill: str, opacity: float = 1.0,
             layer: float = 1) -> None:
        if w > 0 and h > 0:
            self._rects[(layer, fill, opacity)].append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1.0,
             dash: str = "", opacity: float = 1.0, layer: float = TOP) -> None:
        extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' stroke-opacity="{opacity:g}"'
                                                                    if opacity < 1 else "")
        self._other[layer].append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
                                  f'stroke="{stroke}" stroke-width="{width:g}"{extra}/>')

    def polyline(self, points: list[tuple[float, float]], stroke: str, width: float = 2.0, dash: str = "") -> None:
        if len(points) > 1:
            pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
            extra = f' stroke-dasharray="{dash}"' if dash else ""
            self._other[self.TOP].append(f'<polyline points="{pts}" fill="none" stroke="{stroke}" '
                                         f'stroke-width="{width:g}"{extra}/>')

    def circle(self, x: float, y: float, r: float, fill: str) -> None:
        self._other[self.TOP].append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{r:g}" fill="{fill}"/>')

    def text(self, x: float, y: float, text: str, size: float = 12, fill: str = "#1F1F1F", anchor: str = "start",
             bold: bool = False, layer: float = TOP) -> None:
        """``text`` with its baseline at ``y``; ``anchor``: start, middle or end."""
        weight = ' font-weight="bold"' if bold else ""
        self._other[layer].append(f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size:g}" fill="{fill}" '
                                  f'text-anchor="{anchor}"{weight}>{escape(text)}</text>')

    def count(self) -> int:
        """Elements drawn so far (what a large run's merging keeps small)."""
        return sum(map(len, self._rects.values())) + sum(map(len, self._other.values()))

    def document(self, height: float, title: str = "") -> str:
        """The whole document, ``height`` pixels tall."""
        w, h = _n(self.width), _n(height)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" width="{w}" '
               f'height="{h}" viewBox="0 0 {w} {h}" font-family={quoteattr(FONT)}>']
        if title:
            out.append(f"<title>{escape(title)}</title>")
        out.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="{self.background}"/>')
        for layer in sorted({k[0] for k in self._rects} | set(self._other)):
            for (at, fill, opacity), rects in self._rects.items():
                if at == layer:
                    alpha = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
                    out.append(f'<g fill="{fill}"{alpha}>' + "".join(rects) + "</g>")
            out.extend(self._other.get(layer, ()))
        out.append("</svg>")
        return "\n".join(out)


def nice_ticks(lo: float, hi: float, target: int = 8) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi], about ``target`` of them."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo]
    raw = span / max(1, target)
    step = 10 ** math.floor(math.log10(raw))
    step *= next((m for m in (1, 2, 5, 10) if step * m >= raw), 10)
    first = math.ceil(lo / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
    return ticks or [lo]


def tick_label(value: float, ticks: list[float]) -> str:
    """A tick's number with as many decimals as its neighbours need ("0.5", "2", "-0.05")."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    places = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    text = f"{value:.{places}f}"
    return "0" if text.strip("-0.") == "" else text
