"""Read one reply: sentences, predicates with their negation and modality, phrase matches.

A predicate is a verb (or a サ変 noun with する/いたす/できる) and the auxiliaries that
follow it. Reading the auxiliaries tells 「お受けします」 from 「お受けできません」 and
「お受けいたしかねます」, and 「触らないでください」 (a request to stop) from a refusal.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from simulator.scoring.lexicon import NOT_NEGATABLE, PATTERN_IDS
from simulator.text import Normalized, Token, get_tokenizer, normalize, split_sentences

_NEG = {"ない", "ず", "ぬ", "無い"}
_POTENTIAL_AUX = {"れる", "られる", "出来る"}
_REQUEST = {"下さる", "頂く", "願う", "貰う"}
_LIGHT = {"為る", "致す", "出来る", "下さる", "頂く", "成さる", "申し上げる", "願う", "申す"}
_CHAIN_VERBS = {
    "為る", "致す", "出来る", "居る", "おる", "御座る", "頂く", "下さる", "貰う", "仕舞う", "置く", "とく",
    "兼ねる", "参る", "行く", "来る", "見る", "上げる", "差し上げる", "申し上げる", "成る", "せる",
}  # fmt: skip
_POT_ENDINGS = ("れる", "える", "ける", "げる", "せる", "てる", "ねる", "べる", "める")
_NOMINAL = {"こと", "事", "の", "訳", "わけ"}

# 「ぬ」 etc. in the few characters after a phrase match: 「ご期待に沿えず」
_NEG_AFTER = re.compile(r"^[^。、！？!?]{0,10}?(ず|ない|ぬ|ません|かね|兼ね|わけには)")
_MAYBE = re.compile(r"かも(しれ|知れ)(ない|ません|ず)")
# a wish before a contrast is a polite refusal: 「何とかしたいのは山々ですが」
_WISH_AFTER = re.compile(r"^[^。]{0,6}?たい(のは|ところ|気持ち|のですが|けれど|けど|が)")
# the phrase is the client's, quoted back: 「今回だけとおっしゃられても」
_QUOTED_AFTER = re.compile(r"^(だ)?(と|って|とは)(おっしゃ|仰|言われ|いわれ|申され|言って|のご要望|のお話)")


@dataclass
class Predicate:
    lemma: str
    head: str  # the verb token's own lemma (出来る for 「対応できません」)
    start: int
    end: int
    sentence: int
    neg: bool = False
    potential: bool = False
    kaneru: bool = False
    request: bool = False
    prohibition: bool = False
    past: bool = False
    polite: bool = False
    question: bool = False
    conditional: bool = False
    imperative: bool = False
    noun_head: bool = False
    humble: bool = False  # いたす in the chain: 「いたしません」 is always a choice, never a state
    # bound by a condition earlier in the sentence: 「伺わないとお答えできません」 states what is
    # needed, it declines nothing
    under_condition: bool = False


@dataclass
class Match:
    group: str
    start: int
    end: int
    sentence: int
    pattern: str = ""  # the rubric pattern's id (criterion.group#n)
    negatable: bool = True

    def text(self, a: Analysis) -> str:
        return a.text[self.start : self.end]


@dataclass
class Analysis:
    norm: Normalized
    sentences: list[tuple[int, int]]
    tokens: list[Token]
    predicates: list[Predicate] = field(default_factory=list)
    _acts: set[int] | None = field(default=None, repr=False)  # sentences with a predicate, once
    _bounds: tuple[dict[int, Token], dict[int, Token]] | None = field(default=None, repr=False)

    def token_bounds(self) -> tuple[dict[int, Token], dict[int, Token]]:
        """The tokens by where they start and by where they end (built once)."""
        if self._bounds is None:
            self._bounds = ({t.start: t for t in self.tokens}, {t.end: t for t in self.tokens})
        return self._bounds

    @property
    def text(self) -> str:
        return self.norm.text

    def sentence_of(self, pos: int) -> int:
        for i, (s, e) in enumerate(self.sentences):
            if s <= pos < e:
                return i
        return max(0, len(self.sentences) - 1)

    def sentence_text(self, i: int) -> str:
        s, e = self.sentences[i]
        return self.text[s:e]

    def find(self, patterns: list[re.Pattern[str]], group: str, check_neg: bool = False) -> list[Match]:
        out: list[Match] = []
        for p in patterns:
            for m in p.finditer(self.text):
                if m.end() == m.start():
                    continue
                found = Match(
                    group, m.start(), m.end(), self.sentence_of(m.start()), PATTERN_IDS.get(id(p), "")
                )
                found.negatable = id(p) not in NOT_NEGATABLE
                if check_neg and self.negated_at(found):
                    continue
                out.append(found)
        return out

    def has_act(self, sentence: int) -> bool:
        """The sentence says something to someone: it has a predicate (a verb, an adjective
        or a copula), not only a list of nouns. A word on its own shows no act."""
        if self._acts is None:
            acts = {p.sentence for p in self.predicates}
            for t in self.tokens:
                if t.pos1 in ("形容詞", "助動詞") or t.lemma == "だ":
                    acts.add(self.sentence_of(t.start))
            self._acts = acts
        return sentence in self._acts

    def clause_end(self, pos: int) -> int:
        """Where the clause holding ``pos`` ends: a conjunctive particle with a comma, or the sentence end."""
        s_end = self.sentences[self.sentence_of(pos)][1] if self.sentences else len(self.text)
        m = _CLAUSE_BREAK.search(self.text, pos, s_end)
        return m.end() if m else s_end

    def clause_start(self, pos: int) -> int:
        """Where the clause holding ``pos`` begins: after the last conjunctive particle with a
        comma before it in its sentence, or the sentence start."""
        s0 = self.sentences[self.sentence_of(pos)][0] if self.sentences else 0
        starts = [m.end() for m in _CLAUSE_BREAK.finditer(self.text, s0, pos)]
        return starts[-1] if starts else s0

    def denied_in_clause(self, start: int, end: int) -> bool:
        """The act named at [start, end) is declared unneeded later in its clause:
        「記録や上長への報告などは不要ですので」「録音は結構です」. (A negated verb of the act
        itself is read by ``negated_after``; a refusal later in the clause, as in
        「契約外の作業はお受けできません」, does not deny the contract it cites.)"""
        return bool(_DENIED.search(self.text[end : self.clause_end(end)]))

    def negated_at(self, m: Match) -> bool:
        """A negation cancels this match (unless its pattern is written as not negatable)."""
        return m.negatable and self.negated_after(m.start, m.end)

    def predicate_at(self, start: int, end: int) -> Predicate | None:
        """The predicate a phrase belongs to: the first one ending at or after the phrase end,
        within the phrase's clause (up to a conjunctive particle with a comma, or the sentence end)."""
        si = self.sentence_of(start)
        c_end = self.clause_end(end)
        for p in self.predicates:
            if p.sentence == si and p.end >= end and p.start < c_end:
                return p
        return None

    def negated_after(self, start: int, end: int) -> bool:
        if _QUOTED_AFTER.match(self.text[end:]) or _WISH_AFTER.match(self.text[end:]):
            return True
        p = self.predicate_at(start, end)
        # a predicate past a comma belongs to the next clause (「〜でしたら、気にせず対応します」)
        same_clause = p is not None and "、" not in self.text[end : max(end, p.start)]
        if p is not None and same_clause and (p.neg or p.kaneru) and not p.prohibition:
            return True
        s_end = self.sentences[self.sentence_of(start)][1] if self.sentences else len(self.text)
        # 「何とかなるかもしれません」 hedges; it does not negate
        return bool(_NEG_AFTER.match(_MAYBE.sub("かも", self.text[end:s_end])))


