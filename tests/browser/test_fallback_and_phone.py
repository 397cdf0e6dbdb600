"""An LLM that is down is visible to the trainee and the practice goes on; the phone clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from simulator.library import load_personas
from simulator.models import Difficulty, ScenarioId
from tests.browser.conftest import AppServer
from tests.browser.test_practice_flow import send, shoot, sign_in

pytestmark = pytest.mark.browser

PHONE = next(
    p
    for p in sorted(load_personas().values(), key=lambda p: p.id)
    if p.scenario is ScenarioId.phone_harassment and p.difficulty is Difficulty.standard
)


def test_llm_down_falls_back_visibly_and_the_call_goes_on(
    page: Page, app_with_dead_llm: AppServer, screenshots: Path
) -> None:
    sign_in(page, app_with_dead_llm.url, "sato")
    page.locator(f"#start-{PHONE.id}").click()
    expect(page.locator("#status")).to_contain_text("模擬経過時間 0分 / 対応上限 20分")
    send(page, "ご不満の点は承知しました。ただ、契約外のご要望はお受けできません。", 1)
    expect(page.locator("#notice")).to_contain_text("オフライン", timeout=30_000)
    expect(page.locator("#status")).to_contain_text(f"模擬経過時間 {PHONE.minutes_per_turn:.0f}分")
    # The client still answered, from the persona's own script.
    expect(page.locator("#chat [data-testid='bot']")).to_have_count(2)
    shoot(page, screenshots / "10_llm_fallback_phone.png")
    send(page, "通話は記録しております。恐れ入りますが、ご要望には応じかねます。", 2)
    expect(page.locator("#status")).to_contain_text("ターン 3")


def test_empty_and_overlong_replies_are_refused_with_a_message(page: Page, app_server: AppServer) -> None:
    sign_in(page, app_server.url, "kato")
    page.locator(f"#start-{PHONE.id}").click()
    expect(page.locator("#practice")).to_be_visible()
    page.locator("#send").click()
    expect(page.get_by_text("返答を入力してください。")).to_be_visible(timeout=15_000)
    long_text = "お話は伺います。" * 300
    page.locator("#reply textarea").fill(long_text)
    page.locator("#send").click()
    expect(page.get_by_text("返答が長すぎます（2000文字まで）")).to_be_visible(timeout=15_000)
    # Nothing was sent and nothing typed was lost.
    expect(page.locator("#status")).to_contain_text("ターン 1")
    expect(page.locator("#reply textarea")).to_have_value(long_text)
