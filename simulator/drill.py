"""The 報告 drill: after a session the trainee files the report the manual asks for.

The manual's 「報告時の対応状況確認事項」 lists seven items. :func:`check_drill` checks each
one for presence and for consistency with the session (the transcript, the director's
state and the persona): the right channel, the real client, a demand that was actually
made, a result that matches the ending, and an honest admission of any concession.
The drill scores the 記録 criterion 1-3; 記録 is never violated, so it is never 0.

The word lists live in ``rubrics/drill/keywords.yaml`` (validated by :class:`DrillLexicon`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, timedelta, timezone
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from simulator.library import load_model
from simulator.models import OUTCOME_LABELS, CriterionId, Demand, Outcome, Persona, Session
from simulator.paths import RUBRICS_DIR

LEXICON_PATH = RUBRICS_DIR / "drill" / "keywords.yaml"
LEXICON_SCHEMA_PATH = RUBRICS_DIR / "drill" / "schema.json"

DRILL_FIELDS: list[tuple[str, str, str]] = [
    (
        "when_where",
        "対応日時、場所",
        "いつ・どこで（電話・オンライン会議・訪問先など）。例：11月28日 14時、先方本社の会議室",
    ),
    (
        "requester",
        "要望者の情報（わかる限り）",
        "相手の会社名・氏名・役職。例：株式会社〇〇 購買部 部長 〇〇様",
    ),
    ("employee", "対応従業員", "対応した人（あなた）の氏名。同席者がいれば併記"),
    (
        "manager_instruction",
        "管理者の指示（具体的に）",
        "誰から・何をするよう指示されたか。まだ報告していなければ「指示なし（未報告）」",
    ),
    ("demand", "要望の内容", "相手が実際に求めたこと。言われていない要求は書かない"),
    (
        "result",
        "対応結果",
        "どう終わったか（引き継ぎ・相手が取り下げ・未解決など）。応じてしまった要求があれば正直に",
    ),
    ("other", "その他", "任意：録音・議事録の有無、同席者・目撃者、相手の言動で特に記録すべきこと"),
]
REQUIRED_KEYS: tuple[str, ...] = tuple(k for k, _l, _h in DRILL_FIELDS if k != "other")
LABELS: dict[str, str] = {k: label for k, label, _h in DRILL_FIELDS}


class DrillLexicon(BaseModel):
    """``rubrics/drill/keywords.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1)]
    placeholders: list[str]
    date_patterns: Annotated[list[str], Field(min_length=1)]
    channel_words: dict[str, list[str]]
    in_person_words: list[str]
    place_suffixes: list[str]
    company_affixes: list[str]
    titles: list[str]
    self_words: list[str]
    authority_words: list[str]
    instruction_words: list[str]
    no_instruction_words: list[str]
    not_reported_words: list[str]
    min_instruction_chars: Annotated[int, Field(ge=1)] = 8
    outcome_words: dict[Outcome, Annotated[list[str], Field(min_length=1)]]
    admission_stems: list[str]
    demand_groups: dict[str, Annotated[list[str], Field(min_length=1)]]


def lexicon_schema() -> str:
    """The JSON Schema written beside the word lists, so an editor checks them as typed."""
    from simulator.library import render_schema

    return render_schema(DrillLexicon, "報告ドリルの語彙 / 報告 drill word lists")


@lru_cache(maxsize=4)
def lexicon(path: Path = LEXICON_PATH) -> DrillLexicon:
    return load_model(path, DrillLexicon)


class DrillItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    value: str = Field(default="", description="受講者が書いた内容")
    required: bool = True
    ok: bool
    noted: bool = Field(default=False, description="受け付けたが、補足の指摘がある")
    message: str = Field(description="何が足りないか・やり取りと何が食い違うか")


# A field longer than this is refused (a report is a few lines; 10 million characters is not one).
MAX_FIELD_CHARS = 500


class DrillResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: CriterionId = CriterionId.record
    items: list[DrillItem]
    score: Annotated[int, Field(ge=1, le=3)]
    summary: str

    def item(self, key: str) -> DrillItem:
        for it in self.items:
            if it.key == key:
                return it
        raise KeyError(key)

    @property
    def problems(self) -> list[DrillItem]:
        return [it for it in self.items if not it.ok]