_E_ROW = set("えけげせてねべめれ")


def _potential_form(t: Token) -> bool:
    """A godan verb in its potential form, which Sudachi reads as the plain verb (作れる)."""
    if not (len(t.pos) > 4 and t.pos[4].startswith("五段")) or t.surface == t.base:
        return False
    return t.surface.endswith(_POT_ENDINGS) or (t.conj.startswith("連用") and t.surface[-1] in _E_ROW)


def _predicates(tokens: list[Token], sent_of: list[int]) -> list[Predicate]:
    preds: list[Predicate] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if t.pos1 != "動詞":
            i += 1
            continue
        prev = tokens[i - 1] if i > 0 and sent_of[i - 1] == sent_of[i] else None
        lemma = t.lemma
        start = t.start
        noun_head = False
        if t.lemma in _LIGHT and prev is not None:
            if prev.pos1 == "名詞" or (prev.pos1 == "動詞" and prev.conj.startswith("連用")):
                lemma, start, noun_head = prev.lemma, prev.start, prev.pos1 == "名詞"
            elif (
                prev.pos1 == "助詞"
                and prev.surface in ("は", "が", "も", "なんて", "など", "を", "なんか", "に")
                and i >= 2
            ):
                pp = tokens[i - 2]
                if pp.pos1 in ("名詞", "動詞") and sent_of[i - 2] == sent_of[i] and pp.lemma not in _NOMINAL:
                    lemma, start, noun_head = pp.lemma, pp.start, pp.pos1 == "名詞"
                elif pp.lemma in _NOMINAL and i >= 3 and sent_of[i - 3] == sent_of[i]:
                    # 「お受けすることはできません」: the verb before こと is the head
                    k = i - 3
                    while k > 0 and tokens[k].lemma in _LIGHT and sent_of[k - 1] == sent_of[i]:
                        k -= 1
                    lemma, start = tokens[k].lemma, tokens[k].start
        p = Predicate(
            lemma=lemma, head=t.lemma, start=start, end=t.end, sentence=sent_of[i], noun_head=noun_head
        )
        if t.lemma == "出来る":
            p.potential = True
        if t.lemma == "致す":
            p.humble = True
        if t.conj.startswith("命令形"):
            if i + 1 < n and tokens[i + 1].lemma == "ます":
                p.potential = True  # 「承れません」
            elif t.lemma not in _REQUEST and t.lemma not in ("為さる", "いらっしゃる"):
                p.imperative = True
        elif _potential_form(t):
            p.potential = True
        causative = False
        j = i + 1
        while j < n and sent_of[j] == sent_of[i]:
            u = tokens[j]
            if (
                u.pos1 == "助動詞"
                or (u.pos1 == "動詞" and (u.pos2 == "非自立可能" or u.lemma in _CHAIN_VERBS))
                or u.pos1 == "接尾辞"
                and u.pos2 == "動詞的"
                or u.pos1 == "形容詞"
                and u.lemma in _NEG
            ):
                pass
            elif u.pos1 == "助詞" and u.pos2 in ("接続助詞", "終助詞"):
                if u.surface in ("ば", "と", "ても", "でも", "たら", "なら") and (p.neg or u.surface != "と"):
                    p.conditional = True
                    p.end = u.end
                    j += 1
                    break
                if u.surface in ("が", "けど", "けれど", "けれども", "ので", "から", "し", "のに"):
                    break
            elif u.lemma in _NOMINAL and j + 2 < n and tokens[j + 1].surface in ("は", "が", "も", "に"):
                # 「〜することはできません」「〜わけにはいきません」
                nxt = tokens[j + 2]
                if nxt.lemma in ("出来る", "行く", "参る", "致す"):
                    j += 2
                    if u.lemma in ("訳", "わけ"):
                        p.potential = True
                    continue
                break
            else:
                break
            if u.conj.startswith("仮定形") or u.surface in ("なら", "ならば", "たら"):
                p.conditional = True
            if u.lemma in _NEG:
                p.neg = True
            elif u.lemma in _POTENTIAL_AUX:
                p.potential = True
            elif u.lemma == "致す":
                p.humble = True
            elif u.lemma in ("せる", "させる"):
                causative = True
            elif u.lemma == "兼ねる":
                p.kaneru = True
            elif u.lemma in _REQUEST:
                # 「控えさせていただきます」 is the speaker's own act, not a request
                p.request = not causative
                p.humble = p.humble or causative
            elif u.lemma == "た":
                p.past = True
            elif u.lemma in ("ます", "です"):
                p.polite = True
            elif u.lemma in ("か",) and u.pos2 == "終助詞":
                p.question = True
            if u.surface in ("で", "て") and p.neg and u.pos2 == "接続助詞":
                # 「ないで(ください)」 asks the other person not to do it
                p.prohibition = True
            if u.lemma == "下さる" and u.conj.startswith("命令形"):
                p.request = True
            p.end = u.end
            j += 1
        preds.append(p)
        i = max(j, i + 1)
    return preds


