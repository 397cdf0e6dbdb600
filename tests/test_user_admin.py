"""User management in the app (管理者): the same rules as the CLI, bulk CSV, audited; nobody
else may (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from simulator.app.permissions import AccessDenied
from simulator.app.services import Services

# ``svc`` (the application layer on SQLite, then PostgreSQL) comes from tests/conftest.py


def test_the_administrator_adds_changes_disables_and_resets(svc: Services) -> None:
    admin = svc.store.add_user("admin", "password-ad1", role="admin")
    u, generated = svc.add_user(
        admin, "yamada", role="trainee", department="営業部", display_name="山田 太郎"
    )
    assert generated and svc.store.authenticate("yamada", generated) is not None
    with pytest.raises(ValueError, match="既に存在"):
        svc.add_user(admin, "yamada")
    with pytest.raises(ValueError, match="8文字以上"):
        svc.add_user(admin, "short", password="abc")
    changed = svc.change_user(admin, "yamada", role="trainer", department="人事部")
    assert (changed.role, changed.department) == ("trainer", "人事部")
    new = svc.reset_password(admin, "yamada")
    assert (
        svc.store.authenticate("yamada", new) is not None
        and svc.store.authenticate("yamada", generated) is None
    )
    svc.disable_user(admin, "yamada")
    assert svc.store.authenticate("yamada", new) is None
    with pytest.raises(ValueError, match="自分"):
        svc.disable_user(admin, "admin")
    svc.enable_user(admin, "yamada")
    assert svc.store.authenticate("yamada", new) is not None, "enabled again, it signs in"
    actions = [e["action"] for e in svc.store.audit_entries(subject_user_id=u.id)]
    assert set(actions) == {"user_added", "user_changed", "password_reset", "user_disabled", "user_enabled"}


def test_bulk_add_from_csv_checks_every_row_first(svc: Services) -> None:
    admin = svc.store.add_user("admin", "password-ad1", role="admin")
    bad = "username,display_name,role,department\nsato,佐藤 花子,trainee,営業部\nsato,重複,trainee,営業部\nx,X,boss,営業部\n"
    added, problems = svc.add_users_csv(admin, bad)
    assert added == [] and svc.store.find_user("sato") is None, "nothing is added when a row is wrong"
    assert any("3行目" in p and "sato" in p for p in problems) and any(
        "4行目" in p and "boss" in p for p in problems
    )
    good = (
        "\ufeffusername,display_name,role,department\nsato,佐藤 花子,trainee,営業部\nkato,加藤 健,,開発部\n"
    )
    added, problems = svc.add_users_csv(admin, good)
    assert problems == [] and [a[0] for a in added] == ["sato", "kato"] and all(a[1] for a in added)
    kato = svc.store.find_user("kato")
    assert kato is not None and (kato.role, kato.department, kato.display_name) == (
        "trainee",
        "開発部",
        "加藤 健",
    )


def test_only_the_administrator_manages_users(svc: Services) -> None:
    for role in ("trainee", "trainer", "hr"):
        u = svc.store.add_user(f"u_{role}", "password-xx1", role=role)
        for call in (
            lambda u=u: svc.users(u),
            lambda u=u: svc.add_user(u, "newbie"),
            lambda u=u: svc.add_users_csv(u, "username\nnewbie\n"),
            lambda u=u: svc.disable_user(u, "u_trainee"),
            lambda u=u: svc.enable_user(u, "u_trainee"),
            lambda u=u: svc.reset_password(u, "u_trainee"),
            lambda u=u: svc.change_user(u, "u_trainee", role="admin"),
        ):
            with pytest.raises(AccessDenied):
                call()
    assert svc.store.find_user("newbie") is None and svc.store.find_user("u_trainee").role == "trainee"  # type: ignore[union-attr]
