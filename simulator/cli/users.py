"""``kasuhara users add|list|disable|enable|scope|reset-password``."""

from __future__ import annotations

import argparse


def cmd_users(args: argparse.Namespace) -> int:
    from simulator.accounts import run_users

    return run_users(args)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    us = sub.add_parser("users", help="アカウント管理 / manage accounts")
    usub = us.add_subparsers(dest="users_command", required=True)
    ua = usub.add_parser("add")
    ua.add_argument("username")
    ua.add_argument("--role", choices=["trainee", "trainer", "hr", "admin"], default="trainee")
    ua.add_argument("--department", default="")
    ua.add_argument("--display-name", default="")
    ua.add_argument("--password", default=None, help="省略時は自動生成 / generated when omitted")
    ua.add_argument("--email", default="", help="メールアドレス（書き出しの照合用） / e-mail for exports")
    ua.add_argument(
        "--employee-id", default="", help="社員番号（書き出しの照合用） / employee id for exports"
    )
    usub.add_parser("list").add_argument("--json", action="store_true")
    ud = usub.add_parser("disable")
    ud.add_argument("username")
    usub.add_parser("enable", help="無効にしたアカウントを戻す / re-enable an account").add_argument(
        "username"
    )
    usc = usub.add_parser(
        "scope", help="人事・研修担当が見られる部署を限る / limit a staff account to departments"
    )
    usc.add_argument("username")
    usc.add_argument(
        "--departments", default="", help="カンマ区切り（空ならすべて） / comma-separated, empty: all"
    )
    ur = usub.add_parser("reset-password")
    ur.add_argument("username")
    ur.add_argument("--password", default=None)
    us.set_defaults(func=cmd_users)
