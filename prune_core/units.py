"""Sizes and durations in words, one way for the pages and the command line alike: decimal units
(1 kB = 1,000 B), as the charts' byte axes count them."""

from __future__ import annotations


def bytes_text(n) -> str:
    """Bytes in decimal units ("986.7 kB", "1.2 MB"); "–" for a size not measured."""
    if n is None:
        return "–"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return str(n)


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"
