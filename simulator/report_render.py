"""Render the session report (``report.build_report``'s dict) as HTML or Markdown.

The templates are ``prompts/report.html.j2`` and ``prompts/report.md.j2``. The HTML
environment autoescapes (a trainee's ``<script>`` is text) and both use ``StrictUndefined``,
so a missing key is an error rather than a blank. The work the templates should not do
(ordering, chart geometry, marking evidence inside a reply) is done here, in
:func:`view_model`, so the templates only lay things out.

Optional keys the report dict may carry beside ``build_report``'s:

- ``branches``: ``[{"label": str, "report": dict}, ...]`` — "retry from a turn" keeps both
  branches; they are compared criterion by criterion.
- ``drill``: the 報告 drill result (``simulator.drill.DrillResult`` or its ``model_dump()``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from simulator.models import CRITERIA, CRITERION_LABELS
from simulator.paths import PROMPTS_DIR

HTML_TEMPLATE = "report.html.j2"
MD_TEMPLATE = "report.md.j2"

SCORE_LABELS = {0: "違反", 1: "見られない", 2: "一部", 3: "明確"}
UNSCORED = "採点不能"

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
                "value_text": UNSCORED if mean is None else f"{fmt_num(mean)} / 3",
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


def _criteria_rows(criteria: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for cid in CRITERIA:
        c = criteria.get(cid.value)
        if c is None:
            c = {
                "label": CRITERION_LABELS[cid],
                "mean": None,
                "best": None,
                "violations": 0,
                "scored": 0,
                "unscored": 0,
            }
        rows.append(
            {
                "id": cid.value,
                "label": c.get("label") or CRITERION_LABELS[cid],
                "mean": c.get("mean"),
                "best": c.get("best"),
                "violations": int(c.get("violations") or 0),
                "scored": int(c.get("scored") or 0),
                "unscored": int(c.get("unscored") or 0),
                "weight": c.get("weight"),
                "level": score_level(c.get("mean")),
            }
        )
    return rows


def _turn_view(turn: dict[str, Any]) -> dict[str, Any]:
    chips = []
    details = []
    evidence: list[tuple[str, str]] = []
    crit = turn.get("criteria") or {}
    for cid in CRITERIA:
        c = crit.get(cid.value)
        if c is None:
            continue
        score = c.get("score")
        label = c.get("label") or CRITERION_LABELS[cid]
        chips.append(
            {
                "label": label,
                "score": score,
                "text": _fmt_score(score),
                "meaning": score_label(score),
                "level": "none" if score is None else f"s{score}",
            }
        )
        ev = [e for e in (c.get("evidence") or []) if e]
        evidence.extend((e, label) for e in ev)
        details.append(
            {
                "label": label,
                "score": score,
                "text": _fmt_score(score),
                "meaning": score_label(score),
                "level": "none" if score is None else f"s{score}",
                "reason": c.get("reason") or "",
                "evidence": ev,
                "manual_ref": c.get("manual_ref") or "",
                "judged_by": _judged_by(c),
            }
        )
    trainee = turn.get("trainee") or ""
    return {
        "index": turn.get("index"),
        "client": turn.get("client") or "",
        "trainee": trainee,
        "trainee_html": mark_html(trainee, evidence),
        "trainee_md": mark_md(trainee, evidence),
        "reply": turn.get("reply"),
        "chips": chips,
        "details": details,
        "checks": turn.get("checks") or [],
        "pressure": turn.get("pressure"),
        "reaction": turn.get("reaction"),
        "notices": turn.get("notices") or [],
        "review_flag": bool(turn.get("review_flag")),
        "judges": turn.get("judges") or [],
    }


def _finding_view(f: dict[str, Any]) -> dict[str, Any]:
    quote = f.get("quote") or ""
    ev = [(e, f.get("label") or "") for e in (f.get("evidence") or []) if e]
    score = f.get("score")
    return {
        "turn": f.get("turn"),
        "label": f.get("label") or "",
        "score": score,
        "score_text": _fmt_score(score),
        "meaning": score_label(score),
        "level": "none" if score is None else f"s{score}",
        "quote": quote,
        "quote_html": mark_html(quote, ev),
        "quote_md": mark_md(quote, ev),
        "client": f.get("client") or "",
        "reason": f.get("reason") or "",
        "manual_ref": (f.get("manual_ref") or "").strip("「」"),
        "better": (f.get("better") or "").strip("「」"),
        "moment": f.get("moment") or "",
        "also": "・".join(f"ターン{n}" for n in f.get("also_turns") or []),
        "also_count": len(f.get("also_turns") or []),
        "missed": bool(f.get("missed")),
    }


def _judged_by(c: dict[str, Any]) -> str:
    """Who decided the score and how sure the model is, for trainers: 「学習モデル・確信度 92%」."""
    source = {"rules": "ルール", "model": "学習モデル", "llm": "AI"}.get(
        str(c.get("source") or "rules"), "ルール"
    )
    conf = c.get("confidence")
    return f"{source}・確信度 {conf:.0%}" if isinstance(conf, int | float) else source


def _checks_view(checks: Any) -> list[dict[str, Any]]:
    items = checks.values() if isinstance(checks, dict) else (checks or [])
    out = []
    for c in items:
        passed = c.get("passed")
        out.append(
            {
                "label": c.get("label") or c.get("id") or "",
                "passed": passed,
                "status": "判定不能" if passed is None else ("できた" if passed else "できなかった"),
                "level": "none" if passed is None else ("good" if passed else "bad"),
                "mark": "—" if passed is None else ("✓" if passed else "✗"),
                "reason": c.get("reason") or "",
                "turn": c.get("turn"),
                "statement": c.get("statement") or "",
            }
        )
    return out


def _drill_view(drill: Any) -> dict[str, Any] | None:
    if drill is None:
        return None
    if hasattr(drill, "model_dump"):
        drill = drill.model_dump(mode="json")
    # Either a DrillResult dump ({items, score, summary}) or the stored incident report
    # ({fields, checks, score}), whose checks are the DrillResult items.
    fields = drill.get("fields") or {}
    items = []
    for it in drill.get("items") or drill.get("checks") or []:
        ok = bool(it.get("ok"))
        items.append(
            {
                "key": it.get("key") or "",
                "label": it.get("label") or "",
                "value": it.get("value") or fields.get(it.get("key") or "", "") or "",
                "ok": ok,
                "required": it.get("required", True),
                "noted": bool(it.get("noted")),
                "message": it.get("message") or "",
                "mark": "✓" if ok else "✗",
                "level": ("fair" if it.get("noted") else "good") if ok else "bad",
            }
        )
    score = drill.get("score")
    return {
        "items": items,
        "score": score,
        "score_text": _fmt_score(score),
        "level": "none" if score is None else f"s{score}",
        "summary": drill.get("summary") or _drill_summary(items),
        "attempts": int(drill.get("attempts") or 1),
    }


def _drill_summary(items: list[dict[str, Any]]) -> str:
    req = [it for it in items if it["required"]]
    good = sum(1 for it in req if it["ok"])
    if req and good == len(req):
        return f"必要な{len(req)}項目すべてが記入され、やり取りと一致しています。"
    return f"必要な{len(req)}項目のうち{good}項目が適切です。"


def _branch_view(branches: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not branches:
        return None
    cols: list[dict[str, Any]] = []
    for b in branches:
        r = b.get("report") or {}
        crit = _criteria_rows(r.get("criteria") or {})
        cols.append(
            {
                "label": b.get("label") or "",
                "overall": r.get("overall"),
                "overall_text": "—" if r.get("overall") is None else f"{fmt_num(r.get('overall'), 1)}%",
                "grade": r.get("grade") or "—",
                "grade_label": r.get("grade_label") or "",
                "outcome_label": r.get("outcome_label") or "",
                "ending_reason": r.get("ending_reason") or "",
                "turn_count": r.get("turn_count"),
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
                    "text": UNSCORED if c["mean"] is None else fmt_num(c["mean"]),
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


def view_model(report: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates show, ordered and pre-computed. Raises ``KeyError`` when
    the report lacks a key ``build_report`` always writes."""
    persona = report["persona"]
    rows = _criteria_rows(report["criteria"])
    overall = report.get("overall")
    turns = [_turn_view(t) for t in report["turns"]]
    last_reply = turns[-1]["reply"] if turns else None
    return {
        "r": report,
        "title": f"カスハラ対応ロールプレイ 振り返りレポート — {persona['title']}",
        "persona": persona,
        "session_id": report.get("session_id") or "",
        "trainee": report.get("trainee") or {"name": "", "department": ""},
        "started_at": report.get("started_at") or "",
        "ended_at": report.get("ended_at") or "",
        "outcome_label": report["outcome_label"],
        "outcome": report["outcome"],
        "ending_reason": report.get("ending_reason") or "",
        "turn_count": report.get("turn_count", len(turns)),
        "elapsed_minutes": report.get("elapsed_minutes") or 0,
        "overall": overall,
        "overall_text": "—" if overall is None else f"{fmt_num(overall, 1)}%",
        "grade": report["grade"],
        "grade_label": report["grade_label"],
        "grade_level": {"A": "good", "B": "fair", "C": "weak", "D": "bad"}.get(report["grade"], "none"),
        "criteria": rows,
        "breakdown": report.get("grade_breakdown"),
        "score_rule": report.get("score_rule") or "",
        "chart": _chart(rows),
        "checks": _checks_view(report.get("checks")),
        "opening": report.get("opening") or "",
        "turns": turns,
        "closing": last_reply,
        "findings": [_finding_view(f) for f in report.get("findings") or []],
        "praise": list(report.get("praise") or []),
        "practise_next": list(report.get("practise_next") or []),
        "demands_granted": list(report.get("demands_granted") or []),
        # the same count as 毅然's violations in the criteria table (one figure, two views)
        "conceded_turns": int((report.get("criteria") or {}).get("firm", {}).get("violations") or 0),
        "rubric": report["rubric"],
        "judges": list(report.get("judges") or []),
        "drill": _drill_view(report.get("drill")),
        "branches": _branch_view(report.get("branches") or []),
        "score_labels": SCORE_LABELS,
        "unscored": UNSCORED,
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


def render_html(report: dict[str, Any], *, standalone: bool = True) -> str:
    """The report as HTML: a full document for download (``standalone``) or a
    ``<div class="kasuhara-report">`` fragment with scoped style for ``gr.HTML``."""
    tpl = html_environment().get_template(HTML_TEMPLATE)
    return tpl.render(standalone=standalone, **view_model(report)).strip() + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    """The same report as plain Markdown."""
    tpl = md_environment().get_template(MD_TEMPLATE)
    text = tpl.render(**view_model(report))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
