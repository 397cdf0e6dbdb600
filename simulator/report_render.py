"""Render the session report (``report.build_report``'s typed ``Report``) as HTML or Markdown.

The templates are ``prompts/report.html.j2`` and ``prompts/report.md.j2``. The HTML
environment autoescapes (a trainee's ``<script>`` is text) and both use ``StrictUndefined``,
so a missing key is an error rather than a blank. The work the templates should not do
(ordering, chart geometry, marking evidence inside a reply) is done here, in
:func:`view_model`, so the templates only lay things out.

The application layer fills the report's optional parts: ``branches`` ("retry from a turn"
keeps both branches; they are compared criterion by criterion) and ``drill`` (the filed 報告
drill's first submission).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from simulator.models import CRITERIA, CRITERION_LABELS
from simulator.paths import PROMPTS_DIR
from simulator.report_model import (
    Branch,
    CriterionRow,
    DrillSection,
    Finding,
    Report,
    SceneCheck,
    TurnCriterion,
    TurnReport,
)

HTML_TEMPLATE = "report.html.j2"
MD_TEMPLATE = "report.md.j2"

SCORE_LABELS = {0: "違反", 1: "見られない", 2: "一部", 3: "明確"}
UNSCORED = "採点不能"
NOT_APPLICABLE = "要求なし"
NOT_APPLICABLE_REASON = (
    "相手がこの台詞では要求を迫っていないため、断る場面ではありませんでした（平均に入れていません）。"
)
NOT_APPLICABLE_SHORT = "対象外"

# Chart geometry (SVG user units). The label column is wide enough for エスカレーション.
CHART_LABEL_W = 150
CHART_BAR_W = 380
CHART_ROW_H = 40
CHART_TOP = 28
CHART_RIGHT = 130


# --------------------------------------------------------------------------- helpers


def score_level(value: float | None) -> str:
    """A CSS class for a 0-3 value: ``good``, ``fair``, ``weak``, ``bad`` or ``none``."""
    if value is None:
        return "none"
    if value >= 2.5:
        return "good"
    if value >= 1.5:
        return "fair"
    if value >= 1.0:
        return "weak"
    return "bad"


def score_label(score: int | None) -> str:
    return UNSCORED if score is None else SCORE_LABELS.get(int(score), str(score))


def fmt_num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def evidence_spans(text: str, evidence: list[tuple[str, str]]) -> list[tuple[int, int, list[str]]]:
    """Where each quoted evidence (quote, criterion label) occurs in ``text``: merged,
    sorted (start, end, labels). Quotes not found verbatim are skipped, not guessed."""
    raw: list[tuple[int, int, str]] = []
    for quote, label in evidence:
        if not quote:
            continue
        start = text.find(quote)
        while start != -1:
            raw.append((start, start + len(quote), label))
            start = text.find(quote, start + len(quote))
    raw.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for s, e, label in raw:
        if merged and s <= merged[-1][1]:
            ps, pe, labels = merged[-1]
            merged[-1] = (ps, max(pe, e), labels if label in labels else [*labels, label])
        else:
            merged.append((s, e, [label]))
    return merged


def mark_html(text: str, evidence: list[tuple[str, str]]) -> Markup:
    """``text`` escaped, with each evidence quote wrapped in ``<mark>``."""
    out: list[str] = []
    pos = 0
    for s, e, labels in evidence_spans(text, evidence):
        out.append(str(escape(text[pos:s])))
        title = escape("・".join(labels))
        out.append(f'<mark title="{title}">{escape(text[s:e])}</mark>')
        pos = e
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#<>])")


def md_escape(text: object) -> str:
    """Text made inert for Markdown: HTML brackets and Markdown punctuation escaped,
    line breaks kept as Markdown line breaks."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;")
    s = _MD_SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), s)
    return s.replace("\r\n", "\n").replace("\n", "  \n")


def md_cell(text: object) -> str:
    """Text for one Markdown table cell (no line breaks)."""
    return md_escape(text).replace("  \n", " ")


def mark_md(text: str, evidence: list[tuple[str, str]]) -> str:
    out: list[str] = []
    pos = 0
    for s, e, _labels in evidence_spans(text, evidence):
        out.append(md_escape(text[pos:s]))
        out.append(f"**{md_escape(text[s:e])}**")
        pos = e
    out.append(md_escape(text[pos:]))
    return "".join(out)


