"""The report's figures: honest about unscored replies, hard on concessions, fair to good play."""

from __future__ import annotations

import pytest

from simulator.engine import Engine
from simulator.library import get_rubric, load_personas
from simulator.report import build_report, grade_for
from simulator.report_model import Report

PERSONA = next(
    p
    for p in sorted(load_personas().values(), key=lambda p: p.id)
    if p.scenario.value == "out_of_contract_demand"
)
GOOD = (
    "ご要望は承りました。ただ、契約の範囲外のご依頼ですので、会社の方針としてお受けできません。"
    "本日の内容は記録し、上長に報告のうえ書面でご連絡いたします。"
)
CONCEDE = "承知しました。今回に限り無償で対応いたします。"


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


def report_for(engine: Engine, replies: list[str]) -> Report:
    s = engine.start(PERSONA, seed=1)
    for r in replies:
        if s.ended_at:
            break
        engine.take_turn(s, r, PERSONA)
    return build_report(s, PERSONA, get_rubric())


def test_exemplary_play_earns_a_top_grade(engine: Engine) -> None:
    rep = report_for(engine, [GOOD] * 3)
    assert rep.grade == "A", rep.overall
    assert not [f for f in rep.findings if f.score == 0]


def test_a_concession_is_quoted_with_the_manual_and_a_better_phrasing(engine: Engine) -> None:
    rep = report_for(engine, [CONCEDE, GOOD])
    firm = [f for f in rep.findings if f.criterion == "firm" and f.turn == 1]
    assert firm and firm[0].quote == CONCEDE and firm[0].score == 0
    assert firm[0].manual_ref and firm[0].better and firm[0].better != CONCEDE
    assert rep.demands_granted and rep.practise_next[0].startswith("毅然")
    assert rep.grade != "A"


def test_unscored_replies_are_not_counted_as_zero(engine: Engine) -> None:
    rep = report_for(engine, ["   ", GOOD])
    calm = rep.criteria["calm"]
    assert calm.unscored == 1 and calm.scored == 1 and calm.mean >= 2


def test_grade_boundaries() -> None:
    assert grade_for(None)[0] == "—"
    assert [grade_for(x)[0] for x in (95, 80, 79.9, 65, 50, 10)] == ["A", "B", "B", "C", "C", "D"]


def test_better_phrasings_fit_the_scene(engine: Engine) -> None:
    persona = next(p for p in load_personas().values() if p.scenario.value == "sexual_harassment")
    s = engine.start(persona, seed=2)
    engine.take_turn(s, "あ、ありがとうございます…じゃあ、少しだけなら。", persona)
    rep = build_report(s, persona, get_rubric())
    firm = [f for f in rep.findings if f.criterion == "firm"]
    # written for the demand the client was pressing then: the persona's own model reply to it
    pending = persona.demands[0]
    assert firm and pending.model_reply and firm[0].better.startswith(pending.model_reply)
    assert all("20分" not in f.better for f in rep.findings)


def test_a_twelve_turn_conceding_session_shows_each_moment_once_with_a_specific_phrasing(
    engine: Engine,
) -> None:
    from simulator.library import get_persona
    from tests.support.data import play_session

    p = get_persona("out_of_contract_demand_standard_retail")
    s = play_session(engine, p, ["承知しました。今回に限り無償で対応いたします。"] * 12, seed=1)
    assert len(s.turns) == 12
    rep = build_report(s, p, get_rubric())
    kinds = [(f.criterion, f.moment) for f in rep.findings]
    assert len(kinds) == len(set(kinds)), "each moment once"
    firm = next(f for f in rep.findings if f.criterion == "firm")
    assert firm.moment == "最初に譲歩した場面" and firm.turn == 1
    assert firm.also_turns == list(range(2, 13)), "the later concessions are counted, not repeated"
    assert firm.client == s.opening and firm.quote == s.turns[0].trainee
    demand_words = ("ダッシュボード", "スマートフォン", "議事録", "記録")
    for f in rep.findings:
        assert any(w in f.better for w in demand_words), f.better  # names this client's demand
    assert len(rep.findings) <= 6
    # 次に練習すること quotes the trainee's own words
    assert any("承知しました。今回に限り" in line for line in rep.practise_next)
    # the counts agree: the conceding replies are the firm violations of the criteria table
    from simulator.report_render import render_markdown

    violations = rep.criteria["firm"].violations
    assert violations == 12
    assert f"譲歩した返答 {violations} 回" in render_markdown(rep)


