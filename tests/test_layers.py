"""The layers, enforced: each Bot SDK only in its own channel folder (none in what the
channels share); the conversation, escalation, the rulings desk and the core never import a
channel."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
SDKS = ("botbuilder", "botframework", "microsoft_agents")
# The one folder under bot/channels where each SDK may be imported.
SDK_HOMES = {
    "botbuilder": "botframework",
    "botframework": "botframework",
    "microsoft_agents": "agents",
}
CHANNEL_FREE = ("conversation", "escalation", "rulings", "core")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def modules() -> list[tuple[Path, set[str]]]:
    return [(path.relative_to(BOT), imports(path)) for path in sorted(BOT.rglob("*.py"))]


def test_only_channels_import_a_bot_sdk() -> None:
    offenders = [
        f"{path}: {name}"
        for path, names in modules()
        if path.parts[0] != "channels"
        for name in names
        if name.split(".")[0] in SDKS
    ]
    assert not offenders, offenders


def test_each_sdk_stays_in_its_own_channel_and_the_shared_code_uses_neither() -> None:
    offenders = [
        f"{path}: {name}"
        for path, names in modules()
        if path.parts[0] == "channels"
        for name in names
        if name.split(".")[0] in SDKS
        and (len(path.parts) < 3 or path.parts[1] != SDK_HOMES[name.split(".")[0]])
    ]
    assert not offenders, offenders


def test_conversation_escalation_and_core_never_import_a_channel() -> None:
    offenders = [
        f"{path}: {name}"
        for path, names in modules()
        if path.parts[0] in CHANNEL_FREE
        for name in names
        if name.startswith(("bot.channels", "bot.teams"))
    ]
    assert not offenders, offenders


def test_the_checks_see_the_sdk_imports_they_guard() -> None:
    # Guards against a walk that finds nothing and so passes vacuously.
    seen = {name.split(".")[0] for path, names in modules() for name in names}
    assert {"botbuilder", "microsoft_agents"} <= seen
