"""Account management: ``python -m simulator users add|list|disable|enable|scope|reset-password``, and
the administrator created on the first start of an empty store."""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from simulator.store import ROLE_LABELS, NotFound, Store

ADMIN_USERNAME = "admin"


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_admin(store: Store) -> str | None:
    """On an empty store, create the administrator and return its one-time password."""
    if store.count_users() > 0:
        return None
    password = generate_password()
    store.add_user(ADMIN_USERNAME, password, role="admin", display_name="管理者")
    return password


def first_start_message(password: str) -> str:
    return (
        "初回起動のため管理者アカウントを作成しました / created the administrator account:\n"
        f"  ユーザー名 / username: {ADMIN_USERNAME}\n"
        f"  パスワード / password: {password}\n"
        "  この表示は一度だけです。受講者は次のコマンドで追加できます / add trainees with:\n"
        "  .venv/bin/python -m simulator users add USERNAME --role trainee --department 営業部"
    )


def run_users(args: argparse.Namespace) -> int:
    store = Store()
    cmd = args.users_command
    try:
        if cmd == "add":
            password = args.password or generate_password()
            u = store.add_user(
                args.username,
                password,
                role=args.role,
                department=args.department,
                display_name=args.display_name,
                email=args.email,
                employee_id=args.employee_id,
            )
            print(f"追加しました / added: {u.username} ({ROLE_LABELS[u.role]}, {u.department or '-'})")
            if not args.password:
                print(f"初期パスワード / initial password: {password}")
        elif cmd == "list":
            users = store.list_users()
            if args.json:
                print(
                    json.dumps(
                        [
                            {
                                "username": u.username,
                                "display_name": u.display_name,
                                "role": u.role,
                                "department": u.department,
                                "active": u.active,
                                "scope": list(u.scope),
                            }
                            for u in users
                        ],
                        ensure_ascii=False,
                        indent=2,
                    )
                )
            else:
                for u in users:
                    state = "有効" if u.active else "無効"
                    print(f"{u.username:<20} {ROLE_LABELS[u.role]:<8} {u.department or '-':<12} {state}")
        elif cmd == "disable":
            store.set_active(args.username, False)
            print(f"無効にしました / disabled: {args.username}")
        elif cmd == "enable":
            store.set_active(args.username, True)
            print(f"有効にしました（サインインし直してもらいます） / enabled: {args.username}")
        elif cmd == "scope":
            store.set_scope(args.username, (args.departments or "").replace("、", ",").split(","))
            shown = args.departments or "すべて / all"
            print(f"閲覧できる部署を設定しました / scope set: {args.username} → {shown}")
        elif cmd == "reset-password":
            password = args.password or generate_password()
            store.set_password(args.username, password)
            print(f"パスワードを再設定しました / password reset: {args.username}")
            if not args.password:
                print(f"新しいパスワード / new password: {password}")
    except NotFound:
        print(f"ユーザー「{args.username}」はいません / no such user", file=sys.stderr)
        return 2
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0
