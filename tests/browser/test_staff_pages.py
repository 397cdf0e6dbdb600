"""Staff pages in headless Chromium: a trainer writes a persona in the studio (form and YAML,
a validation error shown, a test drive, a saved version, published, a Character Card
imported), a trainee then plays it; the trainer opens the trainee's session and HR finds that
view in the audit log. Through the API a trainee reaches none of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Page, expect

from simulator.app.cards import card_json
from simulator.library import load_personas
from simulator.store import Store
from tests.browser.conftest import PASSWORD, AppServer
from tests.browser.test_practice_flow import send, shoot, sign_in

pytestmark = pytest.mark.browser

BASE = "out_of_contract_demand_standard_retail"
NEW_ID = "studio_browser_persona"
NEW_TITLE = "スタジオで書いた取引先の無理な追加要求（対面）"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def staff(request: pytest.FixtureRequest) -> AppServer:
    """The app with staff accounts, on SQLite and on PostgreSQL."""
    app_server: AppServer = request.getfixturevalue(
        "app_server" if request.param == "sqlite" else "app_server_pg"
    )
    store = Store(app_server.db_url)
    if store.find_user("tanaka") is None:
        store.add_user("tanaka", PASSWORD, role="trainer", department="人事部", display_name="田中 研修")
        store.add_user("suzuki", PASSWORD, role="hr", department="人事部", display_name="鈴木 人事")
        store.add_user("kanri", PASSWORD, role="admin", department="総務部", display_name="管理 者")
    store.engine.dispose()
    return app_server


def test_tabs_follow_the_users_capabilities(page: Page, staff: AppServer) -> None:
    sign_in(page, staff.url, "kato")
    for tab in ("ペルソナスタジオ", "やり取りの確認", "閲覧記録"):
        expect(page.get_by_role("tab", name=tab)).to_have_count(0)
    page.goto(staff.url + "/logout")
    sign_in(page, staff.url, "tanaka")
    expect(page.get_by_role("tab", name="ペルソナスタジオ")).to_be_visible()
    expect(page.get_by_role("tab", name="やり取りの確認")).to_be_visible()
    expect(page.get_by_role("tab", name="閲覧記録")).to_have_count(0)


def test_a_trainer_writes_test_drives_and_publishes_a_persona_a_trainee_then_plays(
    page: Page,
    browser,
    staff: AppServer,
    screenshots: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    sign_in(page, staff.url, "tanaka")
    page.get_by_role("tab", name="ペルソナスタジオ").click()
    page.locator("#studio-pick input").fill(BASE)
    page.get_by_role("option", name=BASE).click()
    page.locator("#studio-open").click()
    editor = page.locator("#studio-yaml .cm-content")
    expect(editor).to_contain_text(f"id: {BASE}", timeout=30_000)
    expect(page.locator("#studio-problems")).to_contain_text("問題はありません")

    # a field the model does not know: the problem is shown, named, in Japanese
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nbogus_field: 1")
    expect(page.locator("#studio-problems")).to_contain_text("bogus_field", timeout=20_000)
    shoot(page, screenshots / "30_studio_problem.png")
    for _ in range(len("\nbogus_field: 1")):
        page.keyboard.press("Backspace")
    expect(page.locator("#studio-problems")).to_contain_text("問題はありません", timeout=20_000)

    # the form writes into the YAML: a new id and title make a new persona
    page.locator("#studio-f-id textarea").fill(NEW_ID)
    page.locator("#studio-f-id textarea").press("Tab")
    page.locator("#studio-f-title textarea").fill(NEW_TITLE)
    page.locator("#studio-f-title textarea").press("Tab")
    editor.click()
    page.keyboard.press("Control+Home")  # the editor only renders the lines in view
    expect(editor).to_contain_text(f"id: {NEW_ID}", timeout=20_000)
    expect(editor).to_contain_text(NEW_TITLE)

    # the manual passage picker shows the manual's own sentence and writes it into the YAML
    page.locator("#studio-passage input").fill("無料で追加対応しろ")
    page.get_by_role("option").filter(has_text="無料で追加対応しろ").first.click()
    expect(page.locator("#studio-passage-text")).to_contain_text(
        "「無料で追加対応しろ」と不当な要求をされる。"
    )
    expect(page.locator("#studio-problems")).to_contain_text("問題はありません", timeout=20_000)

    # test drive with the director's state beside it
    page.locator("#studio-drive-start").click()
    openings = "|".join(re.escape(line[:12]) for line in load_personas()[BASE].opening_lines)
    expect(page.locator("#studio-chat")).to_contain_text(re.compile(openings), timeout=20_000)
    page.locator("#studio-reply textarea").fill("承知しました。今回に限り無償で対応いたします。")
    page.locator("#studio-send").click()
    expect(page.locator("#studio-state")).to_contain_text("ターン1", timeout=30_000)
    expect(page.locator("#studio-state")).to_contain_text("圧力")
    shoot(page, screenshots / "31_studio_test_drive.png")

    page.locator("#studio-note textarea").fill("ブラウザテストで作成")
    page.locator("#studio-save").click()
    expect(page.locator("#studio-saved")).to_contain_text(f"{NEW_ID} v1 を保存しました", timeout=30_000)
    page.locator("#studio-publish").click()
    expect(page.locator("#studio-saved")).to_contain_text("公開しました", timeout=30_000)
    expect(page.locator("#studio-versions")).to_contain_text("公開中")

    # a Character Card from another tool (made here from a shipped persona) imports as a version
    card = tmp_path / "card.json"
    card.write_text(card_json(load_personas()["verbal_abuse_standard_construction"]), encoding="utf-8")
    page.locator("#studio-more").click()
    page.locator("#studio-import input[type=file]").set_input_files(str(card))
    expect(page.locator("#studio-saved")).to_contain_text(
        "verbal_abuse_standard_construction v2", timeout=30_000
    )
    shoot(page, screenshots / "32_studio_saved.png")

    # the trainer assigns it to the trainee's department with a due date
    page.goto(staff.url)
    expect(page.locator("#picker")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="割り当て").click()
    page.locator("#assign-persona input").fill("スタジオで書いた")
    page.get_by_role("option").filter(has_text="スタジオで書いた").first.click()
    page.locator("#assign-due textarea").fill("2099-12-31")
    page.locator("#assign-department textarea").fill("営業部")
    page.locator("#assign-go").click()
    expect(page.locator("#assign-done")).to_contain_text("割り当てました", timeout=20_000)
    expect(page.locator("#assign-table")).to_contain_text("0 / ")
    shoot(page, screenshots / "35_assign.png")

    # the trainee sees it first, with its due date, and plays it
    trainee = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    sign_in(trainee, staff.url, "sato")
    expect(trainee.locator("#assigned")).to_contain_text("2099-12-31")
    expect(trainee.locator("#assigned")).to_contain_text("未完了")
    trainee.locator("#persona-pick input").click()
    first = trainee.get_by_role("option").first
    expect(first).to_contain_text("【割り当て・期限 12/31】")
    first.click()
    trainee.locator("#persona-start").click()
    expect(trainee.locator("#session-header")).to_contain_text(
        NEW_TITLE.removesuffix("（対面）"), timeout=30_000
    )
    send(trainee, "お話は伺います。ただ、契約の範囲外のためお受けできません。", 1)
    trainee.locator("#end").click()
    trainee.locator("#end-yes").click()
    expect(trainee.locator("#status")).to_contain_text("練習は終了しました", timeout=30_000)
    trainee.goto(staff.url)
    expect(trainee.locator("#assigned")).to_contain_text("✓ 完了", timeout=30_000)
    shoot(trainee, screenshots / "36_assigned_done.png")
    trainee.close()
    page.reload()
    page.get_by_role("tab", name="割り当て").click()
    expect(page.locator("#assign-table")).to_contain_text("1 / ", timeout=20_000)  # completion tracked

    # the trainer opens that session; the view is audited, and HR sees it
    page.get_by_role("tab", name="やり取りの確認").click()
    page.locator("#review-refresh").click()
    expect(page.locator("#review-table")).to_contain_text("佐藤 花子", timeout=20_000)
    page.locator("#review-pick input").fill("佐藤")
    page.get_by_role("option").filter(has_text="佐藤 花子").first.click()
    page.locator("#review-open").click()
    expect(page.locator("#review-report")).to_contain_text("振り返りレポート", timeout=30_000)
    expect(page.locator("#review-report")).to_contain_text("判定：")  # staff see who decided
    # the trainer corrects one score, with a reason; the machine's stays beside it
    page.locator("#override-turn input").click()
    page.get_by_role("option").filter(has_text="ターン1").first.click()
    page.locator("#override-criterion input").click()
    page.get_by_role("option", name="冷静").click()
    page.locator("#override-score input").click()
    page.get_by_role("option", name="3 明確").click()
    page.locator("#override-reason textarea").fill("冒頭で相手の事情を受け止めており、冷静な対応です")
    page.locator("#override-go").click()
    expect(page.locator("#override-done")).to_contain_text("修正しました", timeout=30_000)
    expect(page.locator("#review-report")).to_contain_text("研修担当 田中 研修 が確認・修正")
    with page.expect_download() as dl:
        page.locator("#overrides-export").click()
    [rec] = [json.loads(x) for x in Path(dl.value.path()).read_text(encoding="utf-8").splitlines()]
    assert rec["reviewed"] == ["calm"] and rec["labels"]["calm"] == 1 and "受け止めて" in rec["note"]
    shoot(page, screenshots / "33_review.png")
    # the trainee's history marks the session as reviewed
    trainee = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
    sign_in(trainee, staff.url, "sato")
    trainee.get_by_role("tab", name="わたしの履歴").click()
    expect(trainee.locator("#tab-history")).to_contain_text("確認済み", timeout=20_000)
    trainee.close()
    page.goto(staff.url + "/logout")
    sign_in(page, staff.url, "suzuki")
    page.get_by_role("tab", name="閲覧記録").click()
    page.locator("#audit-refresh").click()
    row = page.locator("#audit-table tbody tr").filter(has_text="セッションの閲覧").first
    expect(row).to_contain_text("田中 研修", timeout=20_000)
    expect(row.locator("td").nth(2)).to_have_text("田中 研修")  # who, in its own column
    expect(row.locator("td").nth(3)).to_have_text("佐藤 花子")  # whose
    shoot(page, screenshots / "34_audit.png")


def test_the_administrator_manages_accounts_in_the_app(
    page: Page, staff: AppServer, screenshots: Path, tmp_path: Path
) -> None:
    sign_in(page, staff.url, "kanri")
    page.get_by_role("tab", name="アカウント").click()
    expect(page.locator("#users-table")).to_contain_text("佐藤 花子")
    page.locator("#user-username textarea").fill("nakamura")
    page.locator("#user-display textarea").fill("中村 一郎")
    page.locator("#user-department textarea").fill("営業部")
    page.locator("#user-add").click()
    expect(page.locator("#users-result")).to_contain_text("nakamura を追加しました", timeout=20_000)
    expect(page.locator("#users-result")).to_contain_text("初期パスワード")
    csv = tmp_path / "users.csv"
    csv.write_text("username,display_name,role,department\nogawa,小川 二郎,trainee,開発部\nmori,森 三郎,trainer,人事部\n",
                   encoding="utf-8")  # fmt: skip
    page.locator("#users-csv input[type=file]").set_input_files(str(csv))
    expect(page.locator("#users-result")).to_contain_text("2 件を追加しました", timeout=20_000)
    expect(page.locator("#users-table")).to_contain_text("森 三郎")
    page.locator("#users-change").click()
    page.locator("#user-target textarea").fill("ogawa")
    page.locator("#user-disable").click()
    expect(page.locator("#users-result")).to_contain_text("ogawa を無効にしました", timeout=20_000)
    shoot(page, screenshots / "37_users.png")
    store = Store(staff.db_url)
    ogawa = store.find_user("ogawa")
    assert ogawa is not None and not ogawa.active and store.find_user("mori").role == "trainer"  # type: ignore[union-attr]
    store.engine.dispose()


def test_a_trainee_reaches_no_staff_endpoint_through_the_api(staff: AppServer) -> None:
    kato = Client(staff.url, auth=("kato", PASSWORD), verbose=False, analytics_enabled=False)
    text = (Path(__file__).resolve().parents[2] / "personas" / f"{BASE}.yaml").read_text(encoding="utf-8")
    calls = [
        ("/studio_check", (text,)),
        ("/studio_save", (text, "x")),
        ("/studio_publish", (BASE, 1)),
        ("/studio_open", (BASE, 1)),
        ("/studio_drive_start", (text,)),
        ("/review_list", ()),
        ("/review_open", ("0" * 32,)),
        ("/audit_log", ("", "", "", "", "")),
        ("/users_add", ("intruder", "侵入者", "admin", "営業部")),
        ("/users_reset", ("sato",)),
        ("/users_enable", ("sato",)),
        ("/assign", (BASE, "2099-01-01", "営業部", "", "")),
    ]
    # inputs the page itself would accept: the refusal is the server's permission check
    plain = {
        "/studio_check",
        "/studio_save",
        "/studio_drive_start",
        "/review_list",
        "/audit_log",
        "/users_reset",
        "/users_enable",
    }
    for api, args in calls:
        with pytest.raises(Exception) as err:  # noqa: PT011 - the refusal's text is checked below
            kato.predict(*args, api_name=api)
        if api in plain:
            assert "権限がありません" in str(err.value), api
    store = Store(staff.db_url)
    assert not [r for r in store.persona_versions(BASE) if r["source"] == "studio"], "nothing was stored"
    assert store.find_user("intruder") is None and store.authenticate("sato", PASSWORD) is not None
    kato_user = store.find_user("kato")
    assert kato_user is not None and not store.audit_entries(actor_id=kato_user.id)
    store.engine.dispose()


def test_hr_filters_the_dashboard_and_the_view_is_kept(
    page: Page, staff: AppServer, screenshots: Path
) -> None:
    from simulator.app.services import Services
    from simulator.engine import Engine

    engine = Engine(voice="scripted", judge="rules")
    svc = Services(Store(staff.db_url), engine)
    for name in ("sato", "kato"):  # one ended practice in each department
        u = svc.store.find_user(name)
        s = svc.start(u, BASE, seed=5)  # type: ignore[arg-type]
        svc.reply(u, s.id, "お話は伺います。ただ、契約の範囲外のためお受けできません。")  # type: ignore[arg-type]
        svc.end(u, s.id)  # type: ignore[arg-type]
    svc.store.engine.dispose()
    engine.close()
    sign_in(page, staff.url, "suzuki")
    page.get_by_role("tab", name="ダッシュボード").click()
    expect(page.locator("#dash-headline")).to_contain_text("受講者", timeout=20_000)
    page.locator("#dash-departments input").click()
    page.get_by_role("option", name="営業部").click()
    page.keyboard.press("Escape")
    page.locator("#dash-show").click()
    expect(page.locator("#dash-heat")).to_contain_text("営業部", timeout=20_000)
    expect(page.locator("#dash-heat")).not_to_contain_text("開発部")
    expect(page.locator("#dash-cohort")).to_contain_text("佐藤 花子")
    expect(page.locator("#dash-trend")).to_be_visible()
    expect(page.locator("#dash-depts")).to_contain_text("営業部")
    # the sales personas this quarter: the period fills the dates; a criterion makes one line per department
    page.locator("#dash-group input").click()
    page.get_by_role("option", name="営業担当の場面").click()
    page.locator("#dash-period input").click()
    page.get_by_role("option", name="今四半期").click()
    expect(page.locator("#dash-since textarea, #dash-since input").first).to_have_value(
        re.compile(r"^\d{4}-\d{2}-01$")
    )
    page.locator("#dash-criterion input").click()
    page.get_by_role("option", name="毅然", exact=True).click()
    page.locator("#dash-show").click()
    expect(page.locator("#dash-headline")).to_contain_text("セッション 1 件", timeout=20_000)
    expect(page.locator("#dash-heat")).to_contain_text("毅然")
    expect(page.locator("#dash-heat")).not_to_contain_text("冷静")
    legend = page.locator("#dash-trend")
    expect(legend).to_contain_text(
        "営業部", timeout=20_000
    )  # the legend follows this view, not the one before
    expect(legend).not_to_contain_text("冷静")
    shoot(page, screenshots / "39_dashboard_filtered.png")
    # export this view: the files download and parse
    import csv
    import io

    with page.expect_download() as dl:
        page.locator("#dash-export-csv").click()
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith("\ufeff".encode()), "Excel reads Japanese with the BOM"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert (
        rows and {r["department"] for r in rows} == {"営業部"} and {r["name"] for r in rows} == {"佐藤 花子"}
    )
    with page.expect_download() as dl:
        page.locator("#dash-export-xapi").click()
    statements = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert len(statements) == len(rows)
    assert all(st["verb"]["id"].endswith(("completed", "attempted")) for st in statements)
    assert all(st["context"]["registration"] for st in statements)
    # drill down: cohort → person → session, read-only and audited
    page.locator("#dash-person input").click()
    page.get_by_role("option").filter(has_text="佐藤 花子").first.click()
    page.locator("#dash-session input").click()
    page.get_by_role("option").first.click()
    page.locator("#dash-open").click()
    expect(page.locator("#dash-report")).to_contain_text("佐藤 花子（営業部）", timeout=30_000)
    shoot(page, screenshots / "38_dashboard.png")
    store = Store(staff.db_url)
    hr = store.find_user("suzuki")
    assert hr is not None and store.audit_entries(actor_id=hr.id, action="view_session")
    store.engine.dispose()
    page.reload()  # the same view comes back in this browser
    page.get_by_role("tab", name="ダッシュボード").click()
    page.wait_for_timeout(4000)
    expect(page.locator("#dash-departments")).to_contain_text("営業部", timeout=20_000)
    expect(page.locator("#dash-heat")).not_to_contain_text("開発部")
