"""Loose matching of the concept map's problem phrasings inside a sentence.

A person rarely types a stored phrasing as it is: 「设备老是突然坏掉」 holds
设备突然坏 with 老是 inside and 掉 after it; 「主机厂付款要90天」 is
主机厂付款要九十天 with digits. :class:`PhrasingIndex` finds, in one clause of
a query, the phrasings whose *units* (CJK characters, Latin words) occur there
in the phrasing's order, close together, and that make up most of the
phrasing's informativeness. A unit is worth its rarity across all phrasings
(想, 不, 设 occur in hundreds and say little; 溯, 焊, 霉 in a few and say much),
so a phrasing is found when its telling characters are there, whatever small
words the person put around or between them.

Built once per concept map (the understander is rebuilt when an admin adds a
phrasing), queried with a few numpy operations and a short check of the few
candidates, so it adds well under a millisecond to understanding a query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from search.text import is_cjk, normalize

MIN_UNITS = 3  # shorter phrasings are words: found only as typed
MIN_SCORE = 0.75  # share of a phrasing's informativeness that must be found in order
MAX_MATCHES = 6  # best phrasings kept per query (each points to its concepts)
_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class PhrasingMatch:
    """Phrasing ``text`` (pointing to concepts ``ids``) found with ``score`` (0–1)
    over the query's characters ``start``–``end`` (normalised positions)."""

    text: str
    ids: tuple[str, ...]
    score: float
    start: int
    end: int


def chinese_number(digits: str) -> str:
    """A whole number below 10,000 as read in Chinese (90 → 九十, 305 → 三百零五),
    so a phrasing written in characters is found when digits were typed; other
    digit strings come back unchanged."""
    if not digits.isdigit() or len(digits) > 4 or int(digits) == 0:
        return digits
    n = int(digits)
    out = ""
    zero = False
    for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                out += "零"
            out += ("" if d == 1 and value == 10 and not out else _DIGITS[d]) + name
            zero = False
        elif out:
            zero = True
    return out


def _units(text: str) -> list[tuple[str, int, int]]:
    """CJK characters and Latin words of normalised ``text`` with their spans;
    numbers also as their Chinese reading (each character spanning the number)."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if is_cjk(ch):
            out.append((ch, i, i + 1))
            i += 1
        elif ch.isalnum():
            j = i
            while j < n and text[j].isalnum() and not is_cjk(text[j]):
                j += 1
            word = text[i:j]
            reading = chinese_number(word)
            if reading != word:
                out.extend((c, i, j) for c in reading)
            else:
                out.append((word, i, j))
            i = j
        else:
            i += 1
    return out


def clauses(norm: str) -> list[tuple[int, int]]:
    """Spans of normalised text between punctuation (spaces do not end a clause:
    「招工难 想用机器人」 is typed as keywords of one thought)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(norm):
        if not (ch.isalnum() or ch.isspace() or is_cjk(ch)):
            if i > start:
                spans.append((start, i))
            start = i + 1
    if len(norm) > start:
        spans.append((start, len(norm)))
    return spans


class PhrasingIndex:
    """Problem phrasings of a concept map, for :meth:`find` (see the module docstring)."""

    def __init__(self, phrasings: Iterable[tuple[str, str]]) -> None:
        """``phrasings``: (text, concept id) pairs; a text of several concepts
        points to all of them."""
        owners: dict[tuple[str, ...], list[str]] = {}
        for text, cid in phrasings:
            key = tuple(u for u, _, _ in _units("".join(normalize(text).split())))
            if len(key) >= MIN_UNITS:
                owners.setdefault(key, []).append(cid)
        self._keys = list(owners)
        self._ids = [tuple(dict.fromkeys(owners[k])) for k in self._keys]
        df: dict[str, int] = {}
        for key in self._keys:
            for u in set(key):
                df[u] = df.get(u, 0) + 1
        total = max(len(self._keys), 1)
        self._weight = {u: math.log(1 + total / f) for u, f in df.items()}
        self._total = np.asarray(
            [sum(self._weight[u] for u in key) for key in self._keys], dtype=np.float64
        )
        postings: dict[str, list[int]] = {}
        for pi, key in enumerate(self._keys):
            for u in set(key):
                postings.setdefault(u, []).append(pi)
        self._postings = {u: np.asarray(p, dtype=np.int64) for u, p in postings.items()}

    def __len__(self) -> int:
        return len(self._keys)

    def find(self, norm: str) -> list[PhrasingMatch]:
        """The phrasings found loosely in normalised query text, best first."""
        found: dict[tuple[str, ...], PhrasingMatch] = {}
        for start, end in clauses(norm):
            units = [(u, s + start, e + start) for u, s, e in _units(norm[start:end])]
            for pi, match in self._in_clause(units):
                key = self._keys[pi]
                if key not in found or found[key].score < match.score:
                    found[key] = match
        best = sorted(found.values(), key=lambda m: (-m.score, -(m.end - m.start), m.text))
        return best[:MAX_MATCHES]

    def _in_clause(self, units: Sequence[tuple[str, int, int]]) -> list[tuple[int, PhrasingMatch]]:
        present = [u for u in dict.fromkeys(u for u, _, _ in units) if u in self._postings]
        if len(present) < 2:
            return []
        # Upper bound of each phrasing's score: the weight of its units present at all.
        idx = np.concatenate([self._postings[u] for u in present])
        w = np.concatenate([np.full(self._postings[u].size, self._weight[u]) for u in present])
        bound = np.bincount(idx, weights=w, minlength=len(self._keys))
        candidates = np.flatnonzero(bound >= MIN_SCORE * self._total - 1e-9)
        out: list[tuple[int, PhrasingMatch]] = []
        for pi in candidates.tolist():
            key = self._keys[pi]
            scored = self._in_order(key, units)
            if scored is not None:
                score, s, e = scored
                out.append((pi, PhrasingMatch("".join(key), self._ids[pi], score, s, e)))
        return out

    def _in_order(
        self, key: tuple[str, ...], units: Sequence[tuple[str, int, int]]
    ) -> tuple[float, int, int] | None:
        """The best share of ``key``'s weight found in order within a window of the
        clause (at most half the phrasing's length again, and two units, between its
        first and last unit found), with the span; ``None`` below :data:`MIN_SCORE`."""
        total = sum(self._weight[u] for u in key)
        slack = max(2, len(key) // 2)
        best: tuple[float, int, int] | None = None
        for first in range(len(units)):
            for j0, u0 in enumerate(key):
                if units[first][0] != u0:
                    continue
                got = self._weight[u0]
                pos, last = first, first
                limit = first + len(key) - j0 + slack
                for u in key[j0 + 1 :]:
                    nxt = next(
                        (p for p in range(pos + 1, min(limit, len(units))) if units[p][0] == u),
                        None,
                    )
                    if nxt is not None:
                        got += self._weight[u]
                        pos = last = nxt
                score = got / total
                if score >= MIN_SCORE - 1e-9 and last > first and (best is None or score > best[0]):
                    best = (score, units[first][1], units[last][2])
        return best


__all__ = ["PhrasingIndex", "PhrasingMatch", "chinese_number", "clauses"]
