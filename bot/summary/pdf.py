"""The summary as a PDF (WeasyPrint): the same page as the web view, printed on A4 with
page numbers by the print rules of summary.css."""

from __future__ import annotations

from bot.logging_setup import hold_text_echoing_libraries
from bot.summary.html import STYLESHEET, render_summary_html
from bot.summary.model import Summary


def _stylesheet():  # type: ignore[no-untyped-def]
    from weasyprint import CSS

    return CSS(string=STYLESHEET.read_text(encoding="utf-8"))


def _fetcher():  # type: ignore[no-untyped-def]
    """A fetcher that fetches nothing: the PDF never reaches out to the network or disk."""
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> None:
            raise ValueError("Tijdig's PDF loads no external resources")

    return NoFetching()


def render_pdf(summary: Summary) -> bytes:
    """A4 PDF bytes (they start with %PDF). CPU-bound: call it in a worker thread."""
    return pdf_from_html(render_summary_html(summary, for_pdf=True))


def pdf_from_html(html: str) -> bytes:
    """The summary page's HTML printed as a PDF; what the web app's PDF process runs
    (bot/web/pdf_process.py)."""
    from weasyprint import HTML

    hold_text_echoing_libraries()  # WeasyPrint warns with the characters it cannot draw
    document = HTML(string=html, base_url="about:blank", url_fetcher=_fetcher())
    result: bytes = document.write_pdf(stylesheets=[_stylesheet()])
    return result
