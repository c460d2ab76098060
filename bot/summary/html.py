"""The summary as an HTML page (Jinja2, autoescaped); the PDF is printed from the same page.

Every text of the templates goes through gettext (`_`), so `pybabel extract -F babel.cfg`
finds it; translations are passed in per render, so one environment serves all languages.
Answers are escaped like everything else: an answer that contains HTML is shown as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import i18n
from bot.dates import day, day_and_time
from bot.summary import attribution
from bot.summary.first_screen import build_first_screen
from bot.summary.model import Summary, SummaryItem
from bot.summary.pzp import form_part

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = TEMPLATES / "summary.css"
STYLESHEET_URL = "/static/summary.css"


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    href: str
    current: bool


@dataclass(frozen=True)
class Download:
    label: str
    href: str
    mime_type: str


@cache
def environment() -> Environment:
    # Imported here: a bot process that never renders a page does not pay for Jinja2.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def app_version() -> str:
    try:
        return metadata.version("tijdig")
    except metadata.PackageNotFoundError:
        return "0"


def who_label(item: SummaryItem, locale: str) -> str:
    return attribution.who_label(item.who, i18n.translator(locale), item.by)


def _base_context(locale: str) -> dict[str, Any]:
    tr = i18n.translator(locale)
    return {
        "_": tr.gettext,
        "gettext": tr.gettext,
        "ngettext": tr.ngettext,
        "pgettext": tr.pgettext,
        "lang": locale,
        "languages": (),
        "stylesheet": STYLESHEET_URL,
        "for_pdf": False,
    }


def render_summary_html(
    summary: Summary,
    *,
    languages: tuple[LanguageLink, ...] = (),
    downloads: tuple[Download, ...] = (),
    for_pdf: bool = False,
) -> str:
    """The page for the professional: the first screen, then every topic, then the footer."""
    locale = summary.locale
    tr = i18n.translator(locale)
    if summary.person_name:
        heading = tr.gettext("Wensen voor later van {name}").format(name=summary.person_name)
    else:
        heading = tr.gettext("Wensen voor later")
    context = _base_context(locale) | {
        "summary": summary,
        "first": build_first_screen(summary),
        "heading": heading,
        "languages": () if for_pdf else languages,
        "downloads": () if for_pdf else downloads,
        "for_pdf": for_pdf,
        "stylesheet": None if for_pdf else STYLESHEET_URL,
        "version": app_version(),
        "who": lambda item: who_label(item, locale),
        "day": lambda moment: day(moment, locale),
        "moment": lambda moment: day_and_time(moment, locale),
        "pzp_part": lambda item: form_part(item.pzp_link),
    }
    return environment().get_template("summary.html").render(context)


def render_message_html(
    locale: str,
    heading: str,
    paragraphs: tuple[str, ...],
    *,
    languages: tuple[LanguageLink, ...] = (),
) -> str:
    """A short page: a link that no longer works, too many requests, not found."""
    context = _base_context(locale) | {
        "heading": heading,
        "paragraphs": paragraphs,
        "languages": languages,
    }
    return environment().get_template("message.html").render(context)


def render_code_form_html(
    locale: str,
    *,
    action: str,
    error: str | None = None,
    languages: tuple[LanguageLink, ...] = (),
) -> str:
    context = _base_context(locale) | {
        "action": action,
        "error": error,
        "languages": languages,
    }
    return environment().get_template("code.html").render(context)
