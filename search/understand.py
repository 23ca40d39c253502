"""Query understanding: from what a person typed to the terms an engine searches.

People describe problems in sentences (「我们想给冲压车间上一套MES」), name places
and budgets (「MES 江苏」「20万以内」), type English (vision inspection), pinyin
(zhijian) or a wrong character (冲压见). :meth:`Understander.understand` turns
such text into an :class:`Understanding`:

* **terms** (:class:`search.types.QueryTerm`), each one unit of meaning with its
  alternatives: a concept of the map counts once however it is spelled (its
  name, synonyms, English terms, the problem phrasings that point to it, with
  its narrower concepts a little lower); filler and question words
  (:data:`FILLERS`) are dropped; a CJK run is cut into words (rjieba with the
  map's terms added), so a bigram straddling two query words is never required;
  Latin words written apart, joined or hyphenated (OPC UA, opcua, opc-ua) are one
  term when the map knows them;
* **places** (provinces, their cities, the parks the app passes in) and a
  **budget** (「20万以内」「预算50万」「100万左右」), taken out of the words and
  returned for the caller to filter on, visibly;
* **corrections**: a CJK word that no document holds, with one character
  replaced by one of the same sound (pypinyin) or a similar shape
  (:data:`SHAPE_GROUPS`), and Latin words that read as pinyin (xitong → 系统), are
  replaced when — and only when — the corrected form occurs in the index
  (:class:`Vocabulary`); the caller shows 「已显示 … 的结果」 with the original.

Plain Python: no engine, no Flask. Both adapters receive the result through the
port (:class:`search.types.Query`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

import rjieba

from search.concepts import Concept, ConceptMap
from search.listings import INDEX_WORDS
from search.phrasings import PhrasingIndex
from search.text import Segmenter, is_cjk, normalize, runs
from search.types import Query, QueryTerm

MAX_QUERY_CHARS = 200
MAX_TERMS = 10
MAX_NARROWER = 8  # narrower concepts added to a term (a broad word should not list 50)
SYNONYM_BOOST = 0.9
NARROWER_BOOST = 0.6
PROBLEM_BOOST = 0.9
MODIFIER_BOOST = 0.7
LONE_CHAR_WEIGHT = 0.5
# A listing filed under the category of a concept the term names covers this share
# of it without using its words: below half, so a category alone never carries a
# one-word query, and a query whose informative words match nothing stays empty.
CATEGORY_SHARE = 0.4
# A word of a problem phrasing (病毒 of 中病毒停产) points to that phrasing's
# concepts in part: naming one covers this share, being filed under one less.
RELATED_SHARE = 0.5
RELATED_CATEGORY_SHARE = 0.3
MAX_RELATED = 12  # a word in the phrasings of more concepts than this says too little
# A phrasing found loosely in a clause (设备突然坏 in 设备老是突然坏): each word of the
# query it spans points to its concepts with this share, times how well it was found.
PHRASING_SHARE = 1.0
# How common a word is in Chinese at large (jieba's dictionary counts, of about 60
# million words): a word as common as 知道 or 结果 says little about what is sought,
# one as rare as 排课 or 按揭 says much. Between the two ends the weight scales with
# the word's general idf; only words of the dictionary are judged so.
GENERAL_TOTAL = 60_101_967
GENERAL_IDF_LOW = 7.0  # ~55,000 occurrences (要求, 知道): the lowest weight
GENERAL_IDF_HIGH = 12.0  # ~370 occurrences (编程, 车间): full weight
GENERAL_MIN_WEIGHT = 0.15
# Parts of speech (jieba's tags) of words outside the concept map: pronouns,
# adverbs, numerals, measure words, time and place words, particles say nothing
# about what is sought; a plain verb or adjective (知道, 提前, 坏) says little.
NO_WEIGHT_TAGS = frozenset(
    (
        "r",
        "d",
        "m",
        "mq",
        "q",
        "t",
        "tg",
        "f",
        "p",
        "c",
        "u",
        "uj",
        "ul",
        "uz",
        "ug",
        "uv",
        "ud",
        "y",
        "e",
        "o",
        "zg",
        "dg",
        "rg",
        "rr",
        "rz",
    )
)
VERB_TAGS = frozenset(("v", "vd", "vg", "a", "ad", "ag", "an", "i", "l"))
VERB_WEIGHT = 0.4

# Words that carry no meaning in a search: who is asking, wanting, how, questions,
# quantities, politeness. Longer entries win over the words inside them.
FILLERS = frozenset(
    " ".join(
        (
            "我 我们 我司 我厂 咱们 咱 本公司 本厂 公司 企业 厂里 我们厂 我们公司 你们 有人",
            "想 想要 想用 想找 想上 想做 想给 需要 要 打算 准备 希望 计划 考虑",
            "求 求助 求推荐 寻求 寻找 找 找一个 推荐 推荐一下 请问 问下 问一下 咨询 了解",
            "看看 看 帮忙 帮我 帮 一下 下",
            "怎么 怎么办 怎么样 怎样 如何 咋办 咋 能不能 能否 可以 可不可以 是否 有没有 有无",
            "哪里 哪家 哪个 哪些 什么 啥 谁 吗 呢 吧 啊 呀 么 哦 嘛",
            "一套 一个 一家 一款 一种 一些 一点 几个 个 套 款 家 种 些",
            "老是 总是 经常 常常 总 老 一直 特别 非常 太 很 比较 挺 有点 有些",
            "的 了 和 与 及 或 之 在 对 为 把 被 其 是 有 给 用 上 让 跟 从 到 做 搞 弄",
            "还 也 都 就 又 再 能 会 现在 目前 最近 今年 明年 马上 尽快 急 急需 谢谢 您好 你好",
        )
    ).split()
)
LATIN_FILLERS = frozenset(
    (
        "a",
        "an",
        "the",
        "of",
        "for",
        "and",
        "or",
        "to",
        "in",
        "on",
        "with",
        "by",
        "at",
        "is",
        "are",
        "my",
        "our",
        "we",
        "i",
        "need",
        "want",
        "how",
        "what",
    )
)

# Characters often typed for one another by shape (handwriting, wubi input), in the
# field's vocabulary; sound-alikes come from pypinyin. Each group is mutually confusable.
SHAPE_GROUPS: tuple[str, ...] = (
    "己已巳",
    "未末",
    "干千于",
    "人入八",
    "日曰",
    "土士",
    "戊戌戍",
    "候侯",
    "拔拨",
    "析折",
    "测侧恻",
    "检捡验险俭",
    "侍待持特",
    "账帐",
    "辨辩辫",
    "卷券",
    "贷货赁",
    "澡燥躁",
    "概慨",
    "历厉",
    "杨扬",
    "讯汛迅",
    "栽载裁",
    "幕暮墓慕",
    "传转",
    "模摸膜",
    "构沟购",
    "端瑞",
    "钻钴",
    "铣洗",
    "锻缎",
    "焊悍捍",
    "磨摩",
    "炼练",
    "冶治",
    "淬碎",
    "钣板扳",
    "仪议",
    "阀阅",
    "孪挛",
    "采彩踩",
    "码玛",
    "维锥",
    "粉份",
    "料科",
    "标栋",
    "识织",
    "系糸",
    "统铳",
    "设没",
    "备各",
    "件伴",
    "析忻",
    "库厍",
    "储储",
)

Kind = Literal["province", "park"]


@dataclass(frozen=True)
class PlaceName:
    """A place a query may name: ``text`` as typed (苏州, 江苏, 苏州工业园区),
    ``kind`` and ``value`` of the filter (province name or park ref) and the
    ``label`` shown on the chip (江苏省, 苏州工业园区)."""

    text: str
    kind: Kind
    value: str
    label: str


@dataclass(frozen=True)
class Budget:
    """A budget said in the query: at most ``lte`` / at least ``gte`` yuan; ``text``
    as typed (20万以内)."""

    text: str
    lte: float | None = None
    gte: float | None = None


@dataclass(frozen=True)
class Correction:
    """``typed`` was searched as ``shown`` (冲压见 → 冲压件, xitong → 系统)."""

    typed: str
    shown: str


@dataclass(frozen=True)
class Understanding:
    """What a query means (see the module docstring)."""

    original: str
    query: Query
    places: tuple[PlaceName, ...] = ()
    budget: Budget | None = None
    corrections: tuple[Correction, ...] = ()

    @property
    def corrected(self) -> str:
        """The query as searched, for 「已显示 … 的结果」 (the original when nothing changed)."""
        text = self.original
        for c in self.corrections:
            text = _replace_folded(text, c.typed, c.shown)
        return text

    def without(self, phrase: str) -> str:
        """The original query with ``phrase`` (a place or budget as typed) taken out:
        what a chip's 「×」 searches."""
        return " ".join(_replace_folded(self.original, phrase, " ").split())


