"""The offline rule-based judge: Japanese morphology plus the rubric's signal lexicons.

The judge reads the meaning each label stands for (LABELING.md), not a list of phrases:

- a refusal is a verb of accepting or doing, negated or under かねる / わけにはいかない;
- a boundary is a polite request to stop (〜はおやめください, 〜ないでください);
- a concession is a yes-leaning or conditional promise, a bare 「承知しました」 with a
  commitment, or a reply that does what the client's last line demanded; it outweighs a
  refusal in the same reply (「今回に限り無償で対応しますが、次回からはお受けできません」);
- composure is lost through insults, sarcasm, blaming, casual register or pleading; it is
  shown through polite register plus acknowledging the client or calmly asking them to stop.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from simulator.models import (
    DEMAND_TYPES,
    Assessment,
    CheckResult,
    ContextLine,
    CriterionId,
    CriterionScore,
    Evidence,
    Rubric,
    ScenarioId,
)
from simulator.scoring.analysis import MAX_CHARS, Analysis, Match, Predicate, analyse
from simulator.scoring.lexicon import Compiled, compiled_for
from simulator.scoring.version import VersionedJudge
from simulator.text import japanese_share, normalize

C = CriterionId

_POLITE = re.compile(
    r"ます|ました|ません|です|でした|でしょう|ござ|ください|下さい|いただ|頂|申し|存じ|いたし|致し|まし|ませ|願"
)
_FILLER = re.compile(
    r"^[\s…・、。.!！?？ー〜~]*(あ|え|えっと|その|あの|はい|ええ|いえ|いや|では|じゃあ)?[\s…・、。]*"
)
# contracted or slangy forms of the spoken chat register
_CASUAL_FORMS = re.compile(
    r"(し|やっ)と(き|く|い)|ちゃ(う|い|っ)|じゃん|(^|[。、\s])(りょ|おけ|おk|オッケー|了解[！!ー〜~]*[。、]?$)"
)
# a noun phrase with a topic/object particle just before an acknowledging verb
_NOUN_OBJECT = re.compile(
    r"[一-龥ァ-ヶー々][ぁ-ん]{0,2}(の(内容|点|こと|件))?(は|も|を|について(は)?|として|、)"
    r"(確かに|よく|重々|十分|しっかり|真摯に|重く|ありがたく|大変|すべて|全て)?(お|ご)?$"
)
# a conditional right after a phrase: 「控えていただけるなら」 is a bargain, not a request
_COND_AFTER = re.compile(r"^[^。、！？!?]{0,6}?(の)?(でしたら|なら|ならば|れば|えば|たら)")
# the client's line asks or tells the trainee to do something
_DEMANDING = re.compile(
    r"(て|って|で)(よ|ね|くれ|ほしい|欲しい|もらえ|もらう|もらおう|おいて|おけ|って)|しろ|せよ|こい|来い|"
    r"ろ[。！!よ]|でしょ|よね[？?]|お願い|なさい|ください|しな[。！!]|(いい|良い)(よね|でしょ|だろ)"
)


@dataclass
class Finding:
    """One piece of evidence found in the reply, in normalised offsets."""

    signal: str
    start: int
    end: int
    label: str  # Japanese name of the signal, used in the reason
    pattern: str = ""  # the rubric pattern that matched, when a pattern did


@dataclass
class Reading:
    """Everything the judge concluded about one reply, before it becomes scores."""

    refusal: list[Finding] = field(default_factory=list)
    boundary: list[Finding] = field(default_factory=list)
    leave: list[Finding] = field(default_factory=list)
    concession: list[Finding] = field(default_factory=list)
    opener_sentences: set[int] = field(default_factory=set)  # 「承知しました」-type openers
    deferral: list[Finding] = field(default_factory=list)
    hostile_strong: list[Finding] = field(default_factory=list)
    hostile_weak: list[Finding] = field(default_factory=list)
    panic: list[Finding] = field(default_factory=list)
    acknowledge: list[Finding] = field(default_factory=list)
    calm_request: list[Finding] = field(default_factory=list)
    contract: list[Finding] = field(default_factory=list)
    record: list[Finding] = field(default_factory=list)
    escalation: list[Finding] = field(default_factory=list)
    casual: list[Finding] = field(default_factory=list)
    demands: list[str] = field(default_factory=list)
    pressed: bool = False  # the client's line (or the one before) pressed a demand
    apologised: bool = False  # an apology that is not a cushion (「恐れ入りますが」)
    # criteria whose words were in the reply but were read as no act (listed, negated,
    # declared unneeded, a title addressing the client, a contract cited only to give in)
    rejected: set[str] = field(default_factory=set)


def _f(m: Match, signal: str, label: str) -> Finding:
    return Finding(signal, m.start, m.end, label, m.pattern)


def _pf(p: Predicate, signal: str, label: str) -> Finding:
    # found by reading a predicate and its polarity, not by a pattern
    return Finding(signal, p.start, p.end, label, f"predicate:{p.lemma}")


def _dedupe(fs: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for f in sorted(fs, key=lambda f: (f.start, -(f.end - f.start))):
        if any(f.start < g.end and g.start < f.end for g in out):
            continue
        out.append(f)
    return out


_GENERIC_DEMAND = {"為る", "致す", "出来る", "遣る", "言う", "思う", "居る", "有る", "成る", "呉れる", "貰う",
                   "来る", "行く", "見る", "分かる", "仕舞う", "置く", "とく", "下さる", "頂く", "願う", "待つ"}  # fmt: skip
_ASKING_AFTER = re.compile(r"^(よ|ね|くれ|ほしい|欲しい|もら|おい|おけ|とい|とけ|って|[。！!?？、]|$)")


@dataclass
class ClientLine:
    """What the client's last line asks for and forbids."""

    text: str
    asked: set[str]  # actions requested: 「全体を説明してよ」 -> 説明
    forbidden: set[str]  # actions forbidden: 「切るなよ」「切ったら承知しないぞ」 -> 切る
    earlier: str = ""  # the client's line before: a demand made there is still on the table


