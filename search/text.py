"""Text analysis shared by the embedded engine's index and query sides.

Chinese has no spaces, so the engine indexes *CJK character bigrams*: a
2-character word is found inside any compound (质检 in 智能质检) while characters
that are not adjacent never match (零件 does not match 零部件). Latin/digit runs
are single tokens (so ``mes`` finds ``MES系统``). Everything is NFKC-normalised and
lower-cased first, which makes acronyms case- and width-insensitive (ＭＥＳ = mes).

A token is a 44-bit integer *key*:

* bigram ``TAG_BIGRAM | cp1 << 21 | cp2`` (so all bigrams starting with one
  character form one contiguous key range, which serves 1-character prefixes);
* lone CJK character ``TAG_UNI | cp`` (a CJK run of length one);
* Latin word ``TAG_LATIN | hash`` (42 bits of a polynomial hash).

Indexing a corpus goes through :func:`analyze_corpus`, which is vectorised with
numpy because per-character Python loops cannot reach 20,000 documents/s.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import rjieba

KEY_BITS = 44
TAG_BIGRAM = 1 << 42
TAG_UNI = 2 << 42
TAG_LATIN = 3 << 42
_LOW42 = (1 << 42) - 1
_HASH_MULT = 0x100000001B3  # FNV prime: odd, so the hash mixes every character
_MAX_WORD = 64  # longer Latin runs are hashed on their first 64 characters
SEP = "\x1f"  # separates the texts of one corpus batch; never part of a token
U64 = npt.NDArray[np.uint64]


def normalize(text: str) -> str:
    """NFKC + lower case: the one normalisation both index and query use."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK unified ideograph (BMP, extension A/B–G, compatibility)."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
    )


def is_word(ch: str) -> bool:
    """Whether ``ch`` belongs to a Latin/digit (non-CJK alphanumeric) word."""
    return ch.isalnum() and not is_cjk(ch)


def bigram_key(a: str, b: str) -> int:
    """The key of the CJK bigram ``a + b``."""
    return TAG_BIGRAM | ord(a) << 21 | ord(b)


def uni_key(ch: str) -> int:
    """The key of a lone CJK character."""
    return TAG_UNI | ord(ch)


def bigram_range(first: str) -> tuple[int, int]:
    """Half-open key range of every bigram whose first character is ``first``."""
    lo = TAG_BIGRAM | ord(first) << 21
    return lo, lo + (1 << 21)


def latin_key(word: str) -> int:
    """The key of a normalised Latin/digit word (same hash as :func:`analyze_corpus`)."""
    h = 0
    mult = 1
    for ch in word[:_MAX_WORD]:
        h = (h + ord(ch) * mult) & 0xFFFFFFFFFFFFFFFF
        mult = (mult * _HASH_MULT) & 0xFFFFFFFFFFFFFFFF
    return TAG_LATIN | _mix(h) & _LOW42


_M64 = 0xFFFFFFFFFFFFFFFF


def _mix(h: int) -> int:
    """splitmix64's finaliser: every input bit reaches every output bit (without
    it, words differing only in their first letter, wms/tms, share high bits)."""
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _M64
    return h ^ (h >> 31)


