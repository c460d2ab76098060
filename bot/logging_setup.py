"""Logging that never carries personal data.

Our own log lines name ids and kinds, never texts or names. Libraries are less careful at
their chatty levels: python-telegram-bot logs whole messages at DEBUG, httpx logs Bot API
URLs (which contain the token) at INFO, SQLAlchemy logs statements with their
parameters, uvicorn's access log holds share-link paths. They are capped at WARNING.
WeasyPrint warns with the very character it has no glyph for (a name in a script no font
covers would appear in the log letter by letter), and fontTools logs glyph names at its
chatty levels: those two are capped at ERROR.
"""

from __future__ import annotations

import logging

NOISY_LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "sqlalchemy",
    "asyncpg",
    "uvicorn.access",
    "apscheduler",
    "alembic",
    "transitions",  # several INFO lines per event: CPU per answer, and nothing to act on
)
# Libraries whose warnings can quote what a person typed.
TEXT_ECHOING_LIBRARIES = ("weasyprint", "fontTools")


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cap_library_logs()


def cap_library_logs() -> None:
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    hold_text_echoing_libraries()


def hold_text_echoing_libraries() -> None:
    """Called by every PDF rendering too, so it holds in any host and any test."""
    for name in TEXT_ECHOING_LIBRARIES:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.ERROR:
            logger.setLevel(logging.ERROR)