def read_client(context: list[ContextLine]) -> ClientLine:
    from simulator.scoring.analysis import predicates_of

    raw = next((line.text for line in reversed(context) if line.role == "client"), "")
    if not raw.strip():
        return ClientLine("", set(), set())
    preds, toks, text = predicates_of(raw)
    asked: set[str] = set()
    for p in preds:
        if p.neg:
            continue
        te_form = re.search(r"[てで](よ|ね|な|ってば)*$", text[p.start : p.end])
        asking = p.imperative or (te_form is not None and _ASKING_AFTER.match(text[p.end :]))
        if asking and p.lemma not in _GENERIC_DEMAND:
            asked.add(p.lemma)
    forbidden: set[str] = set()
    for i, t in enumerate(toks):
        if t.pos1 != "動詞":
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        nxt2 = toks[i + 2] if i + 2 < len(toks) else None
        if nxt is None:
            continue
        if (nxt.surface == "な" and nxt.pos2 == "終助詞") or nxt.surface == "たら":
            forbidden.add(t.lemma)
        if nxt.lemma == "た" and nxt2 is not None and nxt2.surface == "ら":
            forbidden.add(t.lemma)
    if re.search(r"帰さ(ない|ん)", text):
        forbidden.add("帰る")
    clients = [line.text for line in context if line.role == "client"]
    earlier = unicodedata.normalize("NFKC", clients[-2]) if len(clients) >= 2 else ""
    return ClientLine(text, asked, forbidden, earlier)


