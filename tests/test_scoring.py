"""The rule judge on replies written for these tests (never taken from the dev set).

Each test asserts what a trainer would notice: a refusal read as firm, a conditional
promise read as a concession, sarcasm read as losing composure.
"""

import pytest

from simulator.library import get_rubric
from simulator.models import ContextLine, CriterionId, ScenarioId
from simulator.scoring import RuleJudge, assess, get_judge

OOC = ScenarioId.out_of_contract_demand


def ctx(line: str) -> list[ContextLine]:
    return [ContextLine(role="client", text=line)]


def score(reply: str, client: str = "この作業、無料でやっといてよ。", scenario=OOC) -> dict[str, int | None]:
    return assess(reply, ctx(client), scenario).score_map()


# ----------------------------------------------------------------- negation and modality


@pytest.mark.parametrize(
    "reply",
    [
        "その作業はお引き受けできません。",
        "無償での作業は対応いたしかねます。",
        "ご要望にお応えするわけにはまいりません。",
        "そのご依頼はお断りいたします。",
        "無償での作業は、当社ではお受けしておりません。",
        "料金の免除はいたしません。",
        "この件についてのご回答は控えさせていただきます。",
    ],
)
def test_negated_or_impossible_acceptance_is_a_refusal(reply):
    s = score(reply)
    assert s["firm"] in (2, 3)


def test_the_same_verb_without_negation_is_a_concession():
    assert score("承知しました。その作業もお引き受けします。")["firm"] == 0


def test_a_negated_state_is_not_a_refusal_but_states_the_scope():
    s = score("その作業は契約の範囲に含まれておりません。")
    assert s["firm"] == 1
    assert s["contract"] in (2, 3)


def test_i_cannot_decide_alone_is_a_deferral_not_a_refusal():
    s = score("私の判断ではお値引きできませんので、一度持ち帰ります。", "10%引いてよ。")
    assert s["firm"] == 1


def test_a_conditional_negation_is_not_a_refusal():
    assert score("本日中にお返事できなければ、明日の朝にご連絡します。", "明日までに返事して。")["firm"] == 1


# ----------------------------------------------------------------- concession


@pytest.mark.parametrize(
    "reply",
    [
        "今回に限り無償で対応いたします。",
        "前向きに検討いたします。",
        "価格の方は勉強させていただきます。",
        "なんとかいたしますので、少しお時間をください。",
        "今回だけということでしたら、お引き受けします。",
        "特別にサービスでやらせていただきます。",
        "弊社の不手際ですので、すべて私の責任です。何でもいたします。",
    ],
)
def test_yes_leaning_and_conditional_promises_are_concessions(reply):
    a = assess(reply, ctx("この作業、無料でやっといてよ。"), OOC)
    assert a.score(CriterionId.firm) == 0
    assert a.concession is True


def test_a_partial_concession_outweighs_a_refusal_in_the_same_reply():
    s = score("今回に限り無償で対応しますが、次回からはお受けできません。")
    assert s["firm"] == 0


def test_mentioning_the_contract_only_to_give_in_asserts_nothing():
    s = score("契約外ではありますが、今回は特別に対応いたします。")
    assert s["firm"] == 0
    assert s["contract"] == 1


def test_a_negated_promise_is_not_a_concession():
    s = score("ご期待に沿えず恐縮ですが、無償での対応はいたしかねます。")
    assert s["firm"] in (2, 3)


def test_quoting_the_clients_words_is_not_conceding():
    s = score("今回だけとおっしゃいましても、料金は規定どおり頂戴いたします。", "今回だけタダにしてよ。")
    assert s["firm"] in (2, 3)