def _fmt_score(score: int | None) -> str:
    return UNSCORED if score is None else str(score)


# --------------------------------------------------------------------------- view model


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    bars = []
    for i, r in enumerate(rows):
        y = CHART_TOP + i * CHART_ROW_H
        mean = r["mean"]
        best = r["best"]
        bars.append(
            {
                "label": r["label"],
                "y": y,
                "text_y": y + CHART_ROW_H / 2 + 5,
                "bar_y": y + 8,
                "bar_h": CHART_ROW_H - 16,
                "width": 0 if mean is None else round(CHART_BAR_W * max(0.0, min(3.0, mean)) / 3.0, 1),
                "level": score_level(mean),
                "mean": mean,
                "value_text": (
                    (NOT_APPLICABLE_SHORT if r.get("na_only") else UNSCORED)
                    if mean is None
                    else f"{fmt_num(mean)} / 3"
                ),
                "best_x": None if best is None else round(CHART_LABEL_W + CHART_BAR_W * best / 3.0, 1),
                "best": best,
                "violations": r["violations"],
            }
        )
    height = CHART_TOP + len(rows) * CHART_ROW_H + 30
    return {
        "width": CHART_LABEL_W + CHART_BAR_W + CHART_RIGHT,
        "height": height,
        "x0": CHART_LABEL_W,
        "bar_w": CHART_BAR_W,
        "ticks": [
            {"x": round(CHART_LABEL_W + CHART_BAR_W * v / 3.0, 1), "value": v, "label": SCORE_LABELS[v]}
            for v in range(4)
        ],
        "grid_bottom": CHART_TOP + len(rows) * CHART_ROW_H,
        "bars": bars,
    }


def _criteria_rows(criteria: dict[str, CriterionRow]) -> list[dict[str, Any]]:
    rows = []
    for cid in CRITERIA:
        c = criteria.get(cid.value)
        na_only = c is not None and c.mean is None and c.not_applicable > 0 and c.scored == 0
        rows.append(
            {
                "id": cid.value,
                "label": (c.label if c else "") or CRITERION_LABELS[cid],
                "mean": c.mean if c else None,
                "best": c.best if c else None,
                "violations": c.violations if c else 0,
                "scored": c.scored if c else 0,
                "unscored": c.unscored if c else 0,
                "not_applicable": c.not_applicable if c else 0,
                "na_only": na_only,
                "weight": c.weight if c else None,
                "level": score_level(c.mean if c else None),
            }
        )
    return rows


def _chip(label: str, score: int | None, applicable: bool = True) -> dict[str, Any]:
    if not applicable:
        return {"label": label, "score": score, "text": "対象外", "meaning": NOT_APPLICABLE, "level": "none"}
    return {
        "label": label,
        "score": score,
        "text": _fmt_score(score),
        "meaning": score_label(score),
        "level": "none" if score is None else f"s{score}",
    }


def _turn_view(turn: TurnReport, staff: bool) -> dict[str, Any]:
    chips = []
    details = []
    evidence: list[tuple[str, str]] = []
    for cid in CRITERIA:
        c = turn.criteria.get(cid.value)
        if c is None:
            continue
        label = c.label or CRITERION_LABELS[cid]
        chip = _chip(label, c.score, c.applicable)
        if c.reviewed_by:
            chip = {
                **chip,
                "text": f"{chip['text']} ✓",
                "meaning": f"{chip['meaning']}（研修担当が確認済み）",
            }
        chips.append(chip)
        ev = [e for e in c.evidence if e]
        evidence.extend((e, label) for e in ev)
        reason = c.reason if c.applicable else NOT_APPLICABLE_REASON
        details.append(
            {
                **chip,
                "reason": (c.detail or c.reason) if staff else reason,
                "evidence": ev,
                "manual_ref": c.manual_ref,
                "judged_by": _judged_by(c) if staff else "",
                "reviewed_by": c.reviewed_by,
                "machine_score": c.machine_score,
            }
        )
    return {
        "index": turn.index,
        "client": turn.client,
        "trainee": turn.trainee,
        "trainee_html": mark_html(turn.trainee, evidence),
        "trainee_md": mark_md(turn.trainee, evidence),
        "reply": turn.reply,
        "chips": chips,
        "details": details,
        "checks": [c.model_dump(mode="json") for c in turn.checks],
        "pressure": turn.pressure,
        "reaction": turn.reaction,
        "notices": turn.notices,
        "review_flag": turn.review_flag,
        "judges": turn.judges,
    }


