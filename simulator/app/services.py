"""What the app does, without Gradio: every operation takes the signed-in user and checks
on the server, through ``permissions``, what that user may do and touch before it calls a
repository. The UI modules only translate to widgets."""

from __future__ import annotations

import contextlib
import secrets
import threading
import weakref
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from simulator.app import permissions
from simulator.app.catalog import PersonaCatalog
from simulator.app.permissions import AccessDenied, Capability
from simulator.director import initial_state
from simulator.drill import DrillItem
from simulator.engine import Engine, drain
from simulator.errors import DataFileError
from simulator.library import get_persona, load_yaml_text
from simulator.models import CriterionId, Outcome, Persona, ScenarioId, Session, Turn
from simulator.report import JST, build_report
from simulator.report_model import Branch, DrillSection, Report
from simulator.scoring.session import SessionScore, score_session
from simulator.store import NotFound, Store, TurnConflict, User

MAX_REPLY_CHARS = 2000


VERIFY_SLOTS = 2  # password checks at once: one per core


def check_reply(text: str) -> str:
    """The reply as it will be stored (``text.clean_input``), or ``ReplyInputError``: empty, or
    over ``MAX_REPLY_CHARS`` (refused, never cut: the trainee shortens it)."""
    from simulator.text import clean_input

    text = clean_input(text)
    if not text.strip():
        raise ReplyInputError("返答が空です。ひとこと入力してから送ってください。")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyInputError(f"返答が長すぎます（{MAX_REPLY_CHARS}文字まで）。要点を絞ってください。")
    return text


