"""Highlighting and cropping on the original text of a field.

Matching happens on normalised text (NFKC, lower case), but what a person sees
is the text as written: ``ＭＥＳ系统`` stays full-width with ``<mark>`` around it.
Everything outside the marks is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from search.embedded.plan import Mark
from search.text import normalize

ELLIPSIS = "…"


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised ``text`` and, for each of its characters, the original index."""
    norm = normalize(text)
    if len(norm) == len(text):
        return norm, list(range(len(text)))  # one to one: the usual case
    parts: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        n = normalize(ch)
        parts.append(n)
        index.extend([i] * len(n))
    return "".join(parts), index


def _piece(mark: Mark) -> str:
    body = re.escape(mark.text)
    if mark.mode == "word":
        return rf"(?<![a-z0-9]){body}(?![a-z0-9])"
    if mark.mode == "prefix":
        return rf"(?<![a-z0-9]){body}"
    return body


@lru_cache(maxsize=256)
def _pattern(marks: tuple[Mark, ...]) -> re.Pattern[str] | None:
    """One alternation of all marks, longest first (so the longest match wins)."""
    pieces = [_piece(m) for m in sorted(set(marks), key=lambda m: -len(m.text)) if m.text]
    return re.compile("|".join(pieces)) if pieces else None


def mark_pattern(marks: Sequence[Mark]) -> re.Pattern[str] | None:
    """The pattern of ``marks`` for :func:`highlight`: made once per query, as a
    plan's marks can be hundreds (every spelling of every concept) and hashing
    them for each field of each hit cost more than the highlighting."""
    return _pattern(tuple(marks))


def _spans(norm: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    if pattern is None:
        return []
    spans = [(m.start(), m.end()) for m in pattern.finditer(norm) if m.end() > m.start()]
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, pattern: re.Pattern[str] | None, crop: int | None = None) -> str:
    """``text`` HTML-escaped with ``<mark>`` around every match of ``pattern``
    (:func:`mark_pattern` of the query's marks).

    With ``crop``, a text longer than ``crop`` characters is cut to a window of
    about that many characters centred on the first match (or its start when
    nothing matched), with ``…`` where it was cut.
    """
    norm, index = _normalized_with_map(text)
    spans = [(index[s], index[e - 1] + 1) for s, e in _spans(norm, pattern)]
    start, end = 0, len(text)
    if crop is not None and len(text) > crop:
        if spans:
            s0, e0 = spans[0]
            start = max(0, s0 - max(0, crop - (e0 - s0)) // 2)
        end = min(len(text), start + crop)
        start = max(0, end - crop)
    out: list[str] = [ELLIPSIS] if start > 0 else []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e or s < pos:
            continue
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append(ELLIPSIS)
    return "".join(out)