# --------------------------------------------------------------------------- identity, scene checks


def _phone_session(engine: Engine, replies: list[str]):  # type: ignore[no-untyped-def]
    from simulator.library import get_persona
    from tests.support.data import play_session

    p = get_persona("phone_harassment_standard_insurance")
    return p, play_session(engine, p, replies, seed=1)


def test_a_printed_report_names_the_trainee_the_date_and_the_versions(engine: Engine) -> None:
    from simulator.report_render import render_html, render_markdown

    p, s = _phone_session(engine, ["お話は伺います。", "契約の範囲外のため、お受けできません。"])
    rep = build_report(s, p, get_rubric(), trainee={"name": "佐藤 花子", "department": "営業部"})
    day = s.created_at.astimezone().strftime("%Y")
    for text in (render_html(rep), render_markdown(rep).replace("\\_", "_")):
        assert "佐藤 花子" in text and "営業部" in text
        assert "実施日時" in text and f"{day}年" in text
        assert f"{p.id} v{p.version}" in text
        assert f"v{get_rubric().version}" in text
        assert any(j.split("@")[0] in text for j in rep.judges) and "@" in text


def test_the_time_check_is_a_statement_with_the_turn_and_the_simulated_time(engine: Engine) -> None:
    said = "本件は20分の対応をもって終了とさせていただきます。"
    p, s = _phone_session(engine, ["お話は伺います。", "ご事情はわかります。", "確認いたします。", said])
    rep = build_report(s, p, get_rubric())
    check = rep.checks["time_management"]
    assert check.passed is True
    minutes = 4 * p.minutes_per_turn
    assert check.statement == f"「{said.rstrip('。')}」と伝えた（ターン4、模擬経過{minutes:.0f}分）"


def test_the_time_check_fails_when_the_clock_passed_the_limit_unsaid(engine: Engine) -> None:
    p, s = _phone_session(engine, ["お話は伺います。", "ご事情はわかります。", "確認いたします。"] * 3)
    rep = build_report(s, p, get_rubric())
    check = rep.checks["time_management"]
    limit = get_rubric().time_limit_minutes(p.scenario)
    # needed from the first turn the client's words called for it, or the clock passed the limit
    first = next(
        t
        for t in s.turns
        if t.state.elapsed_minutes >= limit
        or any(c.id == "time_management" and c.passed is False for c in t.assessment.checks)
    )
    assert check.passed is False, check
    assert check.statement == (
        f"伝えていない（必要になったのはターン{first.index}、模擬経過{first.state.elapsed_minutes:.0f}分）"
    )


def test_the_grade_is_explained_on_the_report_and_adds_up(engine: Engine) -> None:
    from simulator.library import get_persona
    from simulator.report_render import render_html, render_markdown
    from tests.support.data import play_session

    p = get_persona("out_of_contract_demand_standard_retail")
    firm = "恐れ入りますが、契約の範囲外のため、会社の方針としてお受けできません。"
    weak = "承知しました。今回に限り無償で対応いたします。"
    reps = []
    for replies in ([firm] * 3, [weak, firm, firm]):
        s = play_session(engine, p, replies, seed=1)
        rep = build_report(s, p, get_rubric())
        b = rep.grade_breakdown
        weights = get_rubric().weights[p.scenario]
        assert {r.criterion: r.weight for r in b.rows} == {c.value: w for c, w in weights.items()}
        shares = sum(r.share for r in b.rows if r.share is not None)
        assert abs(shares - b.before_penalty) <= 0.3
        assert abs(max(0.0, b.before_penalty - b.penalty) - rep.overall) <= 0.3
        for text in (render_html(rep), render_markdown(rep)):
            assert "総合評価の計算" in text and "場面の重み" in text and "A 85以上" in text
        reps.append(rep)
    means = [r.criteria["firm"].mean for r in reps]
    assert means[0] != means[1] and reps[0].overall != reps[1].overall, (
        "different averages, different figures"
    )


# --------------------------------------------------------------------------- a trainer's read


