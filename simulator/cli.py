"""The command line: ``python -m simulator`` (also installed as ``kasuhara``).

Each sub-command imports what it needs when it runs, so ``personas list`` does not pay
for the analyser or Gradio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simulator.errors import DataFileError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_DATA = 2


def _paths_or_default(paths: list[str], directory: Path) -> list[Path]:
    from simulator.library import data_files

    if not paths:
        return data_files(directory)
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(data_files(p) if p.is_dir() else [p])
    return out


def cmd_personas_list(args: argparse.Namespace) -> int:
    from simulator.library import load_personas

    try:
        ps = load_personas(Path(args.dir)) if args.dir else load_personas()
    except DataFileError as e:
        print(e.message, file=sys.stderr)
        return EXIT_BAD_DATA
    rows = [
        {
            "id": p.id,
            "scenario": p.scenario.value,
            "difficulty": p.difficulty.value,
            "difficulty_label": p.difficulty_label,
            "channel": p.channel,
            "title": p.title,
            "client": f"{p.client.company} {p.client.role} {p.client.name}",
            "version": p.version,
        }
        for p in sorted(ps.values(), key=lambda p: (p.scenario.value, p.difficulty.value, p.id))
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(
                f"{r['id']:<34} {r['scenario']:<28} {r['difficulty_label']}  {r['channel']:<8} {r['title']}"
            )
        print(f"{len(rows)} 件 / {len(rows)} personas")
    return EXIT_OK


def _validate(paths: list[Path], loader: object, kind: str) -> int:
    bad = 0
    for path in paths:
        try:
            loader(path)  # type: ignore[operator]
        except DataFileError as e:
            print(e.message, file=sys.stderr)
            bad += 1
    if not paths:
        print(f"検証する{kind}ファイルがありません / no {kind} files", file=sys.stderr)
        return EXIT_BAD_DATA
    if bad:
        print(f"{len(paths)} 件中 {bad} 件にエラー / {bad} of {len(paths)} files invalid", file=sys.stderr)
        return EXIT_BAD_DATA
    print(f"{len(paths)} 件すべて有効です / all {len(paths)} files valid")
    return EXIT_OK


def cmd_personas_validate(args: argparse.Namespace) -> int:
    from simulator.library import load_persona
    from simulator.paths import PERSONAS_DIR

    paths = _paths_or_default(args.paths, PERSONAS_DIR)
    return _validate(paths, load_persona, "ペルソナ")


def cmd_rubrics_validate(args: argparse.Namespace) -> int:
    from simulator.library import load_rubric
    from simulator.paths import RUBRICS_DIR

    return _validate(_paths_or_default(args.paths, RUBRICS_DIR), load_rubric, "ルーブリック")


def cmd_schema(args: argparse.Namespace) -> int:
    from simulator.library import write_schemas

    for p in write_schemas():
        print(f"書き出しました / wrote {p}")
    return EXIT_OK


def cmd_score(args: argparse.Namespace) -> int:
    from simulator.scoring.cli import run_score

    return run_score(args.in_path, args.out_path, args.judge)


def cmd_eval(args: argparse.Namespace) -> int:
    from simulator.evaluation import run_cv, run_eval

    if args.cv:
        return run_cv(as_json=args.json)
    if not args.file:
        print("評価するファイルを指定してください / give a labelled JSONL file (or --cv)", file=sys.stderr)
        return EXIT_BAD_DATA
    return run_eval(args.file, args.judge, as_json=args.json)


def cmd_judge_train(args: argparse.Namespace) -> int:
    from simulator.scoring import train as tr
    from simulator.scoring.learned import MODEL_PATH

    out = Path(args.out) if args.out else MODEL_PATH
    model = tr.train(Path(args.corpus) if args.corpus else tr.CORPUS_DIR)
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == tr.dumps(model)
        print(
            "同一 / identical" if same else f"{out}: 再学習の結果と違います / differs from a fresh training"
        )
        return EXIT_OK if same else EXIT_FAIL
    tr.write(model, out)
    import hashlib

    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{out}: {model['corpus_records']} 件で学習 / trained on {model['corpus_records']} replies "
          f"(corpus sha256 {model['corpus_sha256'][:12]}, model sha256 {sha[:12]}, vocab {len(model['vocab'])})")  # fmt: skip
    return EXIT_OK


def cmd_rubrics_lock(args: argparse.Namespace) -> int:
    from simulator.library import get_rubric
    from simulator.scoring.version import write_lock

    errors = write_lock([get_rubric()])
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print("rubrics/versions.lock を更新しました / lock written")
    return EXIT_BAD_DATA if errors else EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from simulator.engine import run_simulate

    return run_simulate(args)


def cmd_play(args: argparse.Namespace) -> int:
    from simulator.engine import run_play

    return run_play(args)


def cmd_users(args: argparse.Namespace) -> int:
    from simulator.accounts import run_users

    return run_users(args)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo_data

    return run_demo_data(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from simulator.ui.app import main as serve

    return serve()


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="kasuhara",
        description="カスハラ対応ロールプレイ訓練シミュレータ / customer-harassment role-play trainer",
    )
    sub = ap.add_subparsers(dest="command", required=True)

    personas = sub.add_parser("personas", help="ペルソナの一覧と検証 / list and validate personas")
    psub = personas.add_subparsers(dest="personas_command", required=True)
    pl = psub.add_parser("list", help="一覧 / list")
    pl.add_argument("--json", action="store_true", help="JSON で出力 / print JSON")
    pl.add_argument("--dir", default=None, help="ペルソナのディレクトリ / personas directory")
    pl.set_defaults(func=cmd_personas_list)
    pv = psub.add_parser("validate", help="検証 / validate files")
    pv.add_argument("paths", nargs="*", help="ファイルまたはディレクトリ / files or directories")
    pv.set_defaults(func=cmd_personas_validate)

    rubrics = sub.add_parser("rubrics", help="ルーブリックの検証 / validate rubrics")
    rsub = rubrics.add_subparsers(dest="rubrics_command", required=True)
    rv = rsub.add_parser("validate", help="検証 / validate files")
    rv.add_argument("paths", nargs="*")
    rv.set_defaults(func=cmd_rubrics_validate)

    rl = rsub.add_parser(
        "lock", help="内容のハッシュを versions.lock に記録 / record the content hash of each version"
    )
    rl.set_defaults(func=cmd_rubrics_lock)

    jd = sub.add_parser("judge", help="ハイブリッド判定器の学習 / train the hybrid judge")
    jsub = jd.add_subparsers(dest="judge_command", required=True)
    jt = jsub.add_parser(
        "train", help="rubrics/corpus から学習し rubrics/model/hybrid.json を書く / train the model file"
    )
    jt.add_argument("--corpus", default=None, help="ラベル付きコーパスのディレクトリ / corpus directory")
    jt.add_argument("--out", default=None, help="出力先 / output file")
    jt.add_argument(
        "--check", action="store_true", help="書かずに同一か確認 / only check the shipped file is reproduced"
    )
    jt.set_defaults(func=cmd_judge_train)

    sch = sub.add_parser("schema", help="JSON Schema を書き出す / write JSON Schemas beside the data")
    sch.set_defaults(func=cmd_schema)

    sc = sub.add_parser("score", help="返答を採点 / score replies (JSONL)")
    sc.add_argument("--in", dest="in_path", required=True, help="入力 JSONL / input JSONL")
    sc.add_argument("--out", dest="out_path", default="-", help="出力 JSONL（- は標準出力）")
    sc.add_argument("--judge", default="hybrid", choices=["hybrid", "rules", "llm", "both"])
    sc.set_defaults(func=cmd_score)

    ev = sub.add_parser("eval", help="判定器をラベルと比較 / evaluate a judge against labels")
    ev.add_argument("file", nargs="?")
    ev.add_argument(
        "--judge",
        default=None,
        choices=["hybrid", "rules", "llm"],
        help="省略時は hybrid と rules を並べて表示 / default: hybrid and rules side by side",
    )
    ev.add_argument("--cv", action="store_true", help="学習コーパスの交差検証 / cross-validate on the corpus")
    ev.add_argument("--json", action="store_true", help="指標を JSON で出力 / print metrics as JSON")
    ev.set_defaults(func=cmd_eval)

    for name, func, hlp in (
        ("simulate", cmd_simulate, "返答ファイルでセッションを実行 / run a session from a replies file"),
        ("play", cmd_play, "端末で練習 / practise in the terminal"),
    ):
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument(
            "--persona", required=name == "play", help="ペルソナ ID（simulate --scripts では all も可）"
        )
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--voice", choices=["scripted", "llm"], default=None)
        sp.add_argument("--judge", choices=["hybrid", "rules", "llm", "both"], default=None)
        sp.add_argument("--max-turns", type=int, default=None)
        if name == "simulate":
            src = sp.add_mutually_exclusive_group(required=True)
            src.add_argument("--replies", help="1行1返答のファイル / one reply per line")
            src.add_argument(
                "--scripts",
                help="返答スクリプト集（YAML）を全ペルソナで実行し、応答の整合性を確認 / "
                "run reply scripts against personas and check the client's responsiveness",
            )
            sp.add_argument(
                "--out", help="--scripts: 会話記録（JSON）の書き出し先 / where transcripts are written"
            )
            sp.add_argument("--json", action="store_true", help="JSON で出力 / print JSON")
        sp.set_defaults(func=func)

    us = sub.add_parser("users", help="アカウント管理 / manage accounts")
    usub = us.add_subparsers(dest="users_command", required=True)
    ua = usub.add_parser("add")
    ua.add_argument("username")
    ua.add_argument("--role", choices=["trainee", "trainer", "hr", "admin"], default="trainee")
    ua.add_argument("--department", default="")
    ua.add_argument("--display-name", default="")
    ua.add_argument("--password", default=None, help="省略時は自動生成 / generated when omitted")
    usub.add_parser("list").add_argument("--json", action="store_true")
    ud = usub.add_parser("disable")
    ud.add_argument("username")
    ur = usub.add_parser("reset-password")
    ur.add_argument("username")
    ur.add_argument("--password", default=None)
    us.set_defaults(func=cmd_users)

    dd = sub.add_parser("demo-data", help="デモデータを作成 / fill the store with simulated sessions")
    dd.add_argument("--trainees", type=int, default=5)
    dd.add_argument("--sessions", type=int, default=3, help="受講者1人あたり / per trainee")
    dd.add_argument("--seed", type=int, default=0)
    dd.set_defaults(func=cmd_demo_data)

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

    sv = sub.add_parser("serve", help="ブラウザアプリを起動 / start the browser app")
    sv.set_defaults(func=cmd_serve)
    return ap


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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DataFileError as e:
        print(e.message, file=sys.stderr)
        return EXIT_BAD_DATA
    except KeyError as e:
        print(str(e.args[0]) if e.args else str(e), file=sys.stderr)
        return EXIT_BAD_DATA
    except BrokenPipeError:
        return EXIT_OK