def _mix_array(h: U64) -> U64:
    """:func:`_mix` over an array (uint64 arithmetic wraps like ``& _M64``)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@dataclass(frozen=True)
class Run:
    """A maximal run of one script in normalised text: ``kind`` is ``"cjk"`` or ``"word"``."""

    kind: str
    text: str
    start: int


def runs(norm: str) -> list[Run]:
    """Split normalised text into CJK and Latin/digit runs; everything else separates."""
    out: list[Run] = []
    kind = ""
    start = 0
    for i, ch in enumerate(norm):
        k = "cjk" if is_cjk(ch) else "word" if ch.isalnum() else ""
        if k != kind:
            if kind:
                out.append(Run(kind, norm[start:i], start))
            kind, start = k, i
    if kind:
        out.append(Run(kind, norm[start:], start))
    return out


def keys_of(norm: str) -> list[int]:
    """Token keys of normalised text, in order (duplicates kept)."""
    keys: list[int] = []
    for run in runs(norm):
        if run.kind == "word":
            keys.append(latin_key(run.text))
        elif len(run.text) == 1:
            keys.append(uni_key(run.text))
        else:
            keys.extend(bigram_key(a, b) for a, b in zip(run.text, run.text[1:], strict=False))
    return keys


@lru_cache(maxsize=1)
def _word_table() -> npt.NDArray[np.bool_]:
    # Computed once: Python's isalnum for every BMP code point.
    table = np.fromiter((is_word(chr(i)) for i in range(0x10000)), dtype=np.bool_, count=0x10000)
    return table


@lru_cache(maxsize=1)
def _powers() -> U64:
    p = np.ones(_MAX_WORD, dtype=np.uint64)
    for i in range(1, _MAX_WORD):
        p[i] = (int(p[i - 1]) * _HASH_MULT) & 0xFFFFFFFFFFFFFFFF
    return p


class Segmenter:
    """Word segmentation (rjieba) with the domain's terms added to the dictionary.

    Used for two things: splitting a query typed without spaces into words, and
    telling the index which bigrams straddle two real words (化工|业务 for 工业),
    which rank below bigrams inside one word.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        for word in words:
            w = normalize(word).strip()
            if len(w) >= 2 and all(is_cjk(c) or is_word(c) for c in w):
                self._jieba.add_word(w, None, None)

    def cut(self, text: str) -> list[str]:
        """Words of ``text`` (HMM off: unknown words fall apart into characters)."""
        words: list[str] = self._jieba.cut(text, False)
        return words

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Words of ``text`` with their part of speech (jieba's tag set; ``x`` or
        empty for words added here), cut as :meth:`cut` does."""
        pairs: list[tuple[str, str]] = self._jieba.tag(text, False)
        return pairs


@dataclass(frozen=True)
class CorpusTokens:
    """Tokens of a batch of texts: parallel arrays plus the Latin words seen."""

    keys: U64  # 44-bit token keys
    text_index: npt.NDArray[np.int64]  # which input text each token came from
    straddle: npt.NDArray[np.bool_]  # bigram crossing a boundary between two real words
    latin: dict[int, str]  # key -> normalised Latin word, for prefix and typo look-ups
    lengths: npt.NDArray[np.int64]  # normalised length of each input text


def normalize_joined(texts: Sequence[str]) -> tuple[str, npt.NDArray[np.uint32]]:
    """``SEP.join(texts) + SEP`` normalised as :func:`normalize`, and its code points.

    Real Chinese text always holds full-width punctuation (，。（）), which sends
    ``unicodedata.normalize`` down its slow path (~8 M chars/s). Folding the
    full-width ASCII block in numpy first leaves NFKC almost nothing to do.
    """
    joined = SEP.join(texts) + SEP
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).copy()
    wide = (cp >= 0xFF01) & (cp <= 0xFF5E)
    cp[wide] -= 0xFEE0
    cp[cp == 0x3000] = 0x20
    folded = cp.tobytes().decode("utf-32-le")
    if not unicodedata.is_normalized("NFKC", folded):
        folded = SEP.join(
            p if unicodedata.is_normalized("NFKC", p) else unicodedata.normalize("NFKC", p)
            for p in folded.split(SEP)
        )
    norm = folded.lower()
    if norm is not folded or len(norm) != cp.size:
        cp = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    return norm, cp


def analyze_corpus(
    texts: Sequence[str], segmenter: Segmenter, segment: Sequence[bool] | None = None
) -> CorpusTokens:
    """Tokenise many texts at once (vectorised); see the module docstring for keys.

    ``segment[i]`` says whether text ``i`` is word-segmented to flag straddling
    bigrams; jieba costs ~7 M chars/s, so long fields (descriptions) are skipped.
    """
    norm, cp = normalize_joined(texts)
    n = cp.size
    sep = cp == ord(SEP)
    seg = np.cumsum(sep) - sep  # text index of each position
    ends = np.flatnonzero(sep)
    begins = np.concatenate(([0], ends[:-1] + 1))
    cjk = ((cp >= 0x4E00) & (cp <= 0x9FFF)) | ((cp >= 0x3400) & (cp <= 0x4DBF))
    rare = cp >= 0xF900
    if rare.any():
        cjk |= ((cp >= 0xF900) & (cp <= 0xFAFF)) | ((cp >= 0x20000) & (cp <= 0x3134F))
    word = np.zeros(n, dtype=np.bool_)
    bmp = np.flatnonzero(~cjk & (cp < 0x10000))
    word[bmp] = _word_table()[cp[bmp]]

    starts, wlen = _word_boundaries(norm, begins, ends, segmenter, segment)
    both = np.flatnonzero(cjk[:-1] & cjk[1:])
    c64 = cp.astype(np.int64)
    big_keys = TAG_BIGRAM | (c64[both] << 21) | c64[both + 1]
    big_straddle = starts[both + 1] & (wlen[both] >= 2) & (wlen[both + 1] >= 2)

    prev = np.concatenate(([False], cjk[:-1]))
    nxt = np.concatenate((cjk[1:], [False]))
    lone = np.flatnonzero(cjk & ~prev & ~nxt)
    uni_keys = TAG_UNI | c64[lone]

    lat_keys, lat_pos, latin = _latin_tokens(c64, word, norm)

    keys = np.concatenate((big_keys, uni_keys, lat_keys)).astype(np.uint64)
    pos = np.concatenate((both, lone, lat_pos))
    straddle = np.concatenate((big_straddle, np.zeros(lone.size + lat_pos.size, dtype=np.bool_)))
    return CorpusTokens(keys, seg[pos], straddle, latin, ends - begins)


def _word_boundaries(
    norm: str,
    begins: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    segmenter: Segmenter,
    segment: Sequence[bool] | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Word starts and the length of the word at each position (1 where not segmented).

    A bigram straddles when both sides are words of two or more characters:
    single characters are unknown words jieba split apart, so a boundary next to
    them means nothing.
    """
    n = len(norm)
    starts = np.zeros(n + 1, dtype=np.bool_)
    wlen = np.ones(n + 1, dtype=np.int64)
    chosen = np.flatnonzero(np.asarray(segment, dtype=np.bool_)) if segment is not None else None
    if chosen is None:
        chosen = np.arange(begins.size)
    if chosen.size == 0:
        return starts, wlen
    b, e = begins[chosen], ends[chosen]
    sub = SEP.join(norm[i:j] for i, j in zip(b.tolist(), e.tolist(), strict=True))
    pieces = segmenter.cut(sub)
    lens = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    if int(lens.sum()) != len(sub):  # segmenter dropped characters: no word info
        return starts, wlen
    sub_begin = np.concatenate(([0], np.cumsum(e - b + 1)[:-1]))
    shift = np.repeat(b - sub_begin, e - b + 1)[: len(sub)]  # sub position -> full position
    piece_start = np.concatenate(([0], np.cumsum(lens)[:-1]))
    starts[piece_start + shift[piece_start]] = True
    wlen[np.arange(len(sub)) + shift] = np.repeat(lens, lens)
    return starts, wlen