class Reader:
    """Applies one compiled rubric to one reply."""

    def __init__(self, lex: Compiled) -> None:
        self.lex = lex

    # ------------------------------------------------------------------ firm
    def _firm(self, a: Analysis, r: Reading, cl: ClientLine, scenario: ScenarioId) -> None:
        client = cl.text
        lx = self.lex
        accept = lx.words("accept_verbs")
        non_refusal = lx.words("non_refusal_verbs")
        non_nouns = lx.words("non_refusal_nouns")
        deferral_sents = set()
        for m in a.find(lx.lex("deferral"), "deferral"):
            deferral_sents.add(m.sentence)
            r.deferral.append(_f(m, "deferral", "先送り（自分では決められない）"))
        forbidden = cl.forbidden

        complied_by_negation: list[Finding] = []
        for p in a.predicates:
            if not (p.neg or p.kaneru) or p.prohibition or p.conditional or p.question or p.under_condition:
                continue
            if p.lemma in forbidden or p.head in forbidden:
                complied_by_negation.append(_pf(p, "compliance", "相手が禁じたことを守ると約束"))
                continue
            if p.sentence in deferral_sents:
                continue
            accepting = p.lemma in accept or (p.head in accept and not p.noun_head)
            # 「できません」「いたしかねます」 negate an ability or willingness to do it
            modal = (p.potential or p.kaneru) and p.lemma not in non_refusal and p.lemma not in non_nouns
            # 「値下げなんてしません」「いたしません」 negate a choice, not a state
            chosen = (p.head in ("為る", "致す", "遣る") or p.humble) and p.lemma not in non_nouns
            is_refusal = accepting or modal or (chosen and p.lemma not in non_refusal)
            if is_refusal:
                r.refusal.append(_pf(p, "refusal", "断り"))
        for m in a.find(lx.sig(C.firm, "refusal"), "refusal"):
            if m.sentence not in deferral_sents:
                r.refusal.append(_f(m, "refusal", "断り"))
        for p in a.predicates:
            if (
                p.prohibition
                and p.request
                or p.prohibition
                and a.text[p.end : p.end + 1] in ("。", "！", "!", "")
                and p.head not in non_refusal
            ):
                r.boundary.append(_pf(p, "boundary", "やめてほしいと線を引く"))
        stop = lx.words("stop_verbs")
        for p in a.predicates:
            asks_to_stop = (
                p.request and not p.neg and not p.conditional and (p.lemma in stop or p.head in stop)
            )
            if asks_to_stop and not _COND_AFTER.match(a.text[p.end :]):
                r.boundary.append(_pf(p, "boundary", "やめてほしいと線を引く"))
        for m in a.find(lx.sig(C.firm, "boundary"), "boundary"):
            if not _COND_AFTER.match(a.text[m.end :]):
                r.boundary.append(_f(m, "boundary", "やめてほしいと線を引く"))
        for m in a.find(lx.sig(C.firm, "leave"), "leave", check_neg=True):
            r.leave.append(_f(m, "leave", "退席・終了を告げる"))
        for m in a.find(lx.sig(C.escalation, "time_limit"), "time_limit"):
            r.boundary.append(_f(m, "time_limit", "時間を区切る"))
        for m in a.find(lx.sig(C.firm, "hold"), "hold", check_neg=True):
            r.boundary.append(_f(m, "hold", "合意どおりに進めると示す"))

        # concession ------------------------------------------------------------
        for m in a.find(lx.sig(C.firm, "concession_strong"), "concession", check_neg=True):
            r.concession.append(_f(m, "concession", "譲歩・曖昧な前向き回答"))
        for m in a.find(lx.sig(C.firm, "concession_literal"), "concession"):
            r.concession.append(_f(m, "concession", "譲歩・曖昧な前向き回答"))
        r.concession.extend(complied_by_negation)
        # laughing sexual harassment off, unless the reply turns straight back to business
        if scenario == ScenarioId.sexual_harassment and not _BACK_TO_BUSINESS.search(a.text):
            for m in a.find(lx.sig(C.firm, "laughter"), "laughter"):
                r.concession.append(_f(m, "laughter", "笑ってかわす（曖昧な対応）"))
        # warning of legal steps is a boundary too (「事実と異なる投稿には法的な対応を検討します」)
        for m in a.find(lx.sig(C.escalation, "legal"), "legal", check_neg=True):
            r.boundary.append(_f(m, "legal", "法的対応を示して線を引く"))
        firm_positive = bool(r.refusal or r.boundary or r.leave)
        # 「で、やるの？やらないの？」 presses a demand made a line earlier
        pending = f"{cl.earlier}\n{client}" if cl.earlier else client
        r.demands = [t for t in DEMAND_TYPES if any(p.search(pending) for p in lx.lex(f"demand_{t}"))]
        demanded = bool(r.demands) or bool(_DEMANDING.search(pending))
        r.pressed = demanded
        commits = [p for p in a.predicates if self._commitment(p)]
        openers = a.find(lx.sig(C.firm, "compliance_opener"), "opener")
        r.opener_sentences = {m.sentence for m in openers}
        positive_sents = {f.start for f in r.refusal + r.boundary + r.leave}
        positive_sents = {a.sentence_of(x) for x in positive_sents}
        if openers and demanded and openers[0].sentence not in positive_sents:
            # what follows the opener in its own sentence: 「わかりました、そうします。」
            s_end = a.sentences[openers[0].sentence][1]
            rest = a.text[openers[0].end : s_end]
            substantive = [p for p in commits if p.start >= openers[0].end]
            # 「はい、聞いております」 only says the trainee is listening
            only_procedure = any(openers[0].end <= p.start < s_end for p in a.predicates) and not any(
                openers[0].end <= p.start < s_end for p in commits
            )
            short = len(_FILLER.sub("", rest).strip("。…、 ")) <= 12 and not only_procedure
            if substantive or short:
                r.concession.append(_f(openers[0], "compliance", "要求をそのまま受け入れる返事"))
        if not firm_positive and demanded:
            # doing exactly what the client's line asked for (「説明してよ」 -> 「ご説明いたします」)
            asked = cl.asked
            for p in a.predicates:
                if (p.lemma in asked or p.head in asked) and self._affirmative(p):
                    r.concession.append(_pf(p, "does_demand", "相手が求めたことをそのまま引き受ける"))
        if not firm_positive and demanded and not r.concession:
            for m in a.find(lx.sig(C.firm, "compliance_question"), "how"):
                r.concession.append(_f(m, "how", "要求の実行方法を尋ねる（応じる前提）"))
                break
        if not firm_positive and demanded and not r.concession and not self._hands_off(a):
            # promising, unasked-back, an act of accepting (受ける, 応じる, 対応, 変更, 値引き...)
            # in answer to a demand is giving in, whatever the demand's wording
            accepts = lx.words("accept_core_verbs")
            for p in commits:
                if p.lemma in accepts or p.head in accepts:
                    r.concession.append(_pf(p, "accepts", "要求を受け入れる約束"))
                    break
        if not firm_positive:
            committed = {p.sentence for p in commits}
            for t in r.demands:
                for m in a.find(lx.lex(f"accept_{t}"), t, check_neg=True):
                    # the words must come with a promise: a commitment in the sentence,
                    # or a phrase that is itself one (「大丈夫です」)
                    s0, s1 = a.sentences[m.sentence]
                    declared = re.search(r"(ます|です)[。！!…]*$", a.text[s0:s1])
                    # an offer is a promise put as a question: 「2割でいかがでしょうか」
                    # or left hanging as a condition: 「LINEでよければ…」
                    offered = re.search(
                        r"(いかが|どう)(でしょう|ですか)|(よければ|よろしければ|良ければ|でしたら|なら)[…。、.\s]*$",
                        a.text[s0:s1],
                    )
                    if (
                        m.sentence in committed
                        or declared
                        or offered
                        or re.search(r"(ます|です)$", a.text[m.start : m.end])
                    ):
                        r.concession.append(_f(m, f"accept_{t}", "相手の要求に応じる約束"))

    def _hands_off(self, a: Analysis) -> bool:
        """The reply passes the matter to someone else (then its promises are theirs)."""
        return bool(a.find(self.lex.sig(C.escalation, "handover_party"), "handover"))

    @staticmethod
    def _affirmative(p: Predicate) -> bool:
        return not (p.neg or p.kaneru or p.request or p.question or p.conditional or p.imperative or p.past
                    or p.prohibition)  # fmt: skip

    def _commitment(self, p: Predicate) -> bool:
        if not self._affirmative(p):
            return False
        procedural = self.lex.words("procedural_verbs")
        if p.lemma in self.lex.words("non_refusal_verbs"):
            return False  # states (困る, ある) promise nothing
        return p.lemma not in procedural or (p.head == p.lemma and p.head not in procedural)

    # ------------------------------------------------------------------ calm
    def _calm(self, a: Analysis, r: Reading) -> None:
        lx = self.lex
        for m in a.find(lx.sig(C.calm, "hostile_strong"), "hostile"):
            r.hostile_strong.append(_f(m, "hostile", "皮肉・侮辱・言い返し"))
        for p in a.predicates:
            if p.imperative:
                r.hostile_strong.append(_pf(p, "imperative", "命令口調"))
        seen_bang = False
        for m in a.find(lx.sig(C.calm, "hostile_weak"), "rude"):
            bang = a.text[m.start : m.end] in ("!", "！")
            if bang and seen_bang:
                continue  # several 「！」 are one raised voice, not several
            seen_bang = seen_bang or bang
            r.hostile_weak.append(_f(m, "rude", "くだけた・責める口調"))
        for m in a.find(lx.sig(C.calm, "panic"), "panic"):
            r.panic.append(_f(m, "panic", "動揺・懇願"))
        # register: a sentence with a predicate but no polite form is casual
        for i, (s, e) in enumerate(a.sentences):
            sent = a.text[s:e]
            has_pred = (
                any(p.sentence == i for p in a.predicates)
                or any(s <= t.start < e and (t.pos1 == "形容詞" or t.lemma == "だ") for t in a.tokens)
                or bool(re.search(r"(い|だ|よ|ね|わ|ぞ|ぜ|じゃん)[。！!？?…]*$", sent))
            )
            core = _FILLER.sub("", sent).strip("。！!？?…、 ")
            if has_pred and len(core) >= 3 and not _POLITE.search(sent):
                r.casual.append(Finding("casual", s, e, "丁寧語でない"))
            elif (cm := _CASUAL_FORMS.search(sent)) is not None:
                # chat-style forms are casual even beside a polite ending (「しときます」「りょ」)
                r.casual.append(Finding("casual", s + cm.start(), s + cm.end(), "くだけた言い方"))
        # acknowledging: an acknowledging verb with what the client said as its object
        ack_verbs = lx.words("ack_verbs")
        objects = lx.sig(C.calm, "acknowledge_object")
        for p in a.predicates:
            if p.lemma not in ack_verbs and p.head not in ack_verbs:
                continue
            wish = re.match(r"^(と思|と存じ|幸い)", a.text[p.end :])
            if p.neg or p.request or p.question or (p.conditional and not wish):
                continue
            s0 = a.sentences[p.sentence][0]
            # what is acknowledged: the verb's own clause (「ご不満の点は、確かに承知しました」)
            window = a.text[a.clause_start(p.start) : p.start]
            if any(o.search(window) for o in objects) or _NOUN_OBJECT.search(window):
                r.acknowledge.append(Finding("acknowledge", max(s0, p.start - 8), p.end, "受け止め"))
        for m in a.find(lx.sig(C.calm, "acknowledge_phrase"), "acknowledge", check_neg=True):
            r.acknowledge.append(_f(m, "acknowledge", "受け止め"))
        cushions = a.find(lx.sig(C.calm, "cushion"), "cushion")
        for m in a.find(lx.sig(C.calm, "apology"), "apology"):
            if any(c.start <= m.start < c.end for c in cushions):
                continue
            r.apologised = True  # any apology, for the dialogue (scored only when factual, below)
            s0 = a.sentences[m.sentence][0]
            before = re.sub(
                r"(大変|誠に|本当に|重ねて|改めて|まことに|心より|深く|申し訳|ご|お)",
                "",
                a.text[s0 : m.start],
            )
            before = _FILLER.sub("", before).strip("、。… ")
            named_before = len(before) >= 3 and not re.search(
                r"(すみません|すいません)[、…]", a.text[s0 : m.start]
            )
            # or the fault follows in the same sentence: 「申し訳ございません、ご不便をおかけしました」
            after = _FAULT_AFTER.match(a.text, m.end, a.sentences[m.sentence][1])
            if named_before or after:
                end = after.end() if after else m.end
                r.acknowledge.append(Finding("apology", s0, end, "事実に基づく謝罪"))
        for m in a.find(lx.sig(C.calm, "calm_request"), "calm_request"):
            r.calm_request.append(_f(m, "calm_request", "落ち着いた制止"))

    # ------------------------------------------------------------------ others
    @staticmethod
    def _acts(
        a: Analysis,
        r: Reading,
        crit: CriterionId,
        patterns: list[re.Pattern[str]],
        group: str,
        check_neg: bool = False,
    ) -> list[Match]:
        """Keyword matches that belong to an act: in a sentence with a predicate, not negated
        (with ``check_neg``), and not declared unneeded in their own clause (「記録は不要です」).
        When words of the criterion were there but none of them made an act, the criterion is
        marked as read and rejected, so that nothing downstream turns the words back into one."""
        raw = a.find(patterns, group)
        kept = [
            m
            for m in raw
            if not (check_neg and a.negated_at(m))
            and a.has_act(m.sentence)
            and not a.denied_in_clause(m.start, m.end)
        ]
        if len(kept) < len(raw):
            r.rejected.add(crit.value)
        return kept

    def _contract(self, a: Analysis, r: Reading) -> None:
        for m in self._acts(a, r, C.contract, self.lex.sig(C.contract, "grounds"), "contract"):
            r.contract.append(_f(m, "contract", "契約・方針への言及"))
        ctx = self.lex.sig(C.contract, "scope_verbs_context")
        for p in a.predicates:
            if p.neg and p.lemma in ("含む", "入る", "含まれる"):
                s0 = a.sentences[p.sentence][0]
                if any(c.search(a.text[s0 : p.end]) for c in ctx):
                    r.contract.append(_pf(p, "scope", "合意した範囲に含まれないと示す"))

    def _record(self, a: Analysis, r: Reading) -> None:
        lx = self.lex
        nots = a.find(lx.sig(C.record, "not_record"), "not")
        for g, label in (("record", "記録する"), ("writing", "書面に移す")):
            for m in self._acts(a, r, C.record, lx.sig(C.record, g), g, check_neg=True):
                if any(n.start <= m.start < n.end for n in nots):
                    continue
                r.record.append(_f(m, g, label))

    def _escalation(self, a: Analysis, r: Reading) -> None:
        lx = self.lex
        verbs = lx.sig(C.escalation, "handover_verb")
        # 「社長がお伺いすることはできかねます」 hands nothing on: negated parties are dropped
        for m in self._acts(
            a, r, C.escalation, lx.sig(C.escalation, "handover_party"), "handover", check_neg=True
        ):
            s, e = a.sentences[m.sentence]
            if _vocative(a, m):
                r.rejected.add(C.escalation.value)
                continue  # 「三好課長、…」 addresses the client; it hands nothing on
            if any(v.search(a.text[m.start : e]) for v in verbs):
                r.escalation.append(_f(m, "handover", "上長・窓口・会社間への引き継ぎ"))
        for m in self._acts(a, r, C.escalation, lx.sig(C.escalation, "legal"), "legal"):
            r.escalation.append(_f(m, "legal", "警察・法的対応"))
        for m in self._acts(a, r, C.escalation, lx.sig(C.escalation, "time_limit"), "time_limit"):
            r.escalation.append(_f(m, "time_limit", "時間を区切る"))
        for f in r.leave:
            r.escalation.append(Finding("leave", f.start, f.end, "退席・対応の終了"))

    def read(self, a: Analysis, client: ClientLine, scenario: ScenarioId) -> Reading:
        r = Reading()
        self._firm(a, r, client, scenario)
        self._calm(a, r)
        self._contract(a, r)
        self._record(a, r)
        self._escalation(a, r)
        for name in ("refusal", "boundary", "leave", "concession", "hostile_strong", "hostile_weak", "panic",
                     "acknowledge", "calm_request", "contract", "record", "escalation"):  # fmt: skip
            setattr(r, name, _dedupe(getattr(r, name)))
        return r


