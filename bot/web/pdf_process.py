"""PDFs made in a child process, so that WeasyPrint's memory leaves with it.

The first PDF a process makes loads WeasyPrint (its layout engine, fonts and text
shaping): about 50 MB that Python never gives back, in a bot that otherwise needs about
90. The web app makes its PDFs in one child process instead, started at the first PDF
and ended after `IDLE_SECONDS` without one. A GP waits for WeasyPrint's start once per
sitting, as before in the bot's own process (about a second), and the next PDFs take as
long as before; the bot itself never grows by it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.summary.pdf import pdf_from_html

log = logging.getLogger(__name__)

IDLE_SECONDS = 300.0


def _leave_signals_to_the_bot() -> None:
    """In the child: Ctrl-C in the terminal chat reaches the whole process group; the bot
    ends the child itself when it stops, without a traceback from the child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PdfProcess:
    """One child process for PDFs, made on demand and ended when idle or closed."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._busy = 0

    @property
    def running(self) -> bool:
        return self._pool is not None

    async def render(self, html: str) -> bytes:
        """The PDF of this HTML (bot.summary.pdf.pdf_from_html), made in the child; a
        child that died (killed, out of memory) is replaced once."""
        loop = asyncio.get_running_loop()
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        self._busy += 1
        try:
            pool = self._started()
            try:
                return await loop.run_in_executor(pool, pdf_from_html, html)
            except BrokenProcessPool:
                if self._pool is pool:  # not yet replaced by another PDF that saw it die
                    log.warning("the PDF process ended unexpectedly; starting a new one")
                    self.close()
                return await loop.run_in_executor(self._started(), pdf_from_html, html)
        finally:
            self._busy -= 1
            if not self._busy and self._pool is not None:
                self._idle = loop.call_later(self.idle_seconds, self.close)

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # A fresh interpreter ("spawn"), not a copy of this one with its threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_leave_signals_to_the_bot
            )
        return self._pool

    def close(self) -> None:
        """End the child (at once if idle; after the PDF it is making otherwise)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
