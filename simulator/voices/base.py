"""The interface every persona voice implements."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from simulator.models import ContextLine, DirectorState, Outcome, Persona, Reaction


@dataclass(frozen=True)
class VoiceRequest:
    """Everything a voice needs to say the client's next line.

    ``state`` is the director's state AFTER this turn's transition: its ``stage``,
    ``pressure`` and ``outcome`` say what the client does now; ``reaction`` says how the
    trainee's reply read. ``transcript`` ends with the trainee's reply. ``note`` is the
    director's plain-Japanese instruction for this turn (used by the LLM voice).
    """

    persona: Persona
    state: DirectorState
    reaction: Reaction
    transcript: list[ContextLine]
    note: str
    seed: int = 0
    said: frozenset[str] = field(default_factory=frozenset)

    @property
    def closing(self) -> bool:
        return self.state.outcome is not Outcome.in_progress


@dataclass
class VoiceLine:
    text: str
    voice: str
    notices: list[str] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)  # facts the spoken line establishes


class Voice(Protocol):
    name: str

    def speak(self, req: VoiceRequest) -> VoiceLine:
        """The whole line at once."""
        ...

    def stream(self, req: VoiceRequest) -> Iterator[str]:
        """The line in chunks as it is produced; the concatenation equals ``speak``'s text."""
        ...


class LineStream(Iterator[str]):
    """The chunks of a line; once exhausted, ``line`` holds the whole :class:`VoiceLine`."""

    def __init__(self, chunks: Generator[str, None, VoiceLine]) -> None:
        self._chunks = chunks
        self.line: VoiceLine | None = None

    def __iter__(self) -> LineStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._chunks)
        except StopIteration as stop:
            self.line = stop.value
            raise

    def close(self) -> None:
        self._chunks.close()
