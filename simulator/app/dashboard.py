"""HR's dashboard figures, computed in SQL over the per-session, per-criterion summary
(``session_criteria``, written with every stored score), so they stay fast on many sessions.

Every figure is for one rubric version and judge at a time: scores of different versions are
never averaged together; ``versions`` lists what the data holds and the caller picks one
(the newest by default). Retries are not attempts (``branch`` rows are left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import Select, and_, func, select

from simulator.store import Store
from simulator.store import schema as t


@dataclass(frozen=True)
class Filters:
    departments: tuple[str, ...] = ()  # () all (a scoped account's scope is applied on top)
    user_id: str | None = None
    scenario: str | None = None
    difficulty: str | None = None
    criterion: str | None = None
    version: str | None = None  # "rubric_id@rubric_version judge"; None: the newest
    since: datetime | None = None
    until: datetime | None = None
    scope: tuple[str, ...] = field(default=())


def versions(store: Store) -> list[str]:
    """The rubric-and-judge versions the summaries hold, newest first."""
    c = t.session_criteria.c
    q = (
        select(c.rubric_id, c.rubric_version, c.judge, func.max(c.created_at).label("last"))
        .group_by(c.rubric_id, c.rubric_version, c.judge)
        .order_by(func.max(c.created_at).desc())
    )
    with store.engine.connect() as conn:
        return [f"{r.rubric_id}@{r.rubric_version} {r.judge}" for r in conn.execute(q)]


def _where(q: Select[Any], f: Filters, version: str) -> Select[Any]:
    c = t.session_criteria.c
    rubric, judge = version.split(" ", 1)
    rid, rv = rubric.split("@", 1)
    conds = [c.branch.is_(False), c.rubric_id == rid, c.rubric_version == int(rv), c.judge == judge]
    if f.departments:
        conds.append(c.department.in_(f.departments))
    if f.scope:
        conds.append(c.department.in_(f.scope))
    if f.user_id:
        conds.append(c.user_id == f.user_id)
    if f.scenario:
        conds.append(c.scenario == f.scenario)
    if f.difficulty:
        conds.append(c.difficulty == f.difficulty)
    if f.since:
        conds.append(c.created_at >= f.since)
    if f.until:
        conds.append(c.created_at < f.until)
    return q.where(and_(*conds))


def figures(store: Store, f: Filters) -> dict[str, Any]:
    """Headline figures, the department × criterion heat map and the cohort rows."""
    vs = versions(store)
    version = f.version if f.version in vs else (vs[0] if vs else None)
    if version is None:
        return {"versions": [], "version": None, "headline": {}, "heat": {}, "cohort": []}
    c = t.session_criteria.c
    with store.engine.connect() as conn:
        per_session = conn.execute(
            _where(
                select(c.session_id, c.user_id, c.department, func.max(c.overall).label("overall"),
                       func.max(c.violations).filter(c.criterion == "firm").label("conceded"))
                .group_by(c.session_id, c.user_id, c.department),
                f, version,
            )
        ).all()  # fmt: skip
        heat_rows = conn.execute(
            _where(
                select(c.department, c.criterion, func.avg(c.percent).label("pct"), func.count().label("n"))
                .group_by(c.department, c.criterion),
                f, version,
            )
        ).all()  # fmt: skip
        crit = f.criterion or None
        cohort_q = select(
            c.user_id, c.department, func.count(func.distinct(c.session_id)).label("sessions"),
            func.avg(c.overall).label("mean_overall"),
        ).group_by(c.user_id, c.department)  # fmt: skip
        cohort = conn.execute(_where(cohort_q, f, version)).all()
        weakest = conn.execute(
            _where(select(c.user_id, c.criterion, func.avg(c.percent).label("pct")).group_by(c.user_id, c.criterion),
                   f, version)
        ).all()  # fmt: skip
        names = dict(conn.execute(select(t.users.c.id, t.users.c.display_name)).all())
    overalls = [r.overall for r in per_session if r.overall is not None]
    weak: dict[str, tuple[str, float]] = {}
    for r in weakest:
        if r.pct is not None and (r.user_id not in weak or r.pct < weak[r.user_id][1]):
            weak[r.user_id] = (r.criterion, float(r.pct))
    heat: dict[str, dict[str, float | None]] = {}
    for r in heat_rows:
        if crit and r.criterion != crit:
            continue
        heat.setdefault(r.department or "—", {})[r.criterion] = (
            None if r.pct is None else round(float(r.pct), 1)
        )
    return {
        "versions": vs,
        "version": version,
        "headline": {
            "active_trainees": len({r.user_id for r in per_session}),
            "sessions": len(per_session),
            "concession_share": round(
                sum(1 for r in per_session if (r.conceded or 0) > 0) / len(per_session), 3
            )
            if per_session
            else None,
            "median_overall": round(median(overalls), 1) if overalls else None,
        },
        "heat": heat,
        "cohort": [
            {
                "user_id": r.user_id,
                "name": names.get(r.user_id, r.user_id),
                "department": r.department,
                "sessions": int(r.sessions),
                "mean_overall": None if r.mean_overall is None else round(float(r.mean_overall), 1),
                "weakest": weak.get(r.user_id, ("", 0.0))[0],
            }
            for r in sorted(cohort, key=lambda r: (r.department or "", names.get(r.user_id, "")))
        ],
    }


def weekly_trend(store: Store, f: Filters) -> list[dict[str, Any]]:
    """The mean achievement per criterion per ISO week (and department), oldest first."""
    vs = versions(store)
    version = f.version if f.version in vs else (vs[0] if vs else None)
    if version is None:
        return []
    c = t.session_criteria.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            _where(select(c.created_at, c.department, c.criterion, c.percent), f, version)
        ).all()
    acc: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        if r.percent is None or (f.criterion and r.criterion != f.criterion):
            continue
        y, w, _d = r.created_at.isocalendar()
        acc.setdefault((f"{y}-W{w:02d}", r.department or "—", r.criterion), []).append(float(r.percent))
    return [
        {
            "week": k[0],
            "department": k[1],
            "criterion": k[2],
            "percent": round(sum(v) / len(v), 1),
            "n": len(v),
        }
        for k, v in sorted(acc.items())
    ]