@pytest.mark.parametrize(
    ("client", "reply"),
    [
        ("今から会社に来て謝れ！", "はい、すぐにそちらへ伺います。"),
        ("お前の携帯番号を教えろ。", "承知しました。番号は080-0000-0000です。"),
        ("あと2時間は付き合ってもらうよ。", "はい、大丈夫です。ご都合に合わせます。"),
        ("資料を最初から全部説明し直してよ。", "かしこまりました。では一枚目から改めてご説明いたします。"),
        ("明後日までに全部仕上げてこい。", "明後日までですね、がんばります！"),
    ],
)
def test_doing_what_the_clients_last_line_demanded_is_a_concession(client, reply):
    a = assess(reply, ctx(client), ScenarioId.verbal_abuse)
    assert a.score("firm") == 0, a.scores[CriterionId.firm].reason


def test_promising_not_to_hang_up_when_told_not_to_is_compliance_not_refusal():
    a = assess("は、はい、切りません。", ctx("途中で電話を切るなよ。"), ScenarioId.phone_harassment)
    assert a.score("firm") == 0


def test_an_apology_for_a_real_fault_is_not_a_concession():
    s = score(
        "納品物に誤りがあったことは弊社の落ち度で、申し訳ございません。ただ、膝をついての謝罪には応じられません。",
        "土下座して謝れ！",
    )
    assert s["firm"] in (2, 3)
    assert s["calm"] in (2, 3)


def test_laughing_off_sexual_harassment_is_the_ambiguity_the_manual_warns_against():
    a = assess("あはは、お上手ですね。", ctx("今度二人で飲みに行こうよ。"), ScenarioId.sexual_harassment)
    assert a.score("firm") == 0


# ----------------------------------------------------------------- calm: sarcasm and register


@pytest.mark.parametrize(
    "reply",
    [
        "さすが御社、ご要求のスケールが違いますね。",
        "は？そんなの無理に決まってるじゃないですか。",
        "ふざけないでください！",
        "そっちこそ契約書ちゃんと読んでないんじゃないですか。",
        "無理だって。何度言えばわかるの。",
        "書きたいなら勝手にどうぞ。",
        "こんな要求、非常識にもほどがありますよ。いい加減にしてもらえますか。",
    ],
)
def test_sarcasm_retorts_and_casual_register_lose_composure(reply):
    a = assess(reply, ctx("タダでやれって言ってんだよ！"), OOC)
    assert a.score("calm") == 0
    assert a.hostile is True


def test_panic_and_pleading_lose_composure_without_being_hostile():
    a = assess(
        "す、すみません…どうか許してください…何でもしますから…", ctx("土下座しろ！"), ScenarioId.verbal_abuse
    )
    assert a.score("calm") == 0
    assert a.hostile is False
    assert a.score("firm") == 0


def test_polite_acknowledgement_shows_composure():
    s = score("ご立腹のお気持ちは受け止めております。そのうえで、無償での作業はお受けできません。")
    assert s["calm"] in (2, 3)


def test_a_polite_request_to_stop_is_calm_and_firm():
    s = score("大きなお声は控えていただけますでしょうか。", "おい！聞いてんのか！", ScenarioId.verbal_abuse)
    assert s["calm"] in (2, 3)
    assert s["firm"] in (2, 3)


def test_a_cushion_word_alone_is_not_acknowledging():
    assert score("恐れ入りますが、次の議題に移らせてください。")["calm"] == 1


def test_a_bare_procedural_question_is_neither_calm_nor_firm():
    s = score("対象の画面はどれでしょうか。")
    assert (s["calm"], s["firm"]) == (1, 1)


def test_accepting_with_shoninshimashita_is_not_acknowledging():
    s = score("承知しました。すぐ着手します。")
    assert s["calm"] == 1 and s["firm"] == 0


# ----------------------------------------------------------------- record and escalation


def test_record_and_writing():
    assert score("本日のやり取りは記録させていただきます。")["record"] in (2, 3)
    assert score("ご要望は書面でお送りいただけますか。")["record"] in (2, 3)
    assert score("前回の議事録を確認いたします。")["record"] == 1