# --------------------------------------------------------------------------- text helpers


def norm(text: str) -> str:
    """NFKC, lower case, no whitespace: the form every comparison uses."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).lower()


def _any(words: list[str], text: str) -> str | None:
    for w in words:
        nw = norm(w)
        if nw and nw in text:
            return w
    return None


def _short(text: str, n: int = 40) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


_CHUNK = re.compile(r"[一-龯々〆ヵヶァ-ヴーa-z0-9%]+")


def chunks(text: str, min_len: int = 2) -> list[str]:
    """Content words of ``text`` (runs of kanji, katakana, letters and digits)."""
    return [c for c in _CHUNK.findall(norm(text)) if len(c) >= min_len]


def is_placeholder(value: str, lex: DrillLexicon) -> bool:
    v = norm(value).strip("。、.,!！()（）「」[]【】")
    if v in {norm(w) for w in lex.self_words}:
        return False
    return len(v) < 2 or v in {norm(p) for p in lex.placeholders}


def _client_lines(session: Session) -> str:
    parts = [session.opening]
    for t in session.turns:
        parts.extend(x for x in (t.client_before, t.client_after, t.closing) if x)
    return norm("\n".join(parts))


# --------------------------------------------------------------------------- item checks


def _check_when_where(value: str, session: Session, persona: Persona, lex: DrillLexicon) -> tuple[bool, str]:
    text = norm(value)
    has_time = any(re.search(p, text) for p in lex.date_patterns)
    right = lex.channel_words.get(persona.channel, [])
    place = _any(right, text)
    if place is None and persona.channel == "対面":
        place = _setting_place(text, persona, lex)
    wrong = None
    if place is None:
        for ch, words in lex.channel_words.items():
            if ch == persona.channel:
                continue
            if w := _any(lex.in_person_words if ch == "対面" else words, text):
                wrong = (ch, w)
                break
    if wrong is not None:
        also = "" if has_time else "日時も書かれていません。"
        # says what is inconsistent, not what the answer is (feedback must not be copyable)
        return False, f"「{wrong[1]}」とありますが、この対応の場所・方法と合いません。{also}"
    problems = []
    if not has_time:
        problems.append("日時（例：11月28日 14時、本日午後）")
    if place is None:
        problems.append("場所・方法（対面なら場所、電話・オンライン会議・メールなどの手段）")
    if problems:
        return False, "・".join(problems) + "が書かれていません。"
    mismatch = _date_mismatch(text, session)
    if mismatch:
        return False, mismatch
    return True, "日時と場所・方法が書かれています。"


def _setting_place(text: str, persona: Persona, lex: DrillLexicon) -> str | None:
    for c in chunks(persona.setting, 2):
        for suf in lex.place_suffixes:
            s = norm(suf)
            if c.endswith(s) and len(c) > len(s):
                # 「三河ダイナパーツ本社の購買部会議室」 -> accept 会議室, 本社, 購買部会議室 ...
                for k in range(len(c) - len(s) - 1, -1, -1):
                    cand = c[k:]
                    if len(cand) >= 2 and cand in text:
                        return cand
    return None


_FULL_DATE = re.compile(r"(?:(\d{4})[/\-.年])?(\d{1,2})[/\-.月](\d{1,2})日?")


def _date_mismatch(text: str, session: Session) -> str | None:
    """An explicit month/day more than a day away from the session's date."""
    m = _FULL_DATE.search(text)
    if not m:
        return None
    month, day = int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    created = session.created_at if session.created_at.tzinfo else session.created_at.replace(tzinfo=UTC)
    # The trainee writes the local date; accept it in UTC, local time or JST, give or take a day.
    candidates = {created, created.astimezone(), created.astimezone(_JST)}
    for c in candidates:
        for delta in (-1, 0, 1):
            d = c + timedelta(days=delta)
            if d.month == month and d.day == day:
                return None
    local = created.astimezone(_JST)
    return f"日付が{month}月{day}日となっていますが、このセッションは{local.month}月{local.day}日に行われました。"


# Japan has had no DST since 1951, so a fixed offset is exact and needs no tz database.
_JST = timezone(timedelta(hours=9), "JST")


def _company_core(company: str, lex: DrillLexicon) -> str:
    core = norm(company)
    for a in lex.company_affixes:
        core = core.replace(norm(a), "")
    return re.sub(r"[()（）]", "", core)


