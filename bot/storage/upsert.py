"""INSERT ... ON CONFLICT for the database in use.

SQLAlchemy has this construct per dialect. Importing its PostgreSQL dialect loads the
modules of every PostgreSQL driver it knows (about 2 MB), so each dialect's construct is
imported only when that database is used: a bot on SQLite never loads PostgreSQL's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


@functools.cache
def insert_for(dialect_name: str) -> Callable[..., Any]:
    """`insert(table)` with `on_conflict_do_nothing` for this dialect (PostgreSQL or SQLite)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