# Longest reply text analysed; beyond it the judge notes that it read only the start.
MAX_CHARS = 4000


def _tokens(text: str, sentences: list[tuple[int, int]]) -> tuple[list[Token], list[int]]:
    """Tokens of the whole text in one analyser call, each with its sentence index."""
    tokens = get_tokenizer().tokenize(text)
    sent_of: list[int] = []
    si = 0
    for t in tokens:
        while si + 1 < len(sentences) and t.start >= sentences[si][1]:
            si += 1
        sent_of.append(si)
    return tokens, sent_of


@functools.lru_cache(maxsize=2048)
def predicates_of(text: str) -> tuple[list[Predicate], list[Token], str]:
    """Predicates and tokens of any text (the client's line), with the normalised text. A
    persona's lines come back often (every reply to one is judged against it): each is read
    once; callers must not change what they get."""
    norm = normalize(text).text[:MAX_CHARS]
    tokens, sent_of = _tokens(norm, split_sentences(norm))
    return _predicates(tokens, sent_of), tokens, norm


def analyse(reply: str | Normalized) -> Analysis:
    norm = reply if isinstance(reply, Normalized) else normalize(reply)
    text = norm.text[:MAX_CHARS]
    if len(text) < len(norm.text):
        norm = Normalized(text, norm.offsets[: len(text)], norm.original)
    sentences = split_sentences(text)
    tokens, sent_of = _tokens(text, sentences)
    a = Analysis(norm, sentences, tokens)
    a.predicates = _predicates(tokens, sent_of)
    _clause_scope(a)
    return a


