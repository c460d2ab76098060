"""Logging that never carries personal data.

Our own log lines name ids and kinds, never texts or names. Libraries are less careful at
their chatty levels: python-telegram-bot logs whole messages at DEBUG, httpx logs Bot API
URLs (which contain the token) at INFO, aiosqlite and SQLAlchemy log statements with their
parameters, uvicorn's access log holds share-link paths. They are capped at WARNING.
"""

from __future__ import annotations

import logging

NOISY_LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "uvicorn.access",
    "apscheduler",
    "weasyprint",
    "fontTools",
    "alembic",
    "transitions",  # several INFO lines per event: CPU per answer, and nothing to act on
)


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cap_library_logs()


def cap_library_logs() -> None:
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
