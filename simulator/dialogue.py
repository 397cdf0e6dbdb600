"""The dialogue state: what the client remembers of the conversation.

The director records, turn by turn, where each demand stands (made, refused, conceded,
deferred), what the trainee gave (contact details, a promise, an apology, a meeting), the
questions the trainee asked and what the trainee announced (recording, a time limit, a
superior, the desk, the police, leaving). It reads these from the judge's typed dialogue
acts (``Assessment.acts``, found by the same rubric patterns that scored the reply), never
from a word list of its own.

Persona lines name *facts* derived from this state (``requires: [gave_contact]``,
``unless: [laughed]``); :func:`facts` computes them and :func:`holds` decides whether a
line may be spoken. The vocabulary is closed (``simulator.models.EVENT_FACTS``), so a
misspelt fact in a persona file is an error that names the file and the field.
"""

from __future__ import annotations

import re
from functools import lru_cache

from simulator.models import (
    DEMAND_FACTS,
    EVENT_FACTS,
    DemandStatus,
    DirectorState,
    Event,
    Line,
    Persona,
    Reaction,
)

# Which stage answer a trainee move asks for, most salient first; each with the answers to
# fall back on when a stage has none of its own (the six required ones always exist).
MOVE_ORDER: tuple[tuple[str, str], ...] = (
    ("announced:police", "legal"),
    ("announced:legal", "legal"),
    ("announced:superior", "escalation"),
    ("announced:desk", "escalation"),
    ("announced:time_limit", "time_limit"),
    ("announced:leaving", "leave"),
    ("announced:recording", "recording"),
    ("announced:writing", "recording"),
    ("announced:audio", "recording"),
    ("offered:estimate", "estimate"),
    ("cited:contract", "contract"),
    ("asked", "question"),
    ("apology", "apology"),
)
ANSWER_FALLBACK: dict[str, tuple[str, ...]] = {
    "legal": ("legal", "escalation"),
    "leave": ("leave", "time_limit"),
    "estimate": ("estimate", "contract"),
}
# the elements of firmness a run of firm turns is made of
_ELEMENT_OF = {
    "refused": "refusal",
    "cited:contract": "contract",
    "offered:estimate": "contract",
    "announced:recording": "record",
    "announced:writing": "record",
    "announced:audio": "record",
    "announced:superior": "escalation",
    "announced:desk": "escalation",
    "announced:legal": "escalation",
    "announced:police": "escalation",
    "announced:time_limit": "time_limit",
    "announced:leaving": "leave",
}
# announcements kept under their own fact names
_ANNOUNCE_FACT = {"contract": "cited_contract", "estimate": "offered_estimate", "apology": "apologised"}


@lru_cache(maxsize=256)
def _inferred_kind(text: str) -> str:
    """What giving in to a demand hands over, read with the rubric's demand lexicon."""
    from simulator.library import get_rubric
    from simulator.scoring.lexicon import compiled_for

    lex = compiled_for(get_rubric())
    for kind, groups in (("contact", ("demand_contact",)), ("meeting", ("demand_visit", "demand_private"))):
        if any(p.search(text) for g in groups for p in lex.lex(g)):
            return kind
    return "promise"


def demand_kind(persona: Persona, demand_id: str) -> str:
    d = next((d for d in persona.demands if d.id == demand_id), None)
    if d is None:
        return "promise"
    return d.kind or _inferred_kind(" ".join([d.text, *d.keywords]))


def choose_move(acts: list[str]) -> str | None:
    """The trainee move the client answers this turn (None: answer by reaction only)."""
    for act, move in MOVE_ORDER:
        if act in acts:
            return move
    return None


def answer_kinds(move: str) -> tuple[str, ...]:
    return ANSWER_FALLBACK.get(move, (move,))


def _status(state: DirectorState, demand_id: str, turn: int) -> DemandStatus:
    st = state.demand(demand_id)
    if st is None:
        st = DemandStatus(id=demand_id, made_turn=turn, turn=turn)
        state.demands.append(st)
    return st


def make_demand(state: DirectorState, demand_id: str, turn: int) -> None:
    if demand_id not in state.demands_made:
        state.demands_made.append(demand_id)
    _status(state, demand_id, turn)


