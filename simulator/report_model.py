"""The report as one typed structure.

``report.build_report`` fills a :class:`Report` from the session, its persona, the rubric
and the session's *stored* score (``scoring.session.SessionScore``): the grade, the
per-criterion figures and the breakdown are copied from that score, never recomputed, so
the history, the report and an export show the same figures. ``report_render`` lays a
``Report`` out as HTML (screen and print) or Markdown; the CLI's JSON is its ``model_dump``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.drill import DrillItem
from simulator.models import CheckResult


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraineeInfo(_Model):
    name: str = ""
    department: str = ""


class PersonaInfo(_Model):
    id: str
    version: int
    title: str
    client: str
    scenario: str
    scenario_label: str
    difficulty: str
    channel: str
    manual_section: str
    manual_quote: str


class RubricInfo(_Model):
    id: str
    version: int


class CriterionRow(_Model):
    """One criterion of the session, as the stored score aggregated it."""

    label: str
    aggregate: Literal["every_turn", "once"]
    mean: float | None = None
    credit: float | None = None
    best: int | None = None
    violations: int = 0
    scored: int = 0
    unscored: int = 0
    not_applicable: int = Field(default=0, description="対象外のターン（要求がまだ出ていない時の毅然など）")
    weight: float
    percent: float | None = None
    from_drill: bool = False


class TurnCriterion(_Model):
    label: str
    score: int | None
    reason: str = Field(description="受講者向けの理由")
    detail: str = Field(
        default="", description="判定の詳細（研修担当者向け：確信度・似た判定例・ルールの読み）"
    )
    evidence: list[str] = Field(default_factory=list)
    manual_ref: str = ""
    source: str = "rules"
    confidence: float | None = None
    applicable: bool = True
    reviewed_by: str = Field(default="", description="この点を確認して修正した研修担当")
    machine_score: int | None = Field(default=None, description="修正前の機械の採点（修正があった時）")


class TurnReport(_Model):
    index: int
    client: str
    trainee: str
    reply: str | None = None
    criteria: dict[str, TurnCriterion] = Field(default_factory=dict)
    checks: list[CheckResult] = Field(default_factory=list)
    pressure: int | None = None
    reaction: str | None = None
    notices: list[str] = Field(default_factory=list)
    review_flag: bool = False
    judges: list[str] = Field(default_factory=list)


class AlsoCriterion(_Model):
    """Another shortfall in the same reply, shown inside the moment it belongs to."""

    criterion: str
    label: str
    score: int | None
    reason: str


class Finding(_Model):
    """One moment of the session worth a better reply, shown once."""

    turn: int | None
    criterion: str
    label: str
    moment: str
    score: int | None
    quote: str = ""
    client: str = ""
    reason: str = ""
    evidence: list[str] = Field(default_factory=list)
    manual_ref: str = ""
    better: str = ""
    also_turns: list[int] = Field(default_factory=list)
    also_criteria: list[AlsoCriterion] = Field(default_factory=list)
    missed: bool = False
    priority: int = Field(default=0, description="大きいほど重要（並べ替えの根拠）")


class SceneCheck(_Model):
    label: str
    passed: bool | None
    reason: str = ""
    turn: int
    elapsed: float | None = None
    evidence: str = ""
    statement: str = ""


class BreakdownRow(_Model):
    criterion: str
    label: str
    basis: str
    percent: float | None
    weight: float
    share: float | None


class GradeBreakdown(_Model):
    rows: list[BreakdownRow]
    before_penalty: float
    penalty: float
    overall: float | None


class EndingItem(_Model):
    """How a demand stood when the session ended: what the client walks away believing."""

    demand: str = Field(description="要求の ID")
    label: str = Field(description="要求の短い説明")
    status: Literal["open", "retracted", "refused", "deferred", "unanswered"]
    turn: int | None = None
    quote: str = ""
    statement: str


class DrillSection(_Model):
    """The filed 報告 drill: its first submission (the one that counts) and how many were made."""

    items: list[DrillItem]
    score: int | None
    attempts: int = 1


class Branch(_Model):
    label: str
    session_id: str
    report: Report


class Report(_Model):
    session_id: str
    trainee: TraineeInfo
    started_at: str = ""
    ended_at: str = ""
    persona: PersonaInfo
    rubric: RubricInfo
    judges: list[str]
    opening: str
    outcome: str
    outcome_label: str
    ending_reason: str = ""
    turn_count: int
    elapsed_minutes: float = 0.0
    demands_granted: list[str] = Field(default_factory=list)
    overall: float | None
    grade: str
    grade_label: str
    score_rule: str
    score_rule_version: int
    weights_version: int = Field(default=0, description="場面ごとの重みの版（0 はルーブリックのファイル）")
    grade_breakdown: GradeBreakdown
    drill_score: int | None = None
    reviewed: bool = Field(default=False, description="研修担当が採点を確認・修正した")
    machine_overall: float | None = Field(default=None, description="修正前の機械の得点率（修正があった時）")
    machine_grade: str = ""
    criteria: dict[str, CriterionRow]
    turns: list[TurnReport]
    findings: list[Finding]
    checks: dict[str, SceneCheck]
    ending: list[EndingItem] = Field(default_factory=list)
    praise: list[str]
    practise_next: list[str]
    drill: DrillSection | None = None
    branches: list[Branch] = Field(default_factory=list)