def _check_requester(value: str, persona: Persona, lex: DrillLexicon) -> tuple[bool, str]:
    text = norm(value)
    c = persona.client
    core = _company_core(c.company, lex)
    names = [norm(c.name), *(norm(p) for p in c.name.split())]
    roles = [norm(p) for p in c.role.split() if len(norm(p)) >= 2]
    titles = [norm(t) for t in lex.titles if norm(t) in norm(c.role)]
    found: list[str] = []
    if core and (core in text or any(core[i : i + 4] in text for i in range(0, max(1, len(core) - 3)))):
        found.append("会社名")
    if any(n and n in text for n in names):
        found.append("氏名")
    if any(r in text for r in roles) or any(t in text for t in titles):
        found.append("役職")
    if found:
        return True, f"{'・'.join(found)}が書かれています。"
    return False, "相手が特定できません。わかる限り、相手の会社名・氏名・役職を書いてください。"


def _check_employee(value: str, employee_name: str, lex: DrillLexicon) -> tuple[bool, str]:
    text = norm(value)
    name_parts = [norm(employee_name), *(norm(p) for p in re.split(r"[\s　]+", employee_name or "") if p)]
    if any(p and p in text for p in name_parts):
        return True, "対応した従業員が書かれています。"
    if _any(lex.self_words, text):
        return True, "対応した従業員（本人）が書かれています。報告書では氏名で書くとより確実です。"
    shown = f"（あなたの名前：{employee_name}）" if employee_name else ""
    return False, f"対応した従業員として、あなたの氏名が書かれていません{shown}。"


def _first_handoff_turn(session: Session, lex: DrillLexicon) -> int | None:
    """The first turn the judge found a hand-off to a superior, desk or company talks in
    (its typed escalation findings, not another reading of the reply)."""
    from simulator.director import escalation_kinds

    for t in session.turns:
        if {"handover", "legal"} & escalation_kinds(t.assessment):
            return t.index
    return None


def _check_instruction(value: str, session: Session, lex: DrillLexicon) -> tuple[bool, bool, str]:
    """(ok, noted, message)."""
    text = norm(value)
    handoff = _first_handoff_turn(session, lex)
    no_instr = _any(lex.no_instruction_words, text)
    not_reported = _any(lex.not_reported_words, text)
    if not_reported and not no_instr and session.outcome is not Outcome.escalated:
        no_instr = not_reported  # 「未報告」 alone says the same: nothing to report an instruction from
    if no_instr and not_reported:
        if session.outcome is Outcome.escalated:
            where = f"ターン{handoff}で" if handoff else ""
            return (
                False,
                False,
                f"やり取りは{where}上長・窓口への引き継ぎで終わっています。"
                "引き継いだ後に上長から受けた指示（この画面の上に示したもの）を、誰から・何をするよう言われたか具体的に書いてください。",
            )
        promised = f"ターン{handoff}で相手に上長への報告を伝えています。約束どおり" if handoff else ""
        return (
            True,
            True,
            "「指示なし（未報告）」は正直な記録です。ただ、マニュアルは社内の担当者に速やかに報告するよう求めています。"
            f"{promised}すぐ上長か相談窓口に報告し、受けた指示を追記しましょう。",
        )
    if not text or is_placeholder(value, lex) or (no_instr and not not_reported):
        return (
            False,
            False,
            "管理者の指示が書かれていません。誰から・何をするよう指示されたかを具体的に書くか、"
            "まだ報告していなければ「指示なし（未報告）」と書いてください。",
        )
    long_enough = len(text) >= lex.min_instruction_chars
    who = _any(lex.authority_words, text)
    verb = _any(lex.instruction_words, text)
    if long_enough and (who or verb):
        return True, False, "管理者の指示が具体的に書かれています。"
    return (
        False,
        False,
        "管理者の指示が具体的ではありません。誰（上長・課長・相談窓口など）から、何をするよう指示されたかを書いてください。",
    )


def _demand_terms(persona: Persona) -> dict[str, tuple[list[str], list[str]]]:
    """demand id -> (keywords, content chunks of its text), normalised."""
    return {d.id: ([norm(k) for k in d.keywords if norm(k)], chunks(d.text)) for d in persona.demands}


