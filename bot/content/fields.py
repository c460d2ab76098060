"""Problems in a flow file, and the reading of the single fields every part of it shares.

Every reader of a flow (topics, options, conditions, discuss rules, whole-flow checks)
reports a problem the same way: a `FlowIssue` with file and line, collected rather than
raised so an editor sees them all at once. Ids, texts and unknown keys are read the same
way everywhere, so their wording lives here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.model import Text
from bot.content.yaml_lines import LineDict

# Ids travel inside Telegram's 64-byte button data, hence the short maximum.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
# The only placeholder in a text about someone else (`about`, `proxy_note`): the person.
NAME_PLACEHOLDER = "{name}"


@dataclass(frozen=True)
class FlowIssue:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class FlowError(Exception):
    """Raised when a flow cannot be used; carries every problem that was found."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class FieldReader:
    """Collects the problems of one flow file (`path`, the file `flows/` lists) and reads
    single fields; a field that is wrong is reported and read as None."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.issues: list[FlowIssue] = []

    def problem(self, path: Path, line: int, message: str) -> None:
        self.issues.append(FlowIssue(str(path), line, message))

    def unknown_keys(self, path: Path, raw: LineDict, allowed: set[str], what: str) -> None:
        for key in raw:
            if key not in allowed:
                self.problem(
                    path,
                    raw.line_of(key),
                    f"unknown key '{key}' in a {what} (allowed: {', '.join(sorted(allowed))})",
                )

    def ident(self, path: Path, raw: LineDict, key: str, what: str) -> str | None:
        value = raw.get(key)
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.problem(
                path,
                raw.line_of(key),
                f"a {what} needs an id of at most 24 lowercase letters, digits and _, "
                f"starting with a letter (got {value!r})",
            )
            return None
        return value

    def text(
        self,
        path: Path,
        raw: LineDict,
        key: str,
        context: str,
        *,
        required: bool = False,
        what: str | None = None,
    ) -> Text | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(path, raw.line, f"{what or context}: '{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(path, raw.line_of(key), f"{context}: '{key}' must be a non-empty text")
            return None
        return Text(context=context, source=value.strip())

    def check_name_placeholder(
        self, path: Path, raw: LineDict, key: str, text: Text | None
    ) -> None:
        """`{name}` (the person) is the only placeholder in a text about someone else."""
        if text is None:
            return
        rest = text.source.replace(NAME_PLACEHOLDER, "")
        if "{" in rest or "}" in rest:
            found = sorted(set(re.findall(r"\{[^{}]*\}|[{}]", rest)))
            self.problem(
                path,
                raw.line_of(key),
                f"{text.context}: the only placeholder here is {NAME_PLACEHOLDER} "
                f"(found {', '.join(found)})",
            )