def test_escalation_needs_a_named_party_or_an_end():
    assert score("上長に報告のうえ、改めてご連絡いたします。")["escalation"] in (2, 3)
    assert score("社内で確認いたします。")["escalation"] == 1
    assert score("弊社の社長がお伺いすることはいたしかねます。", "社長を連れて来い")["escalation"] == 1
    assert score("今日はこれで失礼いたします。")["escalation"] in (2, 3)
    assert score("これ以上続くようでしたら、警察に相談いたします。")["escalation"] in (2, 3)


# ----------------------------------------------------------------- scenario checks


def test_safety_check_passes_when_leaving_after_contact():
    a = assess(
        "その手を離してください。今日はここで失礼します。",
        ctx("（肩に手を回して）いいじゃない"),
        ScenarioId.sexual_harassment,
    )
    safety = next(c for c in a.checks if c.id == "safety")
    assert safety.passed is True


def test_safety_check_fails_when_staying_after_contact():
    a = assess("お気持ちはわかりました。", ctx("（腕を触りながら）細いね"), ScenarioId.sexual_harassment)
    assert next(c for c in a.checks if c.id == "safety").passed is False


def test_time_check_on_a_long_call():
    ctx_long = ctx("（通話1時間）まだ終わらないからな")
    ok = assess(
        "当社ではお電話での対応を20分までとしております。これで終了とさせていただきます。",
        ctx_long,
        "phone_harassment",
    )
    bad = assess("はい、引き続き伺います。", ctx_long, "phone_harassment")
    assert next(c for c in ok.checks if c.id == "time_management").passed is True
    assert next(c for c in bad.checks if c.id == "time_management").passed is False
    assert not assess("はい。", ctx("こんにちは"), OOC).checks


# ----------------------------------------------------------------- robust input


@pytest.mark.parametrize(
    "reply", ["", "   \n\t", "🙂🙏", "Sorry, we cannot do that.", "<p><br></p>", "12345"]
)
def test_unjudgeable_replies_are_unscored_with_a_reason(reply):
    a = assess(reply, ctx("無料でやって"), OOC)
    assert all(v is None for v in a.score_map().values())
    assert all(cs.reason for cs in a.scores.values())
    assert a.concession is False and a.hostile is False


def test_very_long_replies_are_judged_and_noted():
    reply = ("ご要望は承知しました。ただ、その作業はお受けできません。" * 800)[:20000]
    a = assess(reply, ctx("無料でやって"), OOC)
    assert a.score("firm") in (2, 3)
    assert a.notes


@pytest.mark.parametrize(
    "reply",
    [
        "ｹｲﾔｸ外の作業はお受けできません。",
        "お受けできません🙇‍♀️🙇‍♀️",
        "<div>契約外の<b>作業</b>はお受け<br>できません</div>",
        "Sorry、契約外の作業はお受けできません。",
    ],
)
def test_half_width_emoji_html_and_mixed_english_still_read_as_a_refusal(reply):
    a = assess(reply, ctx("無料でやって"), OOC)
    assert a.score("firm") in (2, 3)
    for cs in a.scores.values():
        for ev in cs.evidence:
            assert reply[ev.start : ev.end] == ev.text


def test_evidence_points_into_the_original_reply():
    reply = "ご事情は承知しました。ただ、契約の範囲外ですのでお受けできません。本日の内容は記録に残します。"
    a = assess(reply, ctx("無料でやって"), OOC)
    assert a.scores[CriterionId.firm].evidence
    for cs in a.scores.values():
        assert cs.manual_ref
        assert cs.reason
        for ev in cs.evidence:
            assert reply[ev.start : ev.end] == ev.text


def test_assessment_records_judge_and_rubric():
    a = assess("お受けできません。", ctx("無料でやって"), "out_of_contract_demand")
    assert (a.judge.split("@")[0], a.rubric_id, a.rubric_version) == (
        "hybrid",
        "default",
        get_rubric().version,
    )
    assert len(a.judge.split("@")[1]) == 10, "the judge id carries a content hash"