# ---------------------------------------------------------------------- scoring


def _whole(a: Analysis, start: int, end: int) -> tuple[int, int]:
    """The span widened to whole words: never 「受けできません」 for 「お受けできません」, never
    「うるさ」 for 「うるさい」, never a quote ending on 「お」."""
    for t in a.tokens:
        if t.start < start < t.end:
            start = t.start
        if t.start < end < t.end:
            end = t.end
    starting, ending = a.token_bounds()
    before = ending.get(start)
    if before is not None and before.pos1 == "接頭辞":
        start = before.start
    last = ending.get(end)
    if last is not None and last.pos1 == "接頭辞" and (nxt := starting.get(end)) is not None:
        end, last = nxt.end, nxt
    # a verb cut before its inflection (「おっしゃっ」) takes it (「おっしゃって」「応じません」)
    while last is not None and last.pos1 in ("動詞", "助動詞"):
        nxt = starting.get(end)
        if nxt is None or not (nxt.pos1 == "助動詞" or (nxt.pos1 == "助詞" and nxt.surface in ("て", "で"))):
            break
        end, last = nxt.end, nxt
    return start, end


def _quote(a: Analysis, fs: list[Finding], n: int = 2) -> str:
    words: list[str] = []
    for f in fs:
        s, e = _whole(a, f.start, f.end)
        w = a.text[s:e]
        if w not in words and not any(w in x for x in words):
            words.append(w)
        if len(words) >= n:
            break
    return "・".join(f"「{w}」" for w in words)


