"""Japanese text handling for the judges: normalisation with offsets, sentences, tokens.

Every normalised string keeps a map back to the original text, so evidence quoted by a
judge points at what the trainee actually typed (half-width kana, HTML and all).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Longest text handed to the analyser in one call; SudachiPy refuses very long inputs.
_CHUNK = 1000

_TAG = re.compile(r"<[^>]{0,500}>")
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6});")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&nbsp;": " ", "&#39;": "'"}
_SPACE = re.compile(r"\s")
_SENTENCE_END = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[」』）)]*|\n+|$)")


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, for each of its characters, the offset in the original."""

    text: str
    offsets: list[int]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) for a normalised span."""
        if not self.offsets or start >= len(self.offsets):
            return len(self.original), len(self.original)
        o_start = self.offsets[start]
        o_end = self.offsets[end - 1] + 1 if end > start else o_start
        # extend over characters the normalisation folded into the last one (ｶﾞ -> ガ)
        while o_end < len(self.original) and unicodedata.combining(
            unicodedata.normalize("NFKC", self.original[o_end])[:1] or "a"
        ):
            o_end += 1
        return o_start, o_end


@lru_cache(maxsize=8192)
def _nfkc_char(ch: str) -> str:
    # keep the ellipsis one character: hesitation 「…」 is a signal, not three dots
    return ch if ch in "…‥" else unicodedata.normalize("NFKC", ch)


def normalize(text: str) -> Normalized:
    """NFKC (full-width ASCII to half, half-width kana to full), HTML tags dropped,
    whitespace runs folded to one space, with an offset map to the original."""
    out: list[str] = []
    offs: list[int] = []
    skip_until = -1
    tags = {m.start(): m.end() for m in _TAG.finditer(text)}
    ents = {m.start(): m.end() for m in _ENTITY.finditer(text)}
    i = 0
    n = len(text)
    while i < n:
        if i in tags:
            # a tag separates words like a space does (none is needed after Japanese)
            if out and out[-1] != " " and not _is_japanese(out[-1]):
                out.append(" ")
                offs.append(i)
            i = tags[i]
            continue
        if i in ents:
            rep = _ENTITIES.get(text[i : ents[i]].lower(), " ")
            out.append(rep)
            offs.append(i)
            i = ents[i]
            continue
        ch = text[i]
        if i < skip_until:
            i += 1
            continue
        norm = _nfkc_char(ch)
        if _SPACE.match(norm or " ") and len(norm) <= 1:
            # Japanese needs no spaces: drop one after a Japanese character so that
            # 「お控え　ください」 reads as one phrase
            if out and out[-1] != " " and not _is_japanese(out[-1]):
                out.append(" ")
                offs.append(i)
            i += 1
            continue
        if norm and unicodedata.combining(norm[0]) and out:
            composed = unicodedata.normalize("NFC", out[-1] + norm)
            if len(composed) == 1:
                out[-1] = composed
                i += 1
                continue
        for c in norm:
            out.append(c)
            offs.append(i)
        i += 1
    # trim the folded spaces at both ends
    while out and out[-1] == " ":
        out.pop()
        offs.pop()
    lead = 0
    while lead < len(out) and out[lead] == " ":
        lead += 1
    return Normalized("".join(out[lead:]), offs[lead:], text)


def strip_html(text: str) -> str:
    return _TAG.sub(" ", text)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in ``text``; a sentence ends at 。！？!? or a line break."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE_END.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s] in " \n":
            s += 1
        while e > s and text[e - 1] in " \n":
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _is_japanese(c: str) -> bool:
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
    )


def japanese_share(text: str) -> tuple[int, float]:
    """(number of Japanese characters, their share among letters) of a normalised text."""
    jp = sum(1 for c in text if _is_japanese(c))
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    letters = jp + latin
    return jp, (jp / letters if letters else 0.0)


@dataclass(frozen=True)
class Token:
    surface: str
    lemma: str  # Sudachi normalised form (やる -> 遣る, できる -> 出来る)
    base: str  # dictionary form as written
    pos: tuple[str, ...]
    start: int
    end: int

    @property
    def pos1(self) -> str:
        return self.pos[0]

    @property
    def pos2(self) -> str:
        return self.pos[1] if len(self.pos) > 1 else "*"

    @property
    def conj(self) -> str:
        return self.pos[5] if len(self.pos) > 5 else "*"


class Tokenizer:
    """SudachiPy (core dictionary, mode C), loaded once and shared; thread-safe."""

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode

        self._dict = Dictionary(dict="core")
        self._mode = SplitMode.C
        self._local = threading.local()

    def _tok(self) -> Any:
        t = getattr(self._local, "tok", None)
        if t is None:
            t = self._dict.tokenizer(mode=self._mode)
            self._local.tok = t
        return t

    def tokenize(self, text: str, offset: int = 0) -> list[Token]:
        out: list[Token] = []
        tok = self._tok()
        for c0 in range(0, len(text), _CHUNK):
            chunk = text[c0 : c0 + _CHUNK]
            for m in tok.tokenize(chunk):
                s = m.surface()
                if not s.strip():
                    continue
                out.append(
                    Token(
                        s,
                        m.normalized_form(),
                        m.dictionary_form(),
                        tuple(m.part_of_speech()),
                        offset + c0 + m.begin(),
                        offset + c0 + m.end(),
                    )
                )
        return out


@lru_cache(maxsize=1)
def get_tokenizer() -> Tokenizer:
    return Tokenizer()


def tokenize(text: str) -> list[Token]:
    return get_tokenizer().tokenize(text)


@lru_cache(maxsize=4096)
def lemma_of(word: str) -> str:
    """The Sudachi normalised form of a one-word lexicon entry (やめる -> 止める)."""
    toks = tokenize(unicodedata.normalize("NFKC", word))
    return toks[0].lemma if len(toks) == 1 else word


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls but tab and newline, and the bidi embedding/override/isolate controls that can
# make a line read differently on screen than it is stored
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def whole_characters(v: Any) -> Any:
    """``v`` (a string, or lists and dicts of them) with every surrogate resolved: a pair (the
    two halves of an emoji, as a YAML or JSON escape gives them) joined into its character, a
    lone half made U+FFFD. No UTF-8 encoder accepts a lone one; Gradio's event stream would
    break answering with it."""
    if isinstance(v, str):
        if not _LONE_SURROGATE.search(v):
            return v
        return v.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(v, list):
        return [whole_characters(x) for x in v]
    if isinstance(v, dict):
        return {whole_characters(k): whole_characters(x) for k, x in v.items()}
    return v


def clean_input(text: str) -> str:
    """What a person typed, safe to store, stream and render: a lone surrogate (which no UTF-8
    encoder accepts) becomes U+FFFD, control and bidi-override characters are dropped, CRLF
    becomes LF. Everything else, emoji and markup included, is kept as typed (it is escaped
    where it is shown)."""
    text = whole_characters(text or "")
    return _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