def _finding_view(f: Finding) -> dict[str, Any]:
    ev = [(e, f.label) for e in f.evidence if e]
    return {
        "turn": f.turn,
        "label": f.label,
        "score": f.score,
        "score_text": _fmt_score(f.score),
        "meaning": score_label(f.score),
        "level": "none" if f.score is None else f"s{f.score}",
        "quote": f.quote,
        "quote_html": mark_html(f.quote, ev),
        "quote_md": mark_md(f.quote, ev),
        "client": f.client,
        "reason": f.reason,
        "manual_ref": f.manual_ref.strip("「」"),
        "better": f.better.strip("「」"),
        "moment": f.moment,
        "also": "・".join(f"ターン{n}" for n in f.also_turns),
        "also_count": len(f.also_turns),
        "also_criteria": [{**_chip(x.label, x.score), "reason": x.reason} for x in f.also_criteria],
        "missed": f.missed,
    }


def _judged_by(c: TurnCriterion) -> str:
    """Who decided the score and how sure the model is, for trainers: 「学習モデル・確信度 92%」."""
    source = {"rules": "ルール", "model": "学習モデル", "llm": "AI"}.get(c.source or "rules", "ルール")
    return f"{source}・確信度 {c.confidence:.0%}" if c.confidence is not None else source


def _checks_view(checks: dict[str, SceneCheck]) -> list[dict[str, Any]]:
    out = []
    for c in checks.values():
        passed = c.passed
        out.append(
            {
                "label": c.label,
                "passed": passed,
                "status": "判定不能" if passed is None else ("できた" if passed else "できなかった"),
                "level": "none" if passed is None else ("good" if passed else "bad"),
                "mark": "—" if passed is None else ("✓" if passed else "✗"),
                "reason": c.reason,
                "turn": c.turn,
                "statement": c.statement,
            }
        )
    return out


def _drill_view(drill: DrillSection | None) -> dict[str, Any] | None:
    if drill is None:
        return None
    items = [
        {
            **it.model_dump(),
            "mark": "✓" if it.ok else "✗",
            "level": ("fair" if it.noted else "good") if it.ok else "bad",
        }
        for it in drill.items
    ]
    return {
        "items": items,
        "score": drill.score,
        "score_text": _fmt_score(drill.score),
        "level": "none" if drill.score is None else f"s{drill.score}",
        "summary": _drill_summary(items),
        "attempts": drill.attempts,
    }


def _drill_summary(items: list[dict[str, Any]]) -> str:
    req = [it for it in items if it["required"]]
    good = sum(1 for it in req if it["ok"])
    if req and good == len(req):
        return f"必要な{len(req)}項目すべてが記入され、やり取りと一致しています。"
    return f"必要な{len(req)}項目のうち{good}項目が適切です。"


def _result_line(label: str, reason: str) -> str:
    """The outcome in one line: the ending's own reason when it says more than the label
    (「上長・窓口へ引き継いだ — 上長・相談窓口・会社間の交渉へ引き継いだ」 said it twice)."""
    return reason or label


def _branch_view(branches: list[Branch]) -> dict[str, Any] | None:
    if not branches:
        return None
    cols: list[dict[str, Any]] = []
    for b in branches:
        r = b.report
        crit = _criteria_rows(r.criteria)
        cols.append(
            {
                "label": b.label,
                "overall": r.overall,
                "overall_text": "—" if r.overall is None else f"{fmt_num(r.overall, 1)}%",
                "grade": r.grade or "—",
                "grade_label": r.grade_label,
                "outcome_label": r.outcome_label,
                "ending_reason": r.ending_reason if r.ending_reason != r.outcome_label else "",
                "turn_count": r.turn_count,
                "criteria": {c["id"]: c for c in crit},
            }
        )
    rows = []
    for cid in CRITERIA:
        cells = []
        means = [c["criteria"][cid.value]["mean"] for c in cols]
        known = [m for m in means if m is not None]
        top = max(known) if known else None
        for col in cols:
            c = col["criteria"][cid.value]
            cells.append(
                {
                    "mean": c["mean"],
                    "text": (NOT_APPLICABLE_SHORT if c["na_only"] else UNSCORED)
                    if c["mean"] is None
                    else fmt_num(c["mean"]),
                    "violations": c["violations"],
                    "level": c["level"],
                    "best": c["mean"] is not None
                    and top is not None
                    and c["mean"] == top
                    and len(known) > 1
                    and len(set(known)) > 1,
                }
            )
        rows.append({"label": CRITERION_LABELS[cid], "cells": cells})
    return {"columns": cols, "rows": rows}


