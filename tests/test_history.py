"""わたしの履歴: one's own sessions only, retries as branches of their session, the trend per
scenario numbered by attempt, first/best/latest over attempts (a retry is not one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.app.services import Services
from simulator.engine import Engine
from simulator.store import Store
from simulator.ui import history
from simulator.ui import strings as S

FIRM = "恐れ入りますが、契約の範囲外のため、会社の方針としてお受けできません。"
WEAK = "承知しました。今回に限り無償で対応いたします。"
RETAIL = "out_of_contract_demand_standard_retail"
HOTEL = "contract_termination_threat_standard_hotel"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(voice="scripted")
    yield e
    e.close()


@pytest.fixture()
def svc(db_url: str, engine: Engine) -> Services:
    return Services(Store(db_url), engine)


def _done(svc: Services, user, persona: str, replies: list[str]) -> str:  # type: ignore[no-untyped-def]
    s = svc.start(user, persona, seed=1)
    for r in replies:
        s, _ = svc.reply(user, s.id, r)
        if s.ended_at:
            break
    if not s.ended_at:
        svc.end(user, s.id)
    return s.id


def test_retries_are_branches_of_their_session_not_attempts(svc: Services) -> None:
    u = svc.store.add_user("ueda", "password123", display_name="上田 花")
    first = _done(svc, u, RETAIL, [WEAK, WEAK])
    branch, _ = svc.retry(u, first, 1, FIRM)
    svc.end(u, branch.id)
    _done(svc, u, RETAIL, [FIRM, FIRM])
    _done(svc, u, HOTEL, [FIRM])

    rows = history.history_rows(svc, u)
    titles = [r[2] for r in rows]
    marked = [i for i, t in enumerate(titles) if t.startswith("↳")]
    assert len(rows) == 4 and len(marked) == 1
    assert titles[marked[0]].startswith(S.HISTORY_BRANCH.format(turn=1))
    # the branch sits right under its own session (the first retail attempt)
    parent_row = marked[0] - 1
    assert rows[parent_row][0] <= rows[marked[0]][0] and "↳" not in titles[parent_row]

    best = {r[0]: r for r in history.best_rows(svc, u)}
    assert best["契約外の対応要求"][1] == 2, "two attempts at the retail scene; the retry is not counted"
    assert best["契約解除をほのめかした嫌がらせ"][1] == 1

    # the trend shows one scenario (the latest practised), numbered by attempt
    frame = history.trend_frame(svc, u)
    assert set(frame["n"]) == {1}
    retail = history.trend_frame(svc, u, "out_of_contract_demand")
    assert set(retail["n"]) == {1, 2} and set(retail["回"]) == {"1回目", "2回目"}
    assert set(history.trend_frame(svc, u, "")["n"]) == {1, 2, 3}
    assert history.trend_title("out_of_contract_demand").startswith("基準ごとの推移（契約外の対応要求")


def test_a_staff_users_own_history_is_their_own(svc: Services) -> None:
    trainee = svc.store.add_user("sakai", "password123")
    trainer = svc.store.add_user("tanaka", "password123", role="trainer")
    _done(svc, trainee, RETAIL, [FIRM])
    assert svc.history(trainer) == []
    assert history.history_rows(svc, trainer) == []
    mine = _done(svc, trainer, HOTEL, [FIRM])
    assert [r["id"] for r in svc.history(trainer)] == [mine]


def test_the_trend_shows_the_figures_of_each_report(svc: Services) -> None:
    from simulator.ui.history import trend_frame

    u = svc.store.add_user("trend_user", "password-t1")
    pid = sorted(svc.personas())[0]
    reports = []
    for seed, replies in ((1, ["お話は伺います。", "承知しました。今回に限り対応いたします。"]),
                          (2, ["恐れ入りますが、契約の範囲外のためお受けできません。"] * 2)):  # fmt: skip
        s = svc.start(u, pid, seed=seed)
        for r in replies:
            if svc.load(u, s.id).ended_at:
                break
            svc.reply(u, s.id, r)
        svc.end(u, s.id)
        reports.append(svc.report(u, s.id))
    frame = trend_frame(svc, u, reports[0].persona.scenario)
    for n, rep in enumerate(reports, start=1):
        shown = {row["基準"]: row["平均点"] for _i, row in frame[frame["n"] == n].iterrows()}
        expected = {c.label: round(c.mean, 2) for c in rep.criteria.values() if c.mean is not None}
        assert shown == expected, f"attempt {n}"
