"""The host: assembles runtime, service, outbox loop and web app around any channel, runs it,
and shuts everything down in reverse order. `python -m bot chat|run|serve` all come here.

Channels never import the web server and the web server never imports a channel: they
meet here. A channel hands over its extra web routes (a webhook) and its notify function.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable

from bot.channels.base import Channel, Notifier
from bot.config import ConfigError, Settings
from bot.services.conversation import ConversationService
from bot.services.housekeeping import run_housekeeping
from bot.services.outbox import run_outbox
from bot.services.runtime import Runtime
from bot.web.server import BackgroundWeb, start_background

log = logging.getLogger(__name__)


async def run_channel(
    settings: Settings,
    channel: Channel | None,
    *,
    web: bool = True,
    web_required: bool = False,
    notifiers: list[Notifier] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until the channel finishes, `stop` is set, or SIGINT/SIGTERM arrives.

    The outbox loop runs beside it: it sends what is due (reminders, review prompts,
    "your summary was opened") for the channels of this process. `channel=None` serves
    only the web app (`python -m bot serve`); `notifiers` then send for channels that are
    not running here.

    Stopping is graceful, for a roll-out behind a load balancer: at once `/ready` and the
    webhook answer 503 (the balancer sends updates to another process; Telegram sends
    them again), then the outbox round and the turns in flight finish and their replies
    go out, for at most SHUTDOWN_GRACE_SECONDS; what is unfinished by then stays in the
    webhook inbox, where another process takes it over.
    """
    if stop is None:  # an interactive channel lets Ctrl-C interrupt its prompt directly
        interactive = channel is not None and channel.interactive
        stop = asyncio.Event() if interactive else stop_on_signals()
    runtime = await Runtime.create(settings)
    service = ConversationService(runtime)
    outbox = service.outbox  # reminders, review prompts and notices, from the database
    outbox_stop = asyncio.Event()
    outbox_task: asyncio.Task[None] | None = None
    housekeeping: asyncio.Task[None] | None = None
    web_app: BackgroundWeb | None = None
    started = False
    try:
        for notice in runtime.notices:
            print(notice, file=sys.stderr)
        for notifier in notifiers or []:
            outbox.register(notifier.name, notifier.push)
        if web:
            routes = channel.routes() if channel is not None else ()
            web_app = await start_background(
                runtime, service, routes=routes, at_once=channel is None
            )
            if web_required and not web_app.running:
                raise ConfigError(
                    f"WEB_PORT {settings.web_port} on WEB_HOST {settings.web_host} cannot be "
                    "used; pick another port or stop what uses it"
                )
        if channel is not None:
            await channel.start(service, web_running=web_app is not None and web_app.running)
            started = True
            outbox.register(channel.name, channel.push)
        outbox_task = asyncio.create_task(run_outbox(outbox, outbox_stop), name="tijdig-outbox")
        housekeeping = asyncio.create_task(
            run_housekeeping(runtime, outbox_stop), name="tijdig-housekeeping"
        )
        if channel is None and web_app is not None:
            print(
                f"Tijdig web app on {web_app.url} "
                f"(links are made as {settings.public_base_url}/s/...)",
                file=sys.stderr,
            )
        await _until_done(channel, stop)
    finally:
        if web_app is not None:
            web_app.refuse_updates()
        log.info(
            "stopping: finishing what is in flight (at most %s s)", settings.shutdown_grace_seconds
        )
        deadline = asyncio.get_running_loop().time() + settings.shutdown_grace_seconds
        outbox_stop.set()
        tasks = [task for task in (outbox_task, housekeeping) if task is not None]
        if tasks:
            await _within(deadline, asyncio.gather(*tasks, return_exceptions=True), "outbox")
        if channel is not None and started:
            outbox.unregister(channel.name)
            await _within(deadline, channel.stop(), "turns in flight")
        if web_app is not None:
            await web_app.stop()
        for notifier in notifiers or []:
            with contextlib.suppress(Exception):
                await notifier.close()
        await runtime.close()
    return 0


async def _within(deadline: float, work: Awaitable[object], what: str) -> None:
    """Let `work` finish by `deadline`; past it, stop waiting (it is cancelled) and go on
    shutting down, so a hung call never keeps the process from exiting."""
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait_for(work, remaining)
    except TimeoutError:
        log.warning("shutdown: %s not finished in time; stopping anyway", what)


async def _until_done(channel: Channel | None, stop: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if channel is not None:
        waits.append(asyncio.ensure_future(channel.finished()))
    try:
        done, _pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a channel that failed says so
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


def stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM, so everything shuts down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return stop