def _evidence(a: Analysis, fs: list[Finding]) -> list[Evidence]:
    out = []
    for f in fs[:6]:
        s, e = a.norm.span(*_whole(a, f.start, f.end))
        out.append(Evidence(text=a.norm.original[s:e], start=s, end=e, signal=f.signal, pattern=f.pattern))
    return out


def _graded(a: Analysis, fs: list[Finding]) -> int:
    """3 for a criterion shown in two different ways (two kinds of act, or the same kind said
    in two different words); the same word repeated shows it once."""
    kinds = {f.signal for f in fs}
    words = {a.text[f.start : f.end] for f in fs}
    return 3 if len(kinds) >= 2 or len(words) >= 2 else 2


# asking forgiveness or offering anything: pleading to be let go is panic, not yet giving in
_BACK_TO_BUSINESS = re.compile(
    r"(資料|議題|本題|打(ち)?合(わ)?せ|ご説明|日程|お見積|本日の件|お仕事の件|案件)"
)
# the inconvenience caused, named after an apology (past or ongoing, not a cushion for what comes:
# 「ご迷惑をおかけしますが」 is not a fault)
_FAULT_AFTER = re.compile(
    r"(でした)?[、,。\s]*(大変|誠に|本当に|まことに)?(ご迷惑|ご不便|ご心配|ご不快な思い|お手数|ご面倒|ご負担)を"
    r"(おかけ|お掛け)(しました|いたしました|して(おり|しまい)|いたして(おり|しまい)|しており|しまい)"
)
# taking back what was given earlier (with a refusal: 「先ほどの件は撤回いたします。お受けできません」)
_RETRACT = re.compile(r"(撤回|取り消|取消|なかったことに|白紙に|訂正(いた|させ|し))")
_PLEA = re.compile(r"(許|何でも|なんでも)")
_APOLOGY = re.compile(r"(申し訳(ござい|あり)|すみません|すいません|お詫び|ごめんなさい|お許し)")


