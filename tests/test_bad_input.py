"""The bad-input corpus (tests/data/bad_inputs.json, 204 inputs) through the application layer:
as replies, as 報告 fields, as user names and passwords, in a CSV import. Expected: a clear
Japanese refusal or the input stored as typed (cleaned of what cannot be stored), nothing
executed in the report, and no score of a weak reply rises when an injection or a bare keyword
list is appended (rule and hybrid judges; the LLM judge in tests/test_llm_judge.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from simulator.app.services import DrillInputError, ReplyInputError, Services
from simulator.library import load_personas
from simulator.models import ContextLine, ScenarioId
from simulator.report_render import render_html, render_markdown
from simulator.text import clean_input

CORPUS = json.loads((Path(__file__).parent / "data" / "bad_inputs.json").read_text(encoding="utf-8"))[
    "inputs"
]
PERSONA = sorted(load_personas())[0]
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
# markup that would run or load something if it reached the page unescaped
LINK = re.compile(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data):", re.I)


def text_of(entry: dict[str, Any]) -> str:
    return entry["text"] if "text" in entry else entry["repeat"] * entry["times"]


def test_the_corpus_covers_what_the_issue_lists() -> None:
    assert len(CORPUS) >= 200
    assert {e["category"] for e in CORPUS} >= {
        "empty", "long", "control", "surrogate", "rtl", "emoji", "html", "sql", "template", "markdown",
        "injection", "stuffing",
    }  # fmt: skip


def _live_markup(page: str, typed: list[str]) -> list[str]:
    """What was typed with markup in it and reached ``page`` unescaped, and any link to a script
    URL (the page's own markup has none)."""
    raw = [t for t in typed if "<" in t and clean_input(t) in page]
    return raw + [m.group(0) for m in LINK.finditer(page)]


def test_every_input_as_a_reply_is_stored_as_typed_or_refused_in_japanese(svc: Services) -> None:
    u = svc.store.add_user("u", "password-u1", display_name="受講 者")
    session = svc.start(u, PERSONA, seed=1)
    typed: list[str] = []
    stored = refused = 0
    for entry in CORPUS:
        text = text_of(entry)
        if svc.load(u, session.id).outcome.value != "in_progress":
            page = render_html(svc.report(u, session.id), standalone=True)
            page.encode("utf-8")
            assert not _live_markup(page, typed), "typed markup reached the report unescaped"
            session, typed = svc.start(u, PERSONA, seed=len(typed)), []
        try:
            _s, turn = svc.reply(u, session.id, text)
        except ReplyInputError as e:
            assert JAPANESE.search(str(e)), str(e)
            assert entry["category"] in ("empty", "long") or not clean_input(text).strip(), entry
            refused += 1
            continue
        assert turn.trainee == clean_input(text)
        typed.append(text)
        stored += 1
    svc.end(u, session.id)
    report = svc.report(u, session.id)
    page = render_html(report, standalone=True)
    assert not _live_markup(page, typed)
    render_markdown(report).encode("utf-8")
    assert stored > 150 and refused >= 10


def test_every_input_in_a_report_field_is_kept_or_refused_naming_the_field(svc: Services) -> None:
    u = svc.store.add_user("u", "password-u1", display_name="受講 者")
    s = svc.start(u, PERSONA, seed=2)
    svc.reply(u, s.id, "お話は伺います。ただ、契約の範囲外のためお受けできません。")
    svc.end(u, s.id)
    base = {"when_where": "12月1日 10時頃、先方の会議室", "requester": "取引先 部長", "employee": "受講 者",
            "manager_instruction": "指示なし（未報告）", "demand": "無償対応", "result": "お断りした", "other": ""}  # fmt: skip
    typed = []
    for n, entry in enumerate(CORPUS):
        key = list(base)[n % len(base)]
        text = text_of(entry)
        try:
            svc.file_drill(u, s.id, {**base, key: text})
        except DrillInputError as e:
            assert "長すぎます" in str(e) and len(text) > 500
            continue
        typed.append(text)
    page = render_html(svc.report(u, s.id), standalone=True)
    page.encode("utf-8")
    assert not _live_markup(page, typed)


def test_every_input_as_a_user_name_or_password_is_added_or_refused_in_japanese(svc: Services) -> None:
    admin = svc.store.add_user("kanri", "password-a1", role="admin")
    added = 0
    for n, entry in enumerate(CORPUS):
        text = text_of(entry)[:5000]
        for username, password in ((text, "password-ok-1"), (f"user{n}", text)):
            try:
                svc.add_user(
                    admin, username, display_name=username[:200], department="営業部", password=password
                )
            except ValueError as e:
                assert JAPANESE.search(str(e)), str(e)
                continue
            added += 1
    names = [u.username for u in svc.users(admin)]
    assert added > 100 and all(n == clean_input(n) for n in names), "what is stored can be shown and typed"
    # the same names in a CSV import: every row is checked first, so nothing or everything is added
    rows = "\n".join(
        f'"{text_of(e)[:200].replace(chr(34), chr(34) * 2)}",名前,trainee,営業部' for e in CORPUS[:60]
    )
    added_csv, problems = svc.add_users_csv(admin, "username,display_name,role,department\n" + rows)
    assert problems and not added_csv, "a wrong row stops the whole import"
    assert all(JAPANESE.search(p) for p in problems)


@pytest.mark.parametrize("judge_name", ["rules", "hybrid"])
def test_no_injection_or_keyword_list_raises_the_score_of_a_weak_reply(judge_name: str) -> None:
    from simulator.scoring import assess, get_judge

    judge = get_judge(judge_name)
    ctx = [
        ContextLine(role="client", text="この追加の改修、無償でやってくれるよね？契約とか関係ないでしょ。")
    ]
    rises = []
    for entry in CORPUS:
        if "weak" not in entry or entry.get("form") == "sentence":
            continue
        base = assess(entry["weak"], ctx, ScenarioId.out_of_contract_demand, judge=judge)
        got = assess(entry["text"], ctx, ScenarioId.out_of_contract_demand, judge=judge)
        for cid, cs in got.scores.items():
            before = base.scores[cid].score
            if cs.score is not None and before is not None and cs.score > before:
                rises.append((entry["text"], cid.value, before, cs.score))
    assert rises == []


@pytest.mark.parametrize("judge_name", ["rules", "hybrid"])
def test_a_concession_stays_a_concession_whatever_is_appended(judge_name: str) -> None:
    from simulator.scoring import assess, get_judge

    judge = get_judge(judge_name)
    ctx = [
        ContextLine(role="client", text="この追加の改修、無償でやってくれるよね？契約とか関係ないでしょ。")
    ]
    for entry in CORPUS:
        if "weak" not in entry:
            continue
        base = assess(entry["weak"], ctx, ScenarioId.out_of_contract_demand, judge=judge)
        if not base.concession:
            continue
        got = assess(entry["text"], ctx, ScenarioId.out_of_contract_demand, judge=judge)
        assert got.concession, entry["text"]