def pending(state: DirectorState) -> str | None:
    """The demand on the table: the latest one made that was not given."""
    for d in reversed(state.demands):
        if d.status != "conceded":
            return d.id
    return state.demands_made[-1] if state.demands_made else None


def record(persona: Persona, state: DirectorState, acts: list[str], reaction: Reaction, reply: str) -> None:
    """Write this turn's moves into ``state`` (already advanced to the new turn)."""
    turn = state.turn
    quote = _short(reply)
    for d in state.demands_made:
        _status(state, d, 0)
    current = pending(state) or (persona.demands[0].id if persona.demands else None)
    if reaction is Reaction.conceded:
        kinds = [a.split(":", 1)[1] for a in acts if a.startswith("gave:")]
        if not kinds:  # a concession the learned model read: what the reply hands over
            kinds = [a.split(":", 1)[1] for a in acts if a.startswith("offers:")]
        specific = [k for k in kinds if k != "promise"]
        kinds = specific or kinds  # 「LINEはこちらです」 gives contact details, not a promise besides
        target = current
        for kind in specific:
            # the concession goes to the demand it gives (a LINE ID answers the contact demand),
            # one on the table first, else one the client has not voiced yet (it takes it anyway)
            open_first = sorted(
                (d for d in persona.demands if (st := state.demand(d.id)) is None or st.status != "conceded"),
                key=lambda d: state.demand(d.id) is None,
            )
            match = next((d.id for d in open_first if demand_kind(persona, d.id) == kind), None)
            if match:
                target = match
                make_demand(state, match, turn)
                break
        if not kinds and target:
            kinds = [demand_kind(persona, target)]
        for kind in kinds:
            state.gave.append(Event(kind=kind, turn=turn, demand=target, text=quote))
        if target:
            st = _status(state, target, turn)
            st.status, st.turn = "conceded", turn
            if target not in state.demands_granted:
                state.demands_granted.append(target)
    elif "retracted" in acts and (given := [d for d in state.demands if d.status == "conceded"]):
        # the trainee takes back the latest thing they gave: it stands refused from now on
        st = max(given, key=lambda d: d.turn)
        st.status, st.turn = "refused", turn
    elif current:
        st = _status(state, current, turn)
        if "refused" in acts and st.status != "conceded":
            st.status, st.turn = "refused", turn
        elif "deferred" in acts and st.status == "made":
            st.status, st.turn = "deferred", turn
    if "refused" in acts and reaction is not Reaction.conceded:
        state.refused_turns.append(turn)
    if "laughed" in acts:
        state.laughed_turns.append(turn)
    if said_little(reply, acts):
        state.little_turns.append(turn)
    if reaction is Reaction.hostile:
        state.hostile_turns.append(turn)
    if reaction is not Reaction.conceded and ("asked" in acts or "asked_other" in acts):
        kind = "demand" if "asked" in acts else "other"
        state.asked.append(Event(kind=kind, turn=turn, demand=current, text=quote))
    for a in acts:
        kind = a.split(":", 1)[1] if ":" in a else a
        said = a.startswith(("announced:", "cited:", "offered:")) or a == "apology"
        if said and not any(e.kind == kind and e.turn == turn for e in state.announced):
            state.announced.append(Event(kind=kind, turn=turn, demand=current, text=quote))


_FILLER = re.compile(
    r"[\s。、，．・…！？!?ー〜～「」（）()]+|^(はい|ええ|ええと|えっと|あの|その|あ|う|いえ)+"
)


def said_little(reply: str, acts: list[str]) -> bool:
    """The trainee said next to nothing (「……」「はい」「ええと…」): only then may the client say
    「黙ってないで」. A reply that does something (asks, refuses, gives, announces) is not it."""
    if any(a != "apology" and not a.startswith("offers:") for a in acts):
        return False
    core = _FILLER.sub("", reply)
    return len(core) <= 4


def firm_elements(acts: list[str]) -> set[str]:
    return {_ELEMENT_OF[a] for a in acts if a in _ELEMENT_OF}


def _short(text: str, n: int = 60) -> str:
    t = re.sub(r"\s+", " ", text).strip()
    return t if len(t) <= n else t[: n - 1] + "…"