def score_reading(a: Analysis, r: Reading, rubric: Rubric) -> dict[CriterionId, CriterionScore]:
    scores: dict[CriterionId, CriterionScore] = {}

    def put(cid: CriterionId, score: int, reason: str, fs: list[Finding]) -> None:
        crit = rubric.criterion(cid)
        scores[cid] = CriterionScore(
            criterion=cid,
            reason=f"{reason}（{crit.descriptors.for_score(score)}）",
            score=score,
            evidence=_evidence(a, fs),
            manual_ref=crit.manual_quotes[0],
        )

    # calm
    # two signs of lost composure of any kind (rude, casual, panicked) make a 0
    lost = r.hostile_strong or len(r.panic) + len(r.hostile_weak) + min(len(r.casual), 2) >= 2
    if lost:
        fs = _dedupe(r.hostile_strong + r.panic + r.hostile_weak + r.casual)
        kinds = [
            name
            for name, found in (
                ("言い返し・皮肉", r.hostile_strong),
                ("くだけた・責める口調", r.hostile_weak),
                ("動揺・懇願", r.panic),
                ("丁寧でない言い方", r.casual),
            )
            if found
        ]
        put(C.calm, 0, f"{_quote(a, fs)}に{'・'.join(kinds)}が表れています", fs)
    else:
        stops = [f for f in r.boundary if f.signal == "boundary" and _polite_at(a, f)]
        # an apology or 「伺います」 inside the sentence that gives in is part of giving in
        # (「承知しました。土下座してお詫びします」): it acknowledges nothing (LABELING)
        conceding = {a.sentence_of(f.start) for f in r.concession}
        if r.concession:
            # 「承知しました」 opening a reply that gives in accepts; it acknowledges nothing
            conceding |= r.opener_sentences
        acknowledge = [f for f in r.acknowledge if a.sentence_of(f.start) not in conceding]
        calm_fs = acknowledge + r.calm_request + stops
        if calm_fs and not r.casual:
            score = 3 if (acknowledge and (r.calm_request or stops)) or len(acknowledge) >= 2 else 2
            put(C.calm, score, f"丁寧な口調で{_quote(a, calm_fs)}と受け止め・制止をしています", calm_fs)
        elif calm_fs:
            # reasons describe the reply as it is: a casual 「了解っす」 is not 「丁寧」
            put(
                C.calm,
                1,
                f"{_quote(a, calm_fs)}と受け止めていますが、{_quote(a, r.casual, 1)}がくだけた口調です",
                r.casual,
            )
        elif r.casual:
            put(
                C.calm,
                1,
                f"{_quote(a, r.casual, 1)}がくだけた口調で、相手の話を受け止める言葉や穏やかな制止もありません",
                r.casual,
            )
        else:
            put(C.calm, 1, "丁寧ですが、相手の話を受け止める言葉や穏やかな制止が見当たりません", [])

    # firm
    if lost:
        # a counter-threat of lawyers said in anger retaliates; it does not set a boundary
        r.boundary = [f for f in r.boundary if f.signal != "legal"]
    positive = r.refusal + r.boundary + r.leave
    if not r.concession and not positive and len(r.panic) >= 2:
        # pleading for forgiveness without holding any line is grovelling (LABELING: firm -1);
        # fright alone (「ひっ…す、すみません」) is panic, not yet a concession
        apology = a.find([_APOLOGY], "apology")
        pleads = any(_PLEA.search(a.text[f.start : f.end]) for f in r.panic)
        if apology and pleads:
            r.concession.append(_f(apology[0], "grovel", "許しを請う平謝り（譲歩にあたる）"))
    if r.concession:
        put(C.firm, 0, f"{_quote(a, r.concession)}が不当な要求への譲歩にあたります", r.concession)
    elif positive:
        put(C.firm, _graded(a, positive), f"{_quote(a, positive)}ではっきり線を引いています", positive)
    elif r.deferral:
        put(C.firm, 1, f"{_quote(a, r.deferral)}は判断の先送りで、断りにも譲歩にもなっていません", r.deferral)
    else:
        put(C.firm, 1, "要求を断る言葉も、線を引く言葉もありません", [])

    # contract
    if r.contract and r.concession:
        r.rejected.add(C.contract.value)
        put(
            C.contract,
            1,
            f"{_quote(a, r.contract)}と契約に触れていますが、譲歩しているため主張になっていません",
            r.contract,
        )
    elif r.contract:
        put(
            C.contract,
            _graded(a, r.contract),
            f"{_quote(a, r.contract)}と契約・方針を根拠にしています",
            r.contract,
        )
    else:
        put(C.contract, 1, "契約の範囲や会社の方針への言及がありません", [])

    # record
    if r.record:
        put(C.record, _graded(a, r.record), f"{_quote(a, r.record)}と記録・書面化を伝えています", r.record)
    else:
        put(C.record, 1, "記録や書面でのやり取りへの言及がありません", [])

    # escalation
    if r.escalation:
        put(
            C.escalation,
            _graded(a, r.escalation),
            f"{_quote(a, r.escalation)}で引き継ぎ・区切りを示しています",
            r.escalation,
        )
    else:
        put(C.escalation, 1, "上長・窓口への引き継ぎ、時間の区切り、退席、法的対応への言及がありません", [])
    return scores


_NAME_BEFORE = re.compile(r"^[一-龥々ァ-ヶーぁ-ん]{0,6}$")
_NO_PARTICLE = re.compile(r"[のにへとがをはでも]$")


