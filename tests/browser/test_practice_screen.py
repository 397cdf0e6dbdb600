"""The practice screen as a trainee meets it: Enter sends (never mid-IME-composition), the hint
chips show whole reasons and whole words, ending early asks first, the messages are Japanese,
a reply is shown exactly as typed, and the five chips sit in one row on a laptop screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from simulator.library import load_personas
from simulator.models import Difficulty, ScenarioId
from tests.browser.conftest import AppServer
from tests.browser.test_practice_flow import shoot, sign_in

pytestmark = pytest.mark.browser

PERSONAS = sorted(load_personas().values(), key=lambda p: p.id)
ABUSE = next(
    p for p in PERSONAS if p.scenario is ScenarioId.verbal_abuse and p.difficulty is Difficulty.standard
)
ONLINE = next(p for p in PERSONAS if p.channel == "オンライン会議")


def start(page: Page, persona_id: str) -> None:
    page.locator(f"#start-{persona_id}").click()
    expect(page.locator("#practice")).to_be_visible(timeout=30_000)
    expect(page.locator("#status")).to_contain_text("ターン 1")


def test_enter_sends_shift_enter_breaks_the_line_and_ime_composition_never_sends(
    page: Page, app_server: AppServer, screenshots: Path
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, app_server.url, "sato")
    start(page, ABUSE.id)
    box = page.locator("#reply textarea")

    # The IME is composing 「もうしわけ」: the Enter that confirms the conversion must not send.
    box.click()
    box.dispatch_event("compositionstart", {"data": ""})
    box.fill("申し訳")
    page.evaluate(
        """() => {
            const t = document.querySelector('#reply textarea');
            t.dispatchEvent(new KeyboardEvent('keydown',
                {key: 'Enter', code: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}));
        }"""
    )
    page.wait_for_timeout(800)
    expect(page.locator("#status")).to_contain_text("ターン 1")
    expect(box).to_have_value("申し訳")
    box.dispatch_event("compositionend", {"data": "申し訳"})
    page.wait_for_timeout(100)

    # Shift+Enter is a newline, and sends nothing.
    box.press("End")
    box.press("Shift+Enter")
    box.type("ございません。")
    page.wait_for_timeout(800)
    expect(page.locator("#status")).to_contain_text("ターン 1")
    expect(box).to_have_value("申し訳\nございません。")

    # The counter shows the length against the limit.
    expect(page.locator("#reply-count")).to_have_text("11 / 2000文字")

    # Enter sends.
    box.fill("お話は伺います。ただ、会社の方針としてそのご要望にはお応えできません。")
    box.press("Enter")
    expect(page.locator("#status")).to_contain_text("ターン 2", timeout=30_000)
    expect(page.locator("#chat")).to_contain_text("会社の方針としてそのご要望には")
    expect(box).to_have_value("")

    # Five chips in one row on a 1366 px screen, each with its whole reason (no open 「（」).
    chips = page.locator("#hints .chip")
    expect(chips).to_have_count(5)
    tops = {round(chips.nth(i).bounding_box()["y"]) for i in range(5)}  # type: ignore[index]
    assert len(tops) == 1, f"the chips wrap onto {len(tops)} rows"
    for i in range(5):
        why = chips.nth(i).locator(".why").inner_text()
        assert why.count("（") == why.count("）"), why
        assert why.count("「") == why.count("」"), why
    firm_why = page.locator('#hints .chip[data-criterion="firm"] .why').inner_text()
    assert "お応えできません" in firm_why, firm_why
    shoot(page, screenshots / "20_enter_to_send_chips.png")


def test_a_reply_with_markup_is_shown_as_typed_and_toasts_are_japanese(
    page: Page, app_server: AppServer, screenshots: Path
) -> None:
    sign_in(page, app_server.url, "kato")
    start(page, ONLINE.id)
    # the header names the channel once
    title = page.locator("#session-header h3").inner_text()
    assert title.count(ONLINE.channel) == 1, title
    page.locator("#send").click()
    toast = page.locator(".toast-body")
    expect(toast.first).to_contain_text("返答を入力してください。", timeout=15_000)
    expect(toast.first).to_contain_text("ご確認ください")
    expect(toast.first).not_to_contain_text("Warning")
    shoot(page, screenshots / "21_japanese_toast.png")

    typed = "<script>alert(1)</script> 承知しかねます。**太字**にはしません。"
    page.locator("#reply textarea").fill(typed)
    page.locator("#send").click()
    expect(page.locator("#status")).to_contain_text("ターン 2", timeout=30_000)
    bubble = page.locator("#chat [data-testid='user']").last
    expect(bubble).to_contain_text("<script>alert(1)</script>")
    expect(bubble).to_contain_text("**太字**")
    # no English labels on the chat (Gradio's 「Copy message」, 「Clear」)
    assert page.locator("#chat [aria-label='Copy message']").count() == 0
    # and no 「clear」 that would blank the chat while the session goes on
    assert page.locator("#chat button:visible").count() == 0
    shoot(page, screenshots / "22_markup_as_typed.png")

    # a reply with no Japanese is unscored, and the chips say why in Japanese only
    page.locator("#reply textarea").fill("I am sorry, but we cannot accept this request.")
    page.locator("#send").click()
    expect(page.locator("#status")).to_contain_text("ターン 3", timeout=30_000)
    hints = page.locator("#hints")
    expect(hints).to_contain_text("判定不能")
    expect(hints).to_contain_text("日本語で返答してください")
    expect(hints).not_to_contain_text("no Japanese")


def test_ending_early_asks_first_and_is_labelled_as_stopped(
    page: Page, app_server: AppServer, screenshots: Path
) -> None:
    sign_in(page, app_server.url, "sato")
    start(page, ABUSE.id)
    page.locator("#end").click()
    confirm = page.locator("#end-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("未解決のまま記録")
    shoot(page, screenshots / "23_end_confirm.png")
    page.locator("#end-no").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#status")).not_to_contain_text("練習は終了しました")

    page.locator("#end").click()
    page.locator("#end-yes").click()
    expect(page.locator("#status")).to_contain_text("練習を途中で終了した", timeout=30_000)
    expect(page.locator("#status")).not_to_contain_text(re.compile("方針に基づき"))
    expect(page.locator("#ended-row")).to_be_visible()
    shoot(page, screenshots / "24_stopped.png")


def test_history_trend_is_per_scenario_numbered_by_attempt(
    page: Page, app_server: AppServer, screenshots: Path
) -> None:
    sign_in(page, app_server.url, "kato")
    for _ in range(2):
        start(page, ABUSE.id)
        page.locator("#reply textarea").fill("お話は伺います。ただ、そのご要望にはお応えできません。")
        page.locator("#send").click()
        expect(page.locator("#status")).to_contain_text("ターン 2", timeout=30_000)
        page.locator("#end").click()
        page.locator("#end-yes").click()
        expect(page.locator("#ended-row")).to_be_visible(timeout=30_000)
        page.locator("#back").click()
    page.get_by_role("tab", name="わたしの履歴").click()
    page.locator("#history-refresh").click()
    note = page.locator("#history-trend-note")
    expect(note).to_contain_text("取引先担当者による暴言・威圧", timeout=30_000)
    expect(note).not_to_contain_text("2回以上練習すると")
    trend = page.locator("#history-trend")
    expect(trend).to_contain_text("2回目", timeout=15_000)
    expect(trend).not_to_contain_text("Infinity")
    shoot(page, screenshots / "25_history_trend.png")