class Vocabulary(Protocol):
    """What an index holds: for each term, in how many documents it occurs (a CJK
    term: all its character pairs; a Latin word: the whole word)."""

    def frequencies(self, terms: Sequence[str]) -> list[int]: ...


# -- units: the query as CJK characters and Latin words --------------------------------
Unit = str  # one CJK character or one Latin/digit word (normalised)


def units(norm: str) -> list[tuple[Unit, int, int]]:
    """``(unit, start, end)`` over normalised text; everything else separates."""
    out: list[tuple[Unit, int, int]] = []
    i, n = 0, len(norm)
    while i < n:
        ch = norm[i]
        if is_cjk(ch):
            out.append((ch, i, i + 1))
            i += 1
        elif ch.isalnum():
            j = i
            while j < n and norm[j].isalnum() and not is_cjk(norm[j]):
                j += 1
            out.append((norm[i:j], i, j))
            i = j
        else:
            i += 1
    return out


def unit_keys(term: str) -> list[tuple[Unit, ...]]:
    """Ways a term's units may be typed: as written, and with runs of Latin words
    joined (OPC UA = opcua = opc-ua; Wi-Fi 6 = wifi6)."""
    seq = tuple(u for u, _, _ in units(normalize(term)))
    if not seq:
        return []
    keys = [seq]
    joined: list[str] = []
    for u in seq:
        if joined and not is_cjk(u[0]) and not is_cjk(joined[-1][-1]):
            joined[-1] += u
        else:
            joined.append(u)
    if tuple(joined) != seq:
        keys.append(tuple(joined))
    return keys


