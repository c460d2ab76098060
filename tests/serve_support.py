"""Helpers for tests that start `python -m bot serve` as a real process."""

from __future__ import annotations

import asyncio
import signal

import httpx

START_SECONDS = 60  # a busy machine starts a process slowly
STOP_SECONDS = 20


async def first_answer(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """GET `path` until the server answers at all; fails after START_SECONDS."""
    deadline = asyncio.get_running_loop().time() + START_SECONDS
    while True:
        try:
            return await client.get(path)
        except httpx.TransportError:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("python -m bot serve did not answer") from None
            await asyncio.sleep(0.05)


async def stop_server(process: asyncio.subprocess.Process) -> bytes:
    """Ctrl-C, and what it wrote to stderr; killed if it does not stop, so no server is
    ever left behind."""
    process.send_signal(signal.SIGINT)
    try:
        _out, err = await asyncio.wait_for(process.communicate(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return err or b""