_CLAUSE_BREAK = re.compile(r"(ので|から|けど|けれど(も)?|ですが|ますが|でも|ても|し)、")
_DENIED = re.compile(
    r"不要|不必要|必要(は|も)?(ない|なく|あり|ござい)|(いり|要り|入り)ません|いらない|要らない|結構(です|でござ)|"
    r"省略|なし(で|に)|無し(で|に)|抜きで|せずに|しないで|には及びません"
)
_TOPIC_AFTER = re.compile(r"^(こと|の|事)(は|も|について(は)?)、?")


def _clause_scope(a: Analysis) -> None:
    """Negation and condition read over the clause, not over a character window.

    - A nominalised act that is the topic of a negated main predicate is itself negated:
      in 「契約外の作業を無償でお引き受けすることは、会社の方針としてできません」 引き受ける
      hangs on こと, the topic of できません, however many words stand between them.
    - A negated predicate after a negated condition (〜ないと / 〜なければ) in its sentence
      states a precondition, not a refusal.
    """
    preds = a.predicates
    for i, p in enumerate(preds):
        if not (p.neg or p.kaneru):
            m = _TOPIC_AFTER.match(a.text[p.end :])
            if m:
                # the topic's predicate: the first negated one after it in the sentence
                # (「応じることはできないと伝えた」), else the sentence's last
                mains = [q for q in preds[i + 1 :] if q.sentence == p.sentence]
                negs = [q for q in mains if q.neg or q.kaneru]
                if mains:
                    main = negs[0] if negs else mains[-1]
                    if (main.neg or main.kaneru) and not main.prohibition and not main.question:
                        p.neg, p.kaneru = main.neg, main.kaneru
                        p.potential = p.potential or main.potential
        if (p.neg or p.kaneru) and any(
            q.sentence == p.sentence and q.neg and q.conditional for q in preds[:i]
        ):
            p.under_condition = True