@dataclass(frozen=True)
class _Entry:
    kind: Literal["concept", "english", "problem", "place"]
    ids: tuple[str, ...] = ()
    place: PlaceName | None = None


@dataclass
class _Piece:
    """One part of the query before it becomes a term."""

    kind: Literal["entry", "latin", "cjk"]
    text: str  # normalised, as typed
    start: int
    end: int
    entry: _Entry | None = None
    core: str = ""  # a CJK word without a leading or trailing stray character
    weight: float = 1.0
    # Concepts of problem phrasings found loosely over this piece, with their share.
    phrased: dict[str, float] = field(default_factory=dict)


_BUDGET = re.compile(
    r"(?P<pre>预算(?:在|是|大概|大约|约)?|budget\s*)?"
    r"(?P<lo>\d+(?:\.\d+)?)(?:\s*(?:-|~|到|至)\s*(?P<hi>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>万元|万|w(?![a-z])|千元|千|k(?![a-z])|元)?"
    r"\s*(?P<post>以内|以下|之内|内|左右|上下|以上|起|封顶|不到|不超过)?"
)
_UNITS = {"万元": 1e4, "万": 1e4, "w": 1e4, "千元": 1e3, "千": 1e3, "k": 1e3, "元": 1.0}


def find_budget(norm: str) -> tuple[Budget, int, int] | None:
    """The first budget said in normalised text, with its span. A bare number is
    not a budget (5G, 2.0): it needs 预算, a money unit with a bound or 万."""
    for m in _BUDGET.finditer(norm):
        unit, pre, post = m.group("unit"), m.group("pre"), m.group("post")
        # A bare amount of four digits or more with a bound (3000以内) is in yuan.
        bare = not unit and not pre and post and float(m.group("lo")) >= 1000
        if not unit and not pre and not bare:
            continue
        if unit in (None, "元", "千", "千元", "k") and not (pre or post):
            continue
        scale = 1.0 if bare else _UNITS.get(unit or "", 1e4)  # 预算50 means 50 万 here
        lo = float(m.group("lo")) * scale
        hi = float(m.group("hi")) * scale if m.group("hi") else None
        text = m.group().strip()
        if hi is not None:
            return Budget(text, lte=hi, gte=lo), m.start(), m.end()
        if post in ("以上", "起"):
            return Budget(text, gte=lo), m.start(), m.end()
        if post in ("左右", "上下"):
            return Budget(text, lte=lo * 1.2, gte=lo * 0.8), m.start(), m.end()
        return Budget(text, lte=lo), m.start(), m.end()
    return None


