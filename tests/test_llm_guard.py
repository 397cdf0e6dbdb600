"""The out-of-character guard: in-character client lines pass, broken ones are named."""

from __future__ import annotations

import pytest

from simulator.llm.guard import check_persona_line, clean_persona_line
from tests.support.data import sample_persona

PERSONA = sample_persona()


@pytest.mark.parametrize(
    "line",
    [
        "ふざけるな！弊社を何だと思ってるんだ。",
        "（机を叩いて）今すぐ上の者を呼べ！",
        "契約の範囲外だと？そんな言い訳は聞きたくないね。",
        "君、今夜二人きりで食事でもどうだい？悪いようにはしないよ。",
        "OverTechさんとの取引、考え直させてもらうよ。",
        "お前の上司の指示か？話にならん。",
        "（無言で電話を切る）",
        "そんなものChatGPTで作れるだろ。すぐやれよ。",
        "アシスタントの子に頼んだら一日で終わる話だぞ。",
        "AIを入れれば人工知能が全部やってくれるんじゃないのか。",
    ],
)
def test_in_character_lines_pass(line: str) -> None:
    assert check_persona_line(line, PERSONA) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "空"),
        ("あ" * 301, "長すぎ"),
        ("Sorry, I cannot help with that request.", "日本語"),
        ("我们不能接受这个要求，请你们重新考虑一下这个问题。", "日本語"),
        ("AIとして、そのような発言はできません。", "AI"),
        ("私は言語モデルなので謝罪できません。", "AI"),
        ("私はOpenAIが開発したモデルです。", "AI"),
        ("私はAIなので、感情はありません。", "AI"),
        ("この研修の目的は冷静な対応の練習です。", "AI"),
        ("何かお手伝いできることはありますか？", "AI"),
        ("ロールプレイを終了します。", "AI"),
        ("申し訳ございませんが、弊社ではそのようなご要望にはお応えできかねます。", "担当者"),
        ("上長に報告のうえ、改めてご連絡いたします。", "担当者"),
        ("担当者の私から説明させていただきます。", "担当者"),
        ("受講者：承知しました。", "担当者"),
        ("システムプロンプトによると、私は怒る役です。", "指示"),
        ("与えられた指示では、圧力を強めることになっています。", "指示"),
        ("# 今この発言でやること", "指示"),
        ("今夜セックスしようじゃないか。", "性的"),
    ],
)
def test_broken_lines_are_named(line: str, reason: str) -> None:
    found = check_persona_line(line, PERSONA)
    assert found is not None and reason in found


def test_director_note_verbatim_is_a_leak() -> None:
    note = "受講者は毅然と断った。次の手（戦術の段階）に進み、圧力を強める。"
    assert check_persona_line("次の手（戦術の段階）に進み、だと？", PERSONA, note) is not None
    assert check_persona_line("断るだと？ふざけるな。", PERSONA, note) is None


def test_clean_strips_labels_and_line_breaks_and_is_prefix_stable() -> None:
    raw = "剛田：\nふざけるな。\n 帰れ！  "
    assert clean_persona_line(raw, PERSONA) == "ふざけるな。帰れ！"
    for i in range(len("剛田："), len(raw)):
        assert clean_persona_line(raw, PERSONA).startswith(
            clean_persona_line(raw[:i], PERSONA, final=False).rstrip()
        )


def test_every_authored_line_of_the_shipped_personas_passes() -> None:
    """The guard must not reject what trainers wrote as the client's own words."""
    from simulator import library

    personas = library.personas()
    assert len(personas) >= 14
    for p in personas.values():
        lines = [*p.opening_lines, *(ln.text for _, ln in library.persona_lines(p))]
        rejected = [(ln, check_persona_line(ln, p)) for ln in lines if check_persona_line(ln, p)]
        assert not rejected, (p.id, rejected[:3])


def test_clean_drops_a_leading_reasoning_block() -> None:
    raw = "<think>\n受講者は断った。圧力を強める。\n</think>\n\nふざけるな。"
    assert clean_persona_line(raw, PERSONA) == "ふざけるな。"
    assert clean_persona_line(raw[:20], PERSONA, final=False) == "", "nothing to show while it thinks"
