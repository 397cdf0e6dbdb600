"""``kasuhara personas list|validate|export|import``.

``export`` and ``import`` work on the catalogue in the database (the one the app reads):
an imported file is validated and stored as the persona's next version.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simulator.cli._common import EXIT_BAD_DATA, EXIT_OK, paths_or_default, validate
from simulator.errors import DataFileError


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


def cmd_personas_validate(args: argparse.Namespace) -> int:
    from simulator.library import load_persona
    from simulator.paths import PERSONAS_DIR

    paths = paths_or_default(args.paths, PERSONAS_DIR)
    return validate(paths, load_persona, "ペルソナ")


def _catalog():  # type: ignore[no-untyped-def]
    from simulator.app.catalog import PersonaCatalog
    from simulator.store import Store

    catalog = PersonaCatalog(Store())
    catalog.seed()
    return catalog


def cmd_personas_export(args: argparse.Namespace) -> int:
    from simulator.app.cards import card_json

    catalog = _catalog()
    versions = [r["version"] for r in catalog.versions(args.id)]
    if not versions:
        print(f"ペルソナ「{args.id}」はありません / unknown persona {args.id!r}", file=sys.stderr)
        return EXIT_BAD_DATA
    version = args.version or max(versions)
    if version not in versions:
        print(f"ペルソナ「{args.id}」v{version} はありません / unknown version", file=sys.stderr)
        return EXIT_BAD_DATA
    out = (
        card_json(catalog.get(args.id, version))
        if args.format == "card"
        else catalog.yaml_of(args.id, version)
    )
    sys.stdout.write(out)
    return EXIT_OK


def cmd_personas_import(args: argparse.Namespace) -> int:
    from simulator.app.services import persona_text_from

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"{path}: 読めません / cannot read: {e}", file=sys.stderr)
        return EXIT_BAD_DATA
    catalog = _catalog()
    try:
        persona = catalog.save(
            persona_text_from(text, str(path)), None, source="import", note=f"CLI: {path.name}"
        )
    except DataFileError as e:
        # the studio's validator names the field; the file is the one given
        print(e.message if str(path) in e.message else f"{path}: {e.message}", file=sys.stderr)
        return EXIT_BAD_DATA
    if args.publish:
        catalog.publish(persona.id, persona.version)
    state = "公開しました / published" if args.publish else "未公開 / not published (--publish で公開)"
    print(f"{persona.id} v{persona.version} を保存しました / stored — {state}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    personas = sub.add_parser("personas", help="ペルソナの一覧と検証 / list and validate personas")
    psub = personas.add_subparsers(dest="personas_command", required=True)
    pl = psub.add_parser("list", help="一覧 / list")
    pl.add_argument("--json", action="store_true", help="JSON で出力 / print JSON")
    pl.add_argument("--dir", default=None, help="ペルソナのディレクトリ / personas directory")
    pl.set_defaults(func=cmd_personas_list)
    pv = psub.add_parser("validate", help="検証 / validate files")
    pv.add_argument("paths", nargs="*", help="ファイルまたはディレクトリ / files or directories")
    pv.set_defaults(func=cmd_personas_validate)
    pe = psub.add_parser("export", help="YAML または Character Card V2 で標準出力へ / export to stdout")
    pe.add_argument("id")
    pe.add_argument("--format", choices=["yaml", "card"], default="yaml")
    pe.add_argument("--version", type=int, default=None, help="省略時は最新の版 / default: the latest")
    pe.set_defaults(func=cmd_personas_export)
    pi = psub.add_parser("import", help="YAML または Character Card V2 を新しい版として保存 / import a file")
    pi.add_argument("file")
    pi.add_argument(
        "--publish", action="store_true", help="保存した版を公開する / publish the stored version"
    )
    pi.set_defaults(func=cmd_personas_import)