class Understander:
    """Understands queries against one concept map and set of places (build once,
    use from any thread: it holds no per-query state)."""

    def __init__(
        self,
        concepts: ConceptMap,
        places: Iterable[PlaceName] = (),
        fillers: Iterable[str] = FILLERS,
        index_words: Mapping[str, Iterable[str]] = INDEX_WORDS,
    ) -> None:
        self.concepts = concepts
        self.fillers = frozenset(normalize(f) for f in fillers)
        self.index_words = {k: frozenset(normalize(w) for w in v) for k, v in index_words.items()}
        self._table: dict[tuple[Unit, ...], _Entry] = {}
        self._terms: set[str] = set()  # normalised concept terms (preferred corrections)
        by_key: dict[tuple[Unit, ...], list[tuple[str, str]]] = {}
        for concept in concepts.concepts.values():
            for term in concept.terms:
                self._terms.add(normalize(term).replace(" ", ""))
                for key in unit_keys(term):
                    by_key.setdefault(key, []).append(("concept", concept.id))
            for term in concept.english:
                for key in unit_keys(term):
                    by_key.setdefault(key, []).append(("english", concept.id))
            for term in concept.problems:
                for key in unit_keys(term):
                    by_key.setdefault(key, []).append(("problem", concept.id))
        for key, owners in by_key.items():
            # A spelling that names a concept wins over English words and phrasings.
            rank = {"concept": 0, "english": 1, "problem": 2}
            best = min(rank[k] for k, _ in owners)
            kind = next(k for k, _ in owners if rank[k] == best)
            ids = tuple(dict.fromkeys(i for k, i in owners if k == kind))
            self._table[key] = _Entry(kind, ids)  # type: ignore[arg-type]
        for place in places:
            for key in unit_keys(place.text):
                # A park or place spelled like a concept term stays a concept.
                self._table.setdefault(key, _Entry("place", place=place))
        self._longest = max((len(k) for k in self._table), default=1)
        words = [*("".join(k) for k in self._table if all(is_cjk(u[0]) for u in k)), *self.fillers]
        self.segmenter = Segmenter(words)
        # rjieba's own words, to keep a term of the map from starting or ending
        # inside a longer word (机联网 inside 注塑机联网 is 注塑机 + 联网).
        self.base = _base_segmenter()
        self._problem_words = self._words_of_problems()
        self.phrasings = PhrasingIndex(
            (phrase, c.id) for c in concepts.concepts.values() for phrase in c.problems
        )

    def _words_of_problems(self) -> dict[str, dict[str, float]]:
        """Each word of two or more characters in the map's problem phrasings → the
        concepts whose phrasings hold it, with the largest share of a phrasing it
        makes up. Words found in the phrasings of more than :data:`MAX_RELATED`
        concepts (设备, 数据) are left out: they point nowhere in particular."""
        out: dict[str, dict[str, float]] = {}
        for concept in self.concepts.concepts.values():
            for phrase in concept.problems:
                text = "".join(normalize(phrase).split())
                words = [w for w in self.base.cut(text) if w not in self.fillers]
                size = sum(len(w) for w in words) or 1
                for w in words:
                    if len(w) >= 2 and all(is_cjk(c) for c in w):
                        shares = out.setdefault(w, {})
                        shares[concept.id] = max(shares.get(concept.id, 0.0), len(w) / size)
        return {w: shares for w, shares in out.items() if len(shares) <= MAX_RELATED}

    # -- the main entry ----------------------------------------------------------------
    def understand(
        self,
        query: str,
        vocabulary: Vocabulary | None = None,
        *,
        places: bool = True,
        correct: bool = True,
        index: str | None = None,
    ) -> Understanding:
        """What ``query`` means. ``vocabulary`` (the index's) allows corrections;
        ``places=False`` keeps place
        names as words; ``correct=False`` searches what was typed; ``index`` names
        the index searched, whose words for itself (需求 and 企业 on the needs) carry
        no weight. Never raises on any input."""
        original = " ".join(query[: MAX_QUERY_CHARS * 4].split())[:MAX_QUERY_CHARS]
        norm = normalize(original)
        budget = None
        if places:
            found = find_budget(norm)
            if found is not None:
                budget, s, e = found
                norm = norm[:s] + " " * (e - s) + norm[e:]
        pieces, found_places = self._pieces(norm, places)
        corrections: list[Correction] = []
        if correct and vocabulary is not None:
            corrections = self._correct(norm, pieces, vocabulary)
        pieces = self._without_index_words(pieces, index)
        self._weigh_by_general_use(pieces)
        self._mark_phrasings(norm, pieces)
        terms = self._terms_of(pieces)
        query_text = " ".join(_engine_text(t) for t in terms)
        return Understanding(
            original,
            Query(query_text, tuple(terms)),
            tuple(dict.fromkeys(found_places)),
            budget,
            tuple(corrections),
        )

    # -- splitting ----------------------------------------------------------------------
    def _inner(self, norm: str) -> set[int]:
        """Positions that fall strictly inside a word of three or more characters."""
        inner: set[int] = set()
        for run in runs(norm):
            if run.kind != "cjk":
                continue
            pos = run.start
            for w in self.base.cut(run.text):
                if len(w) >= 3:
                    inner.update(range(pos + 1, pos + len(w)))
                pos += len(w)
        return inner

    def _pieces(self, norm: str, places: bool) -> tuple[list[_Piece], list[PlaceName]]:
        us = units(norm)
        inner = self._inner(norm)
        out: list[_Piece] = []
        found: list[PlaceName] = []
        gap: list[tuple[Unit, int, int]] = []

        def flush() -> None:
            if gap:
                out.extend(self._gap_pieces(norm, gap))
                gap.clear()

        i = 0
        while i < len(us):
            hit = None
            for length in range(min(self._longest, len(us) - i), 0, -1):
                key = tuple(u for u, _, _ in us[i : i + length])
                entry = self._table.get(key)
                if entry is None or (not places and entry.kind == "place"):
                    continue
                if us[i][1] in inner or us[i + length - 1][2] in inner:
                    continue
                if any(
                    is_cjk(a[0][0]) and is_cjk(b[0][0]) and a[2] != b[1]
                    for a, b in zip(us[i : i + length - 1], us[i + 1 : i + length], strict=True)
                ):
                    continue  # a space typed between two Chinese words separates them
                hit = (length, entry)
                break
            if hit is None:
                gap.append(us[i])
                i += 1
                continue
            length, entry = hit
            flush()
            start, end = us[i][1], us[i + length - 1][2]
            if entry.kind == "place" and entry.place is not None:
                found.append(entry.place)
            else:
                out.append(_Piece("entry", norm[start:end], start, end, entry))
            i += length
        flush()
        return out, found

    def _gap_pieces(self, norm: str, gap: list[tuple[Unit, int, int]]) -> list[_Piece]:
        """Latin words as they are; CJK runs cut into words, fillers dropped."""
        out: list[_Piece] = []
        k = 0
        while k < len(gap):
            u, s, e = gap[k]
            if not is_cjk(u[0]):
                if u not in LATIN_FILLERS:
                    out.append(_Piece("latin", u, s, e))
                k += 1
                continue
            j = k
            while j + 1 < len(gap) and is_cjk(gap[j + 1][0][0]) and gap[j + 1][1] == gap[j][2]:
                j += 1
            out.extend(self._cjk_words(norm[s : gap[j][2]], s))
            k = j + 1
        return out

    def _cjk_words(self, run: str, offset: int) -> list[_Piece]:
        words: list[tuple[str, int, str]] = []
        pos = 0
        for w, tag in self.segmenter.tag(run):
            words.append((w, offset + pos, tag or ""))
            pos += len(w)
        kept = [
            (w, s, tag)
            for w, s, tag in words
            if w not in self.fillers and not (tag in NO_WEIGHT_TAGS and self._plain(w))
        ]
        out: list[_Piece] = []
        strays: list[tuple[str, int]] = []
        for w, s, tag in kept:
            adjacent = bool(out) and out[-1].end == s
            if len(w) == 1:
                if strays and strays[-1][1] + len(strays[-1][0]) == s:
                    strays.append((w, s))
                else:
                    self._settle(out, strays)
                    strays = [(w, s)]
                continue
            weight = VERB_WEIGHT if tag in VERB_TAGS and w not in self._terms else 1.0
            if len(strays) == 1 and strays[0][1] + 1 == s and not adjacent:
                # A leading character modifies the word (防 in 防勒索): both are tried.
                ch, cs = strays[0]
                out.append(_Piece("cjk", ch + w, cs, s + len(w), core=w, weight=weight))
                strays = []
                continue
            self._settle(out, strays)
            strays = []
            out.append(_Piece("cjk", w, s, s + len(w), core=w, weight=weight))
        self._settle(out, strays)
        return out

    def _plain(self, word: str) -> bool:
        """Whether ``word``'s part of speech may lower its weight: jieba tags some
        nouns of the field oddly (批次 as an adverb, 零件 as a measure word), so a
        word of the map or one rare in Chinese at large keeps its weight."""
        return word not in self._terms and (len(word) == 1 or general_weight(word) < 1.0)

    @staticmethod
    def _settle(out: list[_Piece], strays: list[tuple[str, int]]) -> None:
        """Stray characters jieba could not place: two or more together are a word of
        their own (约车); one right after a word joins it (冲压见: a typo or the
        next word being typed), else it stands alone."""
        if not strays:
            return
        text = "".join(w for w, _ in strays)
        start = strays[0][1]
        end = start + len(text)
        prev = out[-1] if out else None
        if len(text) == 1 and prev is not None and prev.kind == "cjk" and prev.end == start:
            prev.text += text
            prev.end = end
            return
        # Characters no word of the language holds together (来修, 买新) are as
        # likely a sentence's glue as a name: they count as a lone character does.
        weight = 1.0 if len(text) == 1 or rjieba.has_word(text) else LONE_CHAR_WEIGHT
        out.append(_Piece("cjk", text, start, end, core=text, weight=weight))

    def _without_index_words(self, pieces: list[_Piece], index: str | None) -> list[_Piece]:
        """Pieces without the words that describe the index searched (a vendor
        looking through needs types 需求, 企业, 客户), unless nothing else is left."""
        words = self.index_words.get(index or "", frozenset())
        kept = [p for p in pieces if not (p.kind == "cjk" and p.text in words)]
        return kept or pieces

    def _mark_phrasings(self, norm: str, pieces: list[_Piece]) -> None:
        """Point the words of the query that a loosely found problem phrasing spans
        (:class:`search.phrasings.PhrasingIndex`: 设备突然坏 in 设备老是突然坏) to the
        phrasing's concepts, by how well it was found: a listing naming one of them
        covers that share of each word."""
        for match in self.phrasings.find(norm):
            share = PHRASING_SHARE * match.score
            for p in pieces:
                if p.kind == "entry" or p.end <= match.start or p.start >= match.end:
                    continue
                for cid in match.ids:
                    p.phrased[cid] = max(share, p.phrased.get(cid, 0.0))

    @staticmethod
    def _weigh_by_general_use(pieces: list[_Piece]) -> None:
        """Scale the weight of dictionary words outside the map by how rare they are
        in Chinese at large (:func:`general_weight`): 老板 and 结果 in a sentence
        about a problem count little, 排课 or 按揭 count fully."""
        for p in pieces:
            if p.kind == "cjk" and len(p.text) >= 2:
                p.weight *= general_weight(p.text)

    # -- corrections -------------------------------------------------------------------
    def _correct(self, norm: str, pieces: list[_Piece], vocabulary: Vocabulary) -> list[Correction]:
        todo = [p for p in pieces if p.kind in ("cjk", "latin") and len(p.text) >= 2]
        todo += [
            p for p in pieces if p.kind == "latin" and len(p.text) < 2 and _after_cjk(pieces, p)
        ]
        if not todo:
            return []
        texts = [p.text for p in todo]
        freqs = dict(zip(texts, vocabulary.frequencies(texts), strict=True))
        covered = {i for p in pieces for i in range(p.start, p.end)}
        out: list[Correction] = []
        for p in todo:
            if freqs.get(p.text, 0) > 0 or p not in pieces:
                continue
            typed = p.text
            if p.kind == "cjk":
                # A character dropped as a filler may be half of the mistyped word
                # (能 of 能好监测 = 能耗监测): the word with it is tried for a map term.
                left = norm[p.start - 1] if p.start > 0 else ""
                if not (left and is_cjk(left) and p.start - 1 not in covered):
                    left = ""
                fixed = self._fix_cjk(p.text, vocabulary, joined=_trailing_stray(p), left=left)
                if fixed and left and len(fixed) > len(p.text):
                    typed = left + p.text
                    p.start -= 1
            else:
                prev = _after_cjk(pieces, p)
                fixed = self._fix_pinyin(p.text, vocabulary, before=prev.text if prev else "")
                if fixed and prev is not None and prev.text and fixed.startswith(prev.text):
                    # Pinyin typed right after Chinese (防火qiang): one word with it.
                    typed = prev.text + p.text
                    p.start = prev.start
                    pieces.remove(prev)
            if fixed and fixed != typed:
                out.append(Correction(typed, fixed))
                p.kind, p.text, p.core = "cjk", fixed, fixed
                entry = self._table.get(tuple(fixed))
                if entry is not None and entry.kind != "place":
                    p.kind, p.entry = "entry", entry
        return out

    def _fix_cjk(
        self, word: str, vocabulary: Vocabulary, joined: bool = False, left: str = ""
    ) -> str | None:
        """``word`` with one character replaced by a sound- or shape-alike, if the
        result occurs in the index and reads as a word (a term of the map, or
        whole words to rjieba): the closest sound first, then the commonest.
        ``joined``: a word with a stray character after it (冲压见, 分期付), whose
        correction must be one word of the language or the map (冲压件), not a
        word and a character (分支付). ``left``: a character typed before the word
        and dropped as a filler; the word with it counts only as a term of the map."""
        candidates: list[tuple[str, int]] = []
        for i, ch in enumerate(word):
            if not is_cjk(ch):
                continue
            for alt, closeness in confusable(ch):
                candidates.append((word[:i] + alt + word[i + 1 :], closeness))
        if joined:
            words = [(c, k) for c, k in candidates if c in self._terms or rjieba.has_word(c)]
        else:
            words = [(c, k) for c, k in candidates if self._is_word(c)]
        if left:
            words += [(left + c, k) for c, k in candidates if left + c in self._terms]
        return self._best(words, vocabulary)

    def _is_word(self, text: str) -> bool:
        """A term of the map, or text rjieba cuts into fewer pieces than characters
        (so 要车, two lone characters, is not a word, and 冲压件 = 冲压|件 is)."""
        if text.replace(" ", "") in self._terms:
            return True
        return len(self.segmenter.cut(text)) < len(text) or len(text) > 4

    def _fix_pinyin(self, word: str, vocabulary: Vocabulary, before: str = "") -> str | None:
        """A Latin word no document holds, read as pinyin (xitong → 系统): the
        characters of each syllable chained through pairs that occur in the index.
        ``before``: Chinese typed right before it (防火qiang), which a single
        syllable must continue into a word of the map or the language (防火墙)."""
        if word in LATIN_FILLERS or not word.isalpha() or (len(word) < 4 and not before):
            return None
        syllables = split_pinyin(word)
        if not syllables or len(syllables) > 6 or (len(syllables) < 2 and not before):
            return None
        options: list[tuple[str, ...]] = [homophones(s, common=True) for s in syllables]
        if not all(options):
            return None
        if before:
            options.insert(0, (before[-1],))
        # Best path through the lattice: each step a pair that occurs in the index.
        best: dict[str, tuple[float, str]] = {c: (0.0, c) for c in options[0]}
        for nxt in options[1:]:
            pairs = [(a + b) for a in best for b in nxt]
            freqs = vocabulary.frequencies(pairs)
            step: dict[str, tuple[float, str]] = {}
            for pair, f in zip(pairs, freqs, strict=True):
                if f <= 0:
                    continue
                score = best[pair[0]][0] + math.log1p(f)
                if pair[1] not in step or score > step[pair[1]][0]:
                    step[pair[1]] = (score, best[pair[0]][1] + pair[1])
            if not step:
                return None
            best = step
        paths = [(before[:-1] + text if before else text, 0) for _, text in best.values()]
        if before:
            # Joined to the Chinese before it, the result must read as one word.
            paths = [(t, k) for t, k in paths if t in self._terms or rjieba.has_word(t)]
        return self._best(paths, vocabulary)

    def _best(self, candidates: list[tuple[str, int]], vocabulary: Vocabulary) -> str | None:
        """The candidate to show: a term of the map first, then the closest
        (``closeness``: 0 same sound and tone … 3 shape), then the commonest."""
        closest: dict[str, int] = {}
        for text, closeness in candidates:
            closest[text] = min(closeness, closest.get(text, closeness))
        if not closest:
            return None
        texts = list(closest)
        freqs = vocabulary.frequencies(texts)
        # A word of the map, then of the language (测评, not 测平 of 检测平台).
        scored = [
            (t not in self._terms, not rjieba.has_word(t), closest[t], -f, t)
            for t, f in zip(texts, freqs, strict=True)
            if f > 0
        ]
        return min(scored)[4] if scored else None

    # -- terms --------------------------------------------------------------------------
    def _terms_of(self, pieces: list[_Piece]) -> list[QueryTerm]:
        terms: list[QueryTerm] = []
        prev_end = -1
        seen: set[str] = set()
        for p in pieces:
            adjacent = p.start == prev_end
            prev_end = p.end
            term = self._term(p, adjacent)
            ids = p.entry.ids if p.kind == "entry" and p.entry is not None else ()
            key = "|".join(ids) if ids else term.text
            if key in seen:
                continue  # the same concept twice (MES … 制造执行系统) counts once
            seen.add(key)
            terms.append(term)
            if len(terms) >= MAX_TERMS:
                break
        return terms

    def _term(self, p: _Piece, adjacent: bool) -> QueryTerm:
        if p.kind == "entry" and p.entry is not None:
            return self._concept_term(p, adjacent)
        if p.kind == "latin":
            # A bare number (90 in 付款要90天) is a quantity, as a CJK numeral is.
            weight = LONE_CHAR_WEIGHT if p.text.isdigit() else 1.0
            return QueryTerm(p.text, ((p.text, 1.0),), weight, adjacent, "latin")
        alts = [(p.text, 1.0)]
        if p.core and p.core != p.text:
            alts.append((p.core, MODIFIER_BOOST))
        weight = LONE_CHAR_WEIGHT if len(p.text) == 1 else p.weight
        related, categories = self._related(p.core or p.text, p.phrased)
        return QueryTerm(p.text, tuple(alts), weight, adjacent, "cjk", "", related, categories)

    def _related(
        self, word: str, phrased: Mapping[str, float] | None = None
    ) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
        """Spellings and categories of the concepts whose problem phrasings hold
        ``word`` (a word of a sentence that is part of a known phrasing), partly,
        and of the concepts of phrasings found loosely over it (``phrased``)."""
        shares = dict.fromkeys(self._problem_words.get(word, ()), RELATED_SHARE)
        for cid, share in (phrased or {}).items():
            shares[cid] = max(share, shares.get(cid, 0.0))
        if not shares:
            return (), ()
        spellings: dict[str, float] = {}
        for cid, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            concept = self.concepts.concepts.get(cid)
            if concept is not None:
                for t in _spellings(concept):
                    spellings.setdefault(t, share)
        return tuple(spellings.items()), self._categories(shares, RELATED_CATEGORY_SHARE)

    def _categories(self, ids: Iterable[str], share: float) -> tuple[tuple[str, float], ...]:
        """The leaf taxonomy codes of concepts ``ids`` (a top-level code spans a
        whole area and says nothing), each with ``share``."""
        codes: dict[str, float] = {}
        for cid in ids:
            concept = self.concepts.concepts.get(cid)
            if concept is not None:
                for code in concept.categories:
                    if "." in code:
                        codes.setdefault(code, share)
        return tuple(codes.items())

    def _concept_term(self, p: _Piece, adjacent: bool) -> QueryTerm:
        assert p.entry is not None
        entry = p.entry
        typed = p.text
        alts: dict[str, float] = {}
        if entry.kind != "problem":
            alts[_spelling(typed)] = 1.0
        base = PROBLEM_BOOST if entry.kind == "problem" else SYNONYM_BOOST
        names: list[str] = []
        for cid in entry.ids:
            concept = self.concepts.concepts.get(cid)
            if concept is None:
                continue
            names.append(concept.name)
            for t in _spellings(concept):
                alts.setdefault(t, base)
            for nid in self.concepts.narrower(cid)[:MAX_NARROWER]:
                child = self.concepts.concepts.get(nid)
                if child is not None:
                    for t in _spellings(child):
                        alts.setdefault(t, NARROWER_BOOST)
        if entry.kind == "problem":
            alts.setdefault(_spelling(typed), 1.0)
        engine = typed if entry.kind == "concept" else " ".join(names)
        categories = self._categories(entry.ids, CATEGORY_SHARE)
        return QueryTerm(
            typed, tuple(alts.items()), 1.0, adjacent, entry.kind, engine, (), categories
        )