def _vocative(a: Analysis, m: Match) -> bool:
    """A title used to address the client (「三好課長、ご相談ありがとうございます」), not a superior."""
    s0 = a.sentences[m.sentence][0]
    before = a.text[s0 : m.start]
    after = a.text[m.end : m.end + 2]
    return (
        bool(_NAME_BEFORE.match(before))
        and not _NO_PARTICLE.search(before)
        and after[:1] in ("、", ",", "様")
        or after.startswith("さん")
    )


def _polite_at(a: Analysis, f: Finding) -> bool:
    s, e = a.sentences[a.sentence_of(f.start)]
    return bool(_POLITE.search(a.text[s:e]))


def _checks(
    a: Analysis | None, rubric: Rubric, lex: Compiled, scenario: ScenarioId, client: str
) -> list[CheckResult]:
    out = []
    for chk in rubric.checks_for(scenario):
        pats = lex.checks.get(chk.id, [])
        hit = [] if a is None else a.find(pats, chk.id, check_neg=True)
        if a is None:
            out.append(
                CheckResult(
                    id=chk.id, label=chk.label, passed=None, reason="返答を判定できないため確認していません"
                )
            )
            continue
        needed = any(p.search(client) for p in lex.lex(chk.trigger))
        if hit:
            # what was said: the clause around the words that made the check (「本件は20分の対応を
            # もって終了とさせていただきます」, not 「20分」)
            said = a.sentence_text(hit[0].sentence).strip().rstrip("。．.")
            if len(said) > 40:
                s0, e0 = _whole(a, a.clause_start(hit[0].start), a.clause_end(hit[0].end))
                said = a.text[s0:e0].strip("、。 ")
            out.append(
                CheckResult(
                    id=chk.id, label=chk.label, passed=True, reason=f"「{said}」と伝えています", evidence=said
                )
            )
        elif needed:
            out.append(
                CheckResult(
                    id=chk.id,
                    label=chk.label,
                    passed=False,
                    reason=f"相手の発言から{chk.label}が必要な場面でしたが、それにあたる発言がありません",
                )
            )
        else:
            out.append(
                CheckResult(
                    id=chk.id,
                    label=chk.label,
                    passed=None,
                    reason="この発言の時点では確認が必要な状況ではありません",
                )
            )
    return out


class RuleJudge(VersionedJudge):
    """Offline rule-based judge (``rules``): fast, deterministic, explainable."""

    kind = "rules"

    def assess(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId | str, rubric: Rubric
    ) -> Assessment:
        return self.judge(reply, context, scenario, rubric)[0]

    def judge(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId | str, rubric: Rubric
    ) -> tuple[Assessment, Analysis | None]:
        """The assessment and the analysis it was read from (None when nothing could be judged)."""
        scenario = ScenarioId(scenario)
        lex = compiled_for(rubric)
        cl = read_client(context)
        client = cl.text
        notes: list[str] = []
        norm = normalize(reply)
        jp, share = japanese_share(norm.text)
        why_not = _unscorable(norm.text, jp)
        judge_id = self.id_for(rubric)

        def assessment(**kw: Any) -> Assessment:
            return Assessment(
                judge=judge_id, rubric_id=rubric.id, rubric_version=rubric.version, scenario=scenario, **kw
            )

        if why_not:
            scores = {
                c.id: CriterionScore(
                    criterion=c.id, reason=why_not, score=None, manual_ref=c.manual_quotes[0]
                )
                for c in rubric.criteria
            }
            checks = _checks(None, rubric, lex, scenario, client)
            return assessment(scores=scores, checks=checks, notes=[why_not]), None
        a = analyse(norm)
        if share < 0.3:
            notes.append(
                "日本語以外の部分（英字の羅列など）は判定に使っていません / only the Japanese part was judged"
            )
        if len(norm.text) > MAX_CHARS:
            notes.append(
                f"返答が長いため先頭の{MAX_CHARS}文字で判定しました / judged the first {MAX_CHARS} characters"
            )
        r = Reader(lex).read(a, cl, scenario)
        scores = score_reading(a, r, rubric)
        result = assessment(
            scores=scores,
            checks=_checks(a, rubric, lex, scenario, client),
            concession=scores[C.firm].score == 0,
            pressed=r.pressed,
            hostile=scores[C.calm].score == 0 and bool(r.hostile_strong or r.hostile_weak or r.casual),
            notes=notes,
            words_without_act=sorted(r.rejected),
            acts=dialogue_acts(a, r),
        )
        return result, a


# What a given-in demand type hands the client (the director remembers it).
_GIVES = {"contact": "contact", "visit": "meeting", "private": "meeting"}
# who an escalation hands the matter to, by the rubric pattern that found it
_HANDOVER_TO = {"madoguchi": "desk", "head_office": "desk", "company_level": "desk", "pr": "desk",
                "legal_dept": "legal", "lawyer": "legal", "police": "police"}  # fmt: skip
_ESTIMATE_PATTERNS = {"yusho", "option", "separate_contract", "extra_cost", "separately", "separate_quote",
                      "paid_separately"}  # fmt: skip


_TELL = {"教える", "聞かせる", "お聞かせ", "聞く", "伺う", "説明", "確認"}
# what a question about the demand asks: what, which, how much, by when, in what detail
_ABOUT_DEMAND = re.compile(
    r"(要望|用件|希望|依頼|要求|お求め|望み|意向|具体的|詳しく|詳細|内容|金額|条件|"
    r"期限|納期|締め切り|時期|日程|他に|ほかに|"
    r"何(?!卒)|なに|どう|どの|どれ|どちら|どこ|いつ|いくら)"
)


