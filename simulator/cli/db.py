"""``kasuhara db upgrade|current`` (Alembic)."""

from __future__ import annotations

import argparse

from simulator.cli._common import EXIT_FAIL, EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from simulator.store import default_url
    from simulator.store import migrate as m

    url = args.url or default_url()
    engine = create_engine(url)
    try:
        if args.db_command == "upgrade":
            applied = m.upgrade(engine)
            if applied:
                print(f"スキーマを {', '.join(applied)} まで更新しました / upgraded through {applied[-1]}")
            else:
                print(f"スキーマは最新です（{m.head()}） / already at head {m.head()}")
            return EXIT_OK
        st = m.status(engine)
        where = "（Alembic 導入前のデータベース）" if st.legacy else ""
        print(f"現在 / current: {st.current or '—'}{where}　最新 / head: {st.head}")
        return EXIT_OK if not st.behind else EXIT_FAIL
    finally:
        engine.dispose()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="データベースのスキーマ / database schema (Alembic)")
    dsub = db.add_subparsers(dest="db_command", required=True)
    du = dsub.add_parser(
        "upgrade", help="最新のスキーマへ更新（デプロイ手順） / upgrade to the head revision"
    )
    du.add_argument("--url", help="SQLAlchemy URL（省略時は設定の database_url / SQLite）")
    du.set_defaults(func=cmd_db)
    dc = dsub.add_parser("current", help="現在のスキーマの版 / the database's revision")
    dc.add_argument("--url")
    dc.set_defaults(func=cmd_db)