def _after_cjk(pieces: Sequence[_Piece], p: _Piece) -> _Piece | None:
    """The CJK word typed right before ``p`` with no space (防火 of 防火qiang)."""
    i = pieces.index(p) if p in pieces else -1
    if i <= 0:
        return None
    prev = pieces[i - 1]
    return prev if prev.kind == "cjk" and prev.end == p.start and prev.text else None


def _trailing_stray(p: _Piece) -> bool:
    """A word with a stray character typed after it (冲压见 = 冲压 + 见)."""
    return bool(p.core) and p.core != p.text and p.text.startswith(p.core)


def _spelling(term: str) -> str:
    return _join_units(tuple(u for u, _, _ in units(normalize(term))))


def _spellings(concept: Concept) -> list[str]:
    """Every spelling of a concept, as units joined by spaces, and Latin runs joined."""
    out: list[str] = []
    for term in concept.terms:
        for key in unit_keys(term):
            out.append(_join_units(key))
    return list(dict.fromkeys(out))


def _join_units(key: tuple[Unit, ...]) -> str:
    """Units as text the engines tokenise back into the same units: CJK characters
    together, Latin words apart."""
    text = ""
    for u in key:
        if text and not (is_cjk(u[0]) and is_cjk(text[-1])):
            text += " "
        text += u
    return text