_CONTENT_CHAR = re.compile(r"[一-龯々〆ヵヶァ-ヴーa-z0-9]")


def _demand_matches(
    text: str, kws: list[str], chs: list[str], demand_text: str = "", *, strict: bool = False
) -> str | None:
    """What in ``text`` names this demand: a keyword, two content words of the demand, one
    long content word (not when ``strict``), or (with ``demand_text``) a shared fragment of six characters or
    more of which at least two are kanji, katakana, letters or digits."""
    for k in kws:
        if k in text:
            return k
    hits = [c for c in chs if c in text]
    if len(hits) >= 2 or (not strict and any(len(h) >= 4 for h in hits)):
        return hits[0]
    if demand_text and text:
        m = SequenceMatcher(None, text, demand_text, autojunk=False).find_longest_match(
            0, len(text), 0, len(demand_text)
        )
        frag = text[m.a : m.a + m.size]
        if m.size >= 6 and len(_CONTENT_CHAR.findall(frag)) >= 2:
            return frag
    return None


def made_demands(session: Session, persona: Persona) -> list[Demand]:
    """The demands the client made: those the director recorded, and those whose
    keywords the client actually said (a voice may voice one before it is recorded)."""
    said = _client_lines(session)
    terms = _demand_terms(persona)
    return [
        d
        for d in persona.demands
        if d.id in session.state.demands_made or any(k in said for k in terms[d.id][0])
    ]


def _check_demand(value: str, session: Session, persona: Persona, lex: DrillLexicon) -> tuple[bool, str]:
    text = norm(value)
    said = _client_lines(session)
    terms = _demand_terms(persona)
    made = made_demands(session, persona)
    made_ids = {d.id for d in made}
    never = [d for d in persona.demands if d.id not in made_ids]
    made_words = {k for d in made for k in terms[d.id][0]} | {c for d in made for c in terms[d.id][1]}
    made_blob = norm(" ".join(d.text + " " + " ".join(d.keywords) for d in made))

    problems: list[str] = []
    for d in never:
        kws, chs = terms[d.id]
        own_kws = [k for k in kws if k not in made_words and k not in said]
        own_chs = [c for c in chs if c not in made_words and c not in said]
        # Strict: accusing the trainee of inventing a demand needs more than one shared word.
        hit = _demand_matches(text, own_kws, own_chs, strict=True)
        if hit:
            problems.append(f"「{hit}」（{_short(d.text, 30)}）は、このやり取りでは相手が求めていません")
    for group, words in lex.demand_groups.items():
        w = _any(words, text)
        voiced = _any(words, said) or _any(words, made_blob)
        if w and not voiced and not any(w in p for p in problems):
            problems.append(f"「{w}」（{group}）は、このやり取りでは相手が求めていません")

    matched = None
    for d in made:
        kws, chs = terms[d.id]
        if _demand_matches(text, kws, chs, norm(d.text)):
            matched = d
            break
    if problems:
        return False, "、".join(problems) + "。やり取りを読み返し、相手が実際に求めたことを書いてください。"
    if matched is None:
        return (
            False,
            "相手が実際に求めた内容が書かれていません。何を・いつまでに・どうしろと求められたかを具体的に書いてください。",
        )
    return True, f"実際の要求（{_short(matched.text, 30)}）と一致しています。"


def _admits(text: str, lex: DrillLexicon) -> bool:
    """The report admits giving in: an admission word that the judge's analyser does not
    read as negated (「応じなかった」「応じることはできないと伝えた」 admit nothing)."""
    from simulator.scoring.analysis import analyse

    a = analyse(text)
    for stem in lex.admission_stems:
        s = norm(stem)
        start = a.text.find(s)
        while start != -1:
            if not a.negated_after(start, start + len(s)):
                return True
            start = a.text.find(s, start + 1)
    return False


def _concession_turn(session: Session) -> tuple[int, str] | None:
    before: list[str] = []
    for t in session.turns:
        if len(t.state.demands_granted) > len(before):
            return t.index, t.trainee
        before = t.state.demands_granted
    return None


