"""From the text a person typed to a query plan of token keys.

A plan is a list of *terms*, all required (AND, any order). A term is a set of
*alternatives* (the word itself, its synonyms, Latin prefix completions, one-typo
corrections), each a list of *groups* that must all match; a group matches when
any of its keys (or key ranges) is in the document. Each alternative carries the
strings to highlight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from search.text import (
    Segmenter,
    bigram_range,
    is_cjk,
    keys_of,
    latin_key,
    normalize,
    runs,
    uni_key,
)

MAX_QUERY_CHARS = 200  # a pasted 10k-character string is cut, never an error
MAX_TERMS = 10  # as Meilisearch: words past the tenth are ignored
MIN_TYPO_LEN = 5
SYNONYM_BOOST = 0.9
PREFIX_BOOST = 0.85
TYPO_BOOST = 0.6
PREFIX_EXPANSIONS = 30
MODIFIER_BOOST = 0.7
# Function characters that jieba leaves alone between words; as query terms of
# their own they would only make a query harder to match.
STOP_CHARS = frozenset("的了和与及或之在对为把被其")


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


@dataclass(frozen=True)
class Term:
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Plan:
    terms: tuple[Term, ...]

    @property
    def marks(self) -> tuple[Mark, ...]:
        return tuple(m for t in self.terms for a in t.alternatives for m in a.marks)

    def keys(self) -> set[int]:
        return {k for t in self.terms for a in t.alternatives for g in a.groups for k in g.keys}


class Lexicon(Protocol):
    """The Latin words an index holds, for completions and typo corrections."""

    def latin_prefix(self, prefix: str, limit: int) -> list[str]: ...

    def latin_near(self, word: str) -> list[str]: ...


class SynonymMatcher:
    """Finds synonym entries in normalised query text (longest first)."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.group_of: dict[str, tuple[str, ...]] = {}
        for group in groups:
            members = tuple(dict.fromkeys(_squash(normalize(t)) for t in group if t.strip()))
            for m in members:
                self.group_of[m] = tuple(dict.fromkeys((*self.group_of.get(m, ()), *members)))
        parts = []
        for entry in sorted(self.group_of, key=len, reverse=True):
            body = r"\s*".join(re.escape(c) for c in entry)
            # A Latin end must sit on a word boundary (mes is not in "times").
            left = r"(?<![a-z0-9])" if entry[0].isalnum() and not is_cjk(entry[0]) else ""
            right = r"(?![a-z0-9])" if entry[-1].isalnum() and not is_cjk(entry[-1]) else ""
            parts.append(left + body + right)
        self._re = re.compile("|".join(parts)) if parts else None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, entry)`` of the synonym entries found in ``text``."""
        if self._re is None:
            return []
        return [(m.start(), m.end(), _squash(m.group())) for m in self._re.finditer(text)]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


class Planner:
    """Turns query text into a :class:`Plan` (see the module docstring)."""

    def __init__(self, synonyms: SynonymMatcher, segmenter: Segmenter) -> None:
        self.synonyms = synonyms
        self.segmenter = segmenter

    def plan(self, query: str, lexicon: Lexicon, prefix: bool = True) -> Plan:
        """The plan of ``query``; the last word is a prefix when ``prefix`` and the
        query does not end with a space. Never raises on any input."""
        raw = query[: MAX_QUERY_CHARS * 4]
        text = normalize(raw)[:MAX_QUERY_CHARS]
        last_is_prefix = prefix and bool(text) and not text[-1].isspace()
        pieces = self._pieces(text)[:MAX_TERMS]
        terms: list[Term] = []
        for i, (kind, value) in enumerate(pieces):
            is_last = i == len(pieces) - 1 and last_is_prefix
            term = self._term(kind, value, lexicon, is_last)
            if term is not None:
                terms.append(term)
        return Plan(tuple(terms))

    def _pieces(self, text: str) -> list[tuple[str, str]]:
        """``("syn", entry)``, ``("word", latin)`` or ``("cjk", chinese)`` in order."""
        out: list[tuple[str, str]] = []
        pos = 0
        for start, end, entry in [*self.synonyms.spans(text), (len(text), len(text), "")]:
            for run in runs(text[pos:start]):
                if run.kind == "word":
                    out.append(("word", run.text))
                else:
                    for word, core in self._words(run.text):
                        out.append(("cjk", word) if word == core else ("cjk", f"{word}|{core}"))
            if entry:
                out.append(("syn", entry))
            pos = end
        return out

    def _words(self, run: str) -> list[tuple[str, str]]:
        """A CJK run split into words, as ``(word, core)``: stray single characters
        join a neighbour; a leading one (防 in 防勒索) is a modifier, so ``core`` is
        the word without it (matched too, ranked lower), else ``core == word``."""
        if len(run) <= 2:
            return [(run, run)]
        words: list[tuple[str, str]] = []
        pending = ""
        for w in self.segmenter.cut(run):
            if len(w) == 1 and w in STOP_CHARS:
                pending = ""
                continue
            if len(w) == 1:
                if words:
                    # A trailing character is usually the next word being typed.
                    words[-1] = (words[-1][0] + w, words[-1][1] + w)
                else:
                    pending += w
                continue
            words.append((pending + w, w))
            pending = ""
        if pending:
            words.append((pending, pending))
        return words

    def _term(self, kind: str, value: str, lexicon: Lexicon, is_last: bool) -> Term | None:
        if kind == "syn":
            members = self.synonyms.group_of.get(value, (value,))
            alts = [_exact(value, 1.0)]
            alts += [_exact(m, SYNONYM_BOOST) for m in members if m != value]
            return Term(tuple(a for a in alts if a.groups))
        if kind == "cjk":
            word, _, core = value.partition("|")
            if len(word) == 1:
                group = Group(keys=(uni_key(word),), ranges=(bigram_range(word),))
                return Term((Alternative((group,), 1.0, (Mark(word, "sub"),)),))
            alts = [_exact(word, 1.0)]
            if core and core != word:
                alts.append(_exact(core, MODIFIER_BOOST))
            alts = [a for a in alts if a.groups]
            return Term(tuple(alts)) if alts else None
        return self._latin(value, lexicon, is_last)

    def _latin(self, word: str, lexicon: Lexicon, is_last: bool) -> Term:
        alts = [Alternative((Group((latin_key(word),)),), 1.0, (Mark(word, "word"),))]
        if is_last:
            done = {word}
            for w in lexicon.latin_prefix(word, PREFIX_EXPANSIONS):
                if w not in done:
                    done.add(w)
                    alts.append(
                        Alternative(
                            (Group((latin_key(w),)),), PREFIX_BOOST, (Mark(word, "prefix"),)
                        )
                    )
        if len(word) >= MIN_TYPO_LEN and word.isalpha():
            for w in lexicon.latin_near(word):
                if w != word:
                    alts.append(
                        Alternative((Group((latin_key(w),)),), TYPO_BOOST, (Mark(w, "word"),))
                    )
        return Term(tuple(alts))


def _exact(text: str, boost: float) -> Alternative:
    """The alternative matching normalised ``text`` as written (all its tokens)."""
    keys = list(dict.fromkeys(keys_of(text)))
    marks = tuple(Mark(r.text, "word" if r.kind == "word" else "sub") for r in runs(text) if r.text)
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
    "SynonymMatcher",
    "Term",
    "osa_distance_at_most_one",
]
