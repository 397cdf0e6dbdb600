"""The report as a file, made when it is asked for (never written to disk on a view).

``GET /kasuhara/report/<session id>.html`` (or ``.md``) signs the request in from Gradio's
cookie, checks through the application layer that the user may read the session, renders the
report and sends it as a download. Nothing is kept: the data directory holds only the SQLite
file (and whatever a user explicitly asked the CLI to write).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from simulator.app.exports import parse_day
from simulator.app.permissions import AccessDenied, Capability
from simulator.app.services import Services
from simulator.store import NotFound

ROUTE = "/kasuhara/report"
_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def url_for(session_id: str, fmt: str) -> str:
    return f"{ROUTE}/{session_id}.{fmt}"


PERSONA_ROUTE = "/kasuhara/persona"
EXPORT_ROUTE = "/kasuhara/export"


def export_url(name: str, **params: Any) -> str:
    """The results export with these filters (lists repeat their parameter)."""
    from urllib.parse import urlencode

    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list | tuple) else [vs]) if v]
    return f"{EXPORT_ROUTE}/{name}" + (f"?{urlencode(pairs)}" if pairs else "")


def persona_url(persona_id: str, version: int, fmt: str) -> str:
    return f"{PERSONA_ROUTE}/{persona_id}/{version}.{'json' if fmt == 'card' else 'yaml'}"


def _signed_in(app: Any, request: Request) -> str | None:
    cid = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cid}") or request.cookies.get(f"access-token-unsecure-{cid}")
    return app.tokens.get(token) if token else None


def install(app: Any, services: Services) -> None:
    from simulator.report_render import render_html, render_markdown

    def report_file(session_id: str, fmt: str, request: Request) -> Response:
        if fmt not in _TYPES:
            return PlainTextResponse("形式は html か md です / html or md", status_code=404)
        try:
            user = services.user(_signed_in(app, request))
        except AccessDenied:
            return PlainTextResponse("サインインしてください / please sign in", status_code=401)
        try:
            rep = services.report(user, session_id)
        except (AccessDenied, NotFound):
            return PlainTextResponse(
                "このセッションは表示できません / you may not read this session", status_code=403
            )
        staff = Capability.review_transcripts in services.capabilities(user)
        body = (
            render_html(rep, standalone=True, staff=staff)
            if fmt == "html"
            else render_markdown(rep, staff=staff)
        )
        name = f"kasuhara-report-{session_id[:8]}.{fmt}"
        return Response(
            body.encode("utf-8"),
            media_type=_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    def persona_file(persona_id: str, version: int, ext: str, request: Request) -> Response:
        try:
            user = services.user(_signed_in(app, request))
        except AccessDenied:
            return PlainTextResponse("サインインしてください / please sign in", status_code=401)
        fmt = {"yaml": "yaml", "json": "card"}.get(ext)
        if fmt is None:
            return PlainTextResponse("形式は yaml か json です / yaml or json", status_code=404)
        try:
            body = services.export_persona(user, persona_id, version, fmt)
        except AccessDenied:
            return PlainTextResponse("ペルソナを書き出す権限がありません / not allowed", status_code=403)
        except (KeyError, NotFound):
            return PlainTextResponse("その版はありません / no such version", status_code=404)
        media = "application/json" if fmt == "card" else "application/yaml"
        name = f"{persona_id}-v{version}.{ext}"
        return Response(
            body.encode("utf-8"),
            media_type=f"{media}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    def overrides_file(request: Request) -> Response:
        import json

        try:
            user = services.user(_signed_in(app, request))
            recs = services.export_overrides(user)
        except AccessDenied:
            return PlainTextResponse("書き出す権限がありません / not allowed", status_code=403)
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)
        return Response(
            body.encode("utf-8"),
            media_type="application/x-ndjson; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="kasuhara-overrides.jsonl"',
                     "Cache-Control": "no-store"},
        )  # fmt: skip

    def results_file(name: str, request: Request) -> Response:
        """``/kasuhara/export/sessions.csv``, ``criteria.csv`` or ``xapi.json`` with the dashboard's
        filters as query parameters (``department`` and ``persona`` may repeat)."""
        kinds = {"sessions.csv": ("csv", "session"), "criteria.csv": ("csv", "criterion"),
                 "xapi.json": ("xapi", "session")}  # fmt: skip
        if name not in kinds:
            return PlainTextResponse(
                "sessions.csv・criteria.csv・xapi.json のいずれかです / unknown export", 404
            )
        kind, per = kinds[name]
        qp = request.query_params
        try:
            user = services.user(_signed_in(app, request))
        except AccessDenied:
            return PlainTextResponse("サインインしてください / please sign in", status_code=401)
        try:
            dates = {k: parse_day(qp.get(k, "")) for k in ("since", "until")}
        except ValueError:
            return PlainTextResponse("日付は 2026-04-01 の形で指定してください / bad date", status_code=400)
        try:
            body = services.export(
                user, kind, per=per, since=dates["since"], until=dates["until"],
                departments=tuple(d for d in qp.getlist("department") if d),
                personas=tuple(p for p in qp.getlist("persona") if p), scenario=qp.get("scenario") or None,
                pseudonymise=qp.get("pseudonymise") in ("1", "true"),
            )  # fmt: skip
        except AccessDenied:
            return PlainTextResponse("書き出す権限がありません / not allowed", status_code=403)
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        media = "application/json" if kind == "xapi" else "text/csv"
        return Response(
            body.encode("utf-8"),
            media_type=f"{media}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="kasuhara-{stamp}-{name}"',
                     "Cache-Control": "no-store"},
        )  # fmt: skip

    app.add_api_route(EXPORT_ROUTE + "/{name}", results_file, methods=["GET"])
    app.add_api_route("/kasuhara/overrides.jsonl", overrides_file, methods=["GET"])
    app.add_api_route(ROUTE + "/{session_id}.{fmt}", report_file, methods=["GET"])
    app.add_api_route(PERSONA_ROUTE + "/{persona_id}/{version}.{ext}", persona_file, methods=["GET"])
    # Gradio's catch-all routes were registered first: put these ahead of them
    for _ in range(4):
        app.router.routes.insert(0, app.router.routes.pop())
