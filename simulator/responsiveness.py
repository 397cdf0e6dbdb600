"""Does the client listen? Run reply scripts against personas and check every transcript.

``python -m simulator simulate --scripts FILE [--persona ID|all] [--out DIR]`` plays each
script (one trainee reply per turn) against each persona with the offline judge and voice
(the scene closes at the script's last reply if nothing ended it before),
writes the transcripts as JSON, and checks each session for:

- ``violated``: a client line spoken while its conditions (``requires`` / ``unless``) did not
  hold, recomputed from the dialogue state stored with the turn, or one an independent audit
  finds presupposing silence (「黙ってないで」) after a reply that said something (must be 0);
- ``repeated``: the same client line twice in one session (must be 0);
- ``no_closing``: the scene ended without a closing line; ``closing_mid_scene``: a closing line
  spoken while the scene went on; ``wrong_pool``: a closing line of another outcome;
- ``contradicting_closing``: a closing whose conditions do not fit how the session went, one
  that an independent audit finds contradicting it (「はぐらかされた」 after every demand was
  granted, thanks for agreeing after none was), or an ending that contradicts the record
  (``resolved`` after a concession).

It also measures how often a trainee move (a question, a contract cited...) was answered by a
line written for that move.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator import dialogue
from simulator.library import persona_lines
from simulator.models import Line, Outcome, Persona, Session, Turn

SCRIPT_KINDS = ("hesitant", "exemplary", "mixed", "hostile", "questioning")


@dataclass(frozen=True)
class Script:
    id: str
    kind: str
    replies: list[str]


@dataclass(frozen=True)
class Problem:
    persona: str
    script: str
    turn: int
    kind: str
    line: str
    detail: str


@dataclass
class Report:
    sessions: int = 0
    turns: int = 0
    problems: list[Problem] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    moves: Counter[str] = field(default_factory=Counter)  # turns whose reply had the move
    answered: Counter[str] = field(default_factory=Counter)  # ... and got an answer for it

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)


def load_scripts(path: Path) -> list[Script]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Script] = []
    for i, raw in enumerate(data.get("scripts", [])):
        where = f"{path.name}: scripts[{i}]"
        if raw.get("kind") not in SCRIPT_KINDS:
            raise ValueError(
                f"{where}.kind は {SCRIPT_KINDS} のいずれか / kind must be one of {SCRIPT_KINDS}"
            )
        replies = [str(r) for r in raw.get("replies", []) if str(r).strip()]
        if not replies:
            raise ValueError(f"{where}.replies が空です / no replies")
        out.append(Script(str(raw["id"]), raw["kind"], replies))
    ids = [s.id for s in out]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: script id が重複しています / duplicate script ids")
    return out


def _index(persona: Persona) -> dict[str, tuple[str, Line]]:
    return {line.text: (where, line) for where, line in persona_lines(persona)}


def _facts_when_spoken(persona: Persona, turn: Turn, line: Line) -> set[str]:
    """The facts that held when the line was chosen: the turn's stored state without what the
    line itself set."""
    state = turn.state.model_copy(deep=True)
    state.facts = [f for f in state.facts if f not in line.sets]
    return dialogue.facts(persona, state)


# An audit that does not trust the authors' conditions: words a closing cannot say after the
# client got everything it asked for, or after it got nothing. (Only this check reads them.)
_REFUSED_WORDS = re.compile(
    r"はぐらかさ|断られ|結局何も|何も決まら|平行線|首を縦に|結論が出ませ|結論は出な|決まらなかった|持ち越し|腹を決めて"
)
_AGREED_WORDS = re.compile(
    r"話がわかる|話が分かる|助かりま|助かるよ|決まりだ|決まりね|約束しましたよ|約束したからな|素直が一番"
)


# ... and a client who says 「黙ってないで」 to a trainee who said something
_SILENCE_WORDS = re.compile(
    r"黙って(い|る|ちゃ|聞いてるだけ|突っ立|て|も|りゃ|ね)|黙っちゃ|黙っと|黙らないで|黙り込|黙るな|何も言わ|何も言え|沈黙が"
)


def _audit_line(turn: Turn) -> str:
    text = turn.client_after or ""
    if (m := _SILENCE_WORDS.search(text)) and "just_said_little" not in _said_little(turn):
        return f"受講者は返答しているのに「{m.group(0)}」"
    return ""


def _said_little(turn: Turn) -> set[str]:
    return {"just_said_little"} if turn.state.little_turns[-1:] == [turn.index] else set()


def _audit_closing(persona: Persona, turn: Turn) -> str:
    now = dialogue.facts(persona, turn.state)
    text = turn.closing or ""
    if "conceded_all" in now and (m := _REFUSED_WORDS.search(text)):
        return f"要求をすべて通したのに「{m.group(0)}」"
    if "held_firm_throughout" in now and (m := _AGREED_WORDS.search(text)):
        return f"一度も譲歩していないのに「{m.group(0)}」"
    return ""


def check_session(persona: Persona, session: Session, script: str = "") -> list[Problem]:
    index = _index(persona)
    out: list[Problem] = []

    def flag(turn: int, kind: str, line: str, detail: str) -> None:
        out.append(Problem(persona.id, script, turn, kind, line, detail))

    said: Counter[str] = Counter([session.opening])
    for t in session.turns:
        for text in (t.client_after, t.closing):
            if text is None:
                continue
            said[text] += 1
            if said[text] == 2:
                flag(t.index, "repeated", text, "同じ台詞を1セッションで2回話した")
            if text == t.client_after and (why := _audit_line(t)):
                flag(t.index, "violated", text, why)  # any line, authored or an LLM's
                continue
            found = index.get(text)
            if found is None:
                continue  # not an authored line (an LLM's): its conditions are not known
            where, line = found
            bad = dialogue.violated(line, _facts_when_spoken(persona, t, line))
            closing_line = where.startswith("closing_lines.")
            if text == t.closing:
                expected = f"closing_lines.{t.state.outcome.value}["
                if not closing_line:
                    flag(t.index, "no_closing", text, f"締めくくりに場面途中の台詞（{where}）")
                elif not where.startswith(expected):
                    flag(t.index, "wrong_pool", text, f"結末 {t.state.outcome.value} に {where} の台詞")
                if bad:
                    flag(t.index, "contradicting_closing", text, f"{where}: {', '.join(bad)}")
                elif why := _audit_closing(persona, t):
                    flag(t.index, "contradicting_closing", text, f"{where}: {why}")
            else:
                if closing_line:
                    flag(t.index, "closing_mid_scene", text, f"場面が続くのに締めの台詞（{where}）")
                if bad:
                    flag(t.index, "violated", text, f"{where}: {', '.join(bad)}")
    last = session.turns[-1] if session.turns else None
    ended = session.outcome not in (Outcome.in_progress, Outcome.stopped)
    if ended and (last is None or not last.closing):
        flag(last.index if last else 0, "no_closing", "", "締めくくりの台詞なしに場面が終わった")
    if session.outcome is Outcome.resolved and session.state.demands_granted:
        flag(last.index if last else 0, "contradicting_closing", last.closing or "" if last else "",
             "譲歩した要求があるのに「相手が引き下がった」で終わった")  # fmt: skip
    return out


def _answered(persona: Persona, t: Turn, index: dict[str, tuple[str, Line]]) -> tuple[str | None, bool]:
    move = t.state.move
    if move is None or t.client_after is None:
        return None, False
    where = index.get(t.client_after, ("", None))[0]
    kinds = dialogue.answer_kinds(move)
    return move, any(f".answers.{k}[" in where for k in kinds)


def run(personas: list[Persona], scripts: list[Script], out_dir: Path | None = None, seed: int = 0) -> Report:
    from simulator.engine import Engine
    from simulator.transcripts import session_json

    report = Report()
    engine = Engine(voice="scripted")
    try:
        for p in personas:
            index = _index(p)
            for sc in scripts:
                # the scene closes at the script's last reply at the latest, so that every
                # session ends with a closing line to check
                engine.max_turns = len(sc.replies)
                session = engine.start(p, seed=seed)
                for reply in sc.replies:
                    if session.outcome is not Outcome.in_progress:
                        break
                    engine.take_turn(session, reply, p)
                report.sessions += 1
                report.turns += len(session.turns)
                report.outcomes[session.outcome.value] += 1
                report.problems += check_session(p, session, sc.id)
                for t in session.turns:
                    move, ok = _answered(p, t, index)
                    if move:
                        report.moves[move] += 1
                        report.answered[move] += ok
                if out_dir is not None:
                    out_dir.mkdir(parents=True, exist_ok=True)
                    data: dict[str, Any] = session_json(session, p, engine.rubric)
                    data["script"] = {"id": sc.id, "kind": sc.kind}
                    (out_dir / f"{p.id}__{sc.id}.json").write_text(
                        json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8"
                    )
    finally:
        engine.close()
    return report


def summary(report: Report) -> str:
    lines = [
        f"セッション {report.sessions} / ターン {report.turns}",
        f"条件に反した台詞 (violated): {report.count('violated')}",
        f"同じ台詞の繰り返し (repeated): {report.count('repeated')}",
        f"締めと矛盾 (contradicting_closing): {report.count('contradicting_closing')}",
        f"締めなしの終了・途中の締め・別の結末の締め: {report.count('no_closing')} / "
        f"{report.count('closing_mid_scene')} / {report.count('wrong_pool')}",
        "結末: " + ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())),
        "受講者の動きに、その動きへの台詞で答えた割合: "
        + ", ".join(
            f"{m} {report.answered[m]}/{report.moves[m]}"
            for m in sorted(report.moves, key=lambda m: -report.moves[m])
        ),
    ]
    for p in report.problems[:20]:
        lines.append(f"  [{p.kind}] {p.persona} {p.script} ターン{p.turn}: {p.line} — {p.detail}")
    return "\n".join(lines)


def failed(report: Report) -> bool:
    return bool(report.problems)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "sessions": report.sessions,
        "turns": report.turns,
        "problems": {k: report.count(k) for k in
                     ("violated", "repeated", "contradicting_closing", "no_closing", "closing_mid_scene", "wrong_pool")},
        "outcomes": dict(report.outcomes),
        "answered": {m: [report.answered[m], report.moves[m]] for m in report.moves},
        "examples": [p.__dict__ for p in report.problems[:50]],
    }  # fmt: skip
