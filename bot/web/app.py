"""The web app: summary pages behind share links, their PDF, FHIR and text downloads, and
Tijdig's public FHIR Questionnaire.

Routes
    GET  /s/{token}                  the summary page (or the access-code form)
    POST /s/{token}                  the access code (form field `code`)
    GET  /s/{token}/{pdf|fhir|txt}   downloads; ?lang=nl|en on all of them
    GET  /fhir/Questionnaire/tijdig  Tijdig's Questionnaire (no personal data)
    GET  /static/summary.css, /robots.txt, /health, /

Every response carries the security headers, and paths are logged with the token replaced
(bot/web/security.py); the link id identifies a link in the logs. One AsyncSession per request; the
chat notice about an opening is written to the outbox in that transaction and sent by the
process that runs the person's channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot import i18n
from bot.services.limits import DatabaseClientLimit
from bot.services.link_opening import Access, LinkOpening
from bot.storage.db import SCHEMA_HEAD, schema_revision
from bot.summary.fhir import questionnaire, questionnaire_response
from bot.summary.html import (
    STYLESHEET,
    Download,
    LanguageLink,
    render_code_form_html,
    render_message_html,
    render_summary_html,
)
from bot.summary.text import render_text
from bot.web.pdf_process import PdfProcess
from bot.web.ratelimit import ClientLimit, RateLimiter
from bot.web.security import SecurityHeaders, safe_path, usable_cookies

log = logging.getLogger(__name__)


def client_limit(runtime: Any) -> ClientLimit:
    """The share-link rate limit that every process shares: in Redis when REDIS_URL is set,
    else in PostgreSQL; on SQLite (one process) in memory."""
    settings = runtime.settings
    if settings.redis_url:  # imported only when used: Redis is optional
        from bot.services.redis_client_limit import SharedClientLimit, limit_storage

        return SharedClientLimit(limit_storage(settings.redis_url))
    if not settings.is_sqlite:
        return DatabaseClientLimit(runtime.db)
    return RateLimiter()


ROBOTS = "User-agent: *\nDisallow: /s/\n"
FHIR_JSON = "application/fhir+json"
MAX_FORM_BYTES = 2048


class SummaryWeb:
    """The request handlers; one instance per app."""

    def __init__(
        self,
        runtime: Any,
        opening: LinkOpening,
        limiter: ClientLimit,
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.opening = opening
        self.limiter = limiter
        self.stylesheet_text = STYLESHEET.read_text(encoding="utf-8")
        self.pdf = PdfProcess()  # WeasyPrint in a child process: its 50 MB leave with it

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def wanted_locale(request: Request) -> str | None:
        wanted = request.query_params.get("lang")
        return wanted if wanted in i18n.available_locales() else None

    def locale_of(self, request: Request) -> str:
        return self.wanted_locale(request) or self.settings.default_locale

    @staticmethod
    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    @staticmethod
    def language_links(current: str, path: str = "") -> tuple[LanguageLink, ...]:
        return tuple(
            LanguageLink(code, i18n.language_name(code), f"{path}?lang={code}", code == current)
            for code in i18n.available_locales()
        )

    def message(
        self,
        locale: str,
        status: int,
        heading: str,
        *paragraphs: str,
        headers: dict[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        html = render_message_html(
            locale, heading, paragraphs, languages=self.language_links(locale)
        )
        return HTMLResponse(html, status_code=status, headers=headers, background=background)

    async def rate_limited(self, request: Request) -> Response | None:
        key = self.opening.client_hash(self.client(request))
        retry_after = await self.limiter.take(key)
        if retry_after is None:
            return None
        tr = i18n.translator(self.locale_of(request))
        log.warning("web rate limit hit path=%s", safe_path(request.url.path))
        return self.message(
            self.locale_of(request),
            429,
            tr.gettext("Even geduld"),
            tr.gettext(
                "Deze pagina is in korte tijd erg vaak opgevraagd. Probeer het over een "
                "minuut opnieuw."
            ),
            headers={"Retry-After": str(retry_after)},
        )

    def notify_after(self, access: Access) -> BackgroundTask | None:
        """The notice is in the outbox (committed with the request); after the response,
        this process's outbox looks at once. A process without the person's channel leaves
        it for the process that has it."""
        if access.notification is None:
            return None
        return BackgroundTask(self.opening.outbox.wake)

    def not_working(self, access: Access) -> Response:
        """The answer for unknown (404) and expired, revoked or locked (410) links."""
        locale = access.locale
        tr = i18n.translator(locale)
        ask = tr.gettext(
            "Vraag de persoon van wie deze samenvatting is om een nieuwe link. In Tijdig "
            "maakt die een nieuwe link met /delen."
        )
        if access.outcome == "unknown":
            return self.message(
                locale,
                404,
                tr.gettext("Deze link kennen we niet"),
                tr.gettext(
                    "Misschien is de link niet helemaal overgenomen. Kijk of u de hele link "
                    "heeft gebruikt."
                ),
                ask,
            )
        reasons = {
            "expired": tr.gettext("De link is verlopen. Een link werkt een beperkte tijd."),
            "revoked": tr.gettext("De link is ingetrokken door wie hem deelde."),
            "locked": tr.gettext(
                "Er is te vaak een verkeerde toegangscode ingevuld. Daarom is de link geblokkeerd."
            ),
        }
        return self.message(
            locale,
            410,
            tr.gettext("Deze link werkt niet meer"),
            reasons.get(access.outcome, ""),
            ask,
            background=self.notify_after(access),
        )

    def code_form(
        self, request: Request, locale: str, *, status: int = 200, error: str | None = None
    ) -> HTMLResponse:
        action = request.url.path + (
            f"?lang={self.wanted_locale(request)}" if self.wanted_locale(request) else ""
        )
        html = render_code_form_html(
            locale,
            action=action,
            error=error,
            languages=self.language_links(locale),
        )
        return HTMLResponse(html, status_code=status)

    async def open(self, request: Request, fmt: str) -> Access:
        async with self.runtime.transaction() as session:
            return await self.opening.open(
                session,
                request.path_params["token"],
                fmt=fmt,
                client=self.client(request),
                cookies=usable_cookies(request),
                locale=self.wanted_locale(request),
            )

    # -- routes ---------------------------------------------------------------------------------
    async def summary_page(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.submit_code(request)
        if limited := await self.rate_limited(request):
            return limited
        access = await self.open(request, "html")
        if access.outcome == "code_required":
            return self.code_form(request, access.locale)
        if access.outcome != "ok" or access.summary is None:
            return self.not_working(access)
        token = request.path_params["token"]
        tr = i18n.translator(access.locale)
        lang = f"?lang={access.locale}"
        downloads = (
            Download(
                tr.gettext("PDF, om te printen of te bewaren"),
                f"/s/{token}/pdf{lang}",
                "application/pdf",
            ),
            Download(tr.gettext("FHIR, voor het dossier"), f"/s/{token}/fhir{lang}", FHIR_JSON),
            Download(tr.gettext("Platte tekst"), f"/s/{token}/txt{lang}", "text/plain"),
        )
        html = render_summary_html(
            access.summary,
            languages=self.language_links(access.locale),
            downloads=downloads,
        )
        return HTMLResponse(html, background=self.notify_after(access))

    async def download(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("pdf", "fhir", "txt"):
            raise HTTPException(404)
        if limited := await self.rate_limited(request):
            return limited
        access = await self.open(request, fmt)
        if access.outcome == "code_required":
            lang = self.wanted_locale(request)
            target = f"/s/{request.path_params['token']}" + (f"?lang={lang}" if lang else "")
            return RedirectResponse(target, status_code=303)
        if access.outcome != "ok" or access.summary is None:
            return self.not_working(access)
        summary = access.summary
        background = self.notify_after(access)
        if fmt == "pdf":
            pdf = await self.pdf.render(render_summary_html(summary, for_pdf=True))
            return Response(
                pdf,
                media_type="application/pdf",
                headers={"Content-Disposition": 'attachment; filename="tijdig-samenvatting.pdf"'},
                background=background,
            )
        if fmt == "fhir":
            resource = questionnaire_response(
                summary,
                self.runtime.flow,
                base_url=self.settings.public_base_url,
                response_id=f"tijdig-{access.link_id}",
            )
            return Response(
                json.dumps(resource, ensure_ascii=False, indent=2),
                media_type=FHIR_JSON,
                headers={
                    "Content-Disposition": 'attachment; filename="tijdig-samenvatting.fhir.json"'
                },
                background=background,
            )
        return PlainTextResponse(render_text(summary, for_professional=True), background=background)

    async def submit_code(self, request: Request) -> Response:
        if limited := await self.rate_limited(request):
            return limited
        body = b""
        async for chunk in request.stream():  # a code form is tiny: read no more than that
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                break
        fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
        code = (fields.get("code") or [""])[0]
        async with self.runtime.transaction() as session:
            access = await self.opening.try_code(
                session,
                request.path_params["token"],
                code=code,
                client=self.client(request),
                locale=self.wanted_locale(request),
            )
        tr = i18n.translator(access.locale)
        if access.outcome == "ok":
            lang = self.wanted_locale(request)
            target = request.url.path + (f"?lang={lang}" if lang else "")
            response = RedirectResponse(target, status_code=303)
            if access.cookie:
                name, value = access.cookie
                response.set_cookie(
                    name,
                    value,
                    max_age=3600,
                    path="/s/",
                    secure=self.settings.public_base_url.startswith("https://"),
                    httponly=True,
                    samesite="strict",
                )
            return response
        if access.outcome == "wrong_code":
            error = tr.ngettext(
                "Deze code klopt niet. U kunt het nog {count} keer proberen.",
                "Deze code klopt niet. U kunt het nog {count} keer proberen.",
                access.attempts_left or 0,
            ).format(count=access.attempts_left)
            return self.code_form(request, access.locale, status=403, error=error)
        return self.not_working(access)

    async def fhir_questionnaire(self, request: Request) -> Response:
        resource = questionnaire(
            self.runtime.flow,
            locale=self.locale_of(request),
            base_url=self.settings.public_base_url,
        )
        return Response(json.dumps(resource, ensure_ascii=False, indent=2), media_type=FHIR_JSON)

    async def stylesheet(self, request: Request) -> Response:
        return Response(
            self.stylesheet_text,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    async def robots(self, request: Request) -> Response:
        return PlainTextResponse(ROBOTS)

    async def health(self, request: Request) -> Response:
        """The process is alive (for the load balancer's liveness check)."""
        return PlainTextResponse("ok")

    async def ready(self, request: Request) -> Response:
        """The database answers and has the schema this version needs: send traffic here.
        Not while stopping (SIGTERM): the load balancer should send it elsewhere."""
        if request.app.state.stopping:
            return PlainTextResponse("stopping", status_code=503)
        try:
            current = await schema_revision(self.runtime.db)
        except Exception as exc:
            log.warning("not ready: database not reachable (%s)", type(exc).__name__)
            return PlainTextResponse("database not reachable", status_code=503)
        if current != SCHEMA_HEAD:
            return PlainTextResponse("database schema not current", status_code=503)
        return PlainTextResponse("ready")

    async def home(self, request: Request) -> Response:
        locale = self.locale_of(request)
        tr = i18n.translator(locale)
        return self.message(
            locale,
            200,
            "Tijdig",
            tr.gettext(
                "Tijdig helpt mensen nadenken over ouder worden. Heeft u een link naar een "
                "samenvatting gekregen? Open dan de hele link zoals u die kreeg."
            ),
        )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        locale = self.locale_of(request)
        tr = i18n.translator(locale)
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            return PlainTextResponse("Method Not Allowed", status_code=405)
        return self.message(
            locale,
            404,
            tr.gettext("Deze pagina bestaat niet"),
            tr.gettext("Kijk of u de hele link heeft gebruikt."),
        )


def create_app(
    runtime: Any,
    service: Any,
    *,
    rate_limiter: ClientLimit | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The Starlette app. Links are opened through `service.link_opening` (its clock is the
    app's clock; chat notices go through its outbox); `routes` lets a channel add its
    own (e.g. a Telegram webhook)."""
    opening = service.link_opening
    if rate_limiter is None:
        rate_limiter = client_limit(runtime)
    web = SummaryWeb(runtime, opening, rate_limiter)
    app = Starlette(
        routes=[
            Route("/", web.home),
            Route("/robots.txt", web.robots),
            Route("/health", web.health),
            Route("/ready", web.ready),
            Route("/static/summary.css", web.stylesheet),
            Route("/fhir/Questionnaire/tijdig", web.fhir_questionnaire),
            Route("/s/{token}", web.summary_page, methods=["GET", "POST"]),
            Route("/s/{token}/{fmt}", web.download),
            *routes,
        ],
        exception_handlers={404: web.not_found, 405: web.not_found},
    )
    app.add_middleware(SecurityHeaders, locale=runtime.settings.default_locale)
    trusted = runtime.settings.forwarded_allow_ips
    if trusted:  # only then does X-Forwarded-For name the client (FORWARDED_ALLOW_IPS)
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app.state.web = web
    app.state.pdf = web.pdf  # ended with the server (bot.web.server.DeferredApp.close)
    app.state.stopping = False  # set on SIGTERM (bot.web.server.BackgroundWeb.refuse_updates)
    return app
