"""HR's dashboard figures, computed in SQL over the per-session, per-criterion summary
(``session_criteria``, written with every stored score), so they stay fast on many sessions.

Every figure is for one rubric version and judge at a time: scores of different versions are
never averaged together; ``versions`` lists what the data holds and the caller picks one
(the newest by default). Retries are not attempts (``branch`` rows are left out).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from simulator.store import Store
from simulator.store import schema as t


@dataclass(frozen=True)
class Filters:
    departments: tuple[str, ...] = ()  # () all (a scoped account's scope is applied on top)
    user_id: str | None = None
    scenario: str | None = None
    personas: tuple[str, ...] = ()  # () all; e.g. the personas in which the trainee is in sales
    name: str = ""  # part of a trainee's name
    difficulty: str | None = None
    criterion: str | None = None
    version: str | None = None  # "rubric_id@rubric_version judge"; None: the newest
    since: datetime | None = None
    until: datetime | None = None
    scope: tuple[str, ...] = field(default=())


PERIODS = {
    "": "指定なし",
    "last_quarter": "前四半期",
    "this_quarter": "今四半期",
    "30d": "直近30日",
    "365d": "直近1年",
}


def period_bounds(name: str, today: date) -> tuple[date | None, date | None]:
    """A named period as [start, end) dates (calendar quarters: 1–3月, 4–6月, …)."""
    q = (today.month - 1) // 3
    this_q = date(today.year, 3 * q + 1, 1)
    if name == "this_quarter":
        return this_q, None
    if name == "last_quarter":
        return (date(today.year, 3 * q - 2, 1) if q else date(today.year - 1, 10, 1)), this_q
    if name in ("30d", "365d"):
        return today - timedelta(days=int(name[:-1])), None
    return None, None


def persona_group(persona: Any) -> str:
    """``sales`` when the trainee plays a salesperson in the persona, else ``support``."""
    return "sales" if "営業" in (persona.trainee_role or "") else "support"


GROUPS = {"": "すべて", "sales": "営業担当の場面", "support": "サポート担当の場面"}


# set by a benchmark to a list: each query's label and milliseconds, rows fetched included
# (SQLite computes most of a result while it is fetched, so timing ``execute`` alone misleads)
query_timings: ContextVar[list[tuple[str, float]] | None] = ContextVar("query_timings", default=None)


def _all(conn: Any, q: Any, label: str) -> list[Any]:
    t0 = time.perf_counter()
    rows = list(conn.execute(q))
    sink = query_timings.get()
    if sink is not None:
        sink.append((label, (time.perf_counter() - t0) * 1000))
    return rows


VERSIONS_SECONDS = 30.0  # a new rubric or judge version shows in the picker within this
_versions_seen: dict[str, tuple[float, list[str]]] = {}


def versions(store: Store, *, fresh: bool = False) -> list[str]:
    """The rubric-and-judge versions the summaries hold, newest first (remembered for
    ``VERSIONS_SECONDS``: the query reads every row, and versions change once in months)."""
    hit = _versions_seen.get(store.url)
    if not fresh and hit is not None and time.monotonic() - hit[0] < VERSIONS_SECONDS:
        return hit[1]
    out = _versions(store)
    _versions_seen[store.url] = (time.monotonic(), out)
    return out


def _versions(store: Store) -> list[str]:
    c = t.session_summary.c
    q = (
        select(c.rubric_id, c.rubric_version, c.judge, func.max(c.created_at).label("last"))
        .group_by(c.rubric_id, c.rubric_version, c.judge)
        .order_by(func.max(c.created_at).desc())
    )
    with store.engine.connect() as conn:
        return [f"{r.rubric_id}@{r.rubric_version} {r.judge}" for r in _all(conn, q, "versions")]


def _where(q: Any, f: Filters, version: str) -> Any:
    c = t.session_summary.c
    rubric, judge = version.split(" ", 1)
    rid, rv = rubric.split("@", 1)
    conds = [c.rubric_id == rid, c.rubric_version == int(rv), c.judge == judge, c.branch.is_(False)]
    if f.departments:
        conds.append(c.department.in_(f.departments))
    if f.scope:
        conds.append(c.department.in_(f.scope))
    if f.user_id:
        conds.append(c.user_id == f.user_id)
    if f.name.strip():
        conds.append(
            c.user_id.in_(select(t.users.c.id).where(t.users.c.display_name.contains(f.name.strip())))
        )
    if f.scenario:
        conds.append(c.scenario == f.scenario)
    if f.personas:
        conds.append(c.persona_id.in_(f.personas))
    if f.difficulty:
        conds.append(c.difficulty == f.difficulty)
    if f.since:
        conds.append(c.created_at >= f.since)
    if f.until:
        conds.append(c.created_at < f.until)
    return q.where(and_(*conds))


def _version(store: Store, f: Filters) -> tuple[list[str], str | None]:
    vs = versions(store)
    return vs, (f.version if f.version in vs else (vs[0] if vs else None))


def _criteria(f: Filters) -> tuple[str, ...]:
    return (f.criterion,) if f.criterion in t.SUMMARY_CRITERIA else t.SUMMARY_CRITERIA


def _r1(v: Any) -> float | None:
    return None if v is None else round(float(v), 1)


def _ends(store: Store, conn: Any, f: Filters, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each trainee's first and latest overall figure (in the filter), by date."""
    c = t.session_summary.c
    out = []
    for latest in (False, True):
        if store.engine.dialect.name == "postgresql":
            # in the covering index's order (backwards for the latest): no sort
            order = (c.user_id.desc(), c.created_at.desc()) if latest else (c.user_id, c.created_at)
            from sqlalchemy.dialects.postgresql import distinct_on

            q = _where(select(c.user_id, c.overall).ext(distinct_on(c.user_id)).order_by(*order), f, version)
        else:  # SQLite: a bare column of a min()/max() aggregate comes from that row
            pick = func.max(c.created_at) if latest else func.min(c.created_at)
            q = _where(select(c.user_id, c.overall, pick).group_by(c.user_id), f, version)
        out.append({r[0]: r[1] for r in _all(conn, q, "latest" if latest else "first")})
    return out[0], out[1]


