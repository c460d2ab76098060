"""Share links in the chat: /delen makes a link (optionally with a code), /links lists them
with their access log and revokes them, and nothing secret is stored or logged."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select, text

from bot.engine.replies import LinkReply, Message, Notice
from bot.services.conversation import ConversationService
from bot.services.link_opening import LinkOpening
from bot.services.runtime import Runtime
from bot.services.sharing import ShareLinks, code_hash, token_hash
from bot.storage.models import LinkAccess, Participant, ShareLink
from bot.testing import ChatDriver
from tests.summary_support import (
    FrozenClock,
    link_of,
    texts,
)

TOKEN_IN_URL = re.compile(r"/s/([A-Za-z0-9_-]+)$")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def sharing(service: ConversationService, clock: FrozenClock) -> ShareLinks:
    service.share_links = ShareLinks(service.runtime, clock=clock)
    return service.share_links


@pytest.fixture
def opening(service: ConversationService, clock: FrozenClock) -> LinkOpening:
    """Opening links as the web app does, on the same clock as the chat."""
    service.link_opening = LinkOpening(service.runtime, clock=clock, outbox=service.outbox)
    return service.link_opening


async def rows(service: ConversationService, model: type) -> list:
    async with service.runtime.sessions() as session:
        return list((await session.execute(select(model))).scalars())


async def test_delen_gives_a_link_with_its_expiry_and_stores_only_a_hash(
    service: ConversationService, sharing: ShareLinks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    chat = ChatDriver.on_service(service)
    await chat.ready()
    replies = (await chat.command("delen")).replies
    link = link_of(replies)
    match = TOKEN_IN_URL.search(link.url)
    assert match and link.url.startswith("http://127.0.0.1:8080/s/")
    token = match.group(1)
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits (>= 128 asked)
    assert "1 april 2026" in link.text  # T0 (2 March) + SHARE_LINK_DAYS (30)
    stored = await rows(service, ShareLink)
    assert len(stored) == 1
    assert stored[0].token_hash == token_hash(token) and stored[0].code_hash is None
    assert len(stored[0].id) == 10
    # The token is nowhere in the database and nowhere in the logs; the link id is.
    dump = ""
    async with service.runtime.sessions() as session:
        for table in ("share_link", "link_access"):
            dump += str((await session.execute(text(f"SELECT * FROM {table}"))).all())
    assert token not in dump
    assert token not in caplog.text
    assert f"link={stored[0].id}" in caplog.text
    # Two links are two different secrets.
    second = link_of(await chat.command("delen"))
    assert second.url != link.url


async def test_delen_code_shows_a_six_digit_code_once(
    service: ConversationService, sharing: ShareLinks
) -> None:
    chat = ChatDriver.on_service(service)
    await chat.ready()
    replies = (await chat.command("delen", "code")).replies
    link_of(replies)
    notices = [r.text for r in replies if isinstance(r, Notice)]
    code = next(re.search(r"(\d{3}) (\d{3})", n) for n in notices if "toegangscode" in n)
    assert code is not None
    digits = code.group(1) + code.group(2)
    stored = (await rows(service, ShareLink))[0]
    assert stored.code_hash and digits not in stored.code_hash
    assert stored.code_hash == code_hash(service.runtime.cipher, stored.id, digits)
    # /links does not show the code again.
    assert digits not in texts(await chat.command("links"))
    assert "met toegangscode" in texts(chat.replies)


async def test_links_lists_active_links_with_their_log_and_revokes(
    service: ConversationService, sharing: ShareLinks, opening: LinkOpening, clock: FrozenClock
) -> None:
    chat = ChatDriver.on_service(service)
    await chat.ready()
    assert "geen werkende links" in texts(await chat.command("links"))
    first = link_of(await chat.command("delen"))
    link_of(await chat.command("delen"))
    token = TOKEN_IN_URL.search(first.url).group(1)  # type: ignore[union-attr]
    clock.advance(hours=2)
    async with service.runtime.sessions() as session, session.begin():
        opened = await opening.open(
            session, token, fmt="pdf", client="10.1.2.3", cookies={}, locale=None
        )
    assert opened.outcome == "ok"
    listing = (await chat.command("links")).replies
    message = next(r for r in listing if isinstance(r, Message))
    assert "Link 1" in message.text and "Link 2" in message.text
    assert "Laatst geopend: 2 maart 2026 12:30" in message.text  # 11:30 UTC, Dutch time
    assert "PDF geopend" in message.text and "Nog niet geopend." in message.text
    labels = [b.label for b in message.flat_buttons]
    assert labels == ["Link 1 intrekken", "Link 2 intrekken"]
    # Press "Link 1 intrekken": it is revoked, the other one stays.
    replies = (await chat.press("Link 1 intrekken")).replies
    assert "De link is ingetrokken" in texts(replies)
    stored = {link.id: link for link in await rows(service, ShareLink)}
    revoked = [link for link in stored.values() if link.revoked_at is not None]
    assert [link.id for link in revoked] == [message.flat_buttons[0].option]
    listing = texts(await chat.command("links"))
    assert "Link 1" in listing and "Link 2" not in listing


async def test_an_old_revoke_button_still_revokes_exactly_its_link(
    service: ConversationService, sharing: ShareLinks
) -> None:
    """Someone told "your summary was opened" scrolls up to an old /links list: the button
    must still work, and only for the link it names."""
    chat = ChatDriver.on_service(service)
    await chat.ready()
    link_of(await chat.command("delen"))
    link_of(await chat.command("delen"))
    await chat.command("links")
    old = chat.button("Link 1 intrekken")
    await chat.command("overzicht")  # a new screen: the list's buttons are now old
    await chat.press("Wonen")
    await chat.press(old)
    links = await rows(service, ShareLink)
    assert sum(link.revoked_at is not None for link in links) == 1


async def test_someone_elses_link_cannot_be_revoked(
    service: ConversationService, sharing: ShareLinks
) -> None:
    anna, bob = (
        ChatDriver.on_service(service, user="anna"),
        ChatDriver.on_service(service, user="bob"),
    )
    await anna.ready(name="Anna")
    await bob.ready(name="Bob")
    link_of(await anna.command("delen"))
    anna_link = (await rows(service, ShareLink))[0]
    people = {p.person_id for p in await rows(service, Participant)}
    (bob_person,) = people - {anna_link.person_id}
    async with service.runtime.sessions() as session, session.begin():
        assert not await sharing.revoke(session, bob_person, anna_link.id)
        assert await sharing.revoke(session, anna_link.person_id, anna_link.id)
        assert not await sharing.revoke(session, anna_link.person_id, anna_link.id)
    assert (await rows(service, ShareLink))[0].revoked_at is not None


async def test_export_lists_links_and_openings_without_secrets(
    service: ConversationService, sharing: ShareLinks, opening: LinkOpening
) -> None:
    chat = ChatDriver.on_service(service)
    await chat.ready()
    link = link_of(await chat.command("delen", "code"))
    token = TOKEN_IN_URL.search(link.url).group(1)  # type: ignore[union-attr]
    async with service.runtime.sessions() as session, session.begin():
        await opening.open(session, token, fmt="html", client="10.0.0.9", cookies={}, locale=None)
    replies = (await chat.command("mijngegevens")).replies
    document = next(r for r in replies if not isinstance(r, Message | Notice | LinkReply))
    data = document.content.decode()  # type: ignore[union-attr]
    assert '"share_links"' in data and '"with_access_code": true' in data
    assert '"outcome": "code_required"' in data
    assert token not in data and "10.0.0.9" not in data and "hash" not in data


async def test_verwijderen_leaves_no_link_and_no_log_behind(
    service: ConversationService, sharing: ShareLinks, opening: LinkOpening
) -> None:
    chat = ChatDriver.on_service(service)
    await chat.ready()
    link = link_of(await chat.command("delen"))
    token = TOKEN_IN_URL.search(link.url).group(1)  # type: ignore[union-attr]
    async with service.runtime.sessions() as session, session.begin():
        await opening.open(session, token, fmt="html", client="10.0.0.1", cookies={}, locale=None)
    assert await rows(service, LinkAccess)
    await chat.command("verwijderen")
    await chat.press("verwijder alles")
    assert await rows(service, ShareLink) == []
    assert await rows(service, LinkAccess) == []


async def test_sharing_works_without_any_web_app_in_the_process(runtime: Runtime) -> None:
    """`python -m bot run` without the web app once said sharing was unavailable."""
    service = ConversationService(runtime)
    chat = ChatDriver.on_service(service)
    await chat.ready()
    link = link_of(await chat.command("delen"))
    assert link.url.startswith(runtime.settings.public_base_url + "/s/")
