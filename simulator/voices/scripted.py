"""The offline voice: the persona file's lines for the director's stage, reaction and move.

Deterministic under a seed, and no line is repeated within a session. What has been said
is read from the transcript (``VoiceRequest.said``), so the voice keeps no state of its
own and a resumed session continues exactly as it would have.

A line is spoken only when its conditions hold (``requires`` / ``unless``, facts of the
dialogue state: ``simulator.dialogue``). The pools, best first: the stage's answers to the
trainee's move (a question, a contract cited, a recording announced...), the same answers at
the nearest stages, then the lines for the trainee's reaction at this stage and the nearest
ones. Closing lines are chosen the same way among the outcome's lines.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Generator

from simulator import dialogue
from simulator.models import Line, Outcome, Persona
from simulator.voices.base import LineStream, VoiceLine, VoiceRequest


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def opening_line(persona: Persona, seed: int) -> str:
    return _rng(seed, persona.id, "opening").choice(persona.opening_lines)


def closing_pool(persona: Persona, outcome: Outcome) -> list[Line]:
    key = outcome.value if outcome not in (Outcome.in_progress, Outcome.stopped) else "max_turns"
    return list(getattr(persona.closing_lines, key))


def candidate_pools(req: VoiceRequest) -> list[list[Line]]:
    """Pools to pick from, best first (see the module docstring)."""
    p = req.persona
    if req.closing:
        return [closing_pool(p, req.state.outcome)]
    stage = min(req.state.stage, len(p.tactic_ladder) - 1)
    # higher stages first among equals: the client does not go back down its ladder
    order = sorted(range(len(p.tactic_ladder)), key=lambda i: (abs(i - stage), i < stage))
    pools: list[list[Line]] = []
    if req.state.move:
        for kind in dialogue.answer_kinds(req.state.move):
            pools += [list(p.tactic_ladder[i].answers.get(kind, [])) for i in order if abs(i - stage) <= 1]
    pools += [list(getattr(p.tactic_ladder[i].lines, req.reaction.value)) for i in order]
    pools.append([ln for st in p.tactic_ladder for ln in st.lines.neutral])
    # last, before repeating anything: the client restating its demand (a question's answers)
    pools.append([ln for i in order for ln in p.tactic_ladder[i].answers.get("question", [])])
    return pools


class ScriptedVoice:
    name = "scripted"

    def choose(self, req: VoiceRequest) -> Line:
        now = dialogue.facts(req.persona, req.state)
        pools = candidate_pools(req)
        rng = _rng(
            req.seed,
            req.persona.id,
            req.state.turn,
            req.state.stage,
            req.reaction.value,
            req.state.move or "",
        )
        for pool in pools:
            fresh = [ln for ln in pool if ln.text not in req.said and dialogue.holds(ln, now)]
            if fresh:
                return rng.choice(fresh)
        # Every fitting line was used (a very long session): repeat one that fits rather than
        # say one that does not; a line without conditions always exists (validated).
        for pool in pools:
            fitting = [ln for ln in pool if dialogue.holds(ln, now)]
            if fitting:
                return rng.choice(fitting)
        return pools[0][0]

    def speak(self, req: VoiceRequest) -> VoiceLine:
        line = self.choose(req)
        return VoiceLine(line.text, self.name, sets=list(line.sets))

    def stream(self, req: VoiceRequest) -> LineStream:
        # the line is known at once: it is shown whole, not "typed" character by character
        return LineStream(self._whole(req))

    def _whole(self, req: VoiceRequest) -> Generator[str, None, VoiceLine]:
        line = self.speak(req)
        yield line.text
        return line