def _engine_text(term: QueryTerm) -> str:
    return term.engine_text or term.text


def _replace_folded(text: str, typed: str, shown: str) -> str:
    """``text`` with the first occurrence of ``typed`` (compared NFKC, lower case,
    spacing ignored) replaced by ``shown``."""
    pattern = r"\s*".join(re.escape(c) for c in typed if not c.isspace())
    if not pattern:
        return text
    norm = unicodedata.normalize("NFKC", text)
    m = re.search(pattern, norm, flags=re.IGNORECASE)
    if m is None or len(norm) != len(text):
        return text if m is None else norm[: m.start()] + shown + norm[m.end() :]
    return text[: m.start()] + shown + text[m.end() :]


@lru_cache(maxsize=65536)
def general_weight(word: str) -> float:
    """How much a word says by its rarity in Chinese at large: 1.0 for a word of
    the dictionary rarer than ~370 in 60 million (or not in it), down to
    :data:`GENERAL_MIN_WEIGHT` for the commonest (see :data:`GENERAL_IDF_LOW`)."""
    if not rjieba.has_word(word):
        return 1.0
    idf = math.log(GENERAL_TOTAL / (rjieba.suggest_freq(word) + 1))
    share = (idf - GENERAL_IDF_LOW) / (GENERAL_IDF_HIGH - GENERAL_IDF_LOW)
    return min(1.0, max(GENERAL_MIN_WEIGHT, share))