def test_get_judge():
    assert isinstance(get_judge("rules"), RuleJudge)
    with pytest.raises(KeyError):
        get_judge("nope")


@pytest.mark.parametrize(
    "reply",
    ["承知しました。それでは1割でいかがでしょうか。", "わかりました、5%までならお値引きできます。"],
)
def test_a_smaller_counter_offer_is_still_a_concession(reply: str) -> None:
    s = score(
        reply,
        client="来月から2割値引きしろ。できないなら他社に乗り換える。",
        scenario=ScenarioId.contract_termination_threat,
    )
    assert s["firm"] == 0


def test_refusing_even_a_small_discount_is_not_a_concession() -> None:
    s = score(
        "1割でもお値引きはいたしかねます。",
        client="せめて1割引いてよ。",
        scenario=ScenarioId.contract_termination_threat,
    )
    assert s["firm"] >= 2


def test_pleading_for_forgiveness_is_panic_and_grovelling() -> None:
    s = score(
        "すみません、本当にすみません…どうかお許しください…",
        client="床に手をついて謝れ！",
        scenario=ScenarioId.verbal_abuse,
    )
    assert s["calm"] == 0 and s["firm"] == 0


def test_acknowledging_the_clients_anger_is_calm() -> None:
    s = score(
        "ご立腹はごもっともです。経緯を確認させてください。",
        client="どうなってるんだ！",
        scenario=ScenarioId.verbal_abuse,
    )
    assert s["calm"] >= 2


@pytest.mark.parametrize(
    "reply",
    ["お言葉ですが、そちらの勘違いではないでしょうか。", "はいはい、承知しましたって。"],
)
def test_polite_blame_and_weary_yes_lose_composure(reply: str) -> None:
    assert score(reply, client="いつまで待たせるんだ！", scenario=ScenarioId.verbal_abuse)["calm"] == 0


def test_a_trailing_vague_yes_outweighs_the_refusal_before_it() -> None:
    s = score(
        "今日中は無理ですが、週明けには何とか…",
        client="今日中に全部仕上げろ。",
        scenario=ScenarioId.out_of_contract_demand,
    )
    assert s["firm"] == 0


@pytest.mark.parametrize(
    ("client", "reply"),
    [
        ("資料の翻訳もお願いね。もちろん無料で。", "翻訳ですね、承知しました。今週中に進めます。"),
        ("工期を3日縮めてくれ。", "できなくはないので、調整してみます。"),
        ("お前の本名を言え。", "本名は山田花子です。"),
        ("レビューを消してほしければ全額返金しろ。", "わかりました、返金の手続きをいたします。"),
        ("他社より高い。合わせないなら切るぞ。", "困ります！何とか近づけられるよう頑張ります！"),
    ],
)
def test_concessions_in_other_words(client: str, reply: str) -> None:
    assert score(reply, client=client, scenario=ScenarioId.out_of_contract_demand)["firm"] == 0


def test_a_retort_that_turns_the_blame_back_loses_composure() -> None:
    s = score("失礼なのはどちらですか。", client="だから素人は困るんだよ！", scenario=ScenarioId.verbal_abuse)
    assert s["calm"] == 0


def test_a_hedged_yes_is_not_read_as_a_negation() -> None:
    # 「かもしれません」 ends in ません but promises, vaguely, what was asked
    s = score(
        "人を回せば何とかなるかもしれません。",
        client="土日も作業員を出してくれ。",
        scenario=ScenarioId.out_of_contract_demand,
    )
    assert s["firm"] == 0


def test_a_reply_trailing_off_in_けど_is_a_retort() -> None:
    s = score(
        "説明はもう何度もしましたけど。", client="ちゃんと説明しろよ！", scenario=ScenarioId.verbal_abuse
    )
    assert s["calm"] == 0