def offers(a: Analysis, lex: Compiled) -> list[str]:
    """What the reply would hand over if it gives in, whatever the client asked: the learned
    model may read a concession the rules did not, and the director still needs to know what
    was given (contact details, a meeting...)."""
    out: list[str] = []
    for t in DEMAND_TYPES:
        act = f"offers:{_GIVES.get(t, 'promise')}"
        if act not in out and a.find(lex.lex(f"accept_{t}"), t, check_neg=True):
            out.append(act)
    return out


def dialogue_acts(a: Analysis, r: Reading) -> list[str]:
    """What the reply does in the conversation, read from the same findings that scored it:
    the client's voice answers these (a question, a contract cited, a recording announced...).
    ``gave:<kind>`` is a concession the rules read (see :func:`offers` for one they did not)."""
    acts: list[str] = []

    def add(act: str) -> None:
        if act not in acts:
            acts.append(act)

    for f in r.concession:
        if f.signal == "laughter":
            add("laughed")
        elif f.signal == "grovel":
            add("gave:apology")
        elif f.signal.startswith("accept_"):
            add(f"gave:{_GIVES.get(f.signal.removeprefix('accept_'), 'promise')}")
        else:
            add("gave:promise")
    if r.refusal or r.boundary:
        add("refused")
        if not r.concession and _RETRACT.search(a.text):
            add("retracted")  # 「先ほどの件は撤回いたします」: takes back what was given
    if r.deferral and not r.concession:
        add("deferred")
    conceding = {a.sentence_of(f.start) for f in r.concession}

    # asking: a question, or a request to be told (「教えてください」「お聞かせください」), or a
    # request around an embedded question (「何をご希望なのか、ご説明ください」)
    # 「落ち着いていただけますか」 asks the client to do something, not to say what it wants
    def asks_to_act(p: Predicate) -> bool:
        sent = a.sentence_text(p.sentence)
        if p.lemma in _TELL or _ABOUT_DEMAND.search(sent):
            return False  # 「何をすればご納得いただけますか」 asks what is wanted
        return bool(re.search(r"(いただけ|頂け|もらえ|くださ|下さ|願え)", sent))

    def question_sentence(i: int) -> bool:
        sent = a.sentence_text(i).rstrip("。．.!！… ")
        if i in conceding or not re.search(r"(か|？|\?)$", sent):
            return False
        preds = [p for p in a.predicates if p.sentence == i]
        return not preds or not all(asks_to_act(p) for p in preds)

    asking = {p.sentence for p in a.predicates if p.question and not asks_to_act(p)}
    asking |= {i for i in range(len(a.sentences)) if question_sentence(i)}
    asking |= {a.sentence_of(f.start) for f in r.acknowledge if f.pattern.endswith(".please_tell")}
    asking |= {
        p.sentence
        for p in a.predicates
        if p.request and (p.lemma in _TELL or re.search(r"(の|ん)?か[、，]", a.sentence_text(p.sentence)))
    }
    # 「ご用件を伺います」「ご要望をお聞きします」「ご用件をお願いします」 invite the client to say
    # what it wants
    asking |= {
        p.sentence
        for p in a.predicates
        if (p.lemma in _TELL or p.lemma == "願う")
        and not p.neg
        and _ABOUT_DEMAND.search(a.sentence_text(p.sentence))
    }
    asking -= conceding
    # 「検討の余地はあるかと。」 leaves 「思います」 unsaid: an opinion, not a question
    asking = {i for i in asking if not re.search(r"かと[。…、]*$", a.sentence_text(i))}
    # a question about what the client wants (the client answers it by naming its demand);
    # any other question (「障害はいつ起きましたか」) is kept as one, and answered by reaction
    if any(_ABOUT_DEMAND.search(a.sentence_text(i)) for i in asking):
        add("asked")
    elif asking:
        add("asked_other")
    if r.apologised:
        add("apology")
    for f in r.contract:
        if a.sentence_of(f.start) in asking:
            continue  # 「本日の打合せの目的を伺えますか」 asks; it cites nothing
        add("cited:contract")
        if f.pattern.rsplit(".", 1)[-1] in _ESTIMATE_PATTERNS:
            add("offered:estimate")
    for f in r.refusal:
        if f.pattern.rsplit(".", 1)[-1] in _ESTIMATE_PATTERNS:
            add("offered:estimate")
    for f in r.record:
        if f.signal != "record" and a.sentence_of(f.start) in asking:
            continue  # 「書面でいただけますか」 asks the client for it; it announces nothing
        add("announced:recording" if f.signal == "record" else "announced:writing")
        if f.pattern.rsplit(".", 1)[-1] in ("rokuon", "rokuga"):
            add("announced:audio")  # 録音・録画 in particular (a client may bristle at that)
    for f in r.escalation:
        if f.signal == "handover":
            add(f"announced:{_HANDOVER_TO.get(f.pattern.rsplit('.', 1)[-1], 'superior')}")
        elif f.signal == "legal":
            add(f"announced:{_HANDOVER_TO.get(f.pattern.rsplit('.', 1)[-1], 'legal')}")
        elif f.signal == "time_limit":
            add("announced:time_limit")
        elif f.signal == "leave":
            add("announced:leaving")
    return acts


def _unscorable(text: str, jp: int) -> str:
    """Why a reply cannot be judged (``jp``: how many Japanese letters it has), or ""."""
    if not text.strip():
        return "返答が空のため判定できません / empty reply"
    if jp < 2:
        # a Latin tail does not hide the Japanese before it: only a reply with no Japanese
        # to read is left unscored
        return "日本語の部分がないため判定できません。日本語で返答してください / no Japanese to judge"
    return ""
