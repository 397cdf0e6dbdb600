"""The interface every judge implements."""

from __future__ import annotations

from typing import Protocol

from simulator.models import Assessment, ContextLine, Rubric, ScenarioId


class Judge(Protocol):
    """Scores one trainee reply in context. ``name`` is recorded on every assessment."""

    @property
    def name(self) -> str: ...

    def assess(
        self, reply: str, context: list[ContextLine], scenario: ScenarioId, rubric: Rubric
    ) -> Assessment: ...
