"""Demo data at an HR scale: ``python -m simulator demo-data --trainees 1000 --sessions 100
--departments 20 --days 365`` (100,000 sessions in a few minutes).

Playing 100,000 sessions through the engine would take hours (about 0.2 s each), so a pool of
*template* sessions is played through the real engine first (scripted voice, the default
hybrid judge, every persona at four skill levels), and each stored session is a copy of one
template: its turns, per-turn scores, stored grade, per-criterion summary and filed drill, under
the trainee's own id, name, department and dates. Every row is what the app itself writes, so a
report, a history or a dashboard opened on a copied session reads like any other. Departments
differ in skill and trainees improve over the year, so the dashboard has something to show.

Rows are written in bulk (multi-row INSERTs on SQLite, ``COPY`` on PostgreSQL); the JSON of a
template is serialised once, not once per copy. The demo trainees share one argon2 hash of
:data:`simulator.demo.DEMO_PASSWORD` (hashing 1,000 passwords would take a minute by itself).
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Table, select

from simulator.models import Persona
from simulator.store import Store, User, _aware, _hasher, week_of
from simulator.store import schema as t

# The first three are the small demo's departments.
DEPARTMENT_NAMES = (
    "営業部", "開発部", "サポート部", "法人営業部", "第二営業部", "海外営業部", "技術サポート部",
    "カスタマーサクセス部", "経理部", "総務部", "法務部", "品質保証部", "製造部", "購買部",
    "物流部", "広報部", "マーケティング部", "情報システム部", "経営企画部", "施設管理部",
)  # fmt: skip

SKILLS = (0.1, 0.35, 0.6, 0.9)  # the template pool's skill levels
BATCH_SESSIONS = 500  # sessions per transaction


def department_names(n: int) -> tuple[str, ...]:
    if not 1 <= n <= len(DEPARTMENT_NAMES):
        raise ValueError(
            f"--departments は1〜{len(DEPARTMENT_NAMES)}にしてください / must be 1..{len(DEPARTMENT_NAMES)}"
        )
    return DEPARTMENT_NAMES[:n]


# --------------------------------------------------------------------------- templates


@dataclass
class Template:
    """One session played through the engine, as rows ready to copy (JSON already text), by
    table name."""

    id: str
    persona_id: str
    skill: int  # index into SKILLS
    created_at: datetime
    tables: dict[str, _Rows]


def _text_row(table: Table, row: Any) -> dict[str, Any]:
    out = {}
    for c in table.columns:
        v = row[c.name]
        if isinstance(c.type, JSON):
            v = None if v is None else json.dumps(v, ensure_ascii=False)
        out[c.name] = v
    if table is not t.sessions:
        out.pop("id", None)  # autoincrement: the copy gets its own
    return out


def play_templates(catalogue: Sequence[Persona], *, per_level: int, seed: int) -> list[Template]:
    """``per_level`` sessions of every persona at every skill level, through the real engine,
    stored in a scratch SQLite file and read back as rows."""
    from simulator.demo import maybe_file_drill, run_session
    from simulator.engine import Engine

    out: list[Template] = []
    with tempfile.TemporaryDirectory(prefix="kasuhara-templates-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'templates.sqlite3'}")
        engine = Engine(voice="scripted")
        rng = random.Random(f"templates|{seed}")
        try:
            users = [
                store.add_user(f"template_{k}", "template-password", role="trainee", department="テンプレート",
                               display_name=f"テンプレート{k}")
                for k in range(len(SKILLS))
            ]  # fmt: skip
            played: list[tuple[str, str, int]] = []
            started = datetime(2026, 1, 5, 1, tzinfo=UTC)
            for persona in catalogue:
                for k, skill in enumerate(SKILLS):
                    for _ in range(per_level):
                        user = users[k]
                        sid = uuid.uuid4().hex
                        session = run_session(engine, store, user, persona, skill=skill, rng=rng, session_id=sid,
                                              started=started)  # fmt: skip
                        maybe_file_drill(engine, store, session, persona, user, rng, skill)
                        played.append((sid, persona.id, k))
        finally:
            engine.close()
        with store.engine.connect() as conn:

            def rows(table: Table, sid: str) -> list[dict[str, Any]]:
                q = select(table).where(table.c.session_id == sid)
                return [_text_row(table, r) for r in conn.execute(q).mappings()]

            for sid, pid, k in played:
                head = conn.execute(select(t.sessions).where(t.sessions.c.id == sid)).mappings().one()
                tables = {"sessions": [_text_row(t.sessions, head)]}
                tables |= {name: rows(getattr(t, name), sid) for name in ORDER[1:]}
                out.append(Template(sid, pid, k, _aware(head["created_at"]),
                                    {name: _Rows.of(sid, r) for name, r in tables.items()}))  # fmt: skip
        store.engine.dispose()
    return out


# --------------------------------------------------------------------------- copies

_WHEN = re.compile(r"^\d+月\d+日( \d+時頃)?")
_JST = timedelta(hours=9)


@dataclass
class _Rows:
    """One table's rows of one template, with where the session-, user- and date-dependent
    values sit, so that a copy is a few list assignments per row."""

    cols: list[str]
    rows: list[list[Any]]
    dates: list[int]
    own: list[tuple[int, int]]  # (row, col) of text that names the template's session id

    @classmethod
    def of(cls, tpl_id: str, rows: list[dict[str, Any]]) -> _Rows:
        cols = list(rows[0]) if rows else []
        data = [[_aware(v) if isinstance(v, datetime) else v for v in r.values()] for r in rows]
        dates = sorted({i for r in data for i, v in enumerate(r) if isinstance(v, datetime)})
        own = [
            (n, i) for n, r in enumerate(data) for i, v in enumerate(r) if isinstance(v, str) and tpl_id in v
        ]
        return cls(cols, data, dates, own)


def copy_rows(tpl: Template, *, session_id: str, user: User, started: datetime) -> dict[str, _Rows]:
    """The template's rows as this trainee's session, started at ``started``."""
    delta = started - tpl.created_at
    out: dict[str, _Rows] = {}
    for name, src in tpl.tables.items():
        rows = [list(r) for r in src.rows]
        for r in rows:
            for i in src.dates:
                if r[i] is not None:
                    r[i] = r[i] + delta
        for n, i in src.own:
            rows[n][i] = rows[n][i].replace(tpl.id, session_id)
        for col, value in (("session_id", session_id), ("user_id", user.id), ("department", user.department),
                           ("user_role", user.role)):  # fmt: skip
            if col in src.cols:
                i = src.cols.index(col)
                for r in rows:
                    r[i] = value
        out[name] = _Rows(src.cols, rows, src.dates, [])
    head = out["sessions"]
    h = dict(zip(head.cols, head.rows[0], strict=True))
    head.rows[0][head.cols.index("id")] = session_id
    head.rows[0][head.cols.index("updated_at")] = h["ended_at"] or h["created_at"]
    summary = out["session_summary"]
    if summary.rows:  # the week it started in moves with the date
        summary.rows[0][summary.cols.index("week")] = week_of(started)
    drills = out["incident_reports"]
    if drills.rows:
        i = drills.cols.index("fields")
        when = started + _JST
        for r in drills.rows:
            fields = json.loads(r[i])
            fields["employee"] = user.display_name
            fields["when_where"] = _WHEN.sub(
                f"{when.month}月{when.day}日 {when.hour}時頃", fields["when_where"], 1
            )
            r[i] = json.dumps(fields, ensure_ascii=False)
    return out


ORDER = ("sessions", "turns", "scores", "session_criteria", "incident_reports", "session_summary")


def _sqlite_value(v: Any) -> Any:
    # the text SQLAlchemy's SQLite dialect writes for a DateTime, so that comparisons agree
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


class BulkWriter:
    """Writes rows in bulk through the driver: ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL (JSON is already text; booleans and dates are the driver's to convert)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pg = store.engine.dialect.name == "postgresql"

    def write(self, batch: dict[str, list[_Rows]]) -> None:
        with self.store.engine.begin() as conn:
            raw = conn.connection.driver_connection
            cur = raw.cursor()  # type: ignore[union-attr]
            try:
                for name in ORDER:
                    parts = [p for p in batch.get(name, []) if p.rows]
                    if not parts:
                        continue
                    cols = parts[0].cols
                    quoted = ", ".join(f'"{c}"' for c in cols)
                    if self.pg:
                        with cur.copy(f"COPY {name} ({quoted}) FROM STDIN") as cp:
                            for p in parts:
                                for r in p.rows:
                                    cp.write_row(r)
                    else:
                        marks = ", ".join("?" * len(cols))
                        cur.executemany(
                            f"INSERT INTO {name} ({quoted}) VALUES ({marks})",
                            [[_sqlite_value(v) for v in r] for p in parts for r in p.rows],
                        )
            finally:
                cur.close()


def _chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for it in items:
        chunk.append(it)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill(
    store: Store,
    catalogue: Sequence[Persona],
    *,
    trainees: int,
    sessions: int,
    departments: int,
    days: int,
    seed: int,
    per_level: int = 2,
    now: datetime | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fill ``store`` with ``trainees`` × ``sessions`` copied sessions over the last ``days``
    days. Trainees that already exist are skipped. Returns the counts and the seconds taken."""
    from simulator.demo import DEMO_PASSWORD, FAMILY, GIVEN, _session_id

    t0 = time.perf_counter()
    depts = department_names(departments)
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    log(
        f"雛形のセッションを実際のエンジンで作成中 / playing the template sessions ({len(catalogue)} personas × {len(SKILLS)} levels × {per_level}) ..."
    )
    templates = play_templates(catalogue, per_level=per_level, seed=seed)
    t_templates = time.perf_counter() - t0
    pool: dict[tuple[str, int], list[Template]] = {}
    for tpl in templates:
        pool.setdefault((tpl.persona_id, tpl.skill), []).append(tpl)
    persona_ids = [p.id for p in catalogue]
    dept_skill = {d: random.Random(f"{seed}|dept|{d}").uniform(-0.15, 0.15) for d in depts}
    password_hash = _hasher.hash(DEMO_PASSWORD)
    existing = {r for (r,) in store.engine.connect().execute(select(t.users.c.username))}
    writer = BulkWriter(store)
    made: list[User] = []
    user_rows = []
    for i in range(1, trainees + 1):
        username = f"demo_trainee_{i:04d}" if trainees > 99 else f"demo_trainee_{i:02d}"
        if username in existing:
            continue
        family = FAMILY[(i - 1) % len(FAMILY)]
        given = GIVEN[(i * 7 + (i // len(FAMILY)) + seed) % len(GIVEN)]
        u = User(uuid.uuid4().hex, username, f"{family} {given}", "trainee", depts[(i - 1) % len(depts)], True,
                 f"{username}@example.co.jp", f"E{i:05d}")  # fmt: skip
        made.append(u)
        user_rows.append({"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
                          "department": u.department, "password_hash": password_hash, "active": True,
                          "created_at": now - timedelta(days=days + 1), "email": u.email,
                          "employee_id": u.employee_id, "scope": None})  # fmt: skip
    with store.engine.begin() as conn:
        for chunk in _chunks(user_rows, 1000):
            conn.execute(t.users.insert(), chunk)
    n_sessions = n_turns = n_drills = 0
    for users in _chunks(made, max(1, BATCH_SESSIONS // max(1, sessions))):
        batch: dict[str, list[_Rows]] = {}
        for u in users:
            rng = random.Random(f"{seed}|{u.username}")
            base = rng.uniform(0.05, 0.55) + dept_skill[u.department]
            offsets = sorted(rng.uniform(0, days) for _ in range(sessions))
            order = rng.sample(persona_ids, k=len(persona_ids))
            for n, back in enumerate(reversed(offsets)):
                progress = n / max(1, sessions - 1)
                skill = base + 0.45 * progress + rng.uniform(-0.1, 0.1)
                level = min(range(len(SKILLS)), key=lambda k: abs(SKILLS[k] - skill))
                pid = order[n % len(order)]
                tpl = rng.choice(pool[(pid, level)])
                day = now - timedelta(days=days) + timedelta(days=days - back)
                started = day.replace(hour=rng.randint(0, 9), minute=rng.randint(0, 59))
                if started > now - timedelta(hours=1):  # never in the future
                    started -= timedelta(days=1)
                rows = copy_rows(
                    tpl, session_id=_session_id(seed, u.username, n, "demo-scale"), user=u, started=started
                )
                for name, part in rows.items():
                    batch.setdefault(name, []).append(part)
                n_sessions += 1
                n_turns += len(rows["turns"].rows)
                n_drills += len(rows["incident_reports"].rows)
        writer.write(batch)
        if n_sessions % 10_000 < BATCH_SESSIONS:
            log(
                f"  {n_sessions:,} / {len(made) * sessions:,} セッション / sessions  ({time.perf_counter() - t0:.0f} s)"
            )
    return {
        "trainees": len(made),
        "skipped": trainees - len(made),
        "sessions": n_sessions,
        "turns": n_turns,
        "drills": n_drills,
        "templates": len(templates),
        "template_seconds": t_templates,
        "seconds": time.perf_counter() - t0,
        "departments": depts,
        "since": (now - timedelta(days=days)).date(),
    }