def test_firmness_is_not_counted_against_a_reply_to_a_line_that_pressed_nothing(engine: Engine) -> None:
    from simulator.report_render import render_html

    p, s = _phone_session(
        engine, ["お電話ありがとうございます。ご不便をおかけしていることは承知しております。"]
    )
    a = s.turns[0].assessment
    assert a.pressed is False and a.score("firm") == 1, "the opening line asks for nothing yet"
    rep = build_report(s, p, get_rubric())
    firm = rep.criteria["firm"]
    assert firm.not_applicable == 1 and firm.scored == 0 and firm.mean is None
    assert not rep.turns[0].criteria["firm"].applicable
    assert not [f for f in rep.findings if f.criterion == "firm"], "nothing to decline is no finding"
    html = render_html(rep)
    assert "毅然 対象外" in html and "断る場面ではありませんでした" in html
    # pressed for the refund, the same non-answer counts
    p, s = _phone_session(engine, ["お話は伺います。", "ご事情はわかります。"])
    pressed = [t for t in s.turns if t.assessment.pressed]
    assert pressed and build_report(s, p, get_rubric()).criteria["firm"].scored == len(pressed)


def test_the_report_says_which_promises_the_client_leaves_with(engine: Engine) -> None:
    p, s = _phone_session(engine, ["お話は伺います。", "わかりました、返金いたします。"])
    rep = build_report(s, p, get_rubric())
    refund = p.demands[0]
    item = next(e for e in rep.ending if e.demand == refund.id)
    assert item.status == "open" and refund.text in item.statement and "ターン2" in item.statement
    # taking it back on the next turn is told as such
    p, s = _phone_session(
        engine,
        [
            "お話は伺います。",
            "わかりました、返金いたします。",
            "先ほどの件は撤回いたします。規約上、返金はお受けできません。",
        ],
    )
    item = next(e for e in build_report(s, p, get_rubric()).ending if e.demand == refund.id)
    assert item.status == "retracted" and "ターン3で撤回" in item.statement


def test_moments_come_most_important_first_and_one_card_per_reply(engine: Engine) -> None:
    s = play_session_for(
        engine, ["はい……すみません……", CONCEDE, "いい加減にしてください！こっちだって忙しいんですよ！"]
    )
    rep = build_report(s, PERSONA, get_rubric())
    turns = [f.turn for f in rep.findings if f.turn is not None]
    assert len(turns) == len(set(turns)), "a second shortfall of the same reply is told inside its card"
    assert rep.findings[0].criterion == "firm" and rep.findings[0].score == 0, "the concession comes first"
    moments = [f.moment for f in rep.findings]
    assert "冷静さを失って言い返した場面" in moments, "hitting back is its own moment, not a repeat of panic"
    merged = [x for f in rep.findings for x in f.also_criteria]
    assert merged and all(x.reason for x in merged)


def test_the_result_is_said_once(engine: Engine) -> None:
    from simulator.report_render import render_markdown

    s = play_session_for(engine, [GOOD] * 3)
    md = render_markdown(build_report(s, PERSONA, get_rubric()))
    line = next(ln for ln in md.splitlines() if ln.startswith("- 結果："))
    assert line.count("—") == 0 and line.removeprefix("- 結果：") == (s.state.ending_reason or line[5:])


def test_the_readings_a_trainer_found_missing() -> None:
    from simulator.models import ContextLine
    from simulator.scoring import rule_judge

    rubric = get_rubric()
    judge = rule_judge()
    demand = [ContextLine(role="client", text="誠意を見せてもらわないと。返金してくださいよ。")]
    # the terms the client agreed to are the contract
    a = judge.assess(
        "サービスの約款上、停止中の補償はございません。返金はいたしかねます。",
        demand,
        "phone_harassment",
        rubric,
    )
    assert a.score("contract") >= 2
    # an apology that names the inconvenience after it acknowledges (calm), unlike a cushion
    a = judge.assess("申し訳ございません、ご不便をおかけいたしました。", demand, "phone_harassment", rubric)
    assert a.score("calm") >= 2
    a = judge.assess(
        "申し訳ございません、ご迷惑をおかけしますが返金はできません。", demand, "phone_harassment", rubric
    )
    assert a.score("calm") == 1
    # a caller promising to keep the line busy for hours makes the time limit needed
    long_call = [
        ContextLine(role="client", text="こっちは二時間でも三時間でも話を聞いてもらうつもりですから。")
    ]
    a = judge.assess("お話は伺います。", long_call, "phone_harassment", rubric)
    check = next(c for c in a.checks if c.id == "time_management")
    assert check.passed is False


def play_session_for(engine: Engine, replies: list[str]):  # type: ignore[no-untyped-def]
    from tests.support.data import play_session

    return play_session(engine, PERSONA, replies, seed=1)
