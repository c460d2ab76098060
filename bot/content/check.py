"""The full check behind `python -m bot flows check`: the flow itself and its translations."""

from __future__ import annotations

from pathlib import Path

from bot.content.loader import FlowError, FlowIssue, load_flows
from bot.content.model import Flow
from bot.i18n import SOURCE_LOCALE, available_locales, flow_texts, placeholders, translator


def translation_issues(flow: Flow, locales: tuple[str, ...] | None = None) -> list[FlowIssue]:
    """Every flow text must be translated (not fuzzy) in every shipped language."""
    issues: list[FlowIssue] = []
    for locale in locales or available_locales():
        if locale == SOURCE_LOCALE:
            continue
        tr = translator(locale)
        for item in flow_texts(flow):
            translated = tr.pgettext(item.context, item.text)
            if translated == item.text and not _same_in_both(item.text):
                issues.append(
                    FlowIssue(
                        flow.source,
                        item.line,
                        f"no {locale} translation for {item.context} ({item.text[:40]!r}); "
                        "see docs/content.md",
                    )
                )
            elif placeholders(translated) != placeholders(item.text):
                issues.append(
                    FlowIssue(
                        flow.source,
                        item.line,
                        f"the {locale} translation of {item.context} has other {{placeholders}}",
                    )
                )
    return issues


def _same_in_both(text: str) -> bool:
    """Numbers and words such as "OK" may honestly be the same in every language."""
    return len(text) <= 3 or text.isdigit()


def check_flows(directory: Path) -> tuple[dict[str, Flow], list[FlowIssue]]:
    try:
        flows = load_flows(directory)
    except FlowError as exc:
        return {}, exc.issues
    issues: list[FlowIssue] = []
    for flow in flows.values():
        issues.extend(translation_issues(flow))
    return flows, issues
