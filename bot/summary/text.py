"""The plain-text summary shown in the chat by /samenvatting."""

from __future__ import annotations

from bot.i18n import translator
from bot.summary.model import Summary


def render_text(summary: Summary) -> str:
    tr = translator(summary.locale)
    if summary.person_name:
        title = tr.gettext("Samenvatting voor {name}").format(name=summary.person_name)
    else:
        title = tr.gettext("Uw samenvatting")
    lines = [title]
    who = {
        "together": tr.gettext("samen ingevuld"),
        "relative": tr.gettext("ingevuld door een naaste"),
    }
    any_answer = False
    for section in summary.sections:
        if not section.items:
            continue
        any_answer = True
        lines.append("")
        lines.append(f"— {section.title} —")
        for item in section.items:
            note = f" ({who[item.who]})" if item.who in who else ""
            answer = item.answer
            if "\n" in answer:
                answer = "\n    " + answer.replace("\n", "\n    ")
            lines.append(f"• {item.label}: {answer}{note}")
    if not any_answer:
        lines.append("")
        lines.append(tr.gettext("Er zijn nog geen antwoorden. Kies een onderwerp om te beginnen."))
    else:
        lines.append("")
        lines.append(
            tr.gettext(
                "Dit zijn uw wensen om te bespreken, geen medische afspraken. "
                "Met /delen maakt u een link voor uw huisarts."
            )
        )
    return "\n".join(lines)
