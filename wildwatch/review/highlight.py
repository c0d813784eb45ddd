"""Text split into plain and matched segments, so templates can mark matches without raw HTML."""
from __future__ import annotations


def segments(text: str | None, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """[(text, group or None)] covering `text`; overlapping spans are merged into the first."""
    text = text or ""
    out, at = [], 0
    for start, end, group in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            out.append((text[at:start], None))
        out.append((text[start:end], group))
        at = end
    if at < len(text):
        out.append((text[at:], None))
    return out
