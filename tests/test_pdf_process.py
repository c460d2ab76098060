"""PDFs are made in a child process, so WeasyPrint's memory never stays in the bot."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal

from bot.web.pdf_process import PdfProcess

PAGE = "<html><body><h1>Wensen van Anna</h1><p>Thuis blijven wonen.</p></body></html>"


async def test_a_pdf_comes_from_a_child_that_ends_when_idle() -> None:
    before = set(multiprocessing.active_children())
    pdf = PdfProcess(idle_seconds=0.3)
    first = await pdf.render(PAGE)
    assert first.startswith(b"%PDF")
    children = set(multiprocessing.active_children()) - before
    assert len(children) == 1 and pdf.running  # one child, still there for the next PDF
    assert (await pdf.render(PAGE)).startswith(b"%PDF")
    assert set(multiprocessing.active_children()) - before == children  # the same one
    (child,) = children
    for _ in range(100):
        if not child.is_alive():
            break
        await asyncio.sleep(0.05)
    assert not child.is_alive() and not pdf.running  # idle: gone, its memory with it


async def test_a_child_that_died_is_replaced_and_the_pdf_still_comes() -> None:
    before = set(multiprocessing.active_children())
    pdf = PdfProcess()
    try:
        assert (await pdf.render(PAGE)).startswith(b"%PDF")
        (child,) = set(multiprocessing.active_children()) - before
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)  # as the out-of-memory killer would
        child.join(5)
        assert (await pdf.render(PAGE)).startswith(b"%PDF")
    finally:
        pdf.close()
