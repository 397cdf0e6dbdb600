"""The offline voice: the persona file's lines for the director's stage and reaction.

Deterministic under a seed, and no line is repeated within a session. What has been said
is read from the transcript (``VoiceRequest.said``), so the voice keeps no state of its
own and a resumed session continues exactly as it would have.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from simulator.models import Outcome, Persona
from simulator.voices.base import VoiceLine, VoiceRequest


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def opening_line(persona: Persona, seed: int) -> str:
    return _rng(seed, persona.id, "opening").choice(persona.opening_lines)


class ScriptedVoice:
    name = "scripted"

    def _candidates(self, req: VoiceRequest) -> list[list[str]]:
        """Pools to pick from, best first: this stage and reaction, then the same
        reaction at the nearest stages (higher first: the client does not go back)."""
        p = req.persona
        if req.closing:
            outcome = req.state.outcome
            key = outcome.value if outcome is not Outcome.in_progress else "max_turns"
            return [list(getattr(p.closing_lines, key))]
        stage = min(req.state.stage, len(p.tactic_ladder) - 1)
        order = sorted(range(len(p.tactic_ladder)), key=lambda i: (abs(i - stage), i < stage))
        pools = [list(getattr(p.tactic_ladder[i].lines, req.reaction.value)) for i in order]
        pools.append([ln for st in p.tactic_ladder for ln in st.lines.neutral])
        return pools

    def speak(self, req: VoiceRequest) -> VoiceLine:
        pools = self._candidates(req)
        rng = _rng(req.seed, req.persona.id, req.state.turn, req.state.stage, req.reaction.value)
        for pool in pools:
            fresh = [ln for ln in pool if ln not in req.said]
            if fresh:
                return VoiceLine(rng.choice(fresh), self.name)
        # Every authored line was used (a very long session): repeat rather than fall silent.
        return VoiceLine(rng.choice(pools[0]), self.name)

    def stream(self, req: VoiceRequest) -> Iterator[str]:
        text = self.speak(req).text
        # A few characters at a time, so the UI shows the line being "typed".
        for i in range(0, len(text), 4):
            yield text[i : i + 4]
