"""The repositories: users, sessions, turns, scores and incident reports in SQL (SQLite by
default, PostgreSQL with ``KASUHARA_DATABASE_URL``).

Every turn is written when it happens, so a restarted app (or another instance behind a
load balancer) can resume any session. Nothing here decides who may read what: the
application layer (``simulator.app.permissions``) checks that before it calls a repository.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, create_engine, event, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from simulator.models import Assessment, DirectorState, Session, Turn
from simulator.paths import data_dir
from simulator.store import schema as t
from simulator.store.migrate import ensure_current

ROLES = ("trainee", "trainer", "hr", "admin")
ROLE_LABELS = {"trainee": "受講者", "trainer": "研修担当", "hr": "人事・総務", "admin": "管理者"}

# argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 37 ms a check on this 2-core
# machine, against 184 ms at argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes), which a burst of
# 50 sign-ins turned into timeouts. Hashes made with other parameters still verify and are
# rehashed at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class TurnConflict(Exception):
    """Another turn of the session was stored first (a second tab, or another instance)."""


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str
    department: str
    active: bool
    email: str = ""
    employee_id: str = ""
    scope: tuple[str, ...] = ()  # departments a staff account is limited to; () for all

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def default_url() -> str:
    """``database_url`` from the settings (``KASUHARA_DATABASE_URL`` or ``[storage]``), else
    SQLite in the data directory."""
    from simulator.config import load_settings

    url = load_settings().database_url
    if url:
        return url
    d = data_dir()
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(d) / 'kasuhara.sqlite3'}"


def _now() -> datetime:
    return datetime.now(UTC)


def _as_user(row: Any) -> User:
    m = row._mapping
    return User(
        row.id, row.username, row.display_name, row.role, row.department, bool(row.active),
        m.get("email") or "", m.get("employee_id") or "", tuple(m.get("scope") or ()),
    )  # fmt: skip


class Store:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        kwargs: dict[str, Any] = {"future": True}
        if not self.url.startswith("sqlite"):
            # a connection the server dropped (a PostgreSQL restart) is replaced, not handed out
            kwargs["pool_pre_ping"] = True
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if self.url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
        self.engine: Engine = create_engine(self.url, **kwargs)
        self._kept: OrderedDict[str, tuple[Turn, ...]] = OrderedDict()
        self._kept_lock = threading.Lock()
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        # an empty database is created at the head revision; one that is behind is refused
        # (``python -m simulator db upgrade`` is the deploy step: see ``store.migrate``)
        self.applied = ensure_current(self.engine)

    # ------------------------------------------------------------------ users

    def add_user(
        self,
        username: str,
        password: str,
        *,
        role: str = "trainee",
        department: str = "",
        display_name: str = "",
        email: str = "",
        employee_id: str = "",
    ) -> User:
        username = username.strip()
        self.check_new_user(username, password, role)
        uid = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                t.users.insert().values(
                    id=uid,
                    username=username,
                    display_name=display_name or username,
                    role=role,
                    department=department,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=_now(),
                    email=email.strip() or None,
                    employee_id=employee_id.strip() or None,
                )
            )
        return User(
            uid,
            username,
            display_name or username,
            role,
            department,
            True,
            email.strip(),
            employee_id.strip(),
        )

    def check_new_user(self, username: str, password: str, role: str) -> None:
        """The rules for a new account (the CLI, the app and the CSV bulk add): ``ValueError``."""
        if not username:
            raise ValueError("ユーザー名を入力してください / username is required")
        if not USERNAME.fullmatch(username):
            raise ValueError(
                "ユーザー名は半角の英数字と . _ - @ で64文字までにしてください（例: sato.hanako） / "
                "username: up to 64 of A-Z a-z 0-9 . _ - @"
            )
        if role not in ROLES:
            raise ValueError(
                f"役割「{role}」は使えません（{', '.join(ROLES)} のいずれか） / unknown role {role!r}"
            )
        check_password(password)
        if self.find_user(username) is not None:
            raise ValueError(f"ユーザー「{username}」は既に存在します / user exists")

    def find_user(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        return _as_user(row) if row else None

    def get_user(self, user_id: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFound(user_id)
        return _as_user(row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.username)).all()
        return [_as_user(r) for r in rows]

    def count_users(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.users)).scalar_one())

    def authenticate(self, username: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        if row is None or not row.active:
            # Spend the same time as a real check so usernames cannot be probed by timing.
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY_HASH, password)
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            self._set_hash(row.id, _hasher.hash(password))
        return _as_user(row)

    def _set_hash(self, user_id: str, h: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=h))

    def set_password(self, username: str, password: str) -> None:
        u = self.find_user(username)
        if u is None:
            raise NotFound(username)
        check_password(password)
        self._set_hash(u.id, _hasher.hash(password))
        self.delete_tokens_of(u.id)  # a reset password signs the account out everywhere

    def set_active(self, username: str, active: bool) -> None:
        u = self.find_user(username)
        if u is None:
            raise NotFound(username)
        with self.engine.begin() as conn:
            conn.execute(update(t.users).where(t.users.c.id == u.id).values(active=active))
            if not active:  # a disabled account is signed out everywhere
                conn.execute(t.auth_tokens.delete().where(t.auth_tokens.c.user_id == u.id))

    def set_role_and_department(
        self, username: str, *, role: str | None = None, department: str | None = None
    ) -> User:
        u = self.find_user(username)
        if u is None:
            raise NotFound(username)
        values: dict[str, Any] = {}
        if role is not None:
            if role not in ROLES:
                raise ValueError(
                    f"役割「{role}」は使えません（{', '.join(ROLES)} のいずれか） / unknown role {role!r}"
                )
            values["role"] = role
        if department is not None:
            values["department"] = department.strip()
        if values:
            with self.engine.begin() as conn:
                conn.execute(update(t.users).where(t.users.c.id == u.id).values(**values))
                if "role" in values and values["role"] != u.role:  # new rights: sign in again
                    conn.execute(t.auth_tokens.delete().where(t.auth_tokens.c.user_id == u.id))
        return self.get_user(u.id)

    # ------------------------------------------------------------------ sign-in tokens

    def add_token(self, token_hash: str, user_id: str, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.auth_tokens.insert().values(
                    token_hash=token_hash, user_id=user_id, created_at=_now(), expires_at=expires_at
                )
            )

    def token_user(self, token_hash: str) -> User | None:
        """The active user a live token belongs to."""
        q = (
            select(t.users)
            .join(t.auth_tokens, t.auth_tokens.c.user_id == t.users.c.id)
            .where(t.auth_tokens.c.token_hash == token_hash, t.auth_tokens.c.expires_at > _now())
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return _as_user(row) if row is not None and row.active else None

    def delete_token(self, token_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.auth_tokens.delete().where(t.auth_tokens.c.token_hash == token_hash))

    def delete_tokens_of(self, user_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.auth_tokens.delete().where(t.auth_tokens.c.user_id == user_id))

    def secret(self, name: str, make: Any) -> str:
        """A value every instance shares (made once by ``make()``, the first writer wins)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.app_secrets.c.value).where(t.app_secrets.c.name == name)).first()
        if row is not None:
            return str(row.value)
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(t.app_secrets.insert().values(name=name, value=str(make()), created_at=_now()))
        with self.engine.connect() as conn:
            return str(
                conn.execute(select(t.app_secrets.c.value).where(t.app_secrets.c.name == name)).scalar_one()
            )

    # ------------------------------------------------------------------ persona versions

    def add_persona_version(
        self,
        persona_id: str,
        version: int,
        yaml_text: str,
        *,
        title: str,
        scenario: str,
        published: bool,
        source: str,
        note: str = "",
        created_by: str | None = None,
    ) -> bool:
        """Insert one version; False when that (id, version) already exists (versions never change)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    t.persona_versions.insert().values(
                        persona_id=persona_id, version=version, yaml=yaml_text, title=title, scenario=scenario,
                        published=published, source=source, note=note[:500], created_by=created_by,
                        created_at=_now(),
                    )
                )  # fmt: skip
        except IntegrityError:
            return False
        return True

    def persona_versions(
        self, persona_id: str | None = None, *, published_only: bool = False
    ) -> list[dict[str, Any]]:
        """Version headers (without the YAML), by persona then version."""
        c = t.persona_versions.c
        cols = [
            c.persona_id,
            c.version,
            c.title,
            c.scenario,
            c.published,
            c.source,
            c.note,
            c.created_by,
            c.created_at,
        ]
        q = select(*cols)
        if persona_id:
            q = q.where(c.persona_id == persona_id)
        if published_only:
            q = q.where(c.published.is_(True))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(c.persona_id, c.version)).mappings().all()]

    def persona_yaml(self, persona_id: str, version: int) -> str | None:
        c = t.persona_versions.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.yaml).where(c.persona_id == persona_id, c.version == version)).first()
        return None if row is None else str(row.yaml)

    def set_published(self, persona_id: str, version: int, published: bool) -> None:
        c = t.persona_versions.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.persona_versions)
                .where(c.persona_id == persona_id, c.version == version)
                .values(published=published)
            ).rowcount
        if not done:
            raise NotFound(f"{persona_id} v{version}")

    # ------------------------------------------------------------------ score overrides

    def add_override(
        self,
        session_id: str,
        turn_idx: int,
        criterion: str,
        *,
        machine_score: int | None,
        score: int,
        reason: str,
        reviewer: User,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.score_overrides.insert().values(
                    session_id=session_id, turn_idx=turn_idx, criterion=criterion, machine_score=machine_score,
                    score=score, reason=reason[:500], reviewer_id=reviewer.id, created_at=_now(),
                )
            )  # fmt: skip

    def overrides(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """The overrides in force (the latest per session, turn and criterion), with the
        reviewer's name; oldest first."""
        o = t.score_overrides.c
        q = select(t.score_overrides, t.users.c.display_name.label("reviewer_name")).join(
            t.users, t.users.c.id == o.reviewer_id
        )
        if session_id:
            q = q.where(o.session_id == session_id)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q.order_by(o.id)).mappings().all()]
        latest: dict[tuple[str, int, str], dict[str, Any]] = {}
        for r in rows:
            latest[(r["session_id"], r["turn_idx"], r["criterion"])] = r
        return list(latest.values())

    def set_reviewed_score(self, session: Session, score: Any) -> None:
        """Store the score with overrides applied beside the machine's, and the summary rows."""
        with self.engine.begin() as conn:
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.id == session.id)
                .values(reviewed_score=score.model_dump(mode="json"), reviewed_overall=score.overall)
            )
            self._write_summary(conn, session.id, score, reviewed=True)

    def reviewed_score(self, session_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.sessions.c.reviewed_score).where(t.sessions.c.id == session_id)
            ).first()
        return dict(row.reviewed_score) if row is not None and row.reviewed_score else None

    # ------------------------------------------------------------------ assignments

    def add_assignment(
        self, persona_id: str, due: Any, *, department: str | None, user_id: str | None, note: str, by: User
    ) -> int:
        with self.engine.begin() as conn:
            r = conn.execute(
                t.assignments.insert().values(
                    persona_id=persona_id, due=due, department=department, user_id=user_id, note=note[:500],
                    created_by=by.id, created_at=_now(),
                )
            )  # fmt: skip
            key = r.inserted_primary_key
            assert key is not None
            return int(key[0])

    def assignments_for(self, user: User) -> list[dict[str, Any]]:
        """What is assigned to the user: by name, or to their department."""
        a = t.assignments.c
        cond = a.user_id == user.id
        if user.department:
            cond = cond | (a.department == user.department)
        with self.engine.connect() as conn:
            return [
                dict(r) for r in conn.execute(select(t.assignments).where(cond).order_by(a.due)).mappings()
            ]

    def all_assignments(self) -> list[dict[str, Any]]:
        a = t.assignments.c
        q = select(t.assignments, t.users.c.display_name.label("assignee_name")).outerjoin(
            t.users, t.users.c.id == a.user_id
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(a.due, a.id)).mappings()]

    def users_in(self, department: str) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.users).where(t.users.c.department == department, t.users.c.active.is_(True))
            ).all()
        return [_as_user(r) for r in rows]

    def completed_after(self, user_ids: list[str], persona_id: str, since: datetime) -> set[str]:
        """Who of ``user_ids`` ended a practice (not a retry) of the persona since ``since``."""
        if not user_ids:
            return set()
        s = t.sessions.c
        q = select(s.user_id).where(
            s.user_id.in_(user_ids), s.persona_id == persona_id, s.parent_id.is_(None),
            s.ended_at.is_not(None), s.created_at >= since,
        )  # fmt: skip
        with self.engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(q)}

    # ------------------------------------------------------------------ rubric weights

    def add_weights_version(
        self, rubric_id: str, weights: dict[str, dict[str, float]], *, note: str, by: User | None
    ) -> int:
        c = t.rubric_weights.c
        for _attempt in range(5):
            with self.engine.connect() as conn:
                top = conn.execute(select(func.max(c.version)).where(c.rubric_id == rubric_id)).scalar()
            version = int(top or 0) + 1
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        t.rubric_weights.insert().values(
                            rubric_id=rubric_id, version=version, weights=weights, published=False,
                            note=note[:500], created_by=by.id if by else None, created_at=_now(),
                        )
                    )  # fmt: skip
                return version
            except IntegrityError:
                continue
        raise RuntimeError("version conflict")

    def weights_versions(self, rubric_id: str) -> list[dict[str, Any]]:
        c = t.rubric_weights.c
        with self.engine.connect() as conn:
            q = select(t.rubric_weights).where(c.rubric_id == rubric_id).order_by(c.version)
            return [dict(r) for r in conn.execute(q).mappings()]

    def publish_weights(self, rubric_id: str, version: int) -> None:
        """Publish one version (the others are unpublished): new scores use it."""
        c = t.rubric_weights.c
        with self.engine.begin() as conn:
            if not conn.execute(update(t.rubric_weights).where(c.rubric_id == rubric_id, c.version == version)
                                .values(published=True)).rowcount:  # fmt: skip
                raise NotFound(f"weights v{version}")
            conn.execute(
                update(t.rubric_weights)
                .where(c.rubric_id == rubric_id, c.version != version)
                .values(published=False)
            )

    # ------------------------------------------------------------------ audit log (append-only)

    def audit(
        self,
        actor: User,
        action: str,
        *,
        subject_user_id: str | None = None,
        session_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.audit_log.insert().values(
                    at=_now(),
                    actor_id=actor.id,
                    actor_role=actor.role,
                    action=action,
                    subject_user_id=subject_user_id,
                    session_id=session_id,
                    detail=detail or {},
                )
            )

    def audit_entries(
        self,
        *,
        subject_user_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        departments: list[str] | None = None,
        own_id: str | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Entries newest first, with the actor's and the subject's names (and the subject's
        department). ``departments``: only entries about people in them (and ``own_id``'s own
        actions)."""
        actor = t.users.alias("actor")
        subject = t.users.alias("subject")
        a = t.audit_log.c
        q = (
            select(
                t.audit_log,
                actor.c.display_name.label("actor_name"),
                subject.c.display_name.label("subject_name"),
                subject.c.department.label("subject_department"),
            )
            .join(actor, actor.c.id == a.actor_id)
            .outerjoin(subject, subject.c.id == a.subject_user_id)
        )
        if subject_user_id:
            q = q.where(a.subject_user_id == subject_user_id)
        if actor_id:
            q = q.where(a.actor_id == actor_id)
        if action:
            q = q.where(a.action == action)
        if since is not None:
            q = q.where(a.at >= since)
        if until is not None:
            q = q.where(a.at < until)
        if departments is not None:
            mine = a.actor_id == own_id if own_id else false()
            q = q.where(or_(subject.c.department.in_(departments), mine))
        q = q.order_by(a.at.desc(), a.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings().all()]

    # ------------------------------------------------------------------ sessions

    def owner_department(self, session_id: str) -> tuple[str, str]:
        """The session's owner and the department it was practised in (``NotFound``)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.sessions.c.user_id, t.sessions.c.department).where(t.sessions.c.id == session_id)
            ).first()
        if row is None:
            raise NotFound(session_id)
        return str(row.user_id), str(row.department or "")

    def set_scope(self, username: str, departments: list[str]) -> None:
        u = self.find_user(username)
        if u is None:
            raise NotFound(username)
        value = sorted({d.strip() for d in departments if d.strip()}) or None
        with self.engine.begin() as conn:
            conn.execute(update(t.users).where(t.users.c.id == u.id).values(scope=value))

    def create_session(self, session: Session, user: User, *, difficulty: str = "") -> None:
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                t.sessions.insert().values(
                    id=session.id,
                    user_id=user.id,
                    user_role=user.role,
                    department=user.department,
                    persona_id=session.persona_id,
                    persona_version=session.persona_version,
                    scenario=session.scenario.value,
                    difficulty=difficulty,
                    rubric_id=session.rubric_id,
                    rubric_version=session.rubric_version,
                    seed=session.seed,
                    voice=session.voice,
                    judge=session.judge,
                    opening=session.opening,
                    state=session.state.model_dump(mode="json"),
                    outcome=session.outcome.value,
                    parent_id=session.parent_id,
                    branch_turn=session.branch_turn,
                    created_at=session.created_at,
                    updated_at=now,
                    ended_at=session.ended_at,
                )
            )
            for turn in session.turns:  # a retry branch starts with the copied earlier turns
                self._insert_turn(conn, session, user, turn, copied=True)

    def _insert_turn(
        self, conn: Any, session: Session, user: User, turn: Turn, *, copied: bool = False
    ) -> None:
        conn.execute(
            t.turns.insert().values(
                session_id=session.id,
                user_id=user.id,
                user_role=user.role,
                idx=turn.index,
                client_before=turn.client_before,
                trainee=turn.trainee,
                client_after=turn.client_after,
                closing=turn.closing,
                state=turn.state.model_dump(mode="json"),
                voice=turn.voice,
                notices=turn.notices,
                review_flag=turn.review_flag,
                assessments=[a.model_dump(mode="json") for a in turn.assessments],
                created_at=turn.created_at,
            )
        )
        rows = []
        for n, a in enumerate(turn.assessments):
            for cid, cs in a.scores.items():
                rows.append(
                    {
                        "session_id": session.id,
                        "turn_idx": turn.index,
                        "user_id": user.id,
                        "user_role": user.role,
                        "scenario": session.scenario.value,
                        "persona_id": session.persona_id,
                        "persona_version": session.persona_version,
                        "rubric_id": a.rubric_id,
                        "rubric_version": a.rubric_version,
                        "judge": a.judge,
                        "criterion": cid.value,
                        "score": cs.score,
                        "primary": n == 0,
                        "copied": copied,
                        "created_at": turn.created_at,
                    }
                )
        if rows:
            conn.execute(t.scores.insert(), rows)

    def record_turn(self, session: Session, user: User, turn: Turn) -> None:
        """Write one turn and the session's new state in one transaction (``user`` owns it)."""
        if user.id != session.user_id:
            raise ValueError(f"session {session.id} is not {user.username}'s")
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    self._insert_turn(conn, session, user, turn)
                    self._update_header(conn, session)
                known = self._known_turns(session.id)
                if len(known) == turn.index - 1:  # what this instance knows, and this turn
                    self._keep_turns(session.id, [*known, turn])
                return
            except IntegrityError as e:  # (session_id, idx) is unique: this turn number is taken
                raise TurnConflict(session.id) from e
            except OperationalError:
                # the database went away or stayed locked past its timeout: the transaction was
                # rolled back, so the same write is tried again, then the caller is told
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def update_session(self, session: Session, user: User, *, score: Any = None) -> None:
        """Write the session's header; ``score`` (a SessionScore) is stored as its grade."""
        if user.id != session.user_id:
            raise ValueError(f"session {session.id} is not {user.username}'s")
        with self.engine.begin() as conn:
            self._update_header(conn, session, score=score)

    def session_score(self, session_id: str) -> dict[str, Any] | None:
        """The stored score of a session (None until it has ended)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.sessions.c.score).where(t.sessions.c.id == session_id)).first()
        return dict(row.score) if row is not None and row.score else None

    def _update_header(self, conn: Any, session: Session, score: Any = None) -> None:
        values: dict[str, Any] = {
            "state": session.state.model_dump(mode="json"),
            "outcome": session.outcome.value,
            "updated_at": _now(),
            "ended_at": session.ended_at,
        }
        if score is not None:
            values["overall"] = score.overall
            values["score"] = score.model_dump(mode="json")
        conn.execute(update(t.sessions).where(t.sessions.c.id == session.id).values(**values))
        if score is not None:
            reviewed = conn.execute(
                select(t.sessions.c.reviewed_score).where(t.sessions.c.id == session.id)
            ).scalar_one_or_none()
            if not reviewed:  # a reviewed score, once there, is what summaries show
                self._write_summary(conn, session.id, score)

    @staticmethod
    def _write_summary(conn: Any, session_id: str, score: Any, *, reviewed: bool = False) -> None:
        """The session's per-criterion rows, replaced whenever its score is (re)stored."""
        s = t.sessions.c
        h = conn.execute(
            select(s.user_id, s.department, s.scenario, s.persona_id, s.persona_version, s.difficulty,
                   s.parent_id, s.created_at).where(s.id == session_id)
        ).one()  # fmt: skip
        conn.execute(t.session_criteria.delete().where(t.session_criteria.c.session_id == session_id))
        rows = [
            {
                "session_id": session_id,
                "user_id": h.user_id,
                "department": h.department,
                "scenario": h.scenario,
                "persona_id": h.persona_id,
                "persona_version": h.persona_version,
                "difficulty": h.difficulty,
                "branch": h.parent_id is not None,
                "criterion": cid,
                "mean": c.get("mean"),
                "best": c.get("best"),
                "percent": c.get("percent"),
                "violations": int(c.get("violations") or 0),
                "scored": int(c.get("scored") or 0),
                "not_applicable": int(c.get("not_applicable") or 0),
                "overall": score.overall,
                "rubric_id": score.rubric_id,
                "rubric_version": score.rubric_version,
                "judge": (score.judges or [""])[0],
                "rule_version": score.rule_version,
                "created_at": h.created_at,
                "reviewed": reviewed,
            }
            for cid, c in score.criteria.items()
        ]
        if rows:
            conn.execute(t.session_criteria.insert(), rows)
        conn.execute(t.session_summary.delete().where(t.session_summary.c.session_id == session_id))
        created = _aware(h.created_at)
        firm = score.criteria.get("firm") or {}
        conn.execute(
            t.session_summary.insert().values(
                session_id=session_id, user_id=h.user_id, department=h.department, scenario=h.scenario,
                persona_id=h.persona_id, persona_version=h.persona_version, difficulty=h.difficulty,
                branch=h.parent_id is not None, rubric_id=score.rubric_id, rubric_version=score.rubric_version,
                judge=(score.judges or [""])[0], rule_version=score.rule_version, created_at=created,
                week=week_of(created), overall=score.overall, conceded=int(firm.get("violations") or 0),
                reviewed=reviewed,
                **{c: (score.criteria.get(c) or {}).get("percent") for c in t.SUMMARY_CRITERIA},
            )
        )  # fmt: skip

    def criterion_rows(
        self, *, user_id: str | None = None, scenario: str | None = None, limit: int = 5000
    ) -> list[dict[str, Any]]:
        """Per-session, per-criterion summaries (top-level sessions only), oldest first, at most
        ``limit`` rows (the newest)."""
        c = t.session_criteria.c
        q = select(t.session_criteria).where(c.branch.is_(False))
        if user_id:
            q = q.where(c.user_id == user_id)
        if scenario:
            q = q.where(c.scenario == scenario)
        q = q.order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in reversed(conn.execute(q).mappings().all())]

    def load_session(self, session_id: str, *, check: Callable[[str, str], None] | None = None) -> Session:
        """The session with its turns (``NotFound`` when there is none). ``check(owner,
        department)`` runs on the header before any turn is read (a permission check).

        A stored turn never changes, so the turns this instance has read or written are kept
        (the sessions last used): only turns stored since, by any instance, are read again."""
        with self.engine.connect() as conn:
            h = conn.execute(select(t.sessions).where(t.sessions.c.id == session_id)).first()
            if h is None:
                raise NotFound(session_id)
            if check is not None:
                check(str(h.user_id), str(h.department or ""))
            known = self._known_turns(session_id)
            q = select(t.turns).where(t.turns.c.session_id == session_id).order_by(t.turns.c.idx)
            rows = conn.execute(q.where(t.turns.c.idx > len(known))).all()
            turns = [*known, *(_as_turn(r) for r in rows)]
            if known and any(turn.index != i for i, turn in enumerate(turns, 1)):
                turns = [_as_turn(r) for r in conn.execute(q).all()]  # not as kept: all of them
        if all(turn.index == i for i, turn in enumerate(turns, 1)):
            self._keep_turns(session_id, turns)
        else:
            self._forget_turns(session_id)
        return Session(
            id=h.id,
            user_id=h.user_id,
            persona_id=h.persona_id,
            persona_version=h.persona_version,
            rubric_id=h.rubric_id,
            rubric_version=h.rubric_version,
            scenario=h.scenario,
            seed=h.seed,
            voice=h.voice,
            judge=h.judge,
            opening=h.opening,
            state=DirectorState.model_validate(h.state),
            parent_id=h.parent_id,
            branch_turn=h.branch_turn,
            created_at=_aware(h.created_at),
            ended_at=_aware(h.ended_at) if h.ended_at else None,
            turns=turns,
        )

    # the turns of the sessions last used, by session id (a new list is handed out every time)
    KEPT_SESSIONS = 256

    def _known_turns(self, session_id: str) -> tuple[Turn, ...]:
        with self._kept_lock:
            kept = self._kept.get(session_id, ())
            if kept:
                self._kept.move_to_end(session_id)
            return kept

    def _keep_turns(self, session_id: str, turns: list[Turn]) -> None:
        with self._kept_lock:
            self._kept[session_id] = tuple(turns)
            self._kept.move_to_end(session_id)
            while len(self._kept) > self.KEPT_SESSIONS:
                self._kept.popitem(last=False)

    def _forget_turns(self, session_id: str) -> None:
        with self._kept_lock:
            self._kept.pop(session_id, None)

    def list_sessions(
        self,
        *,
        user_id: str | None = None,
        scenario: str | None = None,
        department: str | None = None,
        departments: list[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Session headers, newest first, filtered by owner, scenario and department(s)."""
        q = select(t.sessions, t.users.c.username, t.users.c.display_name).join(
            t.users, t.users.c.id == t.sessions.c.user_id
        )
        if user_id:
            q = q.where(t.sessions.c.user_id == user_id)
        if scenario:
            q = q.where(t.sessions.c.scenario == scenario)
        if department:
            q = q.where(t.sessions.c.department == department)
        if departments is not None:
            q = q.where(t.sessions.c.department.in_(departments))
        q = q.order_by(t.sessions.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [dict(r) for r in rows]

    def review_flags(self, session_ids: list[str]) -> dict[str, int]:
        """How many turns of each session are flagged for review (one query)."""
        if not session_ids:
            return {}
        c = t.turns.c
        q = (
            select(c.session_id, func.count())
            .where(c.session_id.in_(session_ids), c.review_flag.is_(True))
            .group_by(c.session_id)
        )
        with self.engine.connect() as conn:
            return {sid: int(n) for sid, n in conn.execute(q).all()}

    def descendants(self, session_id: str) -> list[str]:
        """The ids of every retry branched (directly or not) from the session, oldest level first."""
        out: list[str] = []
        frontier = [session_id]
        with self.engine.connect() as conn:
            while frontier:
                frontier = list(
                    conn.execute(
                        select(t.sessions.c.id)
                        .where(t.sessions.c.parent_id.in_(frontier))
                        .order_by(t.sessions.c.created_at)
                    ).scalars()
                )
                out.extend(frontier)
        return out

    def latest_open_session(self, user_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.sessions.c.id)
                .where(t.sessions.c.user_id == user_id, t.sessions.c.outcome == "in_progress")
                .order_by(t.sessions.c.updated_at.desc())
                .limit(1)
            ).first()
        return row.id if row else None

    def score_rows(self, *, user_id: str | None = None, limit: int = 20_000) -> list[dict[str, Any]]:
        """Primary-judge per-turn score rows, at most ``limit``; a retry branch's copies of its
        parent's turns are left out, so no reply counts twice."""
        q = select(t.scores).where(t.scores.c.primary.is_(True), t.scores.c.copied.is_(False))
        if user_id:
            q = q.where(t.scores.c.user_id == user_id)
        q = q.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(t.scores.c.created_at)).mappings().all()]

    # ------------------------------------------------------------------ incident reports

    def save_incident_report(
        self,
        session_id: str,
        user: User,
        fields: dict[str, str],
        checks: list[dict[str, Any]],
        score: int | None,
    ) -> None:
        """Keep one filed 報告 by ``user`` (the session's owner)."""
        with self.engine.begin() as conn:
            # every submission is kept: the first is the one that counts, the rest are practice
            conn.execute(
                t.incident_reports.insert().values(
                    session_id=session_id,
                    user_id=user.id,
                    user_role=user.role,
                    fields=fields,
                    checks=checks,
                    score=score,
                    created_at=_now(),
                )
            )

    def incident_report(self, session_id: str) -> dict[str, Any] | None:
        """The session's first filed 報告 (the one its grade counts), with ``attempts``: how many
        were filed in all."""
        rows = self.incident_reports(session_id)
        if not rows:
            return None
        return {**rows[0], "attempts": len(rows)}

    def incident_reports(self, session_id: str) -> list[dict[str, Any]]:
        """Every 報告 filed for the session, oldest first (none is ever replaced)."""
        q = (
            select(t.incident_reports)
            .where(t.incident_reports.c.session_id == session_id)
            .order_by(t.incident_reports.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings().all()]


WRITE_ATTEMPTS = 3  # a turn's write, when the database drops the connection or stays locked

USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


def check_password(password: str) -> None:
    """8 to 256 characters that can be typed and stored (no control characters, no lone
    surrogates): ``ValueError`` in Japanese and English."""
    if len(password) < 8:
        raise ValueError("パスワードは8文字以上にしてください / password must be 8+ characters")
    if len(password) > 256:
        raise ValueError("パスワードは256文字までにしてください / password must be at most 256 characters")
    if re.search("[\x00-\x1f\x7f\ud800-\udfff]", password):
        raise ValueError("パスワードに制御文字は使えません / no control characters in a password")


def week_of(dt: datetime) -> date:
    """The Monday (JST) of the week ``dt`` falls in: HR's weekly trend counts weeks in Japan."""
    d = _aware(dt) + timedelta(hours=9)
    return (d - timedelta(days=d.weekday())).date()


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _as_turn(r: Any) -> Turn:
    return Turn(
        index=r.idx,
        client_before=r.client_before,
        trainee=r.trainee,
        client_after=r.client_after,
        closing=r.closing,
        state=DirectorState.model_validate(r.state),
        voice=r.voice,
        notices=list(r.notices),
        review_flag=bool(r.review_flag),
        assessments=[Assessment.model_validate(a) for a in r.assessments],
        created_at=_aware(r.created_at),
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL loses no committed turn when the app is killed (only on a power cut
    # before the next checkpoint) and spares an fsync per turn
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_DUMMY_HASH = _hasher.hash("not-a-real-password")