def _check_result(value: str, session: Session, persona: Persona, lex: DrillLexicon) -> tuple[bool, str]:
    text = norm(value)
    outcome = session.outcome
    problems: list[str] = []
    right = _any(lex.outcome_words.get(outcome, []), text)
    if right is None:
        claimed = None
        for o, words in lex.outcome_words.items():
            if o is not outcome and (w := _any(words, text)):
                claimed = w
                break
        if claimed:
            problems.append(f"「{claimed}」とありますが、やり取りの終わり方と合いません")
        else:
            problems.append(
                "どう終わったか（引き継いだ・相手が引き下がった・未解決のままなど）が書かれていません"
            )
    if session.state.demands_granted and not _admits(text, lex):
        granted = [d.text for d in persona.demands if d.id in session.state.demands_granted]
        where = _concession_turn(session)
        at = f"ターン{where[0]}の「{_short(where[1], 30)}」で" if where else ""
        problems.append(
            f"{at}不当な要求（{_short(granted[0] if granted else '', 30)}）に応じていますが、報告に書かれていません。"
            "応じたことは「〜に応じてしまった」と正直に書いてください"
        )
    if problems:
        return False, "。".join(problems) + "。"
    if session.state.demands_granted:
        return True, "結果と、要求に応じてしまったことが正直に書かれています。"
    return True, f"結果（{OUTCOME_LABELS[outcome]}）と一致しています。"


# --------------------------------------------------------------------------- the drill


def _score(ok_required: int, total_required: int) -> int:
    if ok_required >= total_required:
        return 3
    if ok_required >= total_required - 2:
        return 2
    return 1


def superior_instruction(session: Session, persona: Persona) -> str | None:
    """What the superior said after an escalated session (the scene goes on after the hand-off,
    so that the trainee has an instruction to report): the persona's own, or the manual's
    standard steps."""
    if session.outcome is not Outcome.escalated:
        return None
    own = getattr(persona, "superior_instruction", None)
    if own:
        return own
    return (
        f"上長（課長）より：{persona.client.company}の件は、今後は私が窓口として対応します。"
        "本日のやり取り（日時・相手・要求の内容・発言）を記録にまとめ、本日中に私と相談窓口に提出してください。"
        "相手から直接連絡があっても、その場で約束せず、私に回してください。"
    )


def check_drill(
    fields: dict[str, str], session: Session, persona: Persona, employee_name: str
) -> DrillResult:
    """Check a filed report against the session. ``fields`` maps the keys of
    :data:`DRILL_FIELDS` to what the trainee wrote; unknown keys are ignored."""
    lex = lexicon()
    items: list[DrillItem] = []
    for key, label, _help in DRILL_FIELDS:
        value = (fields.get(key) or "").strip()
        required = key in REQUIRED_KEYS
        noted = False
        if key == "other":
            ok, msg = (
                True,
                (
                    "記入されています。"
                    if value
                    else "任意の項目です（録音・議事録の有無、同席者などがあれば記入）。"
                ),
            )
        elif key == "manager_instruction":
            ok, noted, msg = _check_instruction(value, session, lex)
        elif not value or is_placeholder(value, lex):
            ok, msg = False, f"{label}が書かれていません。"
        elif key == "when_where":
            ok, msg = _check_when_where(value, session, persona, lex)
        elif key == "requester":
            ok, msg = _check_requester(value, persona, lex)
        elif key == "employee":
            ok, msg = _check_employee(value, employee_name, lex)
        elif key == "demand":
            ok, msg = _check_demand(value, session, persona, lex)
        elif key == "result":
            ok, msg = _check_result(value, session, persona, lex)
        else:  # pragma: no cover - DRILL_FIELDS and this function change together
            raise KeyError(key)
        items.append(
            DrillItem(key=key, label=label, value=value, required=required, ok=ok, noted=noted, message=msg)
        )

    req = [it for it in items if it.required]
    good = sum(1 for it in req if it.ok)
    score = _score(good, len(req))
    bad = [it.label for it in req if not it.ok]
    if not bad:
        summary = f"必要な{len(req)}項目すべてが記入され、やり取りと一致しています。"
        if any(it.noted for it in items):
            summary += "補足の指摘も確認してください。"
    else:
        summary = (
            f"必要な{len(req)}項目のうち{good}項目が適切です。「{'」「'.join(bad)}」を見直してください。"
        )
    return DrillResult(items=items, score=score, summary=summary)
