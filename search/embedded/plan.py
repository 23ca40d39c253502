"""From an understood query to a plan of token keys.

A plan is a list of *terms*. A term is a set of *alternatives* (the word as
typed, its concept's other spellings, Latin prefix completions, one-typo
corrections), each a list of *groups* that must all match; a group matches when
any of its keys (or key ranges) is in the document. Each alternative carries
the strings to highlight. Terms are not all required: execute.py keeps the
documents that cover enough of the query's informativeness (see search/README.md).
*Bonus* terms (the character pair across two adjacent query words) only rank.

Text arrives already understood (search/understand.py); a plain string is
understood here with the index's synonyms only (no places, no corrections).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from search.concepts import ConceptMap
from search.text import (
    bigram_key,
    bigram_range,
    is_cjk,
    keys_of,
    latin_key,
    normalize,
    runs,
    uni_key,
)
from search.types import Query
from search.understand import Understander

MAX_QUERY_CHARS = 200  # a pasted 10k-character string is cut, never an error
MIN_TYPO_LEN = 5
PREFIX_BOOST = 0.85
TYPO_BOOST = 0.6
PREFIX_EXPANSIONS = 30
ADJACENT_WEIGHT = 0.3  # a pair of query words found side by side: a small bonus


@dataclass(frozen=True)
class Group:
    """Matches a document holding any of ``keys`` or any key in ``ranges``."""

    keys: tuple[int, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Mark:
    """A string to highlight: ``mode`` is ``"sub"`` (anywhere), ``"word"`` (a whole
    Latin word) or ``"prefix"`` (the start of a Latin word)."""

    text: str
    mode: str


@dataclass(frozen=True)
class Alternative:
    groups: tuple[Group, ...]
    boost: float
    marks: tuple[Mark, ...]
    cover: float = 1.0  # share of the term a document matching this alternative covers


@dataclass(frozen=True)
class Term:
    alternatives: tuple[Alternative, ...]
    weight: float = 1.0
    bonus: bool = False  # ranks documents that have it; never counts towards the cut-off
    # Taxonomy codes with the share of the term a document filed there covers.
    categories: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Plan:
    terms: tuple[Term, ...]

    @property
    def marks(self) -> tuple[Mark, ...]:
        return tuple(m for t in self.terms if not t.bonus for a in t.alternatives for m in a.marks)

    @property
    def required(self) -> tuple[Term, ...]:
        """The terms that count towards coverage (not the bonus ones)."""
        return tuple(t for t in self.terms if not t.bonus)

    def keys(self) -> set[int]:
        return {k for t in self.terms for a in t.alternatives for g in a.groups for k in g.keys}


class Lexicon(Protocol):
    """The Latin words an index holds, for completions and typo corrections."""

    def latin_prefix(self, prefix: str, limit: int) -> list[str]: ...

    def latin_near(self, word: str) -> list[str]: ...


class Planner:
    """Turns a query into a :class:`Plan` (see the module docstring)."""

    def __init__(self, understander: Understander) -> None:
        self.understander = understander

    @classmethod
    def for_synonyms(cls, groups: Sequence[Sequence[str]]) -> Planner:
        return cls(Understander(ConceptMap.from_groups(groups)))

    def plan(self, query: str | Query, lexicon: Lexicon, prefix: bool = True) -> Plan:
        """The plan of ``query``; its last Latin word is a prefix when ``prefix`` and
        a typed string does not end with a space. Never raises on any input."""
        if isinstance(query, Query):
            understood = query
            last_is_prefix = prefix
        else:
            text = query[: MAX_QUERY_CHARS * 4]
            last_is_prefix = prefix and bool(text) and not text[-1].isspace()
            understood = self.understander.understand(text, places=False, correct=False).query
        terms: list[Term] = []
        previous = ""
        count = len(understood.terms)
        for i, qt in enumerate(understood.terms):
            is_last = last_is_prefix and i == count - 1
            alts: list[Alternative] = []
            for j, (text, boost) in enumerate(qt.alternatives):
                alts += self._alternatives(normalize(text), boost, lexicon, is_last and j == 0)
            for text, share in qt.related:
                alts += [
                    replace(a, cover=share)
                    for a in self._alternatives(normalize(text), share, lexicon, False)
                ]
            alts = _merged([a for a in alts if a.groups])
            if alts or qt.categories:
                typed = normalize(qt.text)
                if qt.adjacent and previous and is_cjk(previous[-1]) and typed and is_cjk(typed[0]):
                    pair = Group((bigram_key(previous[-1], typed[0]),))
                    terms.append(Term((Alternative((pair,), 1.0, ()),), ADJACENT_WEIGHT, True))
                terms.append(Term(tuple(alts), qt.weight, categories=qt.categories))
                previous = typed
        return Plan(tuple(terms))

    def _alternatives(
        self, text: str, boost: float, lexicon: Lexicon, is_last: bool
    ) -> list[Alternative]:
        pieces = runs(text)
        if len(pieces) == 1 and pieces[0].kind == "word":
            return self._latin(pieces[0].text, boost, lexicon, is_last)
        if len(pieces) == 1 and len(pieces[0].text) == 1:
            word = pieces[0].text
            group = Group(keys=(uni_key(word),), ranges=(bigram_range(word),))
            return [Alternative((group,), boost, (Mark(word, "sub"),))]
        return [_exact(text, boost)]

    def _latin(self, word: str, boost: float, lexicon: Lexicon, is_last: bool) -> list[Alternative]:
        alts = [Alternative((Group((latin_key(word),)),), boost, (Mark(word, "word"),))]
        if is_last:
            done = {word}
            for w in lexicon.latin_prefix(word, PREFIX_EXPANSIONS):
                if w not in done:
                    done.add(w)
                    alts.append(
                        Alternative(
                            (Group((latin_key(w),)),), boost * PREFIX_BOOST, (Mark(word, "prefix"),)
                        )
                    )
        if boost >= 1.0 and len(word) >= MIN_TYPO_LEN and word.isalpha():
            for w in lexicon.latin_near(word):
                if w != word:
                    alts.append(
                        Alternative((Group((latin_key(w),)),), TYPO_BOOST, (Mark(w, "word"),))
                    )
        return alts


def _merged(alts: list[Alternative]) -> list[Alternative]:
    """One alternative for all one-group alternatives of equal boost (a concept's
    two-character and Latin spellings): a group scores its best key, so this is the
    same score for one pass over the postings instead of one per spelling."""
    single: dict[tuple[float, float], tuple[list[int], list[Mark]]] = {}
    out: list[Alternative] = []
    for alt in alts:
        if len(alt.groups) == 1 and not alt.groups[0].ranges:
            keys, marks = single.setdefault((alt.boost, alt.cover), ([], []))
            keys.extend(alt.groups[0].keys)
            marks.extend(alt.marks)
        else:
            out.append(alt)
    for (boost, cover), (keys, marks) in single.items():
        group = Group(tuple(dict.fromkeys(keys)))
        out.append(Alternative((group,), boost, tuple(dict.fromkeys(marks)), cover))
    return out


def _exact(text: str, boost: float) -> Alternative:
    """The alternative matching normalised ``text`` as written (all its tokens)."""
    keys = list(dict.fromkeys(keys_of(text)))
    pieces = [r for r in runs(text) if r.text]
    if len({r.kind for r in pieces}) > 1:
        # Latin and CJK together (MES系统): highlight the spelling whole, never 系统 alone.
        marks: tuple[Mark, ...] = (Mark("".join(r.text for r in pieces), "sub"),)
    else:
        marks = tuple(Mark(r.text, "word" if r.kind == "word" else "sub") for r in pieces)
    return Alternative(tuple(Group((k,)) for k in keys), boost, marks)


def osa_distance_at_most_one(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one insertion, deletion,
    substitution or transposition of adjacent characters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i + 1 :] == b[i:] if la > lb else a[i:] == b[i + 1 :]


__all__ = [
    "Alternative",
    "Group",
    "Lexicon",
    "Mark",
    "Plan",
    "Planner",
    "Term",
    "osa_distance_at_most_one",
]