def _latin_tokens(
    cp: npt.NDArray[np.int64], word: npt.NDArray[np.bool_], norm: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[int, str]]:
    """Keys and start positions of the Latin/digit runs, hashed as :func:`latin_key`."""
    w = np.flatnonzero(word)
    if w.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), {}
    is_start = np.ones(w.size, dtype=np.bool_)
    is_start[1:] = w[1:] != w[:-1] + 1
    run_first = np.flatnonzero(is_start)  # index into w of each run's first char
    run_id = np.cumsum(is_start) - 1
    offset = w - w[run_first][run_id]
    keep = offset < _MAX_WORD
    contrib = np.zeros(w.size, dtype=np.uint64)
    contrib[keep] = cp[w[keep]].astype(np.uint64) * _powers()[offset[keep]]
    h = np.add.reduceat(contrib, run_first)
    keys = TAG_LATIN | (_mix_array(h) & np.uint64(_LOW42)).astype(np.int64)
    starts = w[run_first]
    run_len = np.diff(np.append(run_first, w.size))
    uniq, first = np.unique(keys, return_index=True)
    latin = {
        int(k): norm[int(starts[i]) : int(starts[i] + run_len[i])]
        for k, i in zip(uniq.tolist(), first.tolist(), strict=True)
    }
    return keys, starts, latin