@lru_cache(maxsize=1)
def _base_segmenter() -> Segmenter:
    return Segmenter()


# -- sounds and shapes ----------------------------------------------------------------------
def _toneless(pinyin: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", pinyin) if not unicodedata.combining(c))
    return bare.replace("ü", "v")


def _gb2312_level(ch: str) -> int:
    """1 for the 3,755 commonest characters, 2 for the next 3,008, else 0."""
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return 0
    if len(raw) != 2:
        return 0
    return 1 if 0xB0 <= raw[0] <= 0xD7 else 2 if 0xD8 <= raw[0] <= 0xF7 else 0


@lru_cache(maxsize=1)
def _sound_tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Character → readings with tone marks (commonest first), and toneless reading →
    characters (GB 2312 only: the characters people actually type)."""
    from pypinyin.pinyin_dict import pinyin_dict

    readings: dict[str, tuple[str, ...]] = {}
    chars: dict[str, list[str]] = {}
    for cp, value in pinyin_dict.items():
        ch = chr(cp)
        if not _gb2312_level(ch):
            continue
        marked = tuple(dict.fromkeys(value.split(",")))
        readings[ch] = marked
        for r in dict.fromkeys(_toneless(v) for v in marked):
            chars.setdefault(r, []).append(ch)
    return readings, {r: tuple(cs) for r, cs in chars.items()}


@lru_cache(maxsize=1)
def _shape_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in SHAPE_GROUPS:
        for ch in group:
            table[ch] = table.get(ch, "") + "".join(c for c in group if c != ch)
    return table


def homophones(reading: str, common: bool = False) -> tuple[str, ...]:
    """Characters read ``reading`` (toneless pinyin); ``common``: the 3,755 commonest."""
    chars = _sound_tables()[1].get(reading, ())
    return tuple(c for c in chars if _gb2312_level(c) == 1) if common else chars


@lru_cache(maxsize=4096)
def confusable(ch: str) -> tuple[tuple[str, int], ...]:
    """Characters typed for ``ch``, each with its closeness: 0 the same main reading
    and tone, 1 the same main reading in another tone, 2 another reading of ``ch``,
    3 a similar shape."""
    readings, _ = _sound_tables()
    mine = readings.get(ch, ())
    out: dict[str, int] = {}
    for i, reading in enumerate(mine):
        for other in homophones(_toneless(reading)):
            theirs = readings.get(other, ())
            if i == 0 and theirs and theirs[0] == reading:
                closeness = 0
            elif i == 0:
                closeness = 1
            else:
                closeness = 2
            out[other] = min(closeness, out.get(other, closeness))
    for other in _shape_table().get(ch, ""):
        out.setdefault(other, 3)
    out.pop(ch, None)
    return tuple(out.items())


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    return frozenset(r for r in _sound_tables()[1] if r.isalpha())


def split_pinyin(word: str) -> list[str] | None:
    """``word`` as a sequence of pinyin syllables (fewest syllables), or ``None``."""
    known = _syllables()
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + 6), i, -1):
            piece = word[i:j]
            if piece in known:
                cand = [*best[i], piece]  # type: ignore[misc]
                if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = cand
    return best[n]


__all__ = [
    "FILLERS",
    "SHAPE_GROUPS",
    "Budget",
    "Correction",
    "PlaceName",
    "Understander",
    "Understanding",
    "Vocabulary",
    "confusable",
    "find_budget",
    "homophones",
    "split_pinyin",
]
