"""Who may do what: capabilities granted per role, checked in one place.

Every service call asks :func:`require` (a capability) or :func:`require_session` (a
session, to read or to practise in) before it reads a repository, so a page hidden in the
UI is also closed on the server.
"""

from __future__ import annotations

from enum import StrEnum

from simulator.errors import AccessDenied
from simulator.store import User

__all__ = [
    "AccessDenied",
    "Capability",
    "ROLE_CAPABILITIES",
    "can",
    "capabilities",
    "require",
    "require_session",
]


class Capability(StrEnum):
    practice = "practice"  # 練習する（自分のセッション）
    review_transcripts = "review_transcripts"  # 他の人のやり取りと採点を読む
    override_scores = "override_scores"  # 採点を確認して修正する（研修担当）
    edit_personas = "edit_personas"  # ペルソナを作る・直す
    assign = "assign"  # 練習を割り当てる
    view_dashboards = "view_dashboards"  # 集計を見る
    export = "export"  # 成績を書き出す
    manage_users = "manage_users"  # アカウントを管理する
    read_audit_log = "read_audit_log"  # 閲覧記録を読む


CAPABILITY_LABELS: dict[Capability, str] = {
    Capability.practice: "練習",
    Capability.review_transcripts: "やり取りの確認",
    Capability.override_scores: "採点の修正",
    Capability.edit_personas: "ペルソナの編集",
    Capability.assign: "練習の割り当て",
    Capability.view_dashboards: "ダッシュボード",
    Capability.export: "書き出し",
    Capability.manage_users: "アカウント管理",
    Capability.read_audit_log: "閲覧記録",
}

C = Capability
# 研修担当 designs personas and reviews transcripts; 人事・総務 reviews histories, exports
# them and reads who viewed what; the administrator manages accounts besides.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "trainee": frozenset({C.practice}),
    "trainer": frozenset({C.practice, C.review_transcripts, C.override_scores, C.edit_personas, C.assign}),
    "hr": frozenset({C.practice, C.review_transcripts, C.view_dashboards, C.export, C.read_audit_log}),
    "admin": frozenset(Capability),
}


def capabilities(user: User) -> frozenset[Capability]:
    if not user.active:
        return frozenset()
    return ROLE_CAPABILITIES.get(user.role, frozenset())


def can(user: User, cap: Capability) -> bool:
    return cap in capabilities(user)


def require(user: User, cap: Capability) -> None:
    if not can(user, cap):
        raise AccessDenied(f"{user.username}: {cap.value}")


def in_scope(viewer: User, department: str | None) -> bool:
    """A staff account limited to some departments (``User.scope``) sees only those."""
    return not viewer.scope or (department or "") in viewer.scope


def may_read_session(viewer: User, owner_id: str, department: str | None = None) -> bool:
    """A session is its owner's; staff who review transcripts may read others' in their scope."""
    if viewer.id == owner_id and can(viewer, C.practice):
        return True
    return can(viewer, C.review_transcripts) and in_scope(viewer, department)


def require_session(
    viewer: User, owner_id: str, *, write: bool = False, department: str | None = None
) -> None:
    """Nobody practises in another person's session; reading needs ownership or review."""
    if write:
        if viewer.id != owner_id or not can(viewer, C.practice):
            raise AccessDenied("write")
        return
    if not may_read_session(viewer, owner_id, department):
        raise AccessDenied("read")


def departments_of(viewer: User) -> list[str] | None:
    """The departments a listing or export for this viewer is limited to (None: all)."""
    return list(viewer.scope) if viewer.scope else None


def sessions_of(viewer: User, user_id: str | None) -> str | None:
    """Whose sessions a listing may show: a viewer without review rights gets only their own,
    whatever ``user_id`` asks for; a reviewer gets ``user_id``'s (None: everyone's)."""
    if can(viewer, C.review_transcripts):
        return user_id
    require(viewer, C.practice)
    return viewer.id
