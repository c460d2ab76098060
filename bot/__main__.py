"""`python -m bot ...` (also installed as `tijdig`): chat, run, serve, migrate, flow tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys

from bot.channels import REGISTRY, channel_modules, entry_for
from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import configure_logging


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Every subcommand; a channel's own arguments only for the channel `argv` names (or
    for all when `argv` is None), so that `flows check` or `chat` do not load Telegram."""
    chosen = set(argv) if argv is not None else {entry.command for entry in REGISTRY}
    parser = argparse.ArgumentParser(prog="python -m bot", description="Tijdig")
    commands = parser.add_subparsers(dest="command", required=True)
    for entry in REGISTRY:
        sub = commands.add_parser(entry.command, help=entry.help)
        if entry.command in chosen:
            entry.load().add_arguments(sub)
    commands.add_parser("serve", help="run only the web app (summary links)")
    commands.add_parser(
        "rotate-key", help="re-wrap the person keys under a new DATA_KEY (stop Tijdig first)"
    )
    commands.add_parser(
        "migrate", help="bring the database to the newest schema, then stop (before a roll-out)"
    )

    flows = commands.add_parser("flows", help="check and inspect the conversation content")
    flow_commands = flows.add_subparsers(dest="flows_command", required=True)
    flow_commands.add_parser("check", help="validate flows/*.yaml and their translations")
    show = flow_commands.add_parser("show", help="print the compiled flow")
    show.add_argument("--format", choices=["table", "json"], default="table")
    flow_commands.add_parser(
        "diagram", help="print mermaid diagrams: the conversation's states and the flow"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    configure_logging(logging.WARNING if args.command in ("chat", "flows") else logging.INFO)
    try:
        if args.command == "flows":
            return flows_command(args)
        settings = load_settings()
        if args.command == "rotate-key":
            from bot.storage.rotation import rotate_key_command

            return asyncio.run(rotate_key_command(settings))
        return asyncio.run(run_command(settings, args))
    except ConfigError as exc:
        print(f"Tijdig cannot start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """A channel's command runs that channel in the host; `serve` runs the web app alone."""
    if args.command == "migrate":
        from bot.services.runtime import migrate_only

        revision = await migrate_only(settings)
        print(f"The database is at the newest schema (revision {revision}).")
        return 0
    from bot.host import run_channel

    if args.command == "serve":
        modules = channel_modules()
        notifiers = [n for m in modules if (n := await m.open_notifier(settings)) is not None]
        return await run_channel(settings, None, web=True, web_required=True, notifiers=notifiers)
    entry = entry_for(args.command)
    assert entry is not None, args.command
    channel = entry.load().create(settings, args)
    return await run_channel(settings, channel, web=channel.wants_web)


def flows_command(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.content.check import check_flows

    directory = Settings.flows_dir  # the default, when another setting is wrong
    with contextlib.suppress(ConfigError):
        directory = load_settings().flows_dir
    flows, issues = check_flows(directory)
    for issue in issues:
        print(issue, file=sys.stderr)
    if issues and (args.flows_command == "check" or not flows):
        print(f"{len(issues)} problem(s) found.", file=sys.stderr)
        return 1
    if issues:  # only translations are missing: still show what there is
        print(f"({len(issues)} translation problem(s); see above)", file=sys.stderr)
    if args.flows_command == "check":
        questions = sum(len(t.asked_questions) for f in flows.values() for t in f.topics)
        print(f"OK: {len(flows)} flow(s), {questions} questions, all translations present.")
    elif args.flows_command == "show":
        from bot.content.show import flow_json, flow_table

        if args.format == "json":
            print(json.dumps([flow_json(f) for f in flows.values()], ensure_ascii=False, indent=2))
        else:
            print("\n\n".join(flow_table(f) for f in flows.values()))
    elif args.flows_command == "diagram":
        from bot.content.diagram import flow_mermaid
        from bot.engine.machine import mermaid
        from bot.engine.screens import SCREENS

        print("%% The conversation's states (the same for every flow), drawn by transitions")
        print(mermaid(SCREENS.values()))
        for flow in flows.values():
            print(f"\n%% Flow '{flow.id}': topics, questions and their ask_if conditions")
            print(flow_mermaid(flow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
