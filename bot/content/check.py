"""The full check behind `python -m bot flows check`: the flow itself and its translations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.content.loader import FlowError, FlowIssue, load_flows
from bot.content.model import Flow
from bot.i18n import (
    LOCALES_DIR,
    SOURCE_LOCALE,
    available_locales,
    compile_catalog,
    flow_texts,
    placeholders,
    translator,
)


def translation_issues(flow: Flow, locales: tuple[str, ...] | None = None) -> list[FlowIssue]:
    """Every flow text must be translated (not fuzzy) in every shipped language."""
    issues: list[FlowIssue] = []
    for locale in locales or available_locales():
        if locale == SOURCE_LOCALE:
            continue
        tr = translator(locale)
        for source, item in _texts_by_file(flow):
            translated = tr.pgettext(item.context, item.text)
            if translated == item.text and not _same_in_both(item.text):
                issues.append(
                    FlowIssue(
                        source,
                        item.line,
                        f"no {locale} translation for {item.context} ({item.text[:40]!r}); "
                        "see docs/content.md",
                    )
                )
            elif placeholders(translated) != placeholders(item.text):
                issues.append(
                    FlowIssue(
                        source,
                        item.line,
                        f"the {locale} translation of {item.context} has other {{placeholders}}",
                    )
                )
    return issues


def _texts_by_file(flow: Flow) -> Iterator[tuple[str, Any]]:
    """Every flow text with the file it is written in: a topic's texts (and their line
    numbers) belong to the topic's own file when the flow includes it."""
    texts = iter(flow_texts(Flow(id=flow.id, version=flow.version, title=flow.title, topics=())))
    yield flow.source, next(texts)  # the flow's title
    for topic in flow.topics:
        single = Flow(id=flow.id, version=flow.version, title=flow.title, topics=(topic,))
        for item in list(flow_texts(single))[1:]:
            yield topic.source or flow.source, item
    rules = Flow(
        id=flow.id, version=flow.version, title=flow.title, topics=(), discuss=flow.discuss
    )
    for item in list(flow_texts(rules))[1:]:
        yield flow.source, item


def _same_in_both(text: str) -> bool:
    """Numbers and words such as "OK" may honestly be the same in every language."""
    return len(text) <= 3 or text.isdigit()


def compiled_catalog_issues(locales_dir: Path = LOCALES_DIR) -> list[FlowIssue]:
    """Each language's `messages.mo` must be its `messages.po` compiled: Tijdig reads the
    `.mo` at start (a `.po` edited since is compiled at start instead, at a cost)."""
    issues: list[FlowIssue] = []
    for po_path in sorted(locales_dir.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        current = mo_path.exists() and mo_path.read_bytes() == compile_catalog(po_path)
        if not current:
            issues.append(
                FlowIssue(
                    str(mo_path),
                    0,
                    "not the compiled translations of messages.po: run "
                    "`pybabel compile -d locales` (see docs/content.md)",
                )
            )
    return issues


def check_flows(directory: Path) -> tuple[dict[str, Flow], list[FlowIssue]]:
    try:
        flows = load_flows(directory)
    except FlowError as exc:
        return {}, exc.issues
    issues: list[FlowIssue] = []
    for flow in flows.values():
        issues.extend(translation_issues(flow))
    issues.extend(compiled_catalog_issues())
    return flows, issues
