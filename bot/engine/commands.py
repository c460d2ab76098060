"""Slash commands: what each does, from wherever the person is.

A command never records an answer; it shows something, carries out an effect (a link,
the export, erasing) or moves to another screen through a trigger of the machine.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine.events import Command
from bot.engine.matching import normalize
from bot.engine.replies import CreateShareLink, DeleteEverything, ExportData, ShowSummary
from bot.engine.screens import family, language, links, reminders, review, switch
from bot.engine.texts import help_text, privacy_text
from bot.engine.turn import Turn

Handler = Callable[[Turn, str], None]


def resume(turn: Turn, args: str) -> None:
    turn.resume()


SETTING_UP = ("who", "companion", "name", "relative", "deleting", "invite")
RELATIVE_CAN_CHANGE_FROM = ("menu", "intro", "question", "paused", "deleting")


def overview(turn: Turn, args: str) -> None:
    if turn.state in SETTING_UP:
        turn.notice(turn._("Eerst nog even dit:"))
        turn.draw()
        return
    turn.fire("show_menu")


def summary(turn: Turn, args: str) -> None:
    turn.effect(ShowSummary())
    _draw_unless_resting(turn)


def my_data(turn: Turn, args: str) -> None:
    turn.effect(ExportData())
    _draw_unless_resting(turn)


def privacy(turn: Turn, args: str) -> None:
    turn.notice(privacy_text(turn.tr))
    turn.show()


def help_(turn: Turn, args: str) -> None:
    turn.notice(help_text(turn.tr))
    turn.show()


def delete(turn: Turn, args: str) -> None:
    if not turn.conv.consented:
        turn.effect(DeleteEverything())
        turn.notice(turn._("Er was nog niets van u bewaard. Er staat nu niets meer."))
        if turn.state == "consent":
            turn.fire("decline")
        return
    if turn.state == "deleting":
        turn.draw()
        return
    if turn.state != "paused":  # paused already knows where to return to
        resumable = turn.screen.resumable
        turn.conv.resume_state = turn.state if resumable else "menu"
    turn.fire("ask_delete")


def stop(turn: Turn, args: str) -> None:
    if turn.state in ("welcome", "consent"):
        turn.notice(turn._("Goed. Er is niets bewaard. Typ /start als u wilt beginnen."))
        return
    if turn.state == "paused":
        turn.draw()
        return
    if turn.state == "deleting":
        turn.conv.resume_state = turn.conv.resume_state or "menu"
    else:
        turn.conv.resume_state = turn.state
    turn.fire("pause")


def share(turn: Turn, args: str) -> None:
    turn.effect(CreateShareLink(with_code="code" in normalize(args)))
    _draw_unless_resting(turn)


def profile(turn: Turn, args: str) -> None:
    if turn.state in SETTING_UP and turn.state != "deleting":
        turn.draw()
        return
    if turn.conv.role != "self":  # a relative changes their own name and relation
        if turn.state not in RELATIVE_CAN_CHANGE_FROM:
            turn.notice(turn._("Eerst nog even dit:"))
            turn.draw()
            return
        turn.fire("change_relative")
        return
    turn.fire("change_profile")


def invite(turn: Turn, args: str) -> None:
    """/uitnodigen: a relative joins from their own phone."""
    if turn.state not in ("menu", "intro", "question", "paused"):
        turn.notice(turn._("Eerst nog even dit:"))
        turn.draw()
        return
    if turn.state != "paused":
        turn.conv.resume_state = turn.state
    turn.fire("ask_invite")


def _draw_unless_resting(turn: Turn) -> None:
    """After a command that shows something, the current screen again (not when paused,
    nor before consent, where nothing is waiting)."""
    if turn.state not in ("paused", "welcome", "consent"):
        turn.draw()


COMMANDS: dict[str, Handler] = {
    "verder": resume,
    "continue": resume,
    "overzicht": overview,
    "overview": overview,
    "menu": overview,
    "samenvatting": summary,
    "summary": summary,
    "taal": language.ask,
    "language": language.ask,
    "privacy": privacy,
    "mijngegevens": my_data,
    "mydata": my_data,
    "verwijderen": delete,
    "delete": delete,
    "help": help_,
    "stop": stop,
    "delen": share,
    "share": share,
    "links": links.ask,
    "profiel": profile,
    "profile": profile,
    "uitnodigen": invite,
    "invite": invite,
    "wissel": switch.ask,
    "switch": switch.ask,
    "familie": family.ask,
    "family": family.ask,
    "herinneringen": reminders.ask,
    "reminders": reminders.ask,
    "nakijken": review.start,
    "review": review.start,
}
NEEDS_CONSENT = {
    resume,
    overview,
    summary,
    my_data,
    share,
    links.ask,
    profile,
    invite,
    switch.ask,
    family.ask,
    reminders.ask,
    review.start,
}
# Only the person makes share links and invitations and decides who takes part, and
# only the person reviews their own wishes.
PERSON_ONLY = {share, links.ask, invite, family.ask, review.start}


def on_command(turn: Turn, event: Command) -> None:
    name = event.name.lower().lstrip("/").split("@")[0]
    if name == "start":
        turn.on_start()
        return
    handler = COMMANDS.get(name)
    if handler is None:
        turn.notice(turn._("Dat commando ken ik niet. Met /help ziet u wat ik kan."))
        turn.show()
        return
    if handler in NEEDS_CONSENT and not turn.conv.consented:
        turn.notice(turn._("Eerst vraag ik of u mee wilt doen."))
        turn.show()
        return
    if handler in PERSON_ONLY and turn.conv.role != "self":
        subject = turn.conv.subject or turn._("de persoon zelf")
        turn.notice(turn._("Dat kan alleen {name} zelf doen.").format(name=subject))
        turn.show()
        return
    handler(turn, event.args.strip())
