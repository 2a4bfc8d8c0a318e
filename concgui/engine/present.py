"""Numbers as people read them: seconds, speedup, efficiency, per cent, counts of things.

One place for the rules, so the window, the command line, the report image and a
notebook never show one number two ways.  Every function takes ``None`` (a number
not measured, a speedup without a baseline) and shows it as :data:`MISSING`.

>>> seconds(2.0021), seconds(0.0134), speedup(1.916), efficiency(0.85)
('2.002 s', '13.4 ms', '1.92×', '85 %')
>>> speedup(0.72), relative_speed(0.72), possessive("threads")
('1.39× slower', '1.4× slower', "threads'")
>>> count(1, "worker"), count(3, "worker"), count(2, "process")
('1 worker', '3 workers', '2 processes')
"""

from __future__ import annotations

import math
from html import escape

MISSING = "—"


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def seconds(value: float | None, places: int = 3) -> str:
    """A duration in the unit that reads best: "2.002 s", "13.4 ms", "9.1 µs", "0 s".

    ``places`` decimals for a second or more (a chart's label takes 2, an estimate 1); below
    a second the unit shrinks instead, one decimal, so a short time never reads "0.000 s".
    """
    if not _known(value):
        return MISSING
    if value == 0:
        return "0 s"
    ms = round(value * 1e3, 1)
    if abs(ms) >= 1000:
        return f"{value:,.{places}f} s"
    if abs(ms) >= 1:
        return f"{ms:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def number(value: float | None, places: int = 2, unit: str = "") -> str:
    """A plain number, grouped by thousands, with an optional unit: "1.92", "1,234", "1.92 cores"."""
    if not _known(value):
        return MISSING
    return f"{value:,.{places}f}" + (f" {unit}" if unit else "")


def speedup(value: float | None, places: int = 2) -> str:
    """How many times faster than the baseline: "1.92×"; below 1, how many times slower: "1.39× slower".

    The one wording of a speedup below 1 everywhere (the summary, the tables, the labels): "0.72×"
    asks the reader to invert it. Only where the inverse shows above 1 at ``places`` decimals is it
    said slower, so a speedup of 0.999 reads "1.00×", never "1.00× slower".
    """
    if not _known(value):
        return MISSING
    if 0 < value < 1 and round(1.0 / value, places) > 1:
        return f"{1.0 / value:,.{places}f}× slower"
    return f"{value:,.{places}f}×"


def relative_speed(value: float | None) -> str:
    """A speedup for a label: :func:`speedup` to one decimal, none from 10× slower or 100× faster on
    ("3.0×", "2.0× slower", "12× slower", "250×")."""
    if not _known(value) or value <= 0:
        return MISSING
    far = value >= 100 or value < 0.1
    return speedup(value, 0 if far else 1)


def percent(value: float | None) -> str:
    """A value already in per cent (a core's use): "85 %"."""
    return MISSING if not _known(value) else f"{value:,.0f} %"


def efficiency(value: float | None) -> str:
    """A share of 1 in per cent, the one way efficiency is shown: 0.85 -> "85 %"."""
    return MISSING if not _known(value) else percent(value * 100)


def fraction(value: float | None) -> str:
    """A share of 1 that stays a decimal (Amdahl's serial fraction): "0.050"; three places, as small ones matter."""
    return number(value, 3)


def possessive(name: str) -> str:
    """``name``'s, as English writes it: "process-pool's", "threads'" (a name ending in s takes the apostrophe
    alone)."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def plural(n: float, one: str, many: str | None = None) -> str:
    """``one`` for exactly 1, else ``many`` (by default ``one`` + "s", or "es" after s, x, z, ch, sh)."""
    if n == 1:
        return one
    if many is not None:
        return many
    return one + ("es" if one.endswith(("s", "x", "z", "ch", "sh")) else "s")


def count(n: int, one: str, many: str | None = None) -> str:
    """A count of things: "1 worker", "3 workers", "2 processes", "1,200 tasks"."""
    return f"{n:,} {plural(n, one, many)}"


def html_lines(text: str) -> str:
    r"""Plain text as HTML that keeps its lines: escaped, each line break a ``<br>`` (HTML would run an
    explanation and its notes together).  The window's rich text and a notebook's HTML both show it.

    >>> html_lines("3 tasks < 4 workers\nnote: one core")
    '3 tasks &lt; 4 workers<br>note: one core'
    """
    return escape(text).replace("\n", "<br>")
