"""`python -m bot …`: ask, chat, knowledge check, serve, package, insights, settings."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot import knowledge_cli, logs
from bot.channels.text.render import Style, render_card
from bot.conversation.cards import answer_card
from bot.core import Adviser, KnowledgeError, default_knowledge_dir, load_knowledge
from bot.core.encoder import ModelError
from bot.insights import cli as insights_cli
from bot.settings import Settings, SettingsError

log = logging.getLogger("bot.cli")
JSONL_FIELDS = ("verdict", "clauses", "entry", "confidence", "route", "answer", "policy_version")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--knowledge",
        type=Path,
        help="knowledge folder (default: BOT_KNOWLEDGE_DIR or the shipped one)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="advise on one message, or a JSONL batch on stdin")
    ask.add_argument("text", nargs="?", help="the question or draft post")
    ask.add_argument("--jsonl", action="store_true", help='read {"id","text"} lines on stdin')
    ask.add_argument("--json", action="store_true", help="print the full advice as JSON")

    sub.add_parser("chat", help="talk to the adviser in this terminal (no Azure needed)")

    knowledge_cli.add_parser(sub)

    serve = sub.add_parser("serve", help="start the bot server (Bot Framework + web chat)")
    serve.add_argument("--host", help="address to listen on (default BOT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 3978)")

    poke = sub.add_parser("poke", help="send one message to a running bot server, as Teams would")
    poke.add_argument("text", help="the message to send")
    poke.add_argument(
        "--url",
        help="the bot server's base URL (default: http://BOT_HOST:PORT, i.e. 127.0.0.1:3978)",
    )
    poke.add_argument("--json", action="store_true", help="print the raw activities as JSON")

    package = sub.add_parser("package", help="build the Teams app package (zip) to upload")
    package.add_argument(
        "--app-id", help="the bot's Entra app (client) id, a GUID (default: MicrosoftAppId)"
    )
    package.add_argument(
        "--host", required=True, help="public host name of the bot, e.g. adviser.example.org"
    )
    package.add_argument(
        "--out",
        type=Path,
        default=Path("dist/teams-app.zip"),
        help="where to write the zip (default: %(default)s)",
    )
    package.add_argument(
        "--version", dest="app_version", default="1.0.0", help="app version (default: %(default)s)"
    )
    package.add_argument(
        "--website-url",
        default="https://www.parliament.scot",
        help="developer website (default: %(default)s)",
    )
    package.add_argument(
        "--privacy-url", default="", help="privacy notice (default: the website URL)"
    )
    package.add_argument("--terms-url", default="", help="terms of use (default: the website URL)")

    insights_cli.add_parser(sub)
    sub.add_parser("settings", help="list every setting, its variable and default")

    store = sub.add_parser("store", help="the database: move its data to another one")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    migrate = store_commands.add_parser(
        "migrate", help="copy every row from one database to another (stop the bot first)"
    )
    migrate.add_argument("--from", dest="source", required=True,
                         help="sqlite:///data/adviser.sqlite3 or postgresql://…")  # fmt: skip
    migrate.add_argument("--to", dest="target", required=True,
                         help="postgresql://user@host:5432/db?sslmode=require (password in "
                         "the URL or PGPASSWORD)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure("WARNING", "text")
    try:
        if args.command == "settings":
            return print_settings(sys.stdout)
        if args.command == "serve":
            return serve(args.host, args.port)
        if args.command == "package":
            return package(args, sys.stdout)
        if args.command == "store":
            return asyncio.run(store_migrate(args.source, args.target, sys.stdout))
        settings = Settings.from_env()
        if args.command == "poke":
            from bot.harness import poke  # aiohttp loads only when needed

            url = args.url or server_url(settings)
            return asyncio.run(poke(url, args.text, sys.stdout, raw=args.json))
        directory = args.knowledge or settings.bot.knowledge_dir or default_knowledge_dir()
        if args.command == "knowledge":
            return knowledge_cli.run(args, directory, sys.stdout)
        if args.command == "insights":
            return insights_cli.run(args, load_knowledge(directory), settings, sys.stdout)
        adviser = Adviser.from_directory(directory)
    except (KnowledgeError, SettingsError, ModelError, insights_cli.InsightsCliError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the CLI's own output
        return 2
    if args.command == "chat":
        from bot.channels.text.terminal import run_chat  # the app loads only for a chat

        chosen = replace(settings, bot=replace(settings.bot, knowledge_dir=directory))
        return run_chat(chosen, adviser, sys.stdin, sys.stdout)
    if args.jsonl:
        return ask_jsonl(adviser, sys.stdin, sys.stdout)
    if not args.text:
        print("error: give the text to ask about, or --jsonl", file=sys.stderr)  # noqa: T201
        return 2
    if args.json:
        out = json.dumps(adviser.advise(args.text).to_json(), ensure_ascii=False, indent=2)
    else:
        out = answer_text(adviser, args.text, Style.for_stream(sys.stdout))
    print(out)  # noqa: T201
    return 0


def answer_text(adviser: Adviser, text: str, style: Style) -> str:
    """The answer as the terminal chat shows it: small talk as a friendly line, like every
    channel does, not a "Not my area" card; anything else as its card (nothing to press)."""
    advice = adviser.advise(text)
    if advice.small_talk:
        return advice.answer
    return render_card(answer_card(advice, adviser.knowledge, state=""), style=style)


def server_url(settings: Settings) -> str:
    """Where `serve` listens with these settings, as a client reaches it."""
    host = settings.bot.host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - listening everywhere: ask locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.bot.port}"


def ask_jsonl(adviser: Adviser, lines: Iterable[str], out: TextIO) -> int:
    """One output line per input line; a bad line gets an error line and the rest go on."""
    failed = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        ident: object = f"line {number}"
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            ident = item.get("id", ident)
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ValueError("field 'text' must be a non-empty string")
            advice = adviser.advise(text).to_json()
            result = {"id": ident, **{k: advice[k] for k in JSONL_FIELDS}}
        except ValueError as exc:  # JSONDecodeError is a ValueError
            failed += 1
            result = {"id": ident, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
    return 1 if failed else 0


def print_settings(out: TextIO) -> int:
    groups = Settings.describe_groups()
    width = max(len(env) for rows in groups.values() for env, _, _ in rows)
    for group, rows in groups.items():
        out.write(f"[{group}]\n")
        for env, default, help_text in rows:
            # The default goes last: long ones (URLs) would otherwise push the help out of line.
            shown = f"{help_text} (default: {default})" if default else help_text
            out.write(f"  {env:{width}}  {shown}\n")
        out.write("\n")
    return 0


def package(args: argparse.Namespace, out: TextIO) -> int:
    from bot.packaging.manifest import ManifestValues, PackageError, build_package

    values = ManifestValues(
        app_id=args.app_id or os.environ.get("MicrosoftAppId", ""),  # noqa: SIM112 - Bot Framework's name
        host=args.host,
        version=args.app_version,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
    )
    try:
        manifest = build_package(values, args.out)
    except PackageError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    out.write(
        f"wrote {args.out}: Teams app {manifest['id']} version {manifest['version']}, "
        f"messaging endpoint https://{manifest['validDomains'][0]}/api/messages\n"
    )
    return 0


async def store_migrate(source_url: str, target_url: str, out: TextIO) -> int:
    from bot.store.connect import DatabaseUrlError, database_from_url
    from bot.store.copy import copy_database

    if source_url == target_url:
        print("error: --from and --to are the same database", file=sys.stderr)  # noqa: T201
        return 2
    try:
        source, target = database_from_url(source_url), database_from_url(target_url)
    except DatabaseUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        counts = await copy_database(source, target)
    finally:
        await source.close()
        await target.close()
    for table, (read, written) in counts.items():
        print(f"{table:13} {read:7} read {written:7} copied {read - written:7} already there",
              file=out)  # fmt: skip
    return 0


def serve(host: str | None, port: int | None) -> int:
    from bot.server import run  # the edges load only when serving

    return run(host=host, port=port)