COHORT_ORDERS = {
    "conceded": "譲歩が多い順",
    "low": "平均が低い順",
    "high": "平均が高い順",
    "name": "部署・名前順",
}


def _cohort_key(order: str) -> Any:
    def mean(r: dict[str, Any]) -> float:
        return r["mean_overall"] if r["mean_overall"] is not None else -1.0

    return {
        "conceded": lambda r: (-r["conceded"], mean(r), r["name"]),
        "low": lambda r: (mean(r), r["name"]),
        "high": lambda r: (-mean(r), r["name"]),
    }.get(order, lambda r: (r["department"] or "", r["name"]))


def figures(store: Store, f: Filters, *, order: str = "name", limit: int | None = None) -> dict[str, Any]:
    """Headline figures, concessions and achievement per department (the heat map) and the
    cohort rows (sorted by ``order``, the first ``limit`` of ``cohort_total``): a few aggregates
    over ``session_summary``, each an index-only scan."""
    vs, version = _version(store, f)
    if version is None:
        return {"versions": [], "version": None, "headline": {}, "heat": {}, "departments": [], "cohort": [],
                "cohort_total": 0}  # fmt: skip
    c = t.session_summary.c
    crits = _criteria(f)
    conceded = func.sum(case((c.conceded > 0, 1), else_=0))
    with store.engine.connect() as conn:
        head = _all(conn, _where(select(func.count(), func.count(func.distinct(c.user_id)), conceded,
                                        func.count(c.overall)), f, version), "headline")[0]  # fmt: skip
        n_sessions, n_trainees, n_conceded, n_scored = (int(x or 0) for x in head)
        med: float | None = None
        if n_scored:  # the median without a percentile function (SQLite has none)
            mid = _all(conn, _where(select(c.overall).where(c.overall.is_not(None)), f, version)
                       .order_by(c.overall).offset((n_scored - 1) // 2).limit(2 - n_scored % 2), "median")  # fmt: skip
            med = float(sum(r[0] for r in mid) / len(mid))
        by_dept = _all(conn, _where(select(c.department, func.count().label("n"), conceded.label("conceded"),
                                           func.avg(c.overall).label("mean"), *[func.avg(c[k]).label(k) for k in crits])
                                    .group_by(c.department), f, version), "departments")  # fmt: skip
        cohort = _all(conn, _where(select(c.user_id, func.max(c.department).label("department"),
                                          func.count().label("sessions"), func.avg(c.overall).label("mean_overall"),
                                          func.max(c.overall).label("best"), conceded.label("conceded"),
                                          *[func.avg(c[k]).label(k) for k in t.SUMMARY_CRITERIA])
                                   .group_by(c.user_id), f, version), "cohort")  # fmt: skip
        first, latest = _ends(store, conn, f, version)
        ids = [row.user_id for row in cohort]
        names: dict[str, str] = {}
        for k in range(0, len(ids), 900):  # bound parameters stay under SQLite's limit
            q = select(t.users.c.id, t.users.c.display_name).where(t.users.c.id.in_(ids[k : k + 900]))
            names.update({r[0]: r[1] for r in _all(conn, q, "names")})
    heat = {
        (d.department or "—"): {k: _r1(getattr(d, k)) for k in crits if getattr(d, k) is not None}
        for d in by_dept
    }

    def weakest(row: Any) -> str:  # over every criterion, whichever the view shows
        got = [(float(getattr(row, k)), k) for k in t.SUMMARY_CRITERIA if getattr(row, k) is not None]
        return min(got)[1] if got else ""

    return {
        "versions": vs,
        "version": version,
        "headline": {
            "active_trainees": n_trainees,
            "sessions": n_sessions,
            "conceded_sessions": n_conceded,
            "concession_share": round(n_conceded / n_sessions, 3) if n_sessions else None,
            "median_overall": None if med is None else round(med, 1),
        },
        "departments": sorted(
            (
                {
                    "department": d.department or "—",
                    "sessions": int(d.n),
                    "conceded": int(d.conceded or 0),
                    "share": round(int(d.conceded or 0) / int(d.n), 3),
                    "mean_overall": _r1(d.mean),
                }
                for d in by_dept
            ),
            key=lambda d: (-d["conceded"], d["department"]),
        ),  # fmt: skip
        "heat": {k: v for k, v in heat.items() if v},
        "cohort_total": len(cohort),
        "cohort": sorted(
            [
                {
                    "user_id": row.user_id,
                    "name": names.get(row.user_id, row.user_id),
                    "department": row.department,
                    "sessions": int(row.sessions),
                    "mean_overall": _r1(row.mean_overall),
                    "first": _r1(first.get(row.user_id)),
                    "best": _r1(row.best),
                    "latest": _r1(latest.get(row.user_id)),
                    "conceded": int(row.conceded or 0),
                    "weakest": weakest(row),
                }
                for row in cohort
            ],
            key=_cohort_key(order),
        )[:limit],
    }


def weekly_trend(store: Store, f: Filters, version: str | None = None) -> list[dict[str, Any]]:
    """The mean achievement per week (starting Monday, JST), oldest first: one series per
    criterion, or, with a criterion chosen, one per department. ``version``: as ``figures``
    chose it (else the filter's, or the newest)."""
    if version is None:
        _vs, version = _version(store, f)
    if version is None:
        return []
    c = t.session_summary.c
    out: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        if f.criterion in t.SUMMARY_CRITERIA:
            k = f.criterion
            q = _where(select(c.week, c.department, func.avg(c[k]).label("pct"), func.count(c[k]).label("n"))
                       .group_by(c.week, c.department).order_by(c.week, c.department), f, version)  # fmt: skip
            for r in _all(conn, q, "trend by department"):
                if r.pct is not None:
                    out.append({"week": str(r.week)[:10], "department": r.department, "criterion": k,
                                "percent": round(float(r.pct), 1), "n": int(r.n)})  # fmt: skip
            return out
        cols = [
            x for k in t.SUMMARY_CRITERIA for x in (func.avg(c[k]).label(k), func.count(c[k]).label(f"n_{k}"))
        ]
        q = _where(select(c.week, *cols).group_by(c.week).order_by(c.week), f, version)
        for r in _all(conn, q, "trend"):
            m = r._mapping
            for k in t.SUMMARY_CRITERIA:
                if m[k] is not None:
                    out.append({"week": str(m["week"])[:10], "department": None, "criterion": k,
                                "percent": round(float(m[k]), 1), "n": int(m[f"n_{k}"])})  # fmt: skip
    return out
