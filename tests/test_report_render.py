"""The session report renders as safe, complete HTML and Markdown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape
from pydantic import ValidationError

from simulator.drill import check_drill
from simulator.engine import Engine
from simulator.library import get_persona
from simulator.models import CRITERION_LABELS, CriterionId, Session
from simulator.report import build_report
from simulator.report_model import Branch, DrillSection, Report
from simulator.report_render import evidence_spans, render_html, render_markdown
from tests.support.data import play_session

PERSONA = "contract_termination_threat_standard_hotel"
SCRIPT = "<script>alert('x')</script>"
REPLIES = [
    "お話は伺います。ただ、分析レポートの開発は契約の範囲外ですので、会社の方針としてお受けできません。",
    f"その件はお受けできません。{SCRIPT}",
    "本日の内容は議事録に残し、メールでお送りします。上長に報告のうえ、会社として改めてご連絡します。",
]


@pytest.fixture(scope="module")
def engine() -> Any:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def _play(engine: Engine, replies: list[str], seed: int = 3) -> Session:
    return play_session(engine, get_persona(PERSONA), replies, seed)


@pytest.fixture(scope="module")
def session(engine: Engine) -> Session:
    return _play(engine, REPLIES)


@pytest.fixture()
def report(engine: Engine, session: Session) -> Report:
    return build_report(session, get_persona(PERSONA), engine.rubric)


def test_trainee_script_is_escaped(report: Report) -> None:
    assert any(SCRIPT in t.trainee for t in report.turns)
    for standalone in (True, False):
        html = render_html(report, standalone=standalone)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    md = render_markdown(report)
    assert "<script>" not in md


def test_unscored_criterion_is_shown_as_unscored_not_zero(engine: Engine, session: Session) -> None:
    s = session.model_copy(deep=True)
    for t in s.turns:
        cs = t.assessments[0].scores[CriterionId.contract]
        cs.score = None
        cs.evidence = []
        cs.reason = "判定できませんでした"
    rep = build_report(s, get_persona(PERSONA), engine.rubric)
    assert rep.criteria["contract"].mean is None
    html = render_html(rep)
    row = re.search(r"<th scope=\"row\">契約に基づく主張</th>(.*?)</tr>", html, re.S)
    assert row is not None
    assert "採点不能" in row.group(1)
    # the chart shows the word instead of a zero-length bar
    chart = html[html.index("<svg") : html.index("</svg>")]
    assert "採点不能" in chart
    assert "契約に基づく主張 採点不能" in html  # the per-turn chip
    md = render_markdown(rep)
    assert re.search(r"\| 契約に基づく主張 \| 採点不能 \|", md)


def test_evidence_is_marked_in_the_reply(report: Report) -> None:
    html = render_html(report)
    quotes = [
        e for t in report.turns for c in t.criteria.values() for e in c.evidence if e and e in t.trainee
    ]
    assert quotes, "the rule judge quoted no evidence"
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", html)
    assert marked
    assert any(str(escape(q)) in m for q in quotes for m in marked)


def test_evidence_spans_merge_and_escape() -> None:
    spans = evidence_spans(
        "大声はお控えください", [("大声は", "冷静"), ("お控えください", "毅然"), ("ない", "x")]
    )
    assert spans == [(0, 10, ["冷静", "毅然"])]


def test_standalone_document_and_fragment(report: Report) -> None:
    doc = render_html(report, standalone=True)
    assert doc.lstrip().lower().startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in doc
    assert "<title>" in doc and "@media print" in doc
    assert "window.print()" in doc  # the print button, hidden when printing
    frag = render_html(report, standalone=False)
    assert frag.lstrip().startswith('<div class="kasuhara-report"')
    assert "<!doctype" not in frag.lower() and "<html" not in frag
    assert "@media print" in frag and ".kasuhara-report" in frag


def test_report_content(report: Report) -> None:
    html = render_html(report)
    p = report.persona
    for text in (
        p.scenario_label,
        p.difficulty,
        p.channel,
        p.manual_section,
        report.ending_reason or report.outcome_label,  # the result, said once
    ):
        assert str(escape(text)) in html
    assert f">{report.grade}<" in html
    assert f"ルーブリック：{report.rubric.id} v{report.rubric.version}" in html
    assert f"ペルソナ：{p.id} v{p.version}" in html
    for f in report.findings:
        assert str(escape(f.better.strip("「」"))) in html
    for label in CRITERION_LABELS.values():
        assert label in html


def test_markdown_has_every_criterion_label(report: Report) -> None:
    md = render_markdown(report)
    for label in CRITERION_LABELS.values():
        assert f"| {label} |" in md
    assert md.startswith("# 振り返りレポート")
    assert "## 改善点" in md and "## 次に練習すること" in md


def test_branches_and_drill_are_rendered(engine: Engine, session: Session, report: Report) -> None:
    persona = get_persona(PERSONA)
    other = _play(engine, ["前向きに検討します。", "わかりました、今回だけ特別に対応します。"], seed=3)
    rep = report.model_copy(deep=True)
    rep.branches = [
        Branch(label="元のやり取り", session_id=other.id, report=build_report(other, persona, engine.rubric)),
        Branch(label="ターン1からやり直し", session_id=session.id, report=report),
    ]
    res = check_drill({"when_where": "本日 16時 オンライン会議"}, session, persona, "山田 花子")
    rep.drill = DrillSection(items=res.items, score=res.score)
    html = render_html(rep)
    assert "やり直しの比較" in html and "ターン1からやり直し" in html
    assert "報告ドリル" in html and "管理者の指示（具体的に）" in html
    md = render_markdown(rep)
    assert "## やり直しの比較" in md and "## 報告ドリル" in md
    # the report read back from its JSON (the CLI's output) renders the same
    assert render_html(rep.model_dump(mode="json")) == html


def test_a_report_missing_a_field_is_an_error(report: Report) -> None:
    broken = {k: v for k, v in report.model_dump(mode="json").items() if k != "grade"}
    with pytest.raises(ValidationError, match="grade"):
        render_html(broken)


def test_the_report_shows_who_decided_each_score_and_how_sure_the_model_is(report: Report) -> None:
    rep = report.model_copy(deep=True)
    firm = rep.turns[0].criteria["firm"]
    firm.source, firm.confidence = "model", 0.87
    html = render_html(rep, standalone=True, staff=True)
    md = render_markdown(rep, staff=True)
    assert "判定：学習モデル・確信度 87%" in html and "判定：学習モデル・確信度 87%" in md
    assert "判定：ルール" in html, "the other criteria were decided by the rules"
    # a trainee reads the verdict, not the model's confidence
    assert "確信度" not in render_html(rep) and "判定：" not in render_markdown(rep)
