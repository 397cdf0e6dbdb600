"""Score exports for HR and an LMS: CSV (one row per session, or per session × criterion) and
xAPI statements, from the stored scores (the reviewed score where a trainer reviewed one).

CSV is UTF-8 with a BOM (Excel opens Japanese correctly). Columns are documented in
``SESSION_COLUMNS`` / ``CRITERION_COLUMNS`` (and docs/EXPORTS.md). ``pseudonymise`` replaces
names, e-mails, user names and employee ids with a keyed hash (HMAC-SHA256 with a secret the
instances share), stable across exports, so rows still join without naming anyone.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from simulator.models import CRITERION_LABELS, SCENARIO_LABELS, CriterionId, ScenarioId
from simulator.store import Store
from simulator.store import schema as t

IRI = "https://kasuhara.example/xapi"  # the stable base of every activity id
VERBS = {
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "完了"),
    "attempted": ("http://adlnet.gov/expapi/verbs/attempted", "途中で終了"),
}
PASS_PERCENT = 70.0  # grade B and above

SESSION_COLUMNS: list[tuple[str, str]] = [
    ("session_id", "セッションID"),
    ("employee_id", "社員番号（LMS との照合用）"),
    ("email", "メールアドレス（LMS との照合用）"),
    ("username", "ユーザー名"),
    ("name", "氏名"),
    ("department", "部署"),
    ("scenario", "場面 ID"),
    ("scenario_label", "場面"),
    ("persona_id", "ペルソナ ID"),
    ("persona_version", "ペルソナの版"),
    ("difficulty", "難易度"),
    ("started_at", "開始（UTC, ISO 8601）"),
    ("ended_at", "終了（UTC, ISO 8601。途中なら空）"),
    ("outcome", "結果"),
    ("overall", "総合評価（%）"),
    ("grade", "評価（A〜D）"),
    ("reviewed", "研修担当の確認済み（1/0）"),
    ("machine_overall", "機械の採点（%）"),
    ("rubric", "ルーブリック ID@版"),
    ("judge", "判定器 ID"),
    ("rule_version", "総合評価の計算規則の版"),
    ("weights_version", "重みの版"),
]
CRITERION_COLUMNS: list[tuple[str, str]] = [
    ("session_id", "セッションID"),
    ("employee_id", "社員番号"),
    ("email", "メールアドレス"),
    ("username", "ユーザー名"),
    ("department", "部署"),
    ("scenario", "場面 ID"),
    ("criterion", "基準 ID"),
    ("criterion_label", "基準"),
    ("mean", "平均点（0〜3）"),
    ("best", "最高点（0〜3）"),
    ("percent", "達成度（%）"),
    ("violations", "違反の回数"),
    ("reviewed", "研修担当の確認済み（1/0）"),
    ("started_at", "開始（UTC）"),
]


def _key(store: Store) -> bytes:
    return store.secret("export_pseudonym_key", lambda: secrets.token_hex(32)).encode()


def _pseudo(key: bytes, value: str, kind: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


def _iso(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_day(text: str) -> datetime | None:
    """``2026-04-01`` as midnight UTC; empty: None; anything else: ``ValueError``."""
    text = (text or "").strip()
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def session_rows(
    store: Store,
    *,
    since: datetime | None = None,
    pseudonymise: bool = False,
    until: datetime | None = None,
    departments: tuple[str, ...] = (),
    personas: tuple[str, ...] = (),
    scenario: str | None = None,
) -> list[dict[str, Any]]:
    """Every ended or scored top-level session (retries are not attempts), oldest first,
    started in [``since``, ``until``), in ``departments`` (all when empty), of ``personas``."""
    s, u = t.sessions.c, t.users.c
    q = (
        select(t.sessions, u.username, u.display_name, u.email, u.employee_id)
        .join(t.users, u.id == s.user_id)
        .where(s.parent_id.is_(None), s.score.is_not(None))
    )
    if since is not None:
        q = q.where(s.created_at >= since)
    if departments:
        q = q.where(s.department.in_(departments))
    if until is not None:
        q = q.where(s.created_at < until)
    if personas:
        q = q.where(s.persona_id.in_(personas))
    if scenario:
        q = q.where(s.scenario == scenario)
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(s.created_at, s.id)).mappings().all()
    key = _key(store) if pseudonymise else b""
    out = []
    for r in rows:
        score = r["reviewed_score"] or r["score"] or {}
        machine = r["score"] or {}
        row = {
            "session_id": r["id"],
            "employee_id": r["employee_id"] or "",
            "email": r["email"] or "",
            "username": r["username"],
            "name": r["display_name"],
            "department": r["department"],
            "scenario": r["scenario"],
            "scenario_label": SCENARIO_LABELS[ScenarioId(r["scenario"])],
            "persona_id": r["persona_id"],
            "persona_version": r["persona_version"],
            "difficulty": r["difficulty"],
            "started_at": _iso(r["created_at"]),
            "ended_at": _iso(r["ended_at"]),
            "outcome": r["outcome"],
            "overall": score.get("overall"),
            "grade": score.get("grade", ""),
            "reviewed": 1 if r["reviewed_score"] else 0,
            "machine_overall": machine.get("overall"),
            "rubric": f"{r['rubric_id']}@{r['rubric_version']}",
            "judge": (score.get("judges") or [r["judge"]])[0],
            "rule_version": score.get("rule_version", ""),
            "weights_version": score.get("weights_version", 0),
            "criteria": score.get("criteria") or {},
            "_ended": r["ended_at"],
            "_started": r["created_at"],
        }
        if pseudonymise:
            uid = r["user_id"]
            pid = _pseudo(key, uid, "user")
            row.update(
                username=f"u-{pid}",
                name=f"受講者-{pid[:8]}",
                email=f"{pid}@pseudonymised.invalid" if r["email"] else "",
                employee_id=f"e-{_pseudo(key, r['employee_id'], 'employee')}" if r["employee_id"] else "",
            )
        out.append(row)
    return out


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one that starts like a formula (=, +, -, @, a
    tab or a carriage return) gets a leading apostrophe, so Excel never runs what someone typed
    as a name or a department (OWASP: CSV injection). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c for c, _ in columns])
    for r in rows:
        w.writerow([cell(r.get(c)) for c, _ in columns])
    return "\ufeff" + buf.getvalue()


def sessions_csv(rows: list[dict[str, Any]]) -> str:
    return _csv(SESSION_COLUMNS, rows)


def criteria_csv(rows: list[dict[str, Any]]) -> str:
    flat = []
    for r in rows:
        for cid in CriterionId:
            c = r["criteria"].get(cid.value) or {}
            flat.append(
                {
                    **{
                        k: r[k]
                        for k in ("session_id", "employee_id", "email", "username", "department", "scenario")
                    },
                    "criterion": cid.value,
                    "criterion_label": CRITERION_LABELS[cid],
                    "mean": c.get("mean"),
                    "best": c.get("best"),
                    "percent": c.get("percent"),
                    "violations": c.get("violations", 0),
                    "reviewed": r["reviewed"],
                    "started_at": r["started_at"],
                }
            )
    return _csv(CRITERION_COLUMNS, flat)


def _registration(session_id: str) -> str:
    """The session as a UUID (ids are 32 hex digits; another shape gets a stable UUID of it)."""
    try:
        return str(uuid.UUID(hex=session_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{IRI}/sessions/{session_id}"))


def _duration(start: datetime | None, end: datetime | None) -> str | None:
    if start is None or end is None:
        return None
    a = start if start.tzinfo else start.replace(tzinfo=UTC)
    b = end if end.tzinfo else end.replace(tzinfo=UTC)
    secs = max(0, int((b - a).total_seconds()))
    h, rest = divmod(secs, 3600)
    m, sec = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{sec}S"


def statements(
    rows: list[dict[str, Any]], home_page: str = "https://kasuhara.example"
) -> list[dict[str, Any]]:
    """One xAPI statement per session: completed (it ended) or attempted (stopped part-way)."""
    out = []
    for r in rows:
        verb = "completed" if r["_ended"] is not None and r["outcome"] != "stopped" else "attempted"
        overall = r["overall"]
        actor: dict[str, Any] = {"objectType": "Agent", "name": r["name"]}
        if r["email"]:
            actor["mbox"] = f"mailto:{r['email']}"
        else:
            actor["account"] = {"homePage": home_page, "name": r["employee_id"] or r["username"]}
        result: dict[str, Any] = {"completion": verb == "completed"}
        if overall is not None:
            result["score"] = {"scaled": round(overall / 100, 4), "raw": overall, "min": 0, "max": 100}
            result["success"] = overall >= PASS_PERCENT
        duration = _duration(r["_started"], r["_ended"])
        if duration:
            result["duration"] = duration
        vid, vja = VERBS[verb]
        out.append(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{IRI}/statements/{r['session_id']}")),
                "actor": actor,
                "verb": {"id": vid, "display": {"ja-JP": vja, "en-US": verb}},
                "object": {
                    "objectType": "Activity",
                    "id": f"{IRI}/personas/{r['persona_id']}",
                    "definition": {
                        "name": {"ja-JP": r["scenario_label"]},
                        "type": "http://adlnet.gov/expapi/activities/simulation",
                        "extensions": {f"{IRI}/ext/scenario": r["scenario"]},
                    },
                },
                "result": result,
                "context": {
                    "registration": _registration(r["session_id"]),
                    "platform": "kasuhara-simulator",
                    "language": "ja-JP",
                    "extensions": {
                        f"{IRI}/ext/rubric": r["rubric"],
                        f"{IRI}/ext/judge": r["judge"],
                        f"{IRI}/ext/persona-version": r["persona_version"],
                        f"{IRI}/ext/department": r["department"],
                        f"{IRI}/ext/reviewed": bool(r["reviewed"]),
                    },
                },
                "timestamp": r["ended_at"] or r["started_at"],
            }
        )
    return out
