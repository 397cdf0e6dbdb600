"""Scoring a trainee reply against the rubric: one entry point for director, app and CLI.

``assess(reply, context, scenario)`` returns an :class:`~simulator.models.Assessment`
with, for each criterion, a 0-3 score (or ``None`` when it cannot be judged), the reason,
the evidence quoted from the reply and the manual passage it relates to.
"""

from __future__ import annotations

import threading

from simulator.models import Assessment, ContextLine, Rubric, ScenarioId
from simulator.scoring.base import Judge
from simulator.scoring.hybrid import HybridJudge
from simulator.scoring.rules import RuleJudge

__all__ = [
    "Judge",
    "RuleJudge",
    "HybridJudge",
    "assess",
    "get_judge",
    "default_judge",
    "rule_judge",
    "OFFLINE_JUDGES",
]

OFFLINE_JUDGES = ("hybrid", "rules")

_rules: RuleJudge | None = None
_hybrid: HybridJudge | None = None
_lock = threading.Lock()


def rule_judge() -> RuleJudge:
    """The shared rule judge (the analyser loads once, on first use)."""
    global _rules
    if _rules is None:
        with _lock:
            if _rules is None:
                _rules = RuleJudge()
    return _rules


def default_judge() -> HybridJudge:
    """The shared hybrid judge, the offline default: the rules plus the shipped model."""
    global _hybrid
    if _hybrid is None:
        from simulator.scoring.learned import shipped_model

        rules = rule_judge()
        model = shipped_model()
        with _lock:
            if _hybrid is None:
                _hybrid = HybridJudge(rules, model)
    return _hybrid


def get_judge(name: str) -> Judge:
    """``hybrid``, ``rules`` or ``llm`` (the LLM judge is imported only when asked for)."""
    if name == "hybrid":
        return default_judge()
    if name == "rules":
        return rule_judge()
    if name == "llm":
        from simulator.config import load_settings
        from simulator.llm.judge import LLMJudge

        return LLMJudge(load_settings())  # type: ignore[no-any-return]
    raise KeyError(f"判定器「{name}」はありません / unknown judge {name!r}")


def assess(
    reply: str,
    context: list[ContextLine],
    scenario: ScenarioId | str,
    rubric: Rubric | None = None,
    judge: Judge | None = None,
) -> Assessment:
    """Score one trainee reply in context; the rubric defaults to the shipped one."""
    if rubric is None:
        from simulator.library import get_rubric

        rubric = get_rubric()
    j = judge if judge is not None else default_judge()
    return j.assess(reply, context, ScenarioId(scenario), rubric)
