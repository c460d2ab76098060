"""What every web response carries and what the log may show of a request.

The security headers (no referrer, no indexing, no caching, a strict CSP without inline
code or third-party sources, nosniff, no framing) go on every response, errors included;
a request path is logged with every possibly secret segment replaced, so a share token
never reaches a log, however it was mistyped; a failure is one kind sentence, never
Starlette's bare 500 or the exception's text.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import i18n

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Path segments that are never secret. Every other segment is logged as <token>, wherever it
# stands: `//s/<token>`, `/S/<token>`, `/x/s/<token>` and `/static/../s/<token>` are near
# misses a person may type, and their token is as live as in `/s/<token>`.
PUBLIC_SEGMENTS = frozenset(
    {
        "",
        "s",
        "static",
        "summary.css",
        "fhir",
        "Questionnaire",
        "tijdig",
        "robots.txt",
        "health",
        "ready",
        "favicon.ico",
        "pdf",
        "txt",
        "telegram",
        "webhook",
        ".",
        "..",
    }
)
MAX_LOGGED_SEGMENTS = 8


def safe_path(path: str) -> str:
    """The request path as it may be logged: a share token never reaches a log."""
    segments = path.split("/")
    shown = [s if s in PUBLIC_SEGMENTS else "<token>" for s in segments[:MAX_LOGGED_SEGMENTS]]
    return "/".join(shown) + ("/…" if len(segments) > MAX_LOGGED_SEGMENTS else "")


def usable_cookies(request: Request) -> dict[str, str]:
    """Only cookies that could be Tijdig's: printable ASCII names and values (a cookie such
    as `tijdig_code_<id>=\xb2.x` is someone else's or a forgery, not a reason for a 500)."""
    return {
        name: value
        for name, value in request.cookies.items()
        if name.isascii() and value.isascii() and name.isprintable() and value.isprintable()
    }


class SecurityHeaders:
    """Adds the security headers to every response and logs requests without tokens."""

    def __init__(self, app: ASGIApp, locale: str = "nl") -> None:
        self.app = app
        self.locale = locale

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        path = safe_path(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            scope.get("query_string", b"").decode("utf-8")
        except UnicodeDecodeError:  # Starlette would fail on it with a 500
            status = 400
            tr = i18n.translator(self.locale)
            response = PlainTextResponse(tr.gettext("Kijk of u de hele link heeft gebruikt."), 400)
            await response(scope, receive, send_with_headers)
            log.info("web %s %s %s", scope.get("method"), path, status)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Never Starlette's bare 500 without our headers, and never the exception's text
            # (it may quote what the client sent): its type and where it was raised.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            log.error(
                "web %s %s failed: %s at %s", scope.get("method"), path, type(exc).__name__, where
            )
            if status:
                return  # the response had begun; the client sees a cut-off body
            status = 500
            tr = i18n.translator(self.locale)
            response = PlainTextResponse(
                tr.gettext("Er ging iets mis. Probeer het over een paar minuten opnieuw."), 500
            )
            await response(scope, receive, send_with_headers)
        log.info("web %s %s %s", scope.get("method"), path, status)