def facts(persona: Persona, state: DirectorState) -> set[str]:
    """Every fact that holds now: the named events, per-demand facts and the lines' own."""
    out = set(state.facts)
    t = state.turn
    for e in state.gave:
        out.add(f"gave_{e.kind}")
        if e.turn == t:
            out.add(f"just_gave_{e.kind}")
    for e in state.announced:
        name = _ANNOUNCE_FACT.get(e.kind, f"announced_{e.kind}")
        out.add(name)
        if e.turn == t and name.startswith("announced_"):
            out.add(f"just_{name}")
    about = [e for e in state.asked if e.kind == "demand"]
    if about:
        out.add("asked_demand")
        if len(about) >= 2:
            out.add("asked_twice")
        if about[-1].turn == t:
            out.add("just_asked")
    if state.laughed_turns:
        out.add("laughed")
    if state.little_turns and state.little_turns[-1] == t:
        out.add("just_said_little")
    if state.hostile_turns:
        out.add("was_hostile")
    if state.refused_turns:
        out.add("refused")
        if state.refused_turns[-1] == t:
            out.add("just_refused")
    granted = [d for d in state.demands if d.status == "conceded"]
    if granted or state.gave:
        out.add("conceded")
        if state.gave and state.gave[-1].turn == t:
            out.add("just_conceded")
    # a demand made this very turn (after a concession) has not been answered yet
    answered = [d for d in state.demands if d.status != "made" or d.made_turn < t]
    if granted and len(granted) == len(answered) and not state.refused_turns:
        out.add("conceded_all")
    if state.refused_turns and not granted and not state.gave:
        out.add("held_firm_throughout")
    if any(d.status == "deferred" for d in state.demands):
        out.add("deferred")
    for d in state.demands:
        out.add(f"made:{d.id}")
        if d.status == "conceded":
            out.add(f"granted:{d.id}")
        elif d.status == "refused":
            out.add(f"refused:{d.id}")
        elif d.status == "deferred":
            out.add(f"deferred:{d.id}")
    p = pending(state)
    if p:
        out.add(f"pending:{p}")
    return out


def holds(line: Line, now: set[str]) -> bool:
    return all(f in now for f in line.requires) and not any(f in now for f in line.unless)


def violated(line: Line, now: set[str]) -> list[str]:
    """The conditions of ``line`` that do not hold (empty: the line fits)."""
    return [f"requires {f}" for f in line.requires if f not in now] + [
        f"unless {f}" for f in line.unless if f in now
    ]


def known_fact(name: str, persona: Persona, own: set[str]) -> bool:
    """Whether a persona line may name this fact (for validation)."""
    if name in EVENT_FACTS or name in own:
        return True
    kind, _, demand = name.partition(":")
    return bool(demand) and kind in DEMAND_FACTS and any(d.id == demand for d in persona.demands)


def summary_ja(persona: Persona, state: DirectorState) -> list[str]:
    """The dialogue so far in short Japanese lines (for the LLM voice and the trainer)."""
    names = {d.id: d.text for d in persona.demands}
    status_ja = {
        "made": "要求中",
        "refused": "断られた",
        "conceded": "受講者が応じた",
        "deferred": "回答保留",
    }
    out = [f"要求「{names.get(d.id, d.id)}」: {status_ja[d.status]}（ターン{d.turn}）" for d in state.demands]
    gave_ja = {
        "contact": "連絡先",
        "promise": "約束",
        "apology": "謝罪（平謝り）",
        "meeting": "面会・誘いへの同意",
    }
    out += [f"受講者が渡したもの: {gave_ja.get(e.kind, e.kind)}（ターン{e.turn}）" for e in state.gave]
    out += [f"受講者の質問（ターン{e.turn}）:「{e.text}」" for e in state.asked]
    ann_ja = {
        "recording": "記録する", "audio": "録音・録画する", "writing": "書面にする", "time_limit": "対応時間の区切り",
        "superior": "上長への報告・引き継ぎ", "desk": "相談窓口・会社間での対応", "legal": "法務・弁護士・法的対応",
        "police": "警察への相談", "leaving": "退席・通話の終了", "contract": "契約・方針を根拠に示した",
        "estimate": "有償の見積もりを示した", "apology": "謝罪した",
    }  # fmt: skip
    out += [f"受講者が告げたこと: {ann_ja.get(e.kind, e.kind)}（ターン{e.turn}）" for e in state.announced]
    if state.laughed_turns:
        out.append(f"受講者が笑ってかわした（ターン{', '.join(map(str, state.laughed_turns))}）")
    return out
