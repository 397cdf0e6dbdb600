"""The 報告 drill: each item is checked for presence and against the session."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from simulator.drill import DRILL_FIELDS, check_drill, lexicon
from simulator.engine import Engine
from simulator.errors import DataFileError
from simulator.library import get_persona
from simulator.models import Outcome, Persona, Session
from tests.support.data import play_session

HOTEL = "contract_termination_threat_standard_hotel"  # オンライン会議
AUTOPARTS = "out_of_contract_demand_hard_autoparts"  # 対面
NAME = "山田 花子"
JST = timezone(timedelta(hours=9))

FIRM = [
    "お話は伺います。ただ、分析レポートの開発は契約の範囲外ですので、会社の方針としてお受けできません。",
    "ご要望は承知しましたが、契約外の作業は会社の方針としてお受けできません。本日の内容は議事録に残します。",
    "これ以上は私の判断ではお答えできませんので、上長に報告のうえ、会社間で改めて協議させていただきます。",
]


@pytest.fixture(scope="module")
def engine() -> Any:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def play(engine: Engine, persona_id: str, replies: list[str], seed: int = 2) -> tuple[Session, Persona]:
    persona = get_persona(persona_id)
    return play_session(engine, persona, replies, seed), persona


@pytest.fixture(scope="module")
def escalated(engine: Engine) -> tuple[Session, Persona]:
    s, p = play(engine, HOTEL, FIRM)
    assert s.outcome is Outcome.escalated, s.state
    assert not s.state.demands_granted
    return s, p


def good_fields(session: Session) -> dict[str, str]:
    d = session.created_at.astimezone(JST)
    return {
        "when_where": f"{d.month}月{d.day}日 16時、定例のオンライン会議（Teams）",
        "requester": "株式会社グランリーフホテルズ 調達課長 森永様",
        "employee": NAME,
        "manager_instruction": "佐藤課長から、有償の見積もりを作成して送付し、以後の窓口は課長が務めるよう指示を受けた",
        "demand": "経営会議向けの分析レポート機能を無償で開発するよう求められた",
        "result": "契約外としてお断りし、上長に報告して会社間の協議に引き継ぐと伝えた",
        "other": "会議の議事録あり",
    }


def test_fields_are_the_manuals_seven_items() -> None:
    assert [k for k, _l, _h in DRILL_FIELDS] == [
        "when_where",
        "requester",
        "employee",
        "manager_instruction",
        "demand",
        "result",
        "other",
    ]
    labels = [label for _k, label, _h in DRILL_FIELDS]
    assert labels[0] == "対応日時、場所" and labels[3] == "管理者の指示（具体的に）"
    assert all(h for _k, _l, h in DRILL_FIELDS)


def test_complete_consistent_report_scores_3(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill(good_fields(s), s, p, NAME)
    assert [it.key for it in r.problems] == []
    assert r.score == 3
    assert "すべて" in r.summary
    assert r.criterion.value == "record"


def test_full_width_and_other_forms_are_normalised(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    d = s.created_at.astimezone(JST)
    f = good_fields(s)
    f["when_where"] = f"{d.year}/{d.month}/{d.day} 午後、ＺＯＯＭ（オンライン）".translate(
        str.maketrans("0123456789/", "０１２３４５６７８９／")
    )
    f["employee"] = "私（山田）"
    assert check_drill(f, s, p, NAME).score == 3


def test_naming_a_demand_never_made_is_flagged(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    f = good_fields(s)
    f["demand"] = "土下座して謝罪するよう要求された"
    r = check_drill(f, s, p, NAME)
    item = r.item("demand")
    assert not item.ok
    assert "土下座" in item.message and "求めていません" in item.message
    assert "経営会議" not in item.message, "says what is wrong, never hands over the actual demand"
    assert r.score == 2


def test_naming_another_persona_demand_never_made_is_flagged(engine: Engine) -> None:
    s, p = play(
        engine,
        AUTOPARTS,
        # a neutral reply: the client stays on its first demand (a refusal would move it on)
        ["お話は伺います。"],
    )
    said = s.opening + "".join((t.client_after or "") + (t.closing or "") for t in s.turns)
    assert "値引" not in said and "覚書" not in said  # precondition: only the deadline came up
    d = s.created_at.astimezone(JST)
    base = {
        "when_where": f"{d.month}月{d.day}日 10時、先方本社の購買部会議室",
        "requester": "株式会社三河ダイナパーツ 購買部 大河内部長",
        "employee": NAME,
        "manager_instruction": "指示なし（未報告）",
        "demand": "本稼働日を1週間前倒しするよう求められた",
        "result": "お話を伺ったが、結論は出ず継続となった",
    }
    ok = check_drill(base, s, p, NAME)
    assert ok.item("demand").ok, ok.item("demand").message
    bad = check_drill({**base, "demand": "納期の前倒しと、契約金額の15%値引きを求められた"}, s, p, NAME)
    assert not bad.item("demand").ok
    assert "値引" in bad.item("demand").message


def test_blank_manager_instruction_is_flagged(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    for blank in ("", "   ", "なし", "特になし", "ー"):
        r = check_drill({**good_fields(s), "manager_instruction": blank}, s, p, NAME)
        item = r.item("manager_instruction")
        assert not item.ok, blank
        assert "管理者の指示" in item.message
        assert r.score == 2


def test_vague_manager_instruction_is_flagged(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill({**good_fields(s), "manager_instruction": "よろしく"}, s, p, NAME)
    assert not r.item("manager_instruction").ok
    assert "具体的" in r.item("manager_instruction").message


def test_not_reported_is_accepted_with_a_note_only_when_not_escalated(
    engine: Engine, escalated: tuple[Session, Persona]
) -> None:
    s, p = play(engine, HOTEL, FIRM[:1])
    assert s.outcome is Outcome.in_progress
    r = check_drill({**good_fields(s), "manager_instruction": "指示なし（未報告）"}, s, p, NAME)
    item = r.item("manager_instruction")
    assert item.ok and item.noted
    assert "報告" in item.message
    es, ep = escalated
    r2 = check_drill({**good_fields(es), "manager_instruction": "指示なし（未報告）"}, es, ep, NAME)
    assert not r2.item("manager_instruction").ok
    assert "引き継ぎ" in r2.item("manager_instruction").message


def test_result_inconsistent_with_outcome_is_flagged(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill({**good_fields(s), "result": "先方が要求を取り下げ、その場は収まった"}, s, p, NAME)
    item = r.item("result")
    assert not item.ok
    assert "取り下げ" in item.message and "合いません" in item.message
    assert "上長・窓口へ引き継いだ" not in item.message, "the actual ending is not handed over"
    assert r.score == 2


def test_unadmitted_concession_is_flagged(engine: Engine) -> None:
    s, p = play(
        engine,
        HOTEL,
        ["前向きに検討いたします。", "承知しました。今回だけは特別に無償で対応いたします。"],
    )
    assert s.state.demands_granted
    f = good_fields(s)
    f["manager_instruction"] = "指示なし（未報告）"
    f["result"] = "結論は出ず、未解決のまま継続となった"
    assert s.outcome is Outcome.in_progress, "two concessions never end a scene"
    hidden = check_drill(f, s, p, NAME).item("result")
    assert not hidden.ok
    assert "応じて" in hidden.message and "ターン" in hidden.message
    denied = check_drill({**f, "result": f["result"] + "。無償対応には応じられないと伝えた"}, s, p, NAME)
    assert not denied.item("result").ok  # a refusal is not an admission
    admitted = check_drill({**f, "result": f["result"] + "。途中で無償対応に応じてしまった"}, s, p, NAME)
    assert admitted.item("result").ok, admitted.item("result").message


def test_wrong_channel_and_missing_time_are_flagged(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill({**good_fields(s), "when_where": "電話にて対応"}, s, p, NAME)
    item = r.item("when_where")
    assert not item.ok and "合いません" in item.message and "日時" in item.message
    assert "オンライン会議" not in item.message, "the right channel is not handed over"
    r = check_drill({**good_fields(s), "when_where": "オンライン会議"}, s, p, NAME)
    assert not r.item("when_where").ok and "日時" in r.item("when_where").message


def test_requester_and_employee_must_match(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill({**good_fields(s), "requester": "取引先の方", "employee": "佐藤"}, s, p, NAME)
    assert not r.item("requester").ok and "会社名・氏名・役職" in r.item("requester").message
    assert "森永" not in r.item("requester").message, "the client's name is not handed over"
    assert not r.item("employee").ok and NAME in r.item("employee").message
    for who in ("グランリーフホテルズ", "森永様", "調達課長"):
        assert check_drill({**good_fields(s), "requester": who}, s, p, NAME).item("requester").ok, who


def test_other_is_optional_and_score_is_never_zero(escalated: tuple[Session, Persona]) -> None:
    s, p = escalated
    r = check_drill({**good_fields(s), "other": ""}, s, p, NAME)
    assert r.item("other").ok and not r.item("other").required and r.score == 3
    empty = check_drill({}, s, p, NAME)
    assert empty.score == 1
    assert all(not it.ok for it in empty.items if it.required)


def test_lexicon_file_rejects_unknown_keys(tmp_path: Path) -> None:
    from simulator.drill import LEXICON_PATH

    text = LEXICON_PATH.read_text(encoding="utf-8") + "\nunknown_list: [a]\n"
    bad = tmp_path / "keywords.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as e:
        lexicon(bad)
    assert "unknown_list" in str(e.value)
    assert lexicon().version >= 1


@pytest.mark.parametrize(
    ("text", "admits"),
    [
        ("要求に応じてしまった", True),
        ("無償対応を了承してしまった", True),
        ("値引きを約束した", True),
        ("応じなかった", False),
        ("要求には応じず、上長に報告した", False),
        ("応じることはできないと伝えた", False),
        ("了承できかねると伝えた", False),
        ("受け入れられないと回答した", False),
    ],
)
def test_admission_reads_negation(text: str, admits: bool) -> None:
    from simulator.drill import _admits, norm

    assert _admits(norm(text), lexicon()) is admits


def test_lexicon_schema_is_current() -> None:
    from simulator.drill import LEXICON_SCHEMA_PATH, lexicon_schema

    assert LEXICON_SCHEMA_PATH.read_text(encoding="utf-8") == lexicon_schema(), (
        "rubrics/drill/schema.json is stale: regenerate it with simulator.drill.lexicon_schema()"
    )


def test_feedback_on_placeholders_hands_over_no_answers(escalated: tuple[Session, Persona]) -> None:
    """Filing 「x」 everywhere must not return the expected answers to copy back."""
    s, p = escalated
    r = check_drill({k: "x" for k in ("when_where", "requester", "employee", "manager_instruction",
                                      "demand", "result")}, s, p, NAME)  # fmt: skip
    text = " ".join(it.message for it in r.items)
    for secret in (p.client.company, p.client.name, *(d.text[:12] for d in p.demands), "相手が引き下がった",
                   "上長・窓口へ引き継いだ"):  # fmt: skip
        assert secret not in text, secret
    assert r.score == 1


def test_unreported_is_an_honest_answer_when_no_superior_was_reached(engine: Engine) -> None:
    s, p = play(engine, AUTOPARTS, ["お話は伺います。"])
    assert s.outcome.value != "escalated"
    r = check_drill({"manager_instruction": "未報告"}, s, p, NAME)
    assert r.item("manager_instruction").ok


def test_after_a_hand_off_the_scene_says_what_the_superior_instructed(
    escalated: tuple[Session, Persona],
) -> None:
    from simulator.drill import superior_instruction

    s, p = escalated
    said = superior_instruction(s, p)
    assert said and "上長" in said
    f = good_fields(s)
    f["manager_instruction"] = said
    assert check_drill(f, s, p, NAME).item("manager_instruction").ok
    f["manager_instruction"] = "指示なし（未報告）"
    assert not check_drill(f, s, p, NAME).item("manager_instruction").ok