def view_model(report: Report | dict[str, Any], *, staff: bool = False) -> dict[str, Any]:
    """Everything the templates show, ordered and pre-computed from the typed report (a dict,
    e.g. read back from the CLI's JSON, is validated into one first). ``staff`` adds what
    trainers read and trainees do not need: the judge's confidence, similar examples and the
    rules' own reading of each reply."""
    if not isinstance(report, Report):
        report = Report.model_validate(report)
    persona = report.persona
    rows = _criteria_rows(report.criteria)
    overall = report.overall
    turns = [_turn_view(t, staff) for t in report.turns]
    last_reply = turns[-1]["reply"] if turns else None
    firm = report.criteria.get("firm")
    return {
        "r": report,
        "title": f"カスハラ対応ロールプレイ 振り返りレポート — {persona.title}",
        "persona": persona,
        "session_id": report.session_id,
        "trainee": report.trainee,
        "started_at": report.started_at,
        "ended_at": report.ended_at,
        "outcome_label": report.outcome_label,
        "outcome": report.outcome,
        "ending_reason": report.ending_reason,
        "result_line": _result_line(report.outcome_label, report.ending_reason),
        "turn_count": report.turn_count,
        "elapsed_minutes": report.elapsed_minutes,
        "overall": overall,
        "overall_text": "—" if overall is None else f"{fmt_num(overall, 1)}%",
        "grade": report.grade,
        "grade_label": report.grade_label,
        "grade_level": {"A": "good", "B": "fair", "C": "weak", "D": "bad"}.get(report.grade, "none"),
        "reviewed": report.reviewed,
        "reviewed_note": (
            "（研修担当の確認済み"
            + (
                f"。機械の採点では {report.machine_grade}（{fmt_num(report.machine_overall, 1)}%）"
                if report.machine_overall is not None
                else ""
            )
            + "）"
            if report.reviewed
            else ""
        ),
        "machine_text": (
            f"{report.machine_grade}（{fmt_num(report.machine_overall, 1)}%）"
            if report.reviewed and report.machine_overall is not None
            else ""
        ),
        "criteria": rows,
        "breakdown": report.grade_breakdown,
        "score_rule": report.score_rule,
        "chart": _chart(rows),
        "checks": _checks_view(report.checks),
        "opening": report.opening,
        "turns": turns,
        "closing": last_reply,
        "findings": [_finding_view(f) for f in report.findings],
        "ending": report.ending,
        "praise": report.praise,
        "practise_next": report.practise_next,
        "demands_granted": report.demands_granted,
        # the same count as 毅然's violations in the criteria table (one figure, two views)
        "conceded_turns": firm.violations if firm else 0,
        "rubric": report.rubric,
        "weights_version": report.weights_version,
        "judges": report.judges,
        "drill": _drill_view(report.drill),
        "branches": _branch_view(report.branches),
        "score_labels": SCORE_LABELS,
        "unscored": UNSCORED,
        "staff": staff,
    }


# --------------------------------------------------------------------------- environments


@lru_cache(maxsize=1)
def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    return env


@lru_cache(maxsize=1)
def md_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown: untrusted text goes through the md/cell filters
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt_num
    env.filters["md"] = md_escape
    env.filters["cell"] = md_cell
    return env


def render_html(report: Report | dict[str, Any], *, standalone: bool = True, staff: bool = False) -> str:
    """The report as HTML: a full document for download (``standalone``) or a
    ``<div class="kasuhara-report">`` fragment with scoped style for ``gr.HTML``."""
    tpl = html_environment().get_template(HTML_TEMPLATE)
    return tpl.render(standalone=standalone, **view_model(report, staff=staff)).strip() + "\n"


def render_markdown(report: Report | dict[str, Any], *, staff: bool = False) -> str:
    """The same report as plain Markdown."""
    tpl = md_environment().get_template(MD_TEMPLATE)
    text = tpl.render(**view_model(report, staff=staff))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
