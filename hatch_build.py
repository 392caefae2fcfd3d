"""Wheel build hook: a wheel must carry everything the server serves, or it is not built.

The Web Chat client (bot/channels/directline/static/vendor, from `scripts/fetch-webchat`) and the
sentence encoder (bot/_model, from `scripts/fetch-model`) are downloads, git-ignored and
taken into the wheel as artifacts (pyproject.toml). Without this check hatchling would
quietly build a wheel whose /chat answers 503 and whose adviser cannot start, and the
mistake would show only after deployment. Editable installs are exempt: they run from
the checkout, where the scripts can still be run after installing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# A file that only a complete fetch leaves behind -> the command that fetches it.
REQUIRED = {
    "bot/channels/directline/static/vendor/webchat.js": "bash scripts/fetch-webchat",
    "bot/_model/all-minilm-l6-v2/model.safetensors": "bash scripts/fetch-model",
}


class CarryEverythingServed(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        missing = {
            path: command
            for path, command in REQUIRED.items()
            if not (Path(self.root) / path).is_file()
        }
        if missing:
            lines = [f"  {path} is missing: run `{cmd}`" for path, cmd in missing.items()]
            raise RuntimeError(
                "This wheel would not carry what the server serves:\n"
                + "\n".join(lines)
                + "\nin the project folder, then build again (the Dockerfile does both)."
            )
