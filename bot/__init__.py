"""Tijdig: a chatbot for thinking ahead about getting older."""

import sys

# httpx (which python-telegram-bot imports, though Tijdig sends through aiohttp) imports
# its command-line client at import time whenever click and pygments are installed:
# about 0.5 MB of every process for a tool the bot never runs. With its module marked
# absent here, httpx defines a stub `httpx.main` instead (its own fallback).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