@dataclass
class Services:
    store: Store
    engine: Engine
    catalog: PersonaCatalog = field(default=None)  # type: ignore[assignment]
    _verify_slots: Any = field(default=None, repr=False)
    _turn_locks: weakref.WeakValueDictionary[str, threading.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.catalog is None:
            self.catalog = PersonaCatalog(self.store)
            self.catalog.seed()  # the shipped files, the first time this database sees them

    @classmethod
    def create(cls, store: Store | None = None, engine: Engine | None = None) -> Services:
        return cls(store or Store(), engine or Engine())

    def _scoring_rubric(self) -> tuple[Any, int]:
        """The rubric new scores are computed with: the file's, with the published weights."""
        rows = [r for r in self.store.weights_versions(self.engine.rubric.id) if r["published"]]
        if not rows:
            return self.engine.rubric, 0
        w = rows[-1]
        weights = {
            ScenarioId(sc): {CriterionId(c): float(v) for c, v in cs.items()}
            for sc, cs in w["weights"].items()
        }
        return self.engine.rubric.model_copy(update={"weights": weights}), int(w["version"])

    def _scoring_rubric_args(self, drill: dict[str, Any] | None) -> tuple[Any, int | None, int]:
        rubric, wv = self._scoring_rubric()
        return rubric, drill["score"] if drill else None, wv

    def persona_of(self, session: Session) -> Persona:
        """The persona version the session ran."""
        try:
            return self.catalog.get(session.persona_id, session.persona_version)
        except KeyError:
            return get_persona(session.persona_id)  # a session older than the catalogue

    # ------------------------------------------------------------------ users

    def user(self, username: str | None) -> User:
        if not username:
            raise AccessDenied("not signed in")
        u = self.store.find_user(username)
        if u is None or not u.active:
            raise AccessDenied(username)
        return u

    def authenticate(self, username: str, password: str) -> bool:
        return self.store.authenticate(username, password) is not None

    async def authenticate_async(self, username: str, password: str) -> bool:
        """Gradio's sign-in check, off the event loop and at most ``VERIFY_SLOTS`` at a time
        (argon2 is CPU-bound: a burst queues here instead of stalling every practice turn)."""
        import anyio

        if self._verify_slots is None:
            self._verify_slots = anyio.CapacityLimiter(VERIFY_SLOTS)
        return await anyio.to_thread.run_sync(
            self.authenticate, username, password, limiter=self._verify_slots
        )

    def sign_in_failed(self, username: str, address: str) -> None:
        """A wrong password for an existing account goes into the audit log."""
        user = self.store.find_user(username) if username else None
        if user is not None:
            self.store.audit(user, "sign_in_failed", subject_user_id=user.id, detail={"address": address})

    # ------------------------------------------------------------------ practice

    def personas(self) -> dict[str, Persona]:
        """The personas trainees are offered: the latest published version of each."""
        return self.catalog.published()

    def _session(
        self, user: User, session_id: str, *, write: bool = False, what: str = "transcript"
    ) -> Session:
        """The session, once the user may read it (or, with ``write``, practise in it). A view
        of another person's session is written to the audit log (who, whose, what, when)."""

        def check(owner: str, department: str) -> None:  # on the header, before any turn is read
            permissions.require_session(user, owner, write=write, department=department)

        session = self.store.load_session(session_id, check=check)
        if session.user_id != user.id:
            self.store.audit(
                user,
                "view_session",
                subject_user_id=session.user_id,
                session_id=session_id,
                detail={"what": what},
            )
        return session

    def start(self, user: User, persona_id: str, seed: int | None = None) -> Session:
        permissions.require(user, Capability.practice)
        persona = self.catalog.get(persona_id)
        session = self.engine.start(
            persona, seed=secrets.randbelow(1_000_000) if seed is None else seed, user_id=user.id
        )
        self.store.create_session(session, user, difficulty=persona.difficulty.value)
        return session

    def load(self, user: User, session_id: str) -> Session:
        return self._session(user, session_id)

    def reply(self, user: User, session_id: str, text: str) -> tuple[Session, Turn]:
        return drain(self.reply_stream(user, session_id, text))

    def reply_stream(
        self, user: User, session_id: str, text: str, *, session: Session | None = None
    ) -> Generator[str, None, tuple[Session, Turn]]:
        """Take a turn, yielding the client's line in chunks; the turn is written to the
        store when it is complete, even if the caller stops listening half-way."""
        text = check_reply(text)
        lock = self._turn_lock(session_id)
        if not lock.acquire(blocking=False):  # a second tab of this instance is mid-turn
            raise TurnBusy(session_id)
        try:
            if session is not None and session.id == session_id:  # read by the caller just now
                permissions.require_session(user, session.user_id, write=True)
            else:
                session = self._session(user, session_id, write=True)
            if session.outcome is not Outcome.in_progress:
                raise ValueError("ended")
            persona = self.persona_of(session)
            gen = self.engine.stream_turn(session, text, persona)
            turn: Turn | None = None
            try:
                while turn is None:
                    try:
                        chunk = next(gen)
                    except StopIteration as stop:
                        turn = stop.value
                    else:
                        yield chunk
            except GeneratorExit:
                # The browser went away mid-line: finish the turn so the reply is not lost.
                turn = drain(gen)
                with contextlib.suppress(TurnBusy):
                    self._record(session, user, turn)
                raise
            self._record(session, user, turn)
            return session, turn
        finally:
            lock.release()

    def _turn_lock(self, session_id: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._turn_locks.get(session_id)
            if lock is None:
                lock = self._turn_locks[session_id] = threading.Lock()
            return lock

    def _record(self, session: Session, user: User, turn: Turn) -> None:
        try:
            self.store.record_turn(session, user, turn)
        except TurnConflict as e:  # another instance stored this turn number first
            raise TurnBusy(session.id) from e
        if session.outcome is not Outcome.in_progress:
            self._store_score(session, user, self._drill_score(session.id, user))

    def end(self, user: User, session_id: str) -> Session:
        session = self._session(user, session_id, write=True)
        if session.outcome is Outcome.in_progress:
            self.engine.end(session)
            self._store_score(session, user, self._drill_score(session.id, user))
        return session

    def _drill_score(self, session_id: str, user: User) -> int | None:
        drill = self.store.incident_report(session_id)
        return drill["score"] if drill else None

    def _store_score(self, session: Session, user: User, drill_score: int | None) -> SessionScore:
        """Compute the session's grade once (turns, checks, the filed drill) and store it."""
        rubric, wv = self._scoring_rubric()
        score = score_session(session, rubric, drill_score, wv)
        self.store.update_session(session, user, score=score)
        self._store_reviewed(session, drill_score)
        return score

    def _store_reviewed(self, session: Session, drill_score: int | None) -> SessionScore | None:
        """The grade with trainers' overrides applied, stored beside the machine's (if any)."""
        from simulator.app.reviews import apply_overrides

        ovs = self.store.overrides(session.id)
        if not ovs:
            return None
        rubric, wv = self._scoring_rubric()
        reviewed = score_session(apply_overrides(session, ovs), rubric, drill_score, wv)
        self.store.set_reviewed_score(session, reviewed)
        return reviewed

    # ------------------------------------------------------------------ review (研修担当)

    def override_score(
        self, reviewer: User, session_id: str, turn_idx: int, criterion: str, score: int, reason: str
    ) -> SessionScore | None:
        """A trainer's correction of one machine score, kept beside it (never replacing it), with
        a reason; the session's reviewed grade is recomputed. Returns the reviewed grade."""
        from simulator.models import CriterionId

        permissions.require(reviewer, Capability.override_scores)
        session = self._session(reviewer, session_id, what="review")
        try:
            cid = CriterionId(criterion)
        except ValueError:
            raise ReviewInputError(f"基準「{criterion}」はありません。") from None
        crit = self.engine.rubric.criterion(cid)
        if not 1 <= turn_idx <= len(session.turns) or session.turns[turn_idx - 1].assessment is None:
            raise ReviewInputError(f"ターン{turn_idx}はありません。")
        if score not in (0, 1, 2, 3) or (score == 0 and not crit.can_violate):
            raise ReviewInputError(
                f"「{crit.label}」に付けられる点は{'0〜3' if crit.can_violate else '1〜3'}です。"
            )
        reason = (reason or "").strip()
        if not reason:
            raise ReviewInputError("修正の理由を書いてください（受講者の報告書と学習データに残ります）。")
        if len(reason) > 500:
            raise ReviewInputError("理由は500文字までにしてください。")
        machine = session.turns[turn_idx - 1].assessment.score(cid)  # type: ignore[union-attr]
        self.store.add_override(
            session_id,
            turn_idx,
            cid.value,
            machine_score=machine,
            score=score,
            reason=reason,
            reviewer=reviewer,
        )
        self.store.audit(
            reviewer, "score_override", subject_user_id=session.user_id, session_id=session_id,
            detail={"turn": turn_idx, "criterion": cid.value, "machine": machine, "score": score},
        )  # fmt: skip
        if session.outcome is Outcome.in_progress:
            return None
        return self._store_reviewed(session, self._drill_score(session.id, reviewer))

    def export_overrides(self, viewer: User) -> list[dict[str, Any]]:
        """The overrides as labelled replies (docs/LABELING.md), for the judge's corpus."""
        from simulator.app.reviews import labelled_records

        permissions.require(viewer, Capability.override_scores)
        return labelled_records(self.store)

    def score(
        self, user: User, session_id: str, session: Session | None = None, drill: dict[str, Any] | None = None
    ) -> SessionScore:
        """The stored grade; a session still in progress gets a provisional one, not stored.
        ``drill`` is the session's filed drill when the caller has already read it."""
        owner, department = self.store.owner_department(session_id)
        permissions.require_session(user, owner, department=department)
        stored = self.store.session_score(session_id)
        if stored is not None:
            return SessionScore.model_validate(stored)
        session = session or self.store.load_session(session_id)
        if drill is None:
            drill = self.store.incident_report(session_id)
        rubric, wv = self._scoring_rubric()
        return score_session(session, rubric, drill["score"] if drill else None, wv)

    def resumable(self, user: User) -> str | None:
        permissions.require(user, Capability.practice)
        return self.store.latest_open_session(user.id)

    # ------------------------------------------------------------------ report

    def report(self, user: User, session_id: str) -> Report:
        return self.report_and_session(user, session_id)[0]

    def report_and_session(self, user: User, session_id: str) -> tuple[Report, Session]:
        """The report and the session it was built from (loaded once)."""
        from simulator.app.reviews import apply_overrides

        session = self._session(user, session_id, what="report")
        persona = self.persona_of(session)
        drill = self.store.incident_report(session_id)
        machine = self.score(user, session_id, session, drill)
        ovs = self.store.overrides(session_id)
        if ovs:  # the reviewed grade, with the machine's beside it
            stored = self.store.reviewed_score(session_id)
            applied = apply_overrides(session, ovs)
            reviewed = (
                SessionScore.model_validate(stored)
                if stored is not None
                else score_session(applied, *self._scoring_rubric_args(drill))
            )
            rep = build_report(
                applied, persona, self.engine.rubric, reviewed, trainee=self._owner(session),
                overrides=ovs, machine=machine,
            )  # fmt: skip
        else:
            rep = build_report(session, persona, self.engine.rubric, machine, trainee=self._owner(session))
        if drill is not None:
            fields = drill["fields"]
            rep.drill = DrillSection(
                items=[
                    DrillItem(
                        **{k: v for k, v in it.items() if k in DrillItem.model_fields and k != "value"},
                        value=it.get("value") or fields.get(it.get("key") or "", "") or "",
                    )
                    for it in drill["checks"]
                ],
                score=drill["score"],
                attempts=drill.get("attempts", 1),
            )
        branches = self._branches(user, session, rep)
        if len(branches) > 1:
            rep.branches = branches
        return rep, session

    def _owner(self, session: Session) -> dict[str, str]:
        """Whose session it is (the viewer may read it: access was checked on load)."""
        try:
            owner = self.store.get_user(session.user_id)
        except Exception:
            return {"name": "", "department": ""}
        return {"name": owner.display_name, "department": owner.department or ""}

    def _branches(self, user: User, session: Session, rep: Report) -> list[Branch]:
        """The session, its parent and every retry descending from the same original; the
        session shown and its report are reused, the others loaded once each."""
        root = session
        while root.parent_id:
            try:
                root = self._session(user, root.parent_id, what="report")
            except (AccessDenied, NotFound):
                break
        family_ids = self.store.descendants(root.id)  # the family shares its owner
        if not family_ids and root.id == session.id:
            return []  # no retry: nothing to compare (one query)
        loaded = {session.id: session, root.id: root}
        family = [loaded.get(sid) or self.store.load_session(sid) for sid in [root.id, *family_ids]]
        out = []
        for s in sorted(family, key=lambda s: s.created_at):
            r = (
                rep
                if s.id == session.id
                else build_report(s, self.persona_of(s), self.engine.rubric, self.score(user, s.id, s))
            )
            label = "元のやり取り" if s.parent_id is None else f"ターン{s.branch_turn}からやり直し"
            if s.id == session.id:
                label += "（表示中）"
            out.append(Branch(label=label, session_id=s.id, report=r.model_copy(update={"branches": []})))
        return out

    def retry(self, user: User, session_id: str, turn_index: int, text: str) -> tuple[Session, Turn]:
        """Branch a new session from before ``turn_index`` and answer it with ``text``."""
        text = check_reply(text)  # refused before anything is made, as a reply is
        src = self._session(user, session_id, write=True)
        if not 1 <= turn_index <= len(src.turns):
            raise ValueError("turn")
        kept = [t.model_copy(deep=True) for t in src.turns[: turn_index - 1]]
        state = kept[-1].state.model_copy(deep=True) if kept else initial_state(self.persona_of(src))
        branch = src.model_copy(
            update={
                "id": secrets.token_hex(16),
                "turns": kept,
                "state": state,
                "parent_id": src.id,
                "branch_turn": turn_index,
                "created_at": datetime.now(UTC),
                "ended_at": None,
            }
        )
        persona = self.persona_of(branch)
        self.store.create_session(branch, user, difficulty=persona.difficulty.value)
        return self.reply(user, branch.id, text)

    # ------------------------------------------------------------------ drill

    def file_drill(self, user: User, session_id: str, fields: dict[str, str]) -> Any:
        """Check and keep a filed 報告. Every submission is kept; the grade counts the first
        (a resubmission is practice, and says so). Fields longer than the limit are refused
        with a message naming the field, and nothing is stored."""
        from simulator.drill import DRILL_FIELDS, MAX_FIELD_CHARS, check_drill
        from simulator.text import clean_input

        labels = {key: label for key, label, _h in DRILL_FIELDS}
        fields = {k: clean_input(v or "") for k, v in fields.items()}
        for key, value in fields.items():
            if len(value or "") > MAX_FIELD_CHARS:
                raise DrillInputError(
                    f"「{labels.get(key, key)}」が長すぎます（{MAX_FIELD_CHARS}文字まで）。要点を絞って書いてください。"
                )
        session = self._session(user, session_id, write=True)
        result = check_drill(fields, session, self.persona_of(session), user.display_name)
        self.store.save_incident_report(
            session_id, user, fields, [i.model_dump(mode="json") for i in result.items], result.score
        )
        first = self.store.incident_report(session_id)
        attempts = first["attempts"] if first else 1
        if attempts > 1:
            result.summary += (
                f"（{attempts}回目の提出です。採点に数えるのは初回の提出（{first['score'] if first else '—'} / 3）で、"
                "今回の提出は練習として記録しました）"
            )
        if session.outcome is not Outcome.in_progress and first is not None:
            self._store_score(session, user, first["score"])  # the first drill is part of the stored grade
        return result

    # ------------------------------------------------------------------ history

    def history(self, user: User) -> list[dict[str, Any]]:
        """「わたしの履歴」: the user's own sessions, whatever their role (staff see others'
        sessions in their own pages, never here)."""
        permissions.require(user, Capability.practice)
        return self.store.list_sessions(user_id=user.id)

    def sessions(
        self, viewer: User, *, user_id: str | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        """Session headers the viewer may list: their own, or (reviewing transcripts) anyone's."""
        owner = permissions.sessions_of(viewer, user_id)
        if owner == viewer.id and not permissions.can(viewer, Capability.review_transcripts):
            return self.store.list_sessions(user_id=owner)
        # a department-scoped staff account lists only its departments (their own practice too)
        scope = permissions.departments_of(viewer)
        rows = self.store.list_sessions(user_id=owner, department=department, departments=scope)
        if scope is not None and (owner is None or owner == viewer.id):
            rows += [r for r in self.store.list_sessions(user_id=viewer.id) if r["department"] not in scope]
        return rows

    def review_list(self, viewer: User, *, department: str | None = None) -> list[dict[str, Any]]:
        """Sessions to review (研修担当・人事): whose, which department and scenario, when, the
        grade, and how many turns the judge was unsure of."""
        permissions.require(viewer, Capability.review_transcripts)
        rows = [r for r in self.sessions(viewer, department=department) if r["user_id"] != viewer.id]
        flags = self.store.review_flags([r["id"] for r in rows])
        return [{**r, "flagged": flags.get(r["id"], 0)} for r in rows]

    def own_criterion_rows(self, user: User, scenario: str | None = None) -> list[dict[str, Any]]:
        """The user's own per-session, per-criterion figures, as their stored scores have them
        (the trend of 「わたしの履歴」 shows the same figures as each report)."""
        permissions.require(user, Capability.practice)
        return self.store.criterion_rows(user_id=user.id, scenario=scenario or None)

    # ------------------------------------------------------------------ persona studio (研修担当)

    def studio_personas(self, user: User) -> list[dict[str, Any]]:
        """Every persona with its versions (published or not)."""
        permissions.require(user, Capability.edit_personas)
        by: dict[str, list[dict[str, Any]]] = {}
        for r in self.store.persona_versions():
            by.setdefault(r["persona_id"], []).append(r)
        return [{"persona_id": pid, "versions": vs} for pid, vs in sorted(by.items())]

    def persona_versions(self, user: User, persona_id: str) -> list[dict[str, Any]]:
        """One persona's versions (one query, not every persona's)."""
        permissions.require(user, Capability.edit_personas)
        return self.catalog.versions(persona_id)

    def persona_text(self, user: User, persona_id: str, version: int) -> str:
        permissions.require(user, Capability.edit_personas)
        return self.catalog.yaml_of(persona_id, version)

    def check_persona_text(self, user: User, text: str) -> list[tuple[str, str]]:
        """Live validation: every problem as (field, Japanese message); [] when it can be saved."""
        from simulator.library import persona_problems

        permissions.require(user, Capability.edit_personas)
        return persona_problems(text)

    def save_persona(self, user: User, text: str, *, note: str = "", source: str = "studio") -> Persona:
        """Store the text as the persona's next version (unpublished); a problem raises
        ``DataFileError`` naming the field, and nothing is stored."""
        permissions.require(user, Capability.edit_personas)
        p = self.catalog.save(text, user, source=source, note=note)
        self.store.audit(
            user, "persona_saved", detail={"persona": p.id, "version": p.version, "source": source}
        )
        return p

    def publish_persona(self, user: User, persona_id: str, version: int, published: bool = True) -> None:
        permissions.require(user, Capability.edit_personas)
        self.catalog.publish(persona_id, version, published)
        action = "persona_published" if published else "persona_unpublished"
        self.store.audit(user, action, detail={"persona": persona_id, "version": version})

    def persona_diff(self, user: User, persona_id: str, old: int, new: int) -> str:
        permissions.require(user, Capability.edit_personas)
        return self.catalog.diff(persona_id, old, new)

    def export_persona(self, user: User, persona_id: str, version: int, fmt: str = "yaml") -> str:
        """The version as YAML or as a Character Card V2 JSON."""
        from simulator.app.cards import card_json

        permissions.require(user, Capability.edit_personas)
        if fmt == "card":
            return card_json(self.catalog.get(persona_id, version))
        return self.catalog.yaml_of(persona_id, version)

    def import_persona(self, user: User, text: str, *, source: str = "import") -> Persona:
        """A YAML persona or a Character Card V2 (JSON), stored as the persona's next version."""
        permissions.require(user, Capability.edit_personas)
        return self.save_persona(
            user, persona_text_from(text, source), note=f"読み込み: {source}", source="import"
        )

    def test_drive_start(self, user: User, text: str, seed: int = 0) -> tuple[Persona, Session]:
        """A practice of the persona text as it stands in the studio (saved or not); nothing is
        stored. A problem raises ``DataFileError`` naming the field."""
        from simulator.library import parse_persona

        permissions.require(user, Capability.edit_personas)
        persona = parse_persona(text, "studio")
        return persona, self.engine.start(persona, seed=seed, user_id=user.id)

    def test_drive_turn(self, user: User, persona: Persona, session: Session, text: str) -> Turn:
        permissions.require(user, Capability.edit_personas)
        if session.outcome is not Outcome.in_progress:
            raise ValueError("ended")
        return self.engine.take_turn(session, check_reply(text), persona)

    @staticmethod
    def test_drive_rewind(session: Session, persona: Persona, turn_index: int) -> Session:
        """The test session as it was before ``turn_index`` (to try that turn again)."""
        kept = [t.model_copy(deep=True) for t in session.turns[: max(0, turn_index - 1)]]
        state = kept[-1].state.model_copy(deep=True) if kept else initial_state(persona)
        return session.model_copy(update={"turns": kept, "state": state, "ended_at": None})

    # ------------------------------------------------------------------ assignments

    def assign(
        self,
        trainer: User,
        persona_id: str,
        due: date,
        *,
        department: str | None = None,
        usernames: list[str] | None = None,
        note: str = "",
    ) -> list[int]:
        """Assign a published persona to a department and/or named trainees, due on ``due``."""
        permissions.require(trainer, Capability.assign)
        try:
            self.catalog.get(persona_id)
        except KeyError:
            raise AssignInputError(
                f"ペルソナ「{persona_id}」は公開されていません。公開してから割り当ててください。"
            ) from None
        if due < datetime.now(JST).date():
            raise AssignInputError("期限が過去の日付です。今日以降の日付を選んでください。")
        department = (department or "").strip() or None
        names = [n.strip() for n in usernames or [] if n.strip()]
        if not department and not names:
            raise AssignInputError("部署か受講者を指定してください。")
        users = []
        for n in names:
            u = self.store.find_user(n)
            if u is None or not u.active:
                raise AssignInputError(f"受講者「{n}」はいません。")
            users.append(u)
        if department and not self.store.users_in(department):
            raise AssignInputError(f"部署「{department}」の受講者がいません。")
        ids = []
        if department:
            ids.append(
                self.store.add_assignment(
                    persona_id, due, department=department, user_id=None, note=note, by=trainer
                )
            )
        for u in users:
            ids.append(
                self.store.add_assignment(
                    persona_id, due, department=None, user_id=u.id, note=note, by=trainer
                )
            )
        self.store.audit(
            trainer, "assignment",
            detail={"persona": persona_id, "due": due.isoformat(), "department": department, "users": names},
        )  # fmt: skip
        return ids

    def my_assignments(self, user: User) -> list[dict[str, Any]]:
        """The user's assigned practices, soonest due first: done, overdue or open."""
        permissions.require(user, Capability.practice)
        today = datetime.now(JST).date()
        published = self.catalog.published()
        out = []
        for a in self.store.assignments_for(user):
            done = user.id in self.store.completed_after([user.id], a["persona_id"], a["created_at"])
            p = published.get(a["persona_id"])
            status = "done" if done else ("overdue" if a["due"] < today else "open")
            out.append(
                {
                    **a,
                    "title": p.title if p else a["persona_id"],
                    "status": status,
                    "available": p is not None,
                }
            )
        order = {"overdue": 0, "open": 1, "done": 2}
        return sorted(out, key=lambda a: (order[a["status"]], a["due"]))

    def assignment_status(self, viewer: User) -> list[dict[str, Any]]:
        """Each assignment with how many of its trainees have completed it."""
        if not (
            permissions.can(viewer, Capability.assign) or permissions.can(viewer, Capability.view_dashboards)
        ):
            raise AccessDenied("assignments")
        published = self.catalog.published()
        scope = permissions.departments_of(viewer)
        out = []
        for a in self.store.all_assignments():
            if a["user_id"]:
                owner = self.store.get_user(a["user_id"])
                if scope is not None and owner.department not in scope:
                    continue
                targets = [a["user_id"]]
            else:
                if scope is not None and (a["department"] or "") not in scope:
                    continue
                targets = [u.id for u in self.store.users_in(a["department"] or "") if u.role == "trainee"]
            done = self.store.completed_after(targets, a["persona_id"], a["created_at"])
            p = published.get(a["persona_id"])
            out.append(
                {
                    **a,
                    "title": p.title if p else a["persona_id"],
                    "total": len(targets),
                    "completed": len(done),
                    "targets": targets,
                    "done": sorted(done),
                }
            )
        return out

    # ------------------------------------------------------------------ accounts (管理者)

    def users(self, admin: User) -> list[User]:
        permissions.require(admin, Capability.manage_users)
        return self.store.list_users()

    def add_user(
        self,
        admin: User,
        username: str,
        *,
        role: str = "trainee",
        department: str = "",
        display_name: str = "",
        password: str | None = None,
        email: str = "",
        employee_id: str = "",
    ) -> tuple[User, str | None]:
        """The same rules as ``users add``; returns the user and the generated password (if any)."""
        from simulator.accounts import generate_password
        from simulator.text import clean_input

        permissions.require(admin, Capability.manage_users)
        display_name = clean_input(display_name).replace("\n", " ").strip()
        if len(display_name) > 128:
            raise ValueError("表示名は128文字までにしてください / display name: at most 128 characters")
        generated = None if password else generate_password()
        u = self.store.add_user(
            username, password or generated or "", role=role, department=department.strip(),
            display_name=display_name.strip(), email=email, employee_id=employee_id,
        )  # fmt: skip
        self.store.audit(
            admin, "user_added", subject_user_id=u.id, detail={"role": u.role, "department": u.department}
        )
        return u, generated

    def add_users_csv(self, admin: User, text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
        """Bulk add from CSV (header: username,display_name,role,department[,password,email,employee_id]); every
        row is checked first and nothing is added when a row is wrong. Returns (added, problems)."""
        import csv
        import io

        permissions.require(admin, Capability.manage_users)
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        problems = []
        seen: set[str] = set()
        if not rows:
            problems.append("CSV に行がありません（1行目は username,display_name,role,department）")
        for n, r in enumerate(rows, start=2):
            name = (r.get("username") or "").strip()
            role = (r.get("role") or "trainee").strip() or "trainee"
            pw = (r.get("password") or "").strip() or "generated-later"  # a generated one is long enough
            try:
                if name in seen:
                    raise ValueError(
                        f"ユーザー「{name}」は既に存在します（CSV の中で重複） / duplicate in the CSV"
                    )
                self.store.check_new_user(name, pw, role)  # the same rules as one account at a time
            except ValueError as e:
                problems.append(f"{n}行目: {str(e).split(' / ')[0]}")
            seen.add(name)
        if problems:
            return [], problems
        added = []
        for r in rows:
            u, generated = self.add_user(
                admin, r["username"].strip(), role=(r.get("role") or "trainee").strip() or "trainee",
                department=r.get("department") or "", display_name=r.get("display_name") or "",
                password=(r.get("password") or "").strip() or None, email=r.get("email") or "",
                employee_id=r.get("employee_id") or "",
            )  # fmt: skip
            added.append((u.username, generated))
        return added, []

    def disable_user(self, admin: User, username: str) -> None:
        permissions.require(admin, Capability.manage_users)
        if username == admin.username:
            raise ValueError("自分のアカウントは無効にできません。")
        self.store.set_active(username, False)
        u = self.store.find_user(username)
        self.store.audit(admin, "user_disabled", subject_user_id=u.id if u else None)

    def enable_user(self, admin: User, username: str) -> None:
        """A disabled account back; it signs in afresh (its old sign-ins were revoked)."""
        permissions.require(admin, Capability.manage_users)
        self.store.set_active(username, True)
        u = self.store.find_user(username)
        self.store.audit(admin, "user_enabled", subject_user_id=u.id if u else None)

    def reset_password(self, admin: User, username: str, password: str | None = None) -> str:
        from simulator.accounts import generate_password

        permissions.require(admin, Capability.manage_users)
        new = password or generate_password()
        self.store.set_password(username, new)
        u = self.store.find_user(username)
        self.store.audit(admin, "password_reset", subject_user_id=u.id if u else None)
        return new

    def change_user(
        self, admin: User, username: str, *, role: str | None = None, department: str | None = None
    ) -> User:
        permissions.require(admin, Capability.manage_users)
        if username == admin.username and role is not None and role != admin.role:
            raise ValueError("自分の役割は変えられません（管理者がいなくならないように）。")
        u = self.store.set_role_and_department(username, role=role, department=department)
        self.store.audit(
            admin, "user_changed", subject_user_id=u.id, detail={"role": u.role, "department": u.department}
        )
        return u

    # ------------------------------------------------------------------ rubric weights (研修担当)

    def weights_text(self, user: User) -> tuple[str, list[dict[str, Any]]]:
        """The weights new scores use, as YAML, and every saved version."""
        import yaml

        permissions.require(user, Capability.edit_personas)
        rubric, _wv = self._scoring_rubric()
        data = {sc.value: {c.value: w for c, w in cs.items()} for sc, cs in rubric.weights.items()}
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False), self.store.weights_versions(
            rubric.id
        )

    def check_weights(
        self, user: User, text: str
    ) -> tuple[dict[str, dict[str, float]], list[tuple[str, str]]]:
        """The weights read from YAML, and every problem as (field, Japanese message)."""
        import yaml

        permissions.require(user, Capability.edit_personas)
        try:
            data = load_yaml_text(text) or {}
        except yaml.YAMLError as e:
            return {}, [("", f"YAML として読めません（{getattr(e, 'problem', e)}）")]
        if not isinstance(data, dict):
            return {}, [("", "場面ごとの「基準: 重み」の集まりにしてください")]
        problems = []
        out: dict[str, dict[str, float]] = {}
        for sc in ScenarioId:
            row = data.get(sc.value)
            if not isinstance(row, dict):
                problems.append((f"weights.{sc.value}", "この場面の重みがありません"))
                continue
            out[sc.value] = {}
            for cid in CriterionId:
                v = row.get(cid.value)
                if not isinstance(v, int | float) or isinstance(v, bool):
                    problems.append((f"weights.{sc.value}.{cid.value}", "数で指定してください"))
                elif not 0 < v <= 5:
                    problems.append((f"weights.{sc.value}.{cid.value}", "0より大きく5以下にしてください"))
                else:
                    out[sc.value][cid.value] = float(v)
            for extra in set(row) - {c.value for c in CriterionId}:
                problems.append((f"weights.{sc.value}.{extra}", "定義されていない基準です"))
        for extra in set(data) - {s.value for s in ScenarioId}:
            problems.append((f"weights.{extra}", "定義されていない場面です"))
        return out, problems

    def save_weights(self, user: User, text: str, note: str = "") -> int:
        weights, problems = self.check_weights(user, text)
        if problems:
            field, msg = problems[0]
            raise DataFileError("weights", field, msg, "invalid weights")
        v = self.store.add_weights_version(self.engine.rubric.id, weights, note=note, by=user)
        self.store.audit(user, "weights_saved", detail={"version": v})
        return v

    def publish_weights(self, user: User, version: int) -> None:
        permissions.require(user, Capability.edit_personas)
        self.store.publish_weights(self.engine.rubric.id, version)
        self.store.audit(user, "weights_published", detail={"version": version})

    # ------------------------------------------------------------------ exports (人事・総務)

    def export(
        self,
        viewer: User,
        kind: str,
        *,
        since: datetime | None = None,
        department: str | None = None,
        pseudonymise: bool = False,
        per: str = "session",
        until: datetime | None = None,
        departments: tuple[str, ...] = (),
        personas: tuple[str, ...] = (),
        scenario: str | None = None,
    ) -> str:
        """CSV (per session or per session × criterion) or xAPI statements (a JSON array)."""
        import json

        from simulator.app import exports as ex

        permissions.require(viewer, Capability.export)
        scope = permissions.departments_of(viewer)
        departments = tuple(d for d in (department, *departments) if d)
        for d in departments:
            if scope is not None and d not in scope:
                raise AccessDenied(f"department {d}")
        rows = ex.session_rows(self.store, since=since, pseudonymise=pseudonymise, until=until,
                               departments=departments, personas=personas, scenario=scenario)  # fmt: skip
        if scope is not None:  # a department-scoped HR account exports its departments only
            rows = [r for r in rows if r["department"] in scope]
        self.store.audit(
            viewer, "export",
            detail={"kind": kind, "per": per, "department": department, "departments": list(departments),
                    "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
                    "personas": list(personas), "scenario": scenario, "pseudonymised": pseudonymise,
                    "rows": len(rows)},
        )  # fmt: skip
        if kind == "xapi":
            return json.dumps(ex.statements(rows), ensure_ascii=False, indent=2) + "\n"
        return ex.criteria_csv(rows) if per == "criterion" else ex.sessions_csv(rows)

    # ------------------------------------------------------------------ dashboard (人事・総務)

    def dashboard(
        self, viewer: User, filters: Any = None, *, order: str = "name", limit: int | None = None
    ) -> dict[str, Any]:
        """Headline figures, department × criterion, cohort and the weekly trend, for one rubric
        and judge version at a time (see ``app.dashboard``)."""
        from dataclasses import replace

        from simulator.app import dashboard as db

        permissions.require(viewer, Capability.view_dashboards)
        f = replace(filters or db.Filters(), scope=tuple(viewer.scope))
        out = db.figures(self.store, f, order=order, limit=limit)
        out["trend"] = db.weekly_trend(self.store, f, out["version"]) if out["version"] else []
        return out

    def audit_log(
        self,
        viewer: User,
        *,
        subject_user_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The audit log (人事・総務, 管理者); a department-scoped account reads the entries about
        people in its departments, and its own actions."""
        permissions.require(viewer, Capability.read_audit_log)
        return self.store.audit_entries(
            subject_user_id=subject_user_id, actor_id=actor_id, action=action, since=since, until=until,
            departments=permissions.departments_of(viewer), own_id=viewer.id,
        )  # fmt: skip

    def departments(self, viewer: User) -> list[str]:
        """The departments staff may filter by (a scoped account: its own)."""
        scope = permissions.departments_of(viewer)
        known = sorted({u.department for u in self.store.list_users() if u.department})
        return [d for d in known if scope is None or d in scope]

    def sessions_of(self, viewer: User, user_id: str) -> list[dict[str, Any]]:
        """One trainee's sessions for the dashboard's drill-down (in the viewer's scope)."""
        permissions.require(viewer, Capability.view_dashboards)
        owner = self.store.get_user(user_id)
        if not permissions.in_scope(viewer, owner.department):
            raise AccessDenied("department")
        return self.store.list_sessions(user_id=user_id)

    def assignment_completion(self, viewer: User, status: list[dict[str, Any]]) -> dict[str, str]:
        """Per trainee, 「完了 / 割り当て」 over the assignments in ``status``."""
        permissions.require(viewer, Capability.view_dashboards)
        total: dict[str, int] = {}
        done: dict[str, int] = {}
        for a in status:
            for uid in a["targets"]:
                total[uid] = total.get(uid, 0) + 1
            for uid in a["done"]:
                done[uid] = done.get(uid, 0) + 1
        return {uid: f"{done.get(uid, 0)} / {n}" for uid, n in total.items()}

    def who_viewed_mine(self, user: User) -> list[dict[str, Any]]:
        """Who viewed the user's own sessions (the manual's privacy: a trainee may know)."""
        permissions.require(user, Capability.practice)
        return self.store.audit_entries(subject_user_id=user.id, action="view_session")

    def capabilities(self, user: User) -> frozenset[Capability]:
        return permissions.capabilities(user)


class ReplyInputError(ValueError):
    """A reply refused with a Japanese message for the trainee (its text is kept)."""


class TurnBusy(Exception):
    """Another reply to the same session is being answered or was stored first."""

    message = (
        "別の画面（タブ）からの返答を先に受け付けたため、この返答は送られていません。"
        "画面を最新にしました。返答は入力欄に残してあります。"
    )


class DrillInputError(ValueError):
    """A filed 報告 the app refuses as it stands (the message is for the trainee)."""


def persona_text_from(text: str, source: str) -> str:
    """The persona YAML in an imported file: YAML as it is, or a Character Card V2's fields."""
    import json

    from simulator.app.cards import is_card, persona_data_from_card
    from simulator.app.catalog import dump_yaml

    if not text.lstrip().startswith("{"):
        return text
    try:
        card = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataFileError(
            source, f"{e.lineno}行目", f"JSON として読めません（{e.msg}）", "invalid JSON"
        ) from None
    if not is_card(card):
        return text  # JSON that is a plain persona mapping is YAML too
    return dump_yaml(persona_data_from_card(card, source))


class ReviewInputError(ValueError):
    """An override the app refuses as it stands (the message is for the trainer)."""


class AssignInputError(ValueError):
    """An assignment the app refuses as it stands (the message is for the trainer)."""
