"""A trainee's whole practice in headless Chromium: sign in, pick a scenario, play to the end,
read and download the report, retry from a turn, file the 報告, see the history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from simulator.library import load_personas
from simulator.models import Difficulty, ScenarioId
from tests.browser.conftest import PASSWORD, AppServer

pytestmark = pytest.mark.browser

PERSONA = next(
    p
    for p in sorted(load_personas().values(), key=lambda p: p.id)
    if p.scenario is ScenarioId.out_of_contract_demand and p.difficulty is Difficulty.standard
)
GOOD = (
    "ご要望の趣旨は承りました。ただ、要件定義にない機能の追加は契約の範囲外ですので、"
    "会社の方針としてお受けできません。本日のやり取りは議事録に残し、上長に報告のうえ書面でご連絡します。"
)
WEAK = "承知しました。今回に限り、追加の機能も無償で対応いたします。"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator("#picker")).to_be_visible(timeout=30_000)


def send(page: Page, text: str, turn: int) -> None:
    page.locator("#reply textarea").fill(text)
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text(text[:20], timeout=30_000)
    # The turn is done when the counter moves on or the scene has ended.
    expect(page.locator("#status")).to_contain_text(
        re.compile(f"ターン {turn + 1}|練習は終了しました"), timeout=30_000
    )


def shoot(page: Page, path: Path) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)


def test_trainee_practises_end_to_end(page: Page, app_server: AppServer, screenshots: Path) -> None:
    sign_in(page, app_server.url, "sato")
    expect(page.locator("#who")).to_contain_text("佐藤 花子")
    expect(page.locator(".scenario-card")).to_have_count(7)
    shoot(page, screenshots / "01_picker.png")

    page.locator(f"#start-{PERSONA.id}").click()
    expect(page.locator("#practice")).to_be_visible()
    expect(page.locator("#session-header")).to_contain_text(PERSONA.client.company)
    expect(page.locator("#status")).to_contain_text("ターン 1")

    send(page, WEAK, 1)
    chips = page.locator("#hints .chip")
    expect(chips).to_have_count(5)
    expect(page.locator('#hints .chip[data-criterion="firm"]')).to_contain_text("要注意")
    shoot(page, screenshots / "02_chat_after_concession.png")

    # Low-anxiety mode: words, no numbers.
    page.locator("#gentle-toggle input").check()
    for n in range(2, 8):
        send(page, GOOD, n)
        if page.locator("#ended-row").is_visible():
            break
        expect(page.locator('#hints .chip[data-criterion="firm"] .val')).not_to_contain_text(
            re.compile(r"\d")
        )
    expect(page.locator("#ended-row")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("練習は終了しました")
    expect(page.locator("#reply textarea")).not_to_be_editable()
    expect(page.locator("#end")).to_be_hidden()
    expect(page.locator("#send")).to_be_disabled()
    shoot(page, screenshots / "03_session_ended.png")

    # The report: grade, criteria, the conceding reply quoted with the manual passage.
    page.locator("#to-report").click()
    report = page.locator("#report")
    expect(report).to_contain_text("毅然", timeout=30_000)
    expect(report).to_contain_text(WEAK[:12])
    expect(report).to_contain_text("手引書")
    # whose report it is, and when: a printed report can be filed
    expect(page.locator("#kr-trainee")).to_contain_text("佐藤 花子（営業部）")
    expect(page.locator("#kr-when")).to_contain_text("年")
    shoot(page, screenshots / "04_report.png")

    with page.expect_download() as dl:
        page.locator("#download-html").click()
    html_text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "<!doctype html>" in html_text.lower() and PERSONA.title in html_text
    with page.expect_download() as dl_md:
        page.locator("#download-md").click()
    assert "毅然" in Path(dl_md.value.path()).read_text(encoding="utf-8")
    # the files were made for the request: nothing was written beside the database
    assert not (app_server.data_dir / "exports").exists()

    # The 報告 drill: after the hand-off, the scene says what the superior instructed.
    expect(page.locator("#drill-instruction")).to_contain_text("上長（課長）より")
    fields = {
        "when_where": "本日 14時、オンライン会議",
        "requester": f"{PERSONA.client.company} {PERSONA.client.role} {PERSONA.client.name}",
        "employee": "佐藤 花子",
        "manager_instruction": "課長から、追加機能は有償見積もりで回答するよう指示を受けた",
        "demand": PERSONA.demands[0].text,
        "result": "最初に無償対応を承諾してしまったが、その後は契約外としてお断りし、上長へ報告して引き継いだ",
        "other": "議事録を保存済み",
    }
    for key, value in fields.items():
        page.locator(f"#drill-{key} textarea").fill(value)
    page.locator("#drill-submit").click()
    expect(page.locator("#drill-feedback")).to_contain_text("記録", timeout=30_000)
    expect(page.locator("#drill-feedback li").first).to_be_visible()
    expect(page.locator("#kr-drill-rule")).to_contain_text("採点に数えるのは最初の提出です")
    shoot(page, screenshots / "05_drill.png")

    # Retry from turn 1 with a firm answer; both branches are kept and compared.
    page.locator("#retry-turn").click()
    page.get_by_role("option", name=re.compile("ターン1")).click()
    page.locator("#retry-reply textarea").fill(GOOD)
    page.locator("#retry-go").click()
    expect(page.locator("#practice")).to_be_visible(timeout=30_000)
    expect(page.locator("#chat")).to_contain_text(GOOD[:20])
    expect(page.locator("#chat")).not_to_contain_text(WEAK[:12])
    shoot(page, screenshots / "06_retry_branch.png")
    for n in range(2, 8):
        if page.locator("#ended-row").is_visible():
            break
        send(page, GOOD, n)
    page.locator("#to-report").click()
    expect(page.locator("#report")).to_contain_text("やり直し", timeout=30_000)
    expect(page.locator("#report")).to_contain_text("元のやり取り")
    shoot(page, screenshots / "07_report_branches.png")

    # History: both sessions, the trend plot, first/best/latest.
    page.get_by_role("tab", name="わたしの履歴").click()
    page.locator("#history-refresh").click()
    expect(page.locator("#history-table")).to_contain_text(PERSONA.title[:10], timeout=30_000)
    expect(page.locator("#history-best")).to_contain_text("契約外の対応要求")
    shoot(page, screenshots / "08_history.png")


def test_other_trainee_sees_nothing_of_it(page: Page, app_server: AppServer, screenshots: Path) -> None:
    sign_in(page, app_server.url, "kato")
    page.get_by_role("tab", name="わたしの履歴").click()
    page.locator("#history-refresh").click()
    expect(page.locator("#history-table")).not_to_contain_text(PERSONA.title[:10])
    page.get_by_role("tab", name="報告書・振り返り").click()
    page.locator("#report-pick").click()
    expect(page.get_by_role("option", name=re.compile(PERSONA.title[:8]))).to_have_count(0)
    shoot(page, screenshots / "09_other_trainee.png")
