"""CSV and xAPI exports: what an LMS import and Excel need, validated (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from simulator.app.exports import CRITERION_COLUMNS, SESSION_COLUMNS
from simulator.app.permissions import AccessDenied
from simulator.app.services import Services
from simulator.library import load_personas

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "xapi_statement.schema.json").read_text(encoding="utf-8")
)
PERSONA = sorted(load_personas())[0]


def _played(svc: Services) -> tuple[object, object]:
    hr = svc.store.add_user("hr", "password-h1", role="hr", department="人事部")
    a = svc.store.add_user("a", "password-a1", department="営業部", display_name="佐藤 花子",
                           email="sato@example.co.jp", employee_id="E1001")  # fmt: skip
    b = svc.store.add_user(
        "b", "password-b1", department="開発部", display_name="加藤 健", employee_id="E1002"
    )
    for u, replies in (
        (a, ["お話は伺います。ただ、契約の範囲外のためお受けできません。"] * 2),
        (b, ["承知しました。"]),
    ):
        s = svc.start(u, PERSONA, seed=1)
        for r in replies:
            if not svc.load(u, s.id).ended_at:
                svc.reply(u, s.id, r)
        svc.end(u, s.id)
    return hr, a


def test_csv_opens_in_excel_and_matches_by_email_or_employee_id(svc: Services) -> None:
    hr, _a = _played(svc)
    text = svc.export(hr, "csv")
    assert text.startswith("\ufeff"), "UTF-8 with a BOM so Excel reads Japanese"
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == [c for c, _ in SESSION_COLUMNS]
    by = {r["employee_id"]: r for r in rows}
    assert set(by) == {"E1001", "E1002"} and by["E1001"]["email"] == "sato@example.co.jp"
    assert by["E1001"]["name"] == "佐藤 花子" and by["E1001"]["department"] == "営業部"
    assert float(by["E1001"]["overall"]) > float(by["E1002"]["overall"])
    per = list(csv.DictReader(io.StringIO(svc.export(hr, "csv", per="criterion").lstrip("\ufeff"))))
    assert list(per[0]) == [c for c, _ in CRITERION_COLUMNS] and len(per) == 2 * 5
    only = list(csv.DictReader(io.StringIO(svc.export(hr, "csv", department="営業部").lstrip("\ufeff"))))
    assert [r["employee_id"] for r in only] == ["E1001"]
    later = svc.export(hr, "csv", since=datetime.now(UTC) + timedelta(days=1))
    assert len(later.strip().splitlines()) == 1, "only the header"


def test_xapi_statements_validate_against_the_statement_schema(svc: Services) -> None:
    hr, _a = _played(svc)
    statements = json.loads(svc.export(hr, "xapi"))
    assert len(statements) == 2
    for st in statements:
        jsonschema.validate(st, SCHEMA)
        score = st["result"]["score"]
        assert (
            score["min"] <= score["raw"] <= score["max"] and abs(score["scaled"] * 100 - score["raw"]) < 0.01
        )
        assert st["verb"]["id"].endswith(("/completed", "/attempted"))
        assert st["object"]["id"] == f"https://kasuhara.example/xapi/personas/{PERSONA}"
    sato = next(st for st in statements if "mbox" in st["actor"])
    assert sato["actor"]["mbox"] == "mailto:sato@example.co.jp"
    kato = next(st for st in statements if "account" in st["actor"])
    assert kato["actor"]["account"]["name"] == "E1002"
    assert {st["context"]["extensions"]["https://kasuhara.example/xapi/ext/rubric"] for st in statements}


def test_pseudonymised_exports_name_nobody_but_still_join(svc: Services) -> None:
    hr, _a = _played(svc)
    text = svc.export(hr, "csv", pseudonymise=True)
    assert "佐藤" not in text and "sato@example.co.jp" not in text and "E1001" not in text
    again = svc.export(hr, "csv", pseudonymise=True)
    assert text == again, "the same person gets the same pseudonym in every export"
    for st in json.loads(svc.export(hr, "xapi", pseudonymise=True)):
        jsonschema.validate(st, SCHEMA)
        assert "佐藤" not in json.dumps(st, ensure_ascii=False)


def test_only_hr_and_the_administrator_export_and_every_export_is_audited(svc: Services) -> None:
    hr, a = _played(svc)
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    for u in (a, trainer):
        with pytest.raises(AccessDenied):
            svc.export(u, "csv")  # type: ignore[arg-type]
    svc.export(hr, "xapi", department="営業部")  # type: ignore[arg-type]
    [entry] = svc.audit_log(hr, action="export")  # type: ignore[arg-type]
    assert entry["detail"]["kind"] == "xapi" and entry["detail"]["department"] == "営業部"


def test_the_command_line_exports_csv_and_xapi(tmp_path: Path, rules_engine: object) -> None:
    import os
    import subprocess
    import sys

    from simulator.store import Store

    svc = Services(Store(f"sqlite:///{tmp_path / 'kasuhara.sqlite3'}"), rules_engine)  # type: ignore[arg-type]
    _played(svc)
    svc.store.engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env["KASUHARA_DATA_DIR"] = str(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "simulator", "export", *args], capture_output=True, text=True,
                              env=env, check=False, encoding="utf-8")  # fmt: skip

    out = tmp_path / "sales.csv"
    done = cli("csv", "--department", "営業部", "--out", str(out))
    assert done.returncode == 0
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode()) and "佐藤 花子".encode() in raw
    statements = json.loads(cli("xapi", "--since", "2000-01-01").stdout)
    assert isinstance(statements, list) and len(statements) == 2
    for st in statements:
        jsonschema.validate(st, SCHEMA)
    assert cli("csv", "--since", "yesterday").returncode == 2


def test_every_column_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "EXPORTS.md").read_text(encoding="utf-8")
    for column, meaning in SESSION_COLUMNS + CRITERION_COLUMNS:
        assert f"| `{column}` | {meaning} |" in doc, column


def test_a_name_typed_like_a_formula_stays_text_in_the_csv(svc: Services) -> None:
    """CSV injection: what someone typed as a name or department never runs in Excel."""
    hr = svc.store.add_user("hr", "password-h1", role="hr", department="人事部")
    u = svc.store.add_user("evil", "password-e1", department="=HYPERLINK(\"http://x\")",
                           display_name="+cmd|' /C calc'!A0", email="@SUM(1)")  # fmt: skip
    s = svc.start(u, PERSONA, seed=2)
    svc.reply(u, s.id, "お話は伺います。")
    svc.end(u, s.id)
    for per in ("session", "criterion"):
        rows = list(csv.DictReader(io.StringIO(svc.export(hr, "csv", per=per).lstrip("\ufeff"))))
        r = next(x for x in rows if x["username"] == "evil")
        assert r["department"] == '\'=HYPERLINK("http://x")' and r["email"] == "'@SUM(1)"
        if per == "session":
            assert r["name"] == "'+cmd|' /C calc'!A0" and float(r["overall"]) >= 0, "numbers stay numbers"
        assert all(not str(v).startswith(("=", "+", "@")) for v in r.values())
